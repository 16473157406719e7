package autograd_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/autograd/gradcheck"
	"github.com/minmaxgan/minmax/tensor"
)

// naiveConv is the textbook definition of Conv2D on NHWC images, in float64.
func naiveConv(x, w, b []float32, n, h, wd, c, o, kh, kw, s, p int) ([]float64, int, int) {
	oh, ow := (h+2*p-kh)/s+1, (wd+2*p-kw)/s+1
	y := make([]float64, n*oh*ow*o)
	for i := 0; i < n; i++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for oc := 0; oc < o; oc++ {
					var acc float64
					if b != nil {
						acc = float64(b[oc])
					}
					for ky := 0; ky < kh; ky++ {
						for kx := 0; kx < kw; kx++ {
							iy, ix := oy*s-p+ky, ox*s-p+kx
							if iy < 0 || iy >= h || ix < 0 || ix >= wd {
								continue
							}
							for ic := 0; ic < c; ic++ {
								acc += float64(x[((i*h+iy)*wd+ix)*c+ic]) * float64(w[((oc*kh+ky)*kw+kx)*c+ic])
							}
						}
					}
					y[((i*oh+oy)*ow+ox)*o+oc] = acc
				}
			}
		}
	}
	return y, oh, ow
}

// naiveConvT scatters every input pixel through the kernel: the definition
// of the transposed convolution (PyTorch's ConvTranspose2d).
func naiveConvT(x, w, b []float32, n, h, wd, cin, cout, kh, kw, s, p, op int) ([]float64, int, int) {
	oh, ow := (h-1)*s-2*p+kh+op, (wd-1)*s-2*p+kw+op
	y := make([]float64, n*oh*ow*cout)
	for i := range y {
		if b != nil {
			y[i] = float64(b[i%cout])
		}
	}
	for i := 0; i < n; i++ {
		for iy := 0; iy < h; iy++ {
			for ix := 0; ix < wd; ix++ {
				for ic := 0; ic < cin; ic++ {
					v := float64(x[((i*h+iy)*wd+ix)*cin+ic])
					for ky := 0; ky < kh; ky++ {
						for kx := 0; kx < kw; kx++ {
							oy, ox := iy*s-p+ky, ix*s-p+kx
							if oy < 0 || oy >= oh || ox < 0 || ox >= ow {
								continue
							}
							for oc := 0; oc < cout; oc++ {
								y[((i*oh+oy)*ow+ox)*cout+oc] += v * float64(w[((ic*kh+ky)*kw+kx)*cout+oc])
							}
						}
					}
				}
			}
		}
	}
	return y, oh, ow
}

func closeTo(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > 1e-4*(1+math.Abs(want[i])) {
			t.Fatalf("%s: value %d is %g, want %g", what, i, got[i], want[i])
		}
	}
}

func TestConvMatchesDefinition(t *testing.T) {
	rng := tensor.NewRNG(3)
	for _, g := range []struct{ n, h, w, c, o, k, s, p int }{
		{2, 5, 5, 1, 3, 3, 1, 1}, {2, 7, 6, 3, 4, 4, 2, 1}, {1, 28, 28, 1, 8, 4, 2, 1},
		{3, 14, 14, 5, 2, 4, 2, 1}, {2, 9, 8, 2, 3, 3, 3, 0}, {1, 6, 6, 4, 5, 5, 1, 2},
		{2, 4, 4, 2, 2, 1, 1, 0}, {2, 7, 7, 3, 6, 7, 1, 0},
	} {
		name := fmt.Sprintf("n%d-%dx%dx%d-o%d-k%d-s%d-p%d", g.n, g.h, g.w, g.c, g.o, g.k, g.s, g.p)
		t.Run(name, func(t *testing.T) {
			x := randT(rng, 0, 0, g.n, g.h, g.w, g.c)
			w := randT(rng, 0, 0, g.o, g.k, g.k, g.c)
			b := randT(rng, 0, 0, g.o)
			tp := autograd.NewTape()
			y := tp.Conv2D(tp.Leaf(x), tp.Leaf(w), tp.Leaf(b), g.s, g.p)
			if err := tp.Err(); err != nil {
				t.Fatal(err)
			}
			want, oh, ow := naiveConv(x.Data, w.Data, b.Data, g.n, g.h, g.w, g.c, g.o, g.k, g.k, g.s, g.p)
			if s := y.Shape(); s[0] != g.n || s[1] != oh || s[2] != ow || s[3] != g.o {
				t.Fatalf("shape %v, want (%d, %d, %d, %d)", s, g.n, oh, ow, g.o)
			}
			closeTo(t, "Conv2D", y.Data(), want)

			// The transposed convolution maps the small image back.
			wt := randT(rng, 0, 0, g.o, g.k, g.k, g.c) // (Cin=o, KH, KW, Cout=c)
			op := (g.h + 2*g.p - g.k) % g.s
			if op != (g.w+2*g.p-g.k)%g.s {
				return // the output padding is square only
			}
			bt := randT(rng, 0, 0, g.c)
			yt := tp.ConvTranspose2D(y, tp.Leaf(wt), tp.Leaf(bt), g.s, g.p, op)
			if err := tp.Err(); err != nil {
				t.Fatal(err)
			}
			ydata := make([]float32, len(want))
			copy(ydata, y.Data())
			wantT, th, tw := naiveConvT(ydata, wt.Data, bt.Data, g.n, oh, ow, g.o, g.c, g.k, g.k, g.s, g.p, op)
			if th != g.h || tw != g.w {
				t.Fatalf("transposed output %d×%d, want %d×%d", th, tw, g.h, g.w)
			}
			closeTo(t, "ConvTranspose2D", yt.Data(), wantT)
		})
	}
}

