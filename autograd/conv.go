package autograd

import (
	"github.com/minmaxgan/minmax/tensor"
)

// Convolutions work on channel-last (NHWC) images; see tensor/conv.go.
//
// Three ops are closed under differentiation, so gradients of gradients
// (R1, WGAN-GP on a convolutional discriminator) need nothing more:
//
//	Conv2D(x, w)          y = im2col(x) · wᵀ
//	ConvTranspose2D(x, w) y = col2im(x · w)
//	convW(a, b)           r = bᵀ · im2col(a)   (a convolution's weight gradient)
//
// with, for the same geometry, dx of Conv2D = ConvTranspose2D(g, w),
// dw = convW(x, g); dx of ConvTranspose2D = Conv2D(g, w), dw = convW(g, x);
// and for convW, da = ConvTranspose2D(b, g), db = Conv2D(a, g).

// Conv2D returns the 2-D convolution (cross-correlation, as in PyTorch) of x,
// shape (N, H, W, C), with the kernel w, shape (O, KH, KW, C), plus bias,
// shape (O) or nil, at the given stride and zero padding on every side. The
// result has shape (N, OH, OW, O) with OH = (H + 2·pad − KH)/stride + 1.
func (t *Tape) Conv2D(x, w, bias *Node, stride, pad int) *Node {
	return t.conv2D(x, w, bias, stride, pad, tensor.Act{})
}

// Conv2DReLU is ReLU(Conv2D(x, w, bias, stride, pad)) as one op: where the
// convolution is a packed product the ReLU is applied by its threads as
// they finish its tiles (tensor.ConvMatMulAct), and the backward pass
// reads the mask from the output. Values and gradients, at any order, are
// bit-identical to the two ops'.
func (t *Tape) Conv2DReLU(x, w, bias *Node, stride, pad int) *Node {
	return t.conv2D(x, w, bias, stride, pad, tensor.Act{Kind: tensor.ActReLU})
}

// Conv2DLeakyReLU is LeakyReLU(Conv2D(x, w, bias, stride, pad), slope) as
// one op, as Conv2DReLU; slope must be at least 0, so that the output has
// the sign of the convolution, which the backward pass reads.
func (t *Tape) Conv2DLeakyReLU(x, w, bias *Node, stride, pad int, slope float32) *Node {
	if !(slope >= 0) {
		return t.failf("Conv2DLeakyReLU: slope %v, want >= 0", slope)
	}
	return t.conv2D(x, w, bias, stride, pad, tensor.Act{Kind: tensor.ActLeaky, Slope: slope})
}

// conv2D is Conv2D followed by act, one op.
func (t *Tape) conv2D(x, w, bias *Node, stride, pad int, act tensor.Act) *Node {
	if !t.convInputs(opConv, x, w, bias) {
		return t.bad
	}
	if x.t.Rank() != 4 || w.t.Rank() != 4 || x.t.Dim(3) != w.t.Dim(3) {
		return t.failf("Conv2D: input %v and kernel %v: want input (N, H, W, C) and kernel (O, KH, KW, C) with the same C", sh(x.Shape()), sh(w.Shape()))
	}
	if bias != nil && (bias.t.Rank() != 1 || bias.t.Dim(0) != w.t.Dim(0)) {
		return t.failf("Conv2D: bias %v does not match kernel %v: want (%d)", sh(bias.Shape()), sh(w.Shape()), w.t.Dim(0))
	}
	g, err := tensor.NewConvGeom(x.t.Dim(1), x.t.Dim(2), w.t.Dim(1), w.t.Dim(2), stride, stride, pad, pad)
	if err != nil {
		return t.failf("Conv2D: input %v, kernel %v, stride %d, padding %d: %v", sh(x.Shape()), sh(w.Shape()), stride, pad, err)
	}
	return t.convAct(x, w, bias, g, act)
}

