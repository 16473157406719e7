package nn

import (
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// SelfAttention is the self-attention layer of SAGAN (Zhang et al. 2019)
// as BigGAN uses it, on channel-last maps (N, H, W, C) with H and W even:
// θ = conv(x) and φ = maxpool₂(conv(x)) with C/8 channels, g =
// maxpool₂(conv(x)) with C/2, β = softmax(θφᵀ) over the pooled positions,
// o = conv(βg) back to C channels, and x + γo with γ a learned scalar that
// starts at 0. The convolutions are 1×1 without bias. Children: theta, phi,
// g, o; own state: "gamma".
type SelfAttention struct {
	Base
	C             int
	Theta, Phi, G *Conv2D
	O             *Conv2D
	Gamma         *autograd.Param
	c8, c2        int
}

// NewSelfAttention makes the layer for c channels (c >= 8).
func NewSelfAttention(c int, rng *tensor.RNG) *SelfAttention {
	a := &SelfAttention{C: c, c8: max(1, c/8), c2: max(1, c/2)}
	a.Theta = Add(&a.Base, "theta", NewConv2D(c, a.c8, 1, 1, 0, false, rng))
	a.Phi = Add(&a.Base, "phi", NewConv2D(c, a.c8, 1, 1, 0, false, rng))
	a.G = Add(&a.Base, "g", NewConv2D(c, a.c2, 1, 1, 0, false, rng))
	a.O = Add(&a.Base, "o", NewConv2D(a.c2, c, 1, 1, 0, false, rng))
	a.Gamma = a.NewParam("gamma")
	return a
}

// Forward attends over the positions of x, shape (N, H, W, C).
func (a *SelfAttention) Forward(c *Ctx, x *autograd.Node) *autograd.Node {
	t := c.Tape
	s := x.Shape()
	if len(s) != 4 || s[3] != a.C || s[1]%2 != 0 || s[2]%2 != 0 {
		return t.Failf("SelfAttention of %d channels: input %s, want (N, H, W, %d) with H and W even", a.C, tensor.FormatShape(s), a.C)
	}
	n, h, w := s[0], s[1], s[2]
	hw, c8 := h*w, a.c8
	// θ, φ and g in one 1×1 convolution of C to 2·C/8 + C/2 channels (one
	// product over x instead of three, one gradient for x), each weight
	// still normalised on its own; the pooling is shared by φ and g (θ's
	// pooled channels are not used).
	wt := t.Concat(0, a.Theta.Weight(c, a.Theta.W), a.Phi.Weight(c, a.Phi.W), a.G.Weight(c, a.G.W))
	y := t.Conv2D(x, wt, nil, 1, 0) // (N, H, W, 2·C/8 + C/2)
	pooled := t.MaxPool2D(y, 2)
	theta := t.Reshape(t.Slice(y, 3, 0, c8), n, hw, c8)
	phi := t.Reshape(t.Slice(pooled, 3, c8, 2*c8), n, hw/4, c8)
	g := t.Reshape(t.Slice(pooled, 3, 2*c8, 2*c8+a.c2), n, hw/4, a.c2)
	// β = softmax(θφᵀ) over the pooled positions, o = βg: one fused op.
	o := t.Reshape(t.Attention(theta, phi, g), n, h, w, a.c2)
	// γ·conv(o, W_o) as conv(o, γ·W_o): γ scales the small kernel, not
	// the activations.
	o = t.Conv2D(o, t.Mul(a.O.Weight(c, a.O.W), t.Param(a.Gamma)), nil, 1, 0)
	return t.Add(x, o)
}