func TestConvShapeErrors(t *testing.T) {
	tp := autograd.NewTape()
	x := tp.Leaf(tensor.New(2, 5, 5, 3))
	for _, c := range []struct {
		f    func() *autograd.Node
		want string
	}{
		{func() *autograd.Node { return tp.Conv2D(x, tp.Leaf(tensor.New(4, 3, 3, 2)), nil, 1, 1) }, "same C"},
		{func() *autograd.Node { return tp.Conv2D(x, tp.Leaf(tensor.New(4, 7, 7, 3)), nil, 1, 0) }, "larger than the padded image"},
		{func() *autograd.Node { return tp.Conv2D(x, tp.Leaf(tensor.New(4, 3, 3, 3)), nil, 0, 0) }, "stride"},
		{func() *autograd.Node {
			return tp.Conv2D(x, tp.Leaf(tensor.New(4, 3, 3, 3)), tp.Leaf(tensor.New(3)), 1, 0)
		}, "bias"},
		{func() *autograd.Node { return tp.ConvTranspose2D(x, tp.Leaf(tensor.New(4, 3, 3, 2)), nil, 2, 1, 0) }, "same Cin"},
		{func() *autograd.Node { return tp.ConvTranspose2D(x, tp.Leaf(tensor.New(3, 4, 4, 2)), nil, 2, 1, 2) }, "output padding"},
	} {
		tp.Reset()
		x = tp.Leaf(tensor.New(2, 5, 5, 3))
		c.f()
		if err := tp.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one mentioning %q", err, c.want)
		}
	}
}

// convDInputs draws a small convolutional discriminator's input and
// weights, redrawing until no LeakyReLU pre-activation lies within 0.05 of
// the kink (finite differences are wrong across a kink; see mlpInputs).
func convDInputs(r *tensor.RNG) []*tensor.Tensor {
	for {
		in := []*tensor.Tensor{
			randT(r, 0, 0, 2, 6, 6, 2), // x
			randT(r, 0, 0, 3, 4, 4, 2), // conv kernel
			randT(r, 0, 0, 3),          // conv bias
			randT(r, 0, 0, 1, 27),      // linear
		}
		// The linear layer's weights scaled so that the logits are of
		// order 1: with N(0, 1) weights over 27 features they reached
		// ±30, where softplus(-d) and every gradient are under 1e-13 and
		// the comparison checked nothing.
		for i := range in[3].Data {
			in[3].Data[i] *= 0.05
		}
		tp := autograd.NewTape()
		pre := tp.Conv2D(tp.Leaf(in[0]), tp.Leaf(in[1]), tp.Leaf(in[2]), 2, 1)
		ok := true
		for _, v := range pre.Data() {
			if v > -0.05 && v < 0.05 {
				ok = false
			}
		}
		if ok {
			return in
		}
	}
}

// bnActInputs are 7 rows of 3 channels, a scale of 0.1 to 0.14 and
// shifts of ±1 to ±1.3 (see the BatchNormReLU case).
func bnActInputs(r *tensor.RNG) []*tensor.Tensor {
	gamma, beta := tensor.New(3), tensor.New(3)
	for i := range gamma.Data {
		gamma.Data[i] = 0.1 + 0.02*float32(i)
		beta.Data[i] = (1 + 0.15*float32(i)) * float32(1-2*(i%2))
	}
	return []*tensor.Tensor{randT(r, 0, 0.5, 7, 3), gamma, beta}
}

