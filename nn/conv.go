package nn

import (
	"math"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// Conv2D is a 2-D convolution layer on channel-last images (N, H, W, In)
// with a square kernel, stride and zero padding. W has shape
// (Out, K, K, In): PyTorch's Conv2d weight with the channel axis last.
// State: "weight", and "bias" unless made without.
type Conv2D struct {
	Base
	In, Out, K, Stride, Pad int
	W, B                    *autograd.Param // B is nil without bias
}

// NewConv2D makes a convolution initialised as PyTorch's nn.Conv2d:
// weights and then bias uniform in ±1/sqrt(In·K·K).
func NewConv2D(in, out, k, stride, pad int, bias bool, rng *tensor.RNG) *Conv2D {
	c := &Conv2D{In: in, Out: out, K: k, Stride: stride, Pad: pad}
	c.W = c.NewParam("weight", out, k, k, in)
	bound := float32(1 / math.Sqrt(float64(in*k*k)))
	rng.Uniform(c.W.Value.Data, -bound, bound)
	if bias {
		c.B = c.NewParam("bias", out)
		rng.Uniform(c.B.Value.Data, -bound, bound)
	}
	return c
}

// Forward convolves x, shape (N, H, W, In).
func (c *Conv2D) Forward(ctx *Ctx, x *autograd.Node) *autograd.Node {
	b := ctx.optParam(c.B)
	return ctx.Tape.Conv2D(x, c.Weight(ctx, c.W), b, c.Stride, c.Pad)
}

// ForwardReLU is ReLU(Forward(x)) as one op (autograd's Conv2DReLU): the
// product's threads apply the ReLU as they finish its tiles. The values
// and gradients are those of Forward then ReLU.
func (c *Conv2D) ForwardReLU(ctx *Ctx, x *autograd.Node) *autograd.Node {
	b := ctx.optParam(c.B)
	return ctx.Tape.Conv2DReLU(x, c.Weight(ctx, c.W), b, c.Stride, c.Pad)
}

// ForwardLeaky is LeakyReLU(Forward(x), slope) as one op (autograd's
// Conv2DLeakyReLU; slope >= 0), as ForwardReLU.
func (c *Conv2D) ForwardLeaky(ctx *Ctx, x *autograd.Node, slope float32) *autograd.Node {
	b := ctx.optParam(c.B)
	return ctx.Tape.Conv2DLeakyReLU(x, c.Weight(ctx, c.W), b, c.Stride, c.Pad, slope)
}

// ConvTranspose2D is a transposed convolution layer (a learned upsampling
// by the stride) on channel-last images (N, H, W, In). W has shape
// (In, K, K, Out): PyTorch's ConvTranspose2d weight with the channel axis
// last. State: "weight", and "bias" unless made without.
type ConvTranspose2D struct {
	Base
	In, Out, K, Stride, Pad, OutPad int
	W, B                            *autograd.Param // B is nil without bias
}

// NewConvTranspose2D makes a transposed convolution initialised as
// PyTorch's nn.ConvTranspose2d: uniform in ±1/sqrt(Out·K·K).
func NewConvTranspose2D(in, out, k, stride, pad int, bias bool, rng *tensor.RNG) *ConvTranspose2D {
	c := &ConvTranspose2D{In: in, Out: out, K: k, Stride: stride, Pad: pad}
	c.W = c.NewParam("weight", in, k, k, out)
	bound := float32(1 / math.Sqrt(float64(out*k*k)))
	rng.Uniform(c.W.Value.Data, -bound, bound)
	if bias {
		c.B = c.NewParam("bias", out)
		rng.Uniform(c.B.Value.Data, -bound, bound)
	}
	return c
}

// Forward upsamples x, shape (N, H, W, In).
func (c *ConvTranspose2D) Forward(ctx *Ctx, x *autograd.Node) *autograd.Node {
	b := ctx.optParam(c.B)
	return ctx.Tape.ConvTranspose2D(x, c.Weight(ctx, c.W), b, c.Stride, c.Pad, c.OutPad)
}

// Upsample2D repeats every pixel of x, shape (N, H, W, C), into an f×f
// block (nearest-neighbour upsampling; Tape.Upsample2D): its gradient sums
// each block.
func Upsample2D(t *autograd.Tape, x *autograd.Node, f int) *autograd.Node {
	s := x.Shape()
	if len(s) != 4 || f < 1 {
		return t.Failf("Upsample2D: input %s by %d, want (N, H, W, C) and a factor >= 1", tensor.FormatShape(s), f)
	}
	return t.Upsample2D(x, f, 1)
}

// AvgPool2D averages x, shape (N, H, W, C), over non-overlapping f×f
// blocks (H and W must be multiples of f): Tape.BlockSum2D scaled by 1/f².
func AvgPool2D(t *autograd.Tape, x *autograd.Node, f int) *autograd.Node {
	s := x.Shape()
	if len(s) != 4 || f < 1 || s[1]%f != 0 || s[2]%f != 0 {
		return t.Failf("AvgPool2D: input %s by %d, want (N, H, W, C) with H and W multiples of the factor", tensor.FormatShape(s), f)
	}
	return t.BlockSum2D(x, f, 1/float32(f*f))
}
