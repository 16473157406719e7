package nn

import (
	"fmt"
	"strings"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// DCGANShape describes the images of a DCGAN (Radford, Metz & Chintala
// 2016): Size×Size pixels with Channels channels (1 or 3), Size 28, 32 or
// 64, and the base width: the generator's last hidden layer and the
// discriminator's first have Width channels, doubling at every step toward
// the small end.
type DCGANShape struct {
	Size, Channels, Width int
}

// steps returns the start size (7 or 4) and the number of ×2 steps.
func (s DCGANShape) steps() (start, n int, err error) {
	switch s.Size {
	case 28:
		start, n = 7, 2
	case 32:
		start, n = 4, 3
	case 64:
		start, n = 4, 4
	default:
		return 0, 0, fmt.Errorf("nn: DCGAN image size %d: want 28, 32 or 64", s.Size)
	}
	if s.Channels != 1 && s.Channels != 3 {
		return 0, 0, fmt.Errorf("nn: DCGAN channels %d: want 1 or 3", s.Channels)
	}
	if s.Width < 1 {
		return 0, 0, fmt.Errorf("nn: DCGAN width %d: want >= 1", s.Width)
	}
	return start, n, nil
}

// Dim is the number of values in one image.
func (s DCGANShape) Dim() int { return s.Size * s.Size * s.Channels }

// DCGANGenerator maps a latent code to an image: a Linear layer (no bias)
// to a start×start map, batch norm and ReLU, then transposed convolutions
// (kernel 4, stride 2, padding 1) that double the size, each followed by
// batch norm and ReLU except the last, which ends in tanh. For 28×28 with
// width 64 it is exactly the generator of ../shared/bench's dcgan28:
// Linear(100→128·7·7) → BN → ReLU → ConvT(128→64) → BN → ReLU →
// ConvT(64→1) → tanh. Images come out flattened, (N, Size·Size·Channels),
// channel-last.
type DCGANGenerator struct {
	Shape    DCGANShape
	Latent   int
	FC       *Linear
	Norms    []*BatchNorm2D // after FC and after every hidden up-step
	Ups      []*ConvTranspose2D
	Training bool
	start    int
}

// NewDCGANGenerator builds the generator with DCGAN's initialisation:
// weights N(0, 0.02), batch-norm scales N(1, 0.02), biases 0.
func NewDCGANGenerator(name string, latent int, s DCGANShape, rng *tensor.RNG) (*DCGANGenerator, error) {
	start, n, err := s.steps()
	if err != nil {
		return nil, err
	}
	if latent < 1 {
		return nil, fmt.Errorf("nn: DCGAN latent size %d: want >= 1", latent)
	}
	g := &DCGANGenerator{Shape: s, Latent: latent, Training: true, start: start}
	ch := s.Width << (n - 1)
	g.FC = NewLinear(name+".fc", latent, start*start*ch, false, rng)
	g.Norms = append(g.Norms, NewBatchNorm2D(name+".bn0", ch))
	for i := 1; i <= n; i++ {
		out := ch / 2
		last := i == n
		if last {
			out = s.Channels
		}
		g.Ups = append(g.Ups, NewConvTranspose2D(fmt.Sprintf("%s.up%d", name, i), ch, out, 4, 2, 1, last, rng))
		if !last {
			g.Norms = append(g.Norms, NewBatchNorm2D(fmt.Sprintf("%s.bn%d", name, i), out))
		}
		ch = out
	}
	dcganInit(g.Params(), rng)
	return g, nil
}

// Forward maps z, shape (N, Latent), to images, shape (N, Size·Size·Channels).
func (g *DCGANGenerator) Forward(t *autograd.Tape, z *autograd.Node) *autograd.Node {
	n := z.Shape()[0]
	h := g.FC.Forward(t, z)
	h = t.Reshape(h, n, g.start, g.start, -1)
	h = t.ReLU(g.Norms[0].Forward(t, h, g.Training))
	for i, up := range g.Ups {
		h = up.Forward(t, h)
		if i+1 < len(g.Ups) {
			h = t.ReLU(g.Norms[i+1].Forward(t, h, g.Training))
		}
	}
	return t.Reshape(t.Tanh(h), n, -1)
}

// Params returns every parameter in a fixed order.
func (g *DCGANGenerator) Params() []*autograd.Param {
	ps := g.FC.Params()
	for i, up := range g.Ups {
		ps = append(ps, g.Norms[i].Params()...)
		ps = append(ps, up.Params()...)
	}
	return ps
}

// Buffers returns the batch norms' running statistics by name.
func (g *DCGANGenerator) Buffers() map[string]*tensor.Tensor { return buffers(g.Norms) }

// SetTraining selects batch statistics (true) or running averages.
func (g *DCGANGenerator) SetTraining(on bool) { g.Training = on }

// DCGANDiscriminator maps an image to one logit: convolutions (kernel 4,
// stride 2, padding 1) that halve the size, each followed by LeakyReLU(0.2),
// with batch norm (and no bias) on all but the first, then a Linear layer.
// For 28×28 with width 64 it is exactly the discriminator of
// ../shared/bench's dcgan28: Conv(1→64) → LReLU → Conv(64→128, no bias) →
// BN → LReLU → Linear(128·7·7→1).
type DCGANDiscriminator struct {
	Shape    DCGANShape
	Convs    []*Conv2D
	Norms    []*BatchNorm2D // Norms[i] follows Convs[i+1]
	FC       *Linear
	Training bool
}

// NewDCGANDiscriminator builds the discriminator with DCGAN's
// initialisation.
func NewDCGANDiscriminator(name string, s DCGANShape, rng *tensor.RNG) (*DCGANDiscriminator, error) {
	start, n, err := s.steps()
	if err != nil {
		return nil, err
	}
	d := &DCGANDiscriminator{Shape: s, Training: true}
	in, ch := s.Channels, s.Width
	for i := 1; i <= n; i++ {
		d.Convs = append(d.Convs, NewConv2D(fmt.Sprintf("%s.conv%d", name, i), in, ch, 4, 2, 1, i == 1, rng))
		if i > 1 {
			d.Norms = append(d.Norms, NewBatchNorm2D(fmt.Sprintf("%s.bn%d", name, i), ch))
		}
		in, ch = ch, ch*2
	}
	d.FC = NewLinear(name+".fc", start*start*in, 1, true, rng)
	dcganInit(d.Params(), rng)
	return d, nil
}

// Forward maps images, shape (N, Size·Size·Channels) channel-last, to
// logits, shape (N, 1).
func (d *DCGANDiscriminator) Forward(t *autograd.Tape, x *autograd.Node) *autograd.Node {
	n := x.Shape()[0]
	h := t.Reshape(x, n, d.Shape.Size, d.Shape.Size, d.Shape.Channels)
	for i, c := range d.Convs {
		h = c.Forward(t, h)
		if i > 0 {
			h = d.Norms[i-1].Forward(t, h, d.Training)
		}
		h = t.LeakyReLU(h, 0.2)
	}
	return d.FC.Forward(t, t.Reshape(h, n, -1))
}

// Params returns every parameter in a fixed order.
func (d *DCGANDiscriminator) Params() []*autograd.Param {
	var ps []*autograd.Param
	for i, c := range d.Convs {
		ps = append(ps, c.Params()...)
		if i > 0 {
			ps = append(ps, d.Norms[i-1].Params()...)
		}
	}
	return append(ps, d.FC.Params()...)
}

// Buffers returns the batch norms' running statistics by name.
func (d *DCGANDiscriminator) Buffers() map[string]*tensor.Tensor { return buffers(d.Norms) }

// SetTraining selects batch statistics (true) or running averages.
func (d *DCGANDiscriminator) SetTraining(on bool) { d.Training = on }

func buffers(ns []*BatchNorm2D) map[string]*tensor.Tensor {
	out := map[string]*tensor.Tensor{}
	for _, n := range ns {
		for k, v := range n.Buffers() {
			out[k] = v
		}
	}
	return out
}

// dcganInit applies DCGAN's initialisation (Radford et al. 2016, as in
// PyTorch's DCGAN example): convolution and linear weights N(0, 0.02),
// batch-norm scales N(1, 0.02), every bias and shift 0.
func dcganInit(ps []*autograd.Param, rng *tensor.RNG) {
	for _, p := range ps {
		switch {
		case strings.HasSuffix(p.Name, ".bias"):
			InitZero(p)
		case p.Value.Rank() == 1: // a batch-norm scale
			InitNormal(p, 1, 0.02, rng)
		default:
			InitNormal(p, 0, 0.02, rng)
		}
	}
}