var convCases = []opCase{
	{"Conv2D/s1p1", func(t *T, x []*A) *A { return t.Conv2D(x[0], x[1], x[2], 1, 1) }, func(r *tensor.RNG) []*tensor.Tensor {
		return []*tensor.Tensor{randT(r, 0, 0, 2, 4, 5, 3), randT(r, 0, 0, 2, 3, 3, 3), randT(r, 0, 0, 2)}
	}, true},
	{"Conv2D/s2p1-k4", func(t *T, x []*A) *A { return t.Conv2D(x[0], x[1], nil, 2, 1) }, func(r *tensor.RNG) []*tensor.Tensor {
		return []*tensor.Tensor{randT(r, 0, 0, 2, 7, 6, 2), randT(r, 0, 0, 3, 4, 4, 2)}
	}, true},
	{"ConvTranspose2D/s2p1-k4", func(t *T, x []*A) *A { return t.ConvTranspose2D(x[0], x[1], x[2], 2, 1, 0) }, func(r *tensor.RNG) []*tensor.Tensor {
		return []*tensor.Tensor{randT(r, 0, 0, 2, 3, 3, 3), randT(r, 0, 0, 3, 4, 4, 2), randT(r, 0, 0, 2)}
	}, true},
	{"ConvTranspose2D/s2-outpad", func(t *T, x []*A) *A { return t.ConvTranspose2D(x[0], x[1], nil, 2, 1, 1) }, func(r *tensor.RNG) []*tensor.Tensor {
		return []*tensor.Tensor{randT(r, 0, 0, 1, 3, 2, 2), randT(r, 0, 0, 2, 3, 3, 3)}
	}, true},
	{"BatchNorm", func(t *T, x []*A) *A { return t.Tanh(t.BatchNorm(x[0], x[1], x[2], 1e-5)) }, func(r *tensor.RNG) []*tensor.Tensor {
		return []*tensor.Tensor{randT(r, 0, 0.5, 7, 3), randT(r, 0, 1, 3), randT(r, 0, 0, 3)}
	}, true},
	// With the activation fused: scales of at most 0.2 and shifts of ±1
	// to ±2 keep every pre-activation (|x̂| < 2.5 over 7 rows) at least
	// 0.5 from the kink, on both sides.
	{"BatchNormReLU", func(t *T, x []*A) *A { return t.Tanh(t.BatchNormReLU(x[0], x[1], x[2], 1e-5)) }, bnActInputs, true},
	{"BatchNormLeaky", func(t *T, x []*A) *A { return t.Tanh(t.BatchNormLeaky(x[0], x[1], x[2], 1e-5, 0.2)) }, bnActInputs, true},
	// Two samples of four rows, three channels, scaled and shifted per
	// sample (BigGAN's conditional batch norm).
	{"CondBatchNorm", func(t *T, x []*A) *A { return t.Tanh(t.CondBatchNorm(x[0], x[1], x[2], 1e-5)) }, func(r *tensor.RNG) []*tensor.Tensor {
		return []*tensor.Tensor{randT(r, 0, 0.5, 8, 3), randT(r, 1, 0.5, 2, 3), randT(r, 0, 0.5, 2, 3)}
	}, true},
	// With the ReLU fused: shifts of ±1 to ±2 and scales of at most 0.2
	// keep every pre-activation (|x̂| < 2.7 over 4 rows) at least 0.4 from
	// the kink, on both sides.
	{"CondBatchNormReLU", func(t *T, x []*A) *A { return t.Tanh(t.CondBatchNormReLU(x[0], x[1], x[2], 1e-5)) }, func(r *tensor.RNG) []*tensor.Tensor {
		sc, shift := tensor.New(2, 3), tensor.New(2, 3)
		for i := range sc.Data {
			sc.Data[i] = 0.1 + 0.02*float32(i)
			shift.Data[i] = (1 + 0.15*float32(i)) * float32(1-2*(i%2))
		}
		return []*tensor.Tensor{randT(r, 0, 0.5, 8, 3), sc, shift}
	}, true},
	{"Upsample2D", func(t *T, x []*A) *A { return t.Tanh(t.Upsample2D(x[0], 2, 1.5)) }, in1(0, 0, 2, 3, 2, 3), true},
	{"BlockSum2D", func(t *T, x []*A) *A { return t.Tanh(t.BlockSum2D(x[0], 2, 0.25)) }, in1(0, 0, 2, 4, 6, 3), true},
	{"ConvD-BN/loss", func(t *T, x []*A) *A {
		h := t.Conv2D(x[0], x[1], nil, 2, 1)
		h = t.Reshape(t.BatchNorm(t.Reshape(h, -1, 3), x[2], x[3], 1e-5), 2, 3, 3, 3)
		d := t.Linear(t.Reshape(t.Tanh(h), 2, -1), x[4], nil)
		return t.Mean(t.Softplus(d), false)
	}, func(r *tensor.RNG) []*tensor.Tensor {
		return []*tensor.Tensor{randT(r, 0, 0, 2, 6, 6, 2), randT(r, 0, 0, 3, 4, 4, 2), randT(r, 0, 1, 3), randT(r, 0, 0, 3), randT(r, 0, 0, 1, 27)}
	}, true},
	{"LogSoftmax", func(t *T, x []*A) *A { return t.LogSoftmax(x[0]) }, in1(0, 0, 3, 5), true},
	// A convolutional discriminator and the seed's loss (eq. 1): the path
	// R1 and WGAN-GP differentiate twice.
	{"ConvD/loss", func(t *T, x []*A) *A {
		h := t.LeakyReLU(t.Conv2D(x[0], x[1], x[2], 2, 1), 0.2)
		d := t.Linear(t.Reshape(h, 2, -1), x[3], nil)
		return t.Mean(t.Softplus(t.Neg(d)), false)
	}, convDInputs, true},
	// The same with the activation fused into the convolution (its
	// backward reads the mask from the output), a ReLU too, and a ReLU
	// fused before a second convolution, whose input gradient comes in
	// unmasked.
	{"ConvD-fused-leaky/loss", func(t *T, x []*A) *A {
		h := t.Conv2DLeakyReLU(x[0], x[1], x[2], 2, 1, 0.2)
		d := t.Linear(t.Reshape(h, 2, -1), x[3], nil)
		return t.Mean(t.Softplus(t.Neg(d)), false)
	}, convDInputs, true},
	{"ConvD-fused-ReLU/loss", func(t *T, x []*A) *A {
		h := t.Conv2DReLU(x[0], x[1], x[2], 2, 1)
		d := t.Linear(t.Reshape(h, 2, -1), x[3], nil)
		return t.Mean(t.Softplus(t.Neg(d)), false)
	}, convDInputs, true},
	// A LeakyReLU fused before a second convolution: its gradient is
	// masked as the second convolution's input gradient is folded
	// (convTLeakyMask), on each of ConvTranspose2D's paths (columns
	// folded, the flipped kernel, 1×1), and not where the output has a
	// second consumer.
	leakyThenConv("ConvLeaky-Conv/k4s2", 4, 2, 1, false),
	leakyThenConv("ConvLeaky-Conv/s1", 3, 1, 1, false),
	leakyThenConv("ConvLeaky-Conv/1x1", 1, 1, 0, false),
	leakyThenConv("ConvLeaky-Conv-two-consumers", 4, 2, 1, true),
	{"ConvReLU-Conv", func(t *T, x []*A) *A {
		h := t.Conv2DReLU(x[0], x[1], x[2], 2, 1)
		return t.Mean(t.Square(t.Conv2D(h, x[4], nil, 1, 1)), false)
	}, func(r *tensor.RNG) []*tensor.Tensor {
		return append(convDInputs(r), randT(r, 0, 0, 2, 3, 3, 3))
	}, true},
}