// ConvTranspose2D returns the transposed convolution of x, shape
// (N, H, W, Cin), with the kernel w, shape (Cin, KH, KW, Cout) (PyTorch's
// ConvTranspose2d weight with the channel axis last), plus bias, shape
// (Cout) or nil: the gradient of Conv2D with respect to its input, which
// upsamples by the stride. The result has shape (N, OH, OW, Cout) with
// OH = (H − 1)·stride − 2·pad + KH + outPad.
func (t *Tape) ConvTranspose2D(x, w, bias *Node, stride, pad, outPad int) *Node {
	if !t.convInputs(opConvT, x, w, bias) {
		return t.bad
	}
	if x.t.Rank() != 4 || w.t.Rank() != 4 || x.t.Dim(3) != w.t.Dim(0) {
		return t.failf("ConvTranspose2D: input %v and kernel %v: want input (N, H, W, Cin) and kernel (Cin, KH, KW, Cout) with the same Cin", sh(x.Shape()), sh(w.Shape()))
	}
	if bias != nil && (bias.t.Rank() != 1 || bias.t.Dim(0) != w.t.Dim(3)) {
		return t.failf("ConvTranspose2D: bias %v does not match kernel %v: want (%d)", sh(bias.Shape()), sh(w.Shape()), w.t.Dim(3))
	}
	g, err := tensor.NewConvTGeom(x.t.Dim(1), x.t.Dim(2), w.t.Dim(1), w.t.Dim(2), stride, stride, pad, pad, outPad, outPad)
	if err != nil {
		return t.failf("ConvTranspose2D: input %v, kernel %v, stride %d, padding %d: %v", sh(x.Shape()), sh(w.Shape()), stride, pad, err)
	}
	return t.convT(x, w, bias, g)
}

func (t *Tape) convInputs(op opKind, x, w, bias *Node) bool {
	if bias == nil {
		return t.ok(op, x, w)
	}
	return t.ok(op, x, w, bias)
}

// conv is Conv2D for a checked geometry. The input is never unfolded: the
// product gathers its patches block by block as it packs them
// (tensor.ConvMatMul), and the weight gradient gathers them again.
func (t *Tape) conv(x, w, bias *Node, g tensor.ConvGeom) *Node {
	return t.convAct(x, w, bias, g, tensor.Act{})
}

// convAct is conv followed by act, one op: the activation's kind is kept
// in a[2] and its slope in f, for the backward pass (actGrad).
func (t *Tape) convAct(x, w, bias *Node, g tensor.ConvGeom, act tensor.Act) *Node {
	nb, c, o := x.t.Dim(0), x.t.Dim(3), w.t.Dim(0)
	rows, k := nb*g.OH*g.OW, g.PatchLen(c)
	n := t.node(opConv, []int{nb, g.OH, g.OW, o}, nil, x, w, bias)
	n.geo = g
	n.a[2], n.f = int(act.Kind), act.Slope
	var b []float32
	if bias != nil {
		b = bias.t.Data
	}
	if g.IsPointwise() { // a 1×1 convolution's patches are the image itself
		tensor.MatMulBiasAct(n.t.Data, x.t.Data, w.t.Data, b, rows, o, k, false, true, act)
		return n
	}
	var keep []float32
	if t.recording {
		// The padded copy of x stays on the tape for the kernel gradient.
		if l := tensor.KeepLen(nb, c, o, g); l > 0 {
			keep = t.alloc(l)
		}
	}
	if tensor.ConvMatMulAct(n.t.Data, x.t.Data, w.t.Data, b, nb, c, o, g, keep, act) {
		n.aux = keep
	}
	return n
}

// convT is ConvTranspose2D for a checked geometry (x is the small image).
func (t *Tape) convT(x, w, bias *Node, g tensor.ConvGeom) *Node {
	n := t.node(opConvT, []int{x.t.Dim(0), g.H, g.W, w.t.Dim(3)}, nil, x, w, bias)
	n.geo = g
	t.convTInto(n, x, w, bias, g)
	return n
}

// convTLeakyMask returns convT(x, w) masked as the rule of the LeakyReLU
// fused into y (Conv2DLeakyReLU, slope) would mask it: the gradient of y
// through the convolution y feeds (leakyMasked). The mask is applied to
// each image as it is folded (tensor.ConvTMatMulLeakyMask); a[2] keeps
// y's index, so that y's rule sees its gradient masked already.
func (t *Tape) convTLeakyMask(x, w, y *Node, slope float32, g tensor.ConvGeom) *Node {
	nb, cin, cout := x.t.Dim(0), w.t.Dim(0), w.t.Dim(3)
	n := t.node(opConvTMask, []int{nb, g.H, g.W, cout}, nil, x, w, y)
	n.geo, n.f, n.a[2] = g, slope, y.idx
	if _, flipped := g.Flipped(); g.IsPointwise() || flipped {
		t.convTInto(n, x, w, nil, g)
		tensor.LeakyMask(n.t.Data, y.t.Data, n.t.Data, slope)
		return n
	}
	tensor.ConvTMatMulLeakyMask(n.t.Data, x.t.Data, w.t.Data, y.t.Data, slope, nb, cin, cout, g)
	return n
}

