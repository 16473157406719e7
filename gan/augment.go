package gan

import (
	"fmt"
	"strings"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// Augment is DiffAugment (Zhao et al. 2020): random, differentiable
// transformations applied to every image D sees, real and generated
// alike, so that D cannot overfit a small data set while G still gets
// gradients through them. The policy is any of color (brightness,
// saturation and contrast: x + (r−½); (x − x̄_c)·2r + x̄_c; (x − x̄)·(r+½)
// + x̄, r ~ U[0, 1) per image), translation (a shift of up to an eighth of
// the size each way, filled with zeros) and cutout (a square of half the
// size set to zero), applied in that order with fresh draws per image, as
// the authors' code does.
type Augment struct {
	Color, Translation, Cutout bool
	H, W, C                    int

	draws []float32 // one colour factor per image of the whole batch (ApplyRows), copied out at once
}

// ParseAugment reads a policy, "translation,cutout,color" or any subset
// ("" or "none": nil), for images of h×w×c.
func ParseAugment(policy string, h, w, c int) (*Augment, error) {
	policy = strings.TrimSpace(policy)
	if policy == "" || policy == "none" {
		return nil, nil
	}
	a := &Augment{H: h, W: w, C: c}
	for _, p := range strings.Split(policy, ",") {
		switch strings.TrimSpace(p) {
		case "color", "colour":
			a.Color = true
		case "translation":
			a.Translation = true
		case "cutout":
			a.Cutout = true
		default:
			return nil, fmt.Errorf("%q is not a DiffAugment transformation; want color, translation, cutout, or several joined by commas", p)
		}
	}
	return a, nil
}

// String is the policy as ParseAugment reads it.
func (a *Augment) String() string {
	var p []string
	if a.Color {
		p = append(p, "color")
	}
	if a.Translation {
		p = append(p, "translation")
	}
	if a.Cutout {
		p = append(p, "cutout")
	}
	return strings.Join(p, ",")
}

// Apply transforms the images x, (N, H·W·C) channel-last, drawing from rng;
// the result is differentiable in x.
func (a *Augment) Apply(tp *autograd.Tape, rng *tensor.RNG, x *autograd.Node) *autograd.Node {
	return a.ApplyRows(tp, rng, x, nil)
}

// ApplyRows transforms the rows of a batch of len(rowOf) images that x
// holds: rowOf[b] is the row of x holding image b of the batch, or -1 for
// an image x does not hold (rowOf nil: x is the whole batch). It draws
// from rng exactly what Apply draws for the whole batch, so the ranks of a
// data-parallel step, each holding a shard, transform their images as one
// process holding the batch would, and their random sources stay
// identical.
func (a *Augment) ApplyRows(tp *autograd.Tape, rng *tensor.RNG, x *autograd.Node, rowOf []int) *autograd.Node {
	if tp.Err() != nil {
		return x
	}
	n := x.Shape()[0]
	total := n
	if rowOf != nil {
		total = len(rowOf)
	}
	h, w, c := a.H, a.W, a.C
	if a.Color {
		// Each factor lives in the tape's memory, not in a buffer the
		// next call draws into: the backward pass (R1's, through the real
		// images) reads the factors of its own batch.
		factor := func(lo, hi float32) *autograd.Node {
			f := tp.Full(0, n, 1, 1, 1)
			if rowOf == nil {
				rng.Uniform(f.Data(), lo, hi)
				return f
			}
			if cap(a.draws) < total {
				a.draws = make([]float32, total)
			}
			all := a.draws[:total]
			rng.Uniform(all, lo, hi)
			for b, r := range rowOf {
				if r >= 0 {
					f.Data()[r] = all[b]
				}
			}
			return f
		}
		img := tp.Reshape(x, n, h, w, c)
		img = tp.Add(img, factor(-0.5, 0.5))
		s := factor(0, 2)
		m := tp.Mean(img, true, 3)
		img = tp.Add(tp.Mul(tp.Sub(img, m), s), m)
		k := factor(0.5, 1.5)
		m = tp.Mean(img, true, 1, 2, 3)
		img = tp.Add(tp.Mul(tp.Sub(img, m), k), m)
		x = tp.Reshape(img, n, -1)
	}
	if !a.Translation && !a.Cutout {
		return x
	}
	// Translation and cutout are one gather: each output pixel reads the
	// input pixel it comes from, or nothing (-1: zero).
	idx := tp.Index(n * h * w * c)
	shiftY, shiftX := int(float64(h)*0.125+0.5), int(float64(w)*0.125+0.5)
	size := int(float64(h)*0.5 + 0.5)
	sizeX := int(float64(w)*0.5 + 0.5)
	for gb := range total {
		ty, tx := 0, 0
		if a.Translation {
			ty = rng.IntN(2*shiftY+1) - shiftY
			tx = rng.IntN(2*shiftX+1) - shiftX
		}
		cy0, cy1, cx0, cx1 := 0, 0, 0, 0
		if a.Cutout {
			oy := rng.IntN(h + 1 - size%2)
			ox := rng.IntN(w + 1 - sizeX%2)
			cy0, cy1 = max(oy-size/2, 0), min(oy-size/2+size, h)
			cx0, cx1 = max(ox-sizeX/2, 0), min(ox-sizeX/2+sizeX, w)
		}
		b := gb
		if rowOf != nil {
			if b = rowOf[gb]; b < 0 {
				continue // another rank's image: drawn, not used here
			}
		}
		for y := range h {
			for xx := range w {
				sy, sx := y-ty, xx-tx
				out := b*h*w*c + (y*w+xx)*c
				cut := y >= cy0 && y < cy1 && xx >= cx0 && xx < cx1
				if cut || sy < 0 || sy >= h || sx < 0 || sx >= w {
					for k := range c {
						idx[out+k] = -1
					}
					continue
				}
				in := b*h*w*c + (sy*w+sx)*c
				for k := range c {
					idx[out+k] = int32(in + k)
				}
			}
		}
	}
	return tp.Gather(x, idx, n, h*w*c)
}