// leakyThenConv is the case of a Conv2DLeakyReLU (convDInputs) followed
// by a k×k convolution of stride s and padding p to 2 channels, the mean
// of its squares the loss; with twoUses the activation also feeds a
// second term.
func leakyThenConv(name string, k, s, p int, twoUses bool) opCase {
	return opCase{name, func(t *T, x []*A) *A {
		h := t.Conv2DLeakyReLU(x[0], x[1], x[2], 2, 1, 0.2)
		loss := t.Mean(t.Square(t.Conv2D(h, x[4], nil, s, p)), false)
		if twoUses {
			loss = t.Add(loss, t.Mean(t.Tanh(h), false))
		}
		return loss
	}, func(r *tensor.RNG) []*tensor.Tensor {
		return append(convDInputs(r), randT(r, 0, 0, 2, k, k, 3))
	}, true}
}

func TestConvGradFirstOrder(t *testing.T) {
	for i, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			if err := gradcheck.Check(c.f, c.inputs(tensor.NewRNG(uint64(i+1))), gradcheck.Options{Seed: uint64(i)}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestConvGradSecondOrder(t *testing.T) {
	for i, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			if err := gradcheck.CheckSecond(c.f, c.inputs(tensor.NewRNG(uint64(i+1))), gradcheck.Options{Seed: uint64(i)}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