// convTReLUMask returns convT(x, w) masked by y > 0 (or NaN): the
// gradient of the ReLU fused into y (Conv2DReLU, or a ReLU's output)
// through the stride-1 convolution y feeds, whose input gradient is a
// convolution (reluMaskedConv). The mask is applied by the product's
// threads to the tiles they finish (tensor.ConvMatMulReLUMask), instead
// of a pass over the gradient afterwards (2-4% of biggan32's step
// samples at 1 thread, against under 1% for the epilogue); a[2] keeps
// y's index, so that y's rule sees its gradient masked already
// (maskedBy). Masking is linear and idempotent: a gradient of y summed
// from several consumers, some masked, is the same masked again.
func (t *Tape) convTReLUMask(x, w, y *Node, g tensor.ConvGeom) *Node {
	nb, cin, cout := x.t.Dim(0), w.t.Dim(0), w.t.Dim(3)
	// The mask y's own rule applies: y > 0 for a fused ReLU, x > 0 for a
	// ReLU node (the same but for NaN inputs).
	m := y
	if y.op == opReLU {
		m = y.ins[0]
	}
	n := t.node(opConvTReLU, []int{nb, g.H, g.W, cout}, nil, x, w, m)
	n.geo, n.a[2] = g, y.idx
	fg, _ := g.Flipped()
	tensor.ConvMatMulReLUMask(n.t.Data, x.t.Data, t.flippedKernel(w, g), m.t.Data, nb, cin, cout, fg)
	return n
}

// reluMaskConvs lets convolutions' input gradients mask for the ReLU
// before them (reluMaskedConv); tests compare with the separate mask.
var reluMaskConvs = true

// reluMaskedConv says whether the gradient reaching y through the
// transposed convolution of geometry g (a convolution's input gradient)
// is computed masked for y's ReLU (convTReLUMask): y is the output of a
// ReLU or a Conv2DReLU, not a target of the current Grad, and g is a
// stride-1 geometry whose transposed convolution is a convolution
// (ConvGeom.Flipped).
func (t *Tape) reluMaskedConv(y *Node, g tensor.ConvGeom) bool {
	relu := y.op == opReLU || y.op == opConv && tensor.ActKind(y.a[2]) == tensor.ActReLU
	if !reluMaskConvs || !relu || t.target[y.idx] || g.IsPointwise() {
		return false
	}
	_, flipped := g.Flipped()
	return flipped
}

// flippedKernel returns w (cin, KH, KW, cout) flipped in space and
// transposed in channels (tensor.FlipKernel), the kernel of the
// convolution that computes a stride-1 transposed convolution of
// geometry g, in the tape's scratch buffer: valid until the next
// scratchBuf, so the product must consume it at once.
func (t *Tape) flippedKernel(w *Node, g tensor.ConvGeom) []float32 {
	wf := t.scratchBuf(len(w.t.Data))
	tensor.FlipKernel(wf, w.t.Data, w.t.Dim(0), g.KH, g.KW, w.t.Dim(3))
	return wf
}

// convTInto computes the transposed convolution of x by w (and bias)
// into n.
func (t *Tape) convTInto(n, x, w, bias *Node, g tensor.ConvGeom) {
	nb, cin, cout := x.t.Dim(0), w.t.Dim(0), w.t.Dim(3)
	rows, k := nb*g.OH*g.OW, g.PatchLen(cout)
	if g.IsPointwise() { // the columns are the output
		if bias != nil {
			tensor.MatMulBias(n.t.Data, x.t.Data, w.t.Data, bias.t.Data, rows, k, cin, false, false)
		} else {
			tensor.MatMul(n.t.Data, x.t.Data, w.t.Data, rows, k, cin, false, false, false)
		}
		return
	}
	if fg, ok := g.Flipped(); ok {
		// A stride-1 transposed convolution that does not enlarge the
		// image is the convolution of x with the kernel flipped in space
		// and transposed in channels: gathered patches, no columns to
		// fold back.
		wf := t.flippedKernel(w, g)
		var b []float32
		if bias != nil {
			b = bias.t.Data
		}
		tensor.ConvMatMul(n.t.Data, x.t.Data, wf, b, nb, cin, cout, fg, false)
		return
	}
	var b []float32
	if bias != nil {
		b = bias.t.Data
	}
	// The columns x·w, folded into the images as they are computed.
	tensor.ConvTMatMul(n.t.Data, x.t.Data, w.t.Data, b, nb, cin, cout, g)
}

