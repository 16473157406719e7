package nn

import (
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// BatchNorm normalises each feature (the last axis) of its input over all
// the other axes: over the batch of a (batch, features) input (PyTorch's
// BatchNorm1d), over the batch and both spatial axes of channel-last
// images (N, H, W, C) (BatchNorm2d). In training mode it uses the batch's
// mean and variance and updates running averages of them; in evaluation
// mode it uses the running averages. Then it scales by γ and shifts by β
// (Ioffe & Szegedy 2015; momentum 0.1, eps 1e-5 as PyTorch). Training mode
// is autograd's fused BatchNorm op, which differentiates to any order, or
// its synchronised form over the ranks of a data-parallel group when
// Ctx.SyncBN is set.
//
// State: "weight" (γ), "bias" (β), and the buffers "running_mean" and
// "running_var".
type BatchNorm struct {
	Base
	Features    int
	Eps         float32
	Momentum    float32
	Gamma, Beta *autograd.Param // nil without an affine part
	// RunningMean and RunningVar are buffers (not trained), saved in
	// checkpoints.
	RunningMean, RunningVar *tensor.Tensor
}

// NewBatchNorm makes a BatchNorm over the given number of features with
// γ = 1, β = 0.
func NewBatchNorm(features int) *BatchNorm {
	b := newBatchNorm(features)
	b.Gamma = b.NewParam("weight", features)
	b.Beta = b.NewParam("bias", features)
	b.Gamma.Value.Fill(1)
	b.RunningMean = b.NewBuffer("running_mean", features)
	b.RunningVar = b.NewBuffer("running_var", features)
	b.RunningVar.Fill(1)
	return b
}

// NewBatchNormPlain makes a BatchNorm without γ and β (PyTorch's
// affine=False): it only normalises, for a layer that scales and shifts
// by other means (ConditionalBatchNorm).
func NewBatchNormPlain(features int) *BatchNorm {
	b := newBatchNorm(features)
	b.RunningMean = b.NewBuffer("running_mean", features)
	b.RunningVar = b.NewBuffer("running_var", features)
	b.RunningVar.Fill(1)
	return b
}

func newBatchNorm(features int) *BatchNorm {
	return &BatchNorm{Features: features, Eps: 1e-5, Momentum: 0.1}
}

// Forward normalises x, whose last axis holds the features.
func (b *BatchNorm) Forward(c *Ctx, x *autograd.Node) *autograd.Node {
	return b.forward(c, x, tensor.BNNone, 0)
}

// ForwardReLU is ReLU(Forward(c, x)), one op in training (autograd's
// BatchNormReLU) and the composition otherwise.
func (b *BatchNorm) ForwardReLU(c *Ctx, x *autograd.Node) *autograd.Node {
	return b.forward(c, x, tensor.BNReLU, 0)
}

// ForwardLeaky is LeakyReLU(Forward(c, x), slope), one op in training
// (autograd's BatchNormLeaky) and the composition otherwise.
func (b *BatchNorm) ForwardLeaky(c *Ctx, x *autograd.Node, slope float32) *autograd.Node {
	if !(slope >= 0) { // the fused op needs the output's sign to be the input's
		return c.Tape.LeakyReLU(b.Forward(c, x), slope)
	}
	return b.forward(c, x, tensor.BNLeaky, slope)
}

func (b *BatchNorm) forward(c *Ctx, x *autograd.Node, act int, slope float32) *autograd.Node {
	t := c.Tape
	s := x.Shape()
	if len(s) < 2 || s[len(s)-1] != b.Features {
		return t.Failf("BatchNorm of %d features: input %s, want (..., %d)", b.Features, tensor.FormatShape(s), b.Features)
	}
	if len(s) > 2 { // (N, H, W, C) as the (N·H·W, C) matrix it is stored as
		var shape [tensor.MaxRank]int
		copy(shape[:], s)
		y := b.forward2D(c, t.Reshape(x, -1, b.Features), act, slope)
		return t.Reshape(y, shape[:len(s)]...)
	}
	return b.forward2D(c, x, act, slope)
}

// activate applies act (tensor.BNReLU, BNLeaky) to y as its own op.
func activate(t *autograd.Tape, y *autograd.Node, act int, slope float32) *autograd.Node {
	switch act {
	case tensor.BNReLU:
		return t.ReLU(y)
	case tensor.BNLeaky:
		return t.LeakyReLU(y, slope)
	}
	return y
}

func (b *BatchNorm) forward2D(c *Ctx, x *autograd.Node, act int, slope float32) *autograd.Node {
	t := c.Tape
	var gamma, beta *autograd.Node
	if b.Gamma != nil {
		gamma, beta = b.Weight(c, b.Gamma), t.Param(b.Beta)
	} else {
		gamma, beta = t.Full(1, b.Features), t.Full(0, b.Features)
	}
	if !c.batchStats() {
		// y = (x - μ)/σ·γ + β as x·s + (β - μ·s) with s = γ/σ: the
		// per-feature work is done on vectors and only two passes go over
		// the batch (four, written out), still differentiable in x, γ, β.
		scale := t.Div(gamma, t.Sqrt(t.AddScalar(t.Leaf(b.RunningVar), b.Eps)))
		shift := t.Sub(beta, t.Mul(t.Leaf(b.RunningMean), scale))
		return activate(t, t.Add(t.Mul(x, scale), shift), act, slope)
	}
	if c.SyncBN {
		y := t.SyncBatchNorm(x, gamma, beta, b.Eps)
		b.track(y)
		return activate(t, y, act, slope)
	}
	var y *autograd.Node
	switch act {
	case tensor.BNReLU:
		y = t.BatchNormReLU(x, gamma, beta, b.Eps)
	case tensor.BNLeaky:
		y = t.BatchNormLeaky(x, gamma, beta, b.Eps, slope)
	default:
		y = t.BatchNorm(x, gamma, beta, b.Eps)
	}
	b.track(y)
	return y
}

// track moves the running statistics towards those the batch-norm op y
// normalised with (nothing when y is no such op, as on a failed tape).
func (b *BatchNorm) track(y *autograd.Node) {
	if mean, v := autograd.BatchNormStats(y); mean != nil {
		n := float32(autograd.BatchNormCount(y))
		unbias := float32(1)
		if n > 1 {
			unbias = n / (n - 1)
		}
		tensor.MomentumUpdate(b.RunningMean.Data, mean, b.Momentum, 1)
		tensor.MomentumUpdate(b.RunningVar.Data, v, b.Momentum, unbias)
	}
}

// ConditionalBatchNorm is BigGAN's class-conditional batch norm: x is
// normalised without an affine part of its own, then scaled by 1 + gain(y)
// and shifted by bias(y), where y = c.Cond (N, ydim) is the conditioning
// vector and gain and bias are Linear layers without bias (spectrally
// normalised in BigGAN). Children: bn, gain, bias.
type ConditionalBatchNorm struct {
	Base
	BN         *BatchNorm
	Gain, Bias *Linear
}

// NewConditionalBatchNorm makes the layer for c features conditioned on
// vectors of width ydim.
func NewConditionalBatchNorm(c, ydim int, rng *tensor.RNG) *ConditionalBatchNorm {
	b := &ConditionalBatchNorm{}
	b.BN = Add(&b.Base, "bn", NewBatchNormPlain(c))
	b.Gain = Add(&b.Base, "gain", NewLinear(ydim, c, false, rng))
	b.Bias = Add(&b.Base, "bias", NewLinear(ydim, c, false, rng))
	return b
}

// Forward normalises x, channel-last (N, ..., C), and applies the
// conditional scale and shift of c.Cond.
func (b *ConditionalBatchNorm) Forward(c *Ctx, x *autograd.Node) *autograd.Node {
	return b.forward(c, x, false)
}

// ForwardReLU is ReLU(Forward(c, x)), as one op where Forward's is fused
// (autograd's CondBatchNormReLU).
func (b *ConditionalBatchNorm) ForwardReLU(c *Ctx, x *autograd.Node) *autograd.Node {
	return b.forward(c, x, true)
}

func (b *ConditionalBatchNorm) forward(c *Ctx, x *autograd.Node, relu bool) *autograd.Node {
	t := c.Tape
	if c.Cond == nil {
		return t.Failf("ConditionalBatchNorm needs the conditioning vector c.Cond")
	}
	s := x.Shape()
	if len(s) < 2 {
		return t.Failf("ConditionalBatchNorm: input %s, want (N, ..., C)", tensor.FormatShape(s))
	}
	n, ch := s[0], s[len(s)-1]
	if cs := c.Cond.Shape(); len(cs) != 2 || cs[0] != n {
		return t.Failf("ConditionalBatchNorm: conditioning vectors %s for a batch of %d, want (%d, width)", tensor.FormatShape(cs), n, n)
	}
	gain := t.AddScalar(b.Gain.Forward(c, c.Cond), 1)
	bias := b.Bias.Forward(c, c.Cond)
	if c.batchStats() && !c.SyncBN && b.BN.Features == ch && b.BN.Gamma == nil {
		// Batch statistics: normalisation, scale and shift as one op
		// (the same function, rounded once where the composition
		// rounds twice).
		var y *autograd.Node
		if relu {
			y = t.CondBatchNormReLU(t.Reshape(x, -1, ch), gain, bias, b.BN.Eps)
		} else {
			y = t.CondBatchNorm(t.Reshape(x, -1, ch), gain, bias, b.BN.Eps)
		}
		b.BN.track(y)
		var shape [tensor.MaxRank]int
		copy(shape[:], s)
		return t.Reshape(y, shape[:len(s)]...)
	}
	// Running statistics (evaluation) or sync-bn: batch norm, then the
	// scale and shift broadcast as (N, 1, ..., 1, C).
	var bs [tensor.MaxRank]int
	for i := range s {
		bs[i] = 1
	}
	bs[0], bs[len(s)-1] = n, ch
	h := b.BN.Forward(c, x)
	y := t.Add(t.Mul(h, t.Reshape(gain, bs[:len(s)]...)), t.Reshape(bias, bs[:len(s)]...))
	if relu {
		y = t.ReLU(y)
	}
	return y
}