// convW returns bᵀ · im2col(a), shape (O, KH, KW, C), for a big image a
// (N, H, W, C) and a small one b (N, OH, OW, O): the gradient of a
// convolution's kernel.
func (t *Tape) convW(a, b *Node, g tensor.ConvGeom) *Node { return t.convWPadded(a, b, g, nil) }

// convWPadded is convW given a's padded copy apad where the convolution
// kept one (Conv2D's aux; nil otherwise).
func (t *Tape) convWPadded(a, b *Node, g tensor.ConvGeom, apad []float32) *Node {
	if !t.ok(opConvW, a, b) {
		return t.bad
	}
	nb, c, o := a.t.Dim(0), a.t.Dim(3), b.t.Dim(3)
	rows, k := nb*g.OH*g.OW, g.PatchLen(c)
	n := t.node(opConvW, []int{o, g.KH, g.KW, c}, nil, a, b, nil)
	n.geo = g
	if g.IsPointwise() {
		tensor.MatMul(n.t.Data, b.t.Data, a.t.Data, o, k, rows, true, false, false)
		return n
	}
	tensor.ConvWeightMatMulPadded(n.t.Data, b.t.Data, a.t.Data, apad, nb, c, o, g)
	return n
}

// convBackward applies the chain rule of the three convolution ops.
func (t *Tape) convBackward(n, g *Node, needs []bool) {
	need := func(i int) bool { return i < len(n.ins) && needs[n.ins[i].idx] }
	x, w := n.ins[0], n.ins[1]
	if n.op == opConv {
		g = t.actGrad(n, g)
	}
	switch n.op {
	case opConv:
		if need(0) {
			switch {
			case t.leakyMasked(x):
				t.accum(x, t.convTLeakyMask(g, w, x, x.f, n.geo), needs)
			case t.reluMaskedConv(x, n.geo):
				t.accum(x, t.convTReLUMask(g, w, x, n.geo), needs)
			default:
				t.accum(x, t.convT(g, w, nil, n.geo), needs)
			}
		}
		if need(1) {
			t.accum(w, t.convWPadded(x, g, n.geo, n.aux), needs)
		}
	case opConvTMask, opConvTReLU: // n = M ⊙ convT(x, w), M the LeakyReLU or ReLU mask of ins[2]: linear in x and w
		if n.op == opConvTMask {
			g = t.leakyMask(n.ins[2], g, n.f)
		} else {
			g = t.reluMask(n.ins[2], g)
		}
		if need(0) {
			t.accum(x, t.conv(g, w, nil, n.geo), needs)
		}
		if need(1) {
			t.accum(w, t.convW(g, x, n.geo), needs)
		}
		return
	case opConvT:
		if need(0) {
			t.accum(x, t.conv(g, w, nil, n.geo), needs)
		}
		if need(1) {
			t.accum(w, t.convW(g, x, n.geo), needs)
		}
	case opConvW: // x = a (big), w = b (small)
		if need(0) {
			t.accum(x, t.convT(w, g, nil, n.geo), needs)
		}
		if need(1) {
			t.accum(w, t.conv(x, g, nil, n.geo), needs)
		}
	}
	if need(2) {
		b := n.ins[2]
		t.accum(b, t.SumTo(g, b.Shape()...), needs)
	}
}

// actGrad returns the gradient before the activation fused into the
// convolution n (Conv2DReLU, Conv2DLeakyReLU), given g after it, reading
// the mask from n's output: its sign is the convolution's, the slope
// being at least 0. A gradient masked by n already (maskedBy) is kept.
func (t *Tape) actGrad(n, g *Node) *Node {
	switch tensor.ActKind(n.a[2]) {
	case tensor.ActReLU:
		g = t.reluGrad(n, g)
	case tensor.ActLeaky:
		if !maskedBy(g, n) {
			g = t.leakyMask(n, g, n.f)
		}
	}
	return g
}

// leakyMasked reports whether the gradient of y, on its way through the
// convolution y feeds, is to be masked there (convTLeakyMask) for the
// LeakyReLU fused into y: y is a Conv2DLeakyReLU's output, not a target
// of the current Grad (whose gradient is returned as it reaches y), and
// feeds no other node of the backward pass. Masking by a LeakyReLU is not
// idempotent (slope² where masked twice), so y's rule can skip it only
// when every part of its gradient was masked: when there is one part.
func (t *Tape) leakyMasked(y *Node) bool {
	return y.op == opConv && tensor.ActKind(y.a[2]) == tensor.ActLeaky && !t.target[y.idx] && t.uses[y.idx] == 1
}
