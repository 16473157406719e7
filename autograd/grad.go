package autograd

import (
	"fmt"

	"github.com/minmaxgan/minmax/tensor"
)

// Grad returns the gradients of the sum of loss's elements (usually loss is
// a scalar) with respect to each node of wrt, in order. A node that the loss
// does not depend on gets nil.
//
// With createGraph the backward pass is itself recorded, so the returned
// gradients can be used in further ops and differentiated again (R1, WGAN-GP).
// Without it the gradients are constants computed straight on the kernels.
//
// The nodes are valid until Reset.
func (t *Tape) Grad(loss *Node, wrt []*Node, createGraph bool) ([]*Node, error) {
	gs, err := t.grad(loss, wrt, createGraph)
	if err != nil {
		return nil, err
	}
	return append([]*Node(nil), gs...), nil
}

// GradOf is Grad for a single target, without allocating: what gradient
// penalties call at every step.
func (t *Tape) GradOf(loss, wrt *Node, createGraph bool) (*Node, error) {
	t.one[0] = wrt
	gs, err := t.grad(loss, t.one[:], createGraph)
	t.one[0] = nil
	if err != nil {
		return nil, err
	}
	return gs[0], nil
}

// grad is Grad returning a tape-owned slice (reused by the next call), so
// that Backward allocates nothing.
func (t *Tape) grad(loss *Node, wrt []*Node, createGraph bool) ([]*Node, error) {
	if t.err != nil {
		return nil, t.err
	}
	if !t.ok(opLeaf, loss) {
		return nil, t.err
	}
	for i, w := range wrt {
		if w == nil || w.tape != t || w.epoch != t.epoch {
			return nil, fmt.Errorf("Grad: target %d: %w", i, ErrStaleNode)
		}
	}
	last := loss.idx
	// needs[i]: node i lies on a path from a target to the loss.
	t.needs = grow(t.needs, last+1)
	t.grads = grow(t.grads, last+1)
	needs, grads := t.needs[:last+1], t.grads[:last+1]
	t.target = grow(t.target, last+1)
	target := t.target[:last+1]
	clear(needs)
	clear(grads)
	clear(target)
	for _, w := range wrt {
		if w.idx <= last {
			needs[w.idx], target[w.idx] = true, true
		}
	}
	for i := 0; i <= last; i++ {
		if needs[i] {
			continue
		}
		for _, in := range t.nodes[i].ins {
			if needs[in.idx] {
				needs[i] = true
				break
			}
		}
	}
	t.uses = grow(t.uses, last+1)
	uses := t.uses[:last+1]
	clear(uses)
	for i := 0; i <= last; i++ {
		if needs[i] {
			for _, in := range t.nodes[i].ins {
				uses[in.idx]++
			}
		}
	}
	t.out = grow(t.out, len(wrt))[:len(wrt)]
	clear(t.out)
	if !needs[last] {
		return t.out, nil
	}

	prev := t.recording
	t.recording = createGraph
	grads[last] = t.Full(1, loss.Shape()...)
	for i := last; i >= 0; i-- {
		g := grads[i]
		if g == nil || !needs[i] {
			continue
		}
		n := t.nodes[i]
		if len(n.ins) > 0 {
			t.backward(n, g, needs)
		}
		if t.err != nil {
			break
		}
	}
	t.recording = prev
	if t.err != nil {
		return nil, t.err
	}
	for i, w := range wrt {
		if w.idx <= last {
			t.out[i] = grads[w.idx]
		}
	}
	return t.out, nil
}

// Backward computes the gradient of loss with respect to the parameters ps
// used on this tape since the last Reset and adds it to their Grad tensors
// (parameters the loss does not reach are left alone). Parameters not in ps
// are never touched, even when the loss flows through them: this is how a
// generator is trained through a frozen discriminator.
func (t *Tape) Backward(loss *Node, ps []*Param) error {
	gs, err := t.paramGrads(loss, ps)
	if err != nil {
		return err
	}
	for i, g := range gs {
		if g == nil {
			continue
		}
		p := t.wrt[i].param
		tensor.Axpy(p.Grad.Data, 1, g.t.Data)
	}
	return nil
}

// SetGradients is Backward that sets the parameters' Grad tensors rather
// than adding to them: each p in ps gets ∂loss/∂p, zero where the loss
// does not reach p (or p was not used on this tape since the last Reset).
// It is what zeroing the gradients and then calling Backward computes,
// with one pass over them instead of three. On an error the gradients are
// left as they were.
func (t *Tape) SetGradients(loss *Node, ps []*Param) error {
	gs, err := t.paramGrads(loss, ps)
	if err != nil {
		return err
	}
	// t.wrt lists the parameters of ps that have leaves, in the order of
	// ps.
	i := 0
	for _, p := range ps {
		if i < len(t.wrt) && t.wrt[i].param == p {
			g := gs[i]
			i++
			if g != nil {
				if !t.adoptGrad(p, g) {
					copy(p.Grad.Data, g.t.Data)
				}
				continue
			}
		}
		p.ZeroGrad()
	}
	return nil
}

// adoptGrad exchanges p.Grad's buffer with the arena buffer that holds
// its gradient g, where g's values are exactly one whole arena buffer,
// and reports whether it did. The copy SetGradients would otherwise make
// (dcgan28's generator has 3 MB of gradients, copied once a step from
// buffers already out of L2: 1.2% of its step at one thread) becomes an
// exchange of slices. The buffer now in p.Grad is no longer the arena's,
// so no later op overwrites it; the arena's slot is written afresh when
// next handed out.
func (t *Tape) adoptGrad(p *Param, g *Node) bool {
	d := g.t.Data
	if !adoptGrads || len(d) == 0 || len(d) != len(p.Grad.Data) {
		return false
	}
	for i, b := range t.bufs[:t.nbuf] {
		// The whole buffer and nothing more: a gradient that is part of
		// a larger one (another node's) is copied.
		if len(b) == len(d) && &b[0] == &d[0] {
			t.bufs[i] = p.Grad.Data
			p.Grad.Data = d
			return true
		}
	}
	return false
}

// adoptGrads lets SetGradients exchange buffers rather than copy (tests
// compare the two).
var adoptGrads = true

// paramGrads computes the gradients of loss with respect to those of ps
// used on this tape since the last Reset, whose leaves it lists in t.wrt
// (in the order of ps); an entry is nil where loss does not reach the
// parameter.
func (t *Tape) paramGrads(loss *Node, ps []*Param) ([]*Node, error) {
	t.wrt = t.wrt[:0]
	for _, p := range ps {
		if p.leaf != nil && p.leafTape == t && p.leafEpoch == t.epoch {
			t.wrt = append(t.wrt, p.leaf)
		}
	}
	return t.grad(loss, t.wrt, false)
}

// accum adds g to the gradient being gathered for node n.
func (t *Tape) accum(n *Node, g *Node, needs []bool) {
	if n.idx < 0 || n.idx >= len(needs) || !needs[n.idx] || g == nil {
		return
	}
	if cur := t.grads[n.idx]; cur != nil {
		g = t.Add(cur, g)
	}
	t.grads[n.idx] = g
}

// backward applies n's chain rule: given g = dL/dn it accumulates dL/din
// for each input that needs it. Every rule uses the tape's differentiable
// ops, so with recording on the backward pass is itself on the graph.
func (t *Tape) backward(n *Node, g *Node, needs []bool) {
	need := func(i int) bool { return i < len(n.ins) && needs[n.ins[i].idx] }
	var x, y *Node
	if len(n.ins) > 0 {
		x = n.ins[0]
	}
	if len(n.ins) > 1 {
		y = n.ins[1]
	}
	switch n.op {
	case opAdd:
		if need(0) {
			t.accum(x, t.SumTo(g, x.Shape()...), needs)
		}
		if need(1) {
			t.accum(y, t.SumTo(g, y.Shape()...), needs)
		}
	case opSub:
		if need(0) {
			t.accum(x, t.SumTo(g, x.Shape()...), needs)
		}
		if need(1) {
			t.accum(y, t.SumTo(t.Neg(g), y.Shape()...), needs)
		}
	case opMul:
		if need(0) {
			t.accum(x, t.SumTo(t.Mul(g, y), x.Shape()...), needs)
		}
		if need(1) {
			t.accum(y, t.SumTo(t.Mul(g, x), y.Shape()...), needs)
		}
	case opDiv: // n = x/y: dx = g/y, dy = -g*x/y² = -(g/y)*n
		gx := t.Div(g, y)
		if need(0) {
			t.accum(x, t.SumTo(gx, x.Shape()...), needs)
		}
		if need(1) {
			t.accum(y, t.SumTo(t.Neg(t.Mul(gx, n)), y.Shape()...), needs)
		}
	case opAffine:
		t.accum(x, t.Scale(g, n.f), needs)
	case opMatMul:
		t.matmulBackward(n, g, needs)
	case opLinear:
		t.linearBackward(n, g, needs)
	case opLinearReLU:
		t.linearBackward(n, t.reluGrad(n, g), needs)
	case opMatMulMask: // n = [m > 0] ⊙ (a @ op(b)): linear in a and b, piecewise constant in m
		t.matmulBackward(n, t.reluMask(n.ins[2], g), needs)
	case opReLU:
		if !maskedBy(g, n) {
			g = t.reluMask(x, g)
		}
		t.accum(x, g, needs)
	case opReLUMask: // n = g0 * [x > 0]: linear in g0, piecewise constant in x
		if need(1) {
			t.accum(y, t.reluMask(x, g), needs)
		}
	case opLeaky:
		t.accum(x, t.leakyMask(x, g, n.f), needs)
	case opLeakyMask:
		if need(1) {
			t.accum(y, t.leakyMask(x, g, n.f), needs)
		}
	case opTanh:
		t.accum(x, t.tanhGrad(n, g), needs)
	case opTanhGrad: // n = g0*(1-x²) with x = tanh output
		if need(0) { // d/dx = -2 x g0 g
			t.accum(x, t.Scale(t.Mul(t.Mul(x, y), g), -2), needs)
		}
		if need(1) {
			t.accum(y, t.tanhGrad(x, g), needs)
		}
	case opSigmoid:
		t.accum(x, t.sigmoidGrad(n, g), needs)
	case opSigmoidGrad: // n = g0*x*(1-x) with x = sigmoid output
		if need(0) { // d/dx = g0 g (1-2x)
			t.accum(x, t.Mul(t.Mul(y, g), t.Affine(x, -2, 1)), needs)
		}
		if need(1) {
			t.accum(y, t.sigmoidGrad(x, g), needs)
		}
	case opSoftplus:
		t.accum(x, t.Mul(g, t.Sigmoid(x)), needs)
	case opExp:
		t.accum(x, t.Mul(g, n), needs)
	case opLog:
		t.accum(x, t.Div(g, x), needs)
	case opSquare:
		t.accum(x, t.Mul(g, t.Scale(x, 2)), needs)
	case opSqrt:
		t.accum(x, t.Div(g, t.Scale(n, 2)), needs)
	case opSumTo:
		t.accum(x, t.BroadcastTo(g, x.Shape()...), needs)
	case opBroadcastTo:
		t.accum(x, t.SumTo(g, x.Shape()...), needs)
	case opReshape:
		t.accum(x, t.Reshape(g, x.Shape()...), needs)
	case opSlice:
		t.accum(x, t.pad(g, n.a[0], n.a[1], x.t.Dim(n.a[0])), needs)
	case opPad:
		t.accum(x, t.Slice(g, n.a[0], n.a[1], n.a[2]), needs)
	case opConcat:
		axis, off := n.a[0], 0
		for i, in := range n.ins {
			w := in.t.Dim(axis)
			if need(i) {
				t.accum(in, t.Slice(g, axis, off, off+w), needs)
			}
			off += w
		}
	case opConv, opConvT, opConvW, opConvTMask, opConvTReLU:
		t.convBackward(n, g, needs)
	case opBatchNorm:
		t.batchNormBackward(n, g, needs)
	case opCondBN:
		t.condBatchNormBackward(n, g, needs)
	case opUpsample:
		t.accum(x, t.BlockSum2D(g, n.a[0], n.f), needs)
	case opBlockSum:
		t.accum(x, t.Upsample2D(g, n.a[0], n.f), needs)
	case opAllReduce: // every rank's output is the sum: its gradient sums every rank's
		t.accum(x, t.AllReduce(g), needs)
	case opBatchMatMul:
		t.bmmBackward(n, g, needs)
	case opSoftmax:
		t.softmaxBackward(n, g, needs)
	case opAttention:
		t.attentionBackward(n, g, needs)
	case opGather, opScatter:
		t.indexBackward(n, g, needs)
	case opLogSoftmax: // dx = g − softmax(x)·Σ g over the row
		t.accum(x, t.Sub(g, t.Mul(t.Exp(n), t.Sum(g, true, 1))), needs)
	default:
		t.failf("Grad: no backward rule for %v", n.op)
	}
}

// matmulBackward: n = op(a) op(b). Each case is two products, chosen so no
// operand is ever transposed in memory.
// linearBackward is Linear's rule, for n = x @ wᵀ + b, given g, the
// gradient of its output before any activation. Where x is a ReLU's output
// and not a target, its gradient is computed masked (matMulMask): the
// ReLU's rule then has nothing left to do, and the mask is applied by the
// product's threads instead of a pass on one thread. The result is the
// same: masking is linear, so a gradient of x summed from several
// consumers and masked again is unchanged.
func (t *Tape) linearBackward(n, g *Node, needs []bool) {
	x, w := n.ins[0], n.ins[1]
	if needs[x.idx] { // dx = g @ w
		if reluOut(x) && !t.target[x.idx] {
			t.accum(x, t.matMulMask(g, w, x, false), needs)
		} else {
			t.accum(x, t.MatMul(g, w, false, false), needs)
		}
	}
	if needs[w.idx] { // dw = gᵀ @ x
		t.accum(w, t.MatMul(g, x, true, false), needs)
	}
	if len(n.ins) > 2 && needs[n.ins[2].idx] { // db = column sums of g
		b := n.ins[2]
		t.accum(b, t.SumTo(g, b.Shape()...), needs)
	}
}

// reluOut reports whether x is the output of a ReLU (ReLU, LinearReLU or
// Conv2DReLU), whose rule masks its gradient by x > 0.
func reluOut(x *Node) bool {
	return x.op == opReLU || x.op == opLinearReLU || x.op == opConv && tensor.ActKind(x.a[2]) == tensor.ActReLU
}

func (t *Tape) matmulBackward(n, g *Node, needs []bool) {
	t.productBackward(n, g, needs, t.MatMul)
}

// productBackward is matmulBackward with the product mm (Tape.MatMul, or
// Tape.BatchMatMul for bmmBackward).
func (t *Tape) productBackward(n, g *Node, needs []bool, mm func(a, b *Node, transA, transB bool) *Node) {
	a, b := n.ins[0], n.ins[1]
	ta, tb := n.a[0] == 1, n.a[1] == 1
	needA, needB := needs[a.idx], needs[b.idx]
	switch {
	case !ta && !tb: // C = A B: dA = g Bᵀ, dB = Aᵀ g
		if needA {
			t.accum(a, mm(g, b, false, true), needs)
		}
		if needB {
			t.accum(b, mm(a, g, true, false), needs)
		}
	case !ta && tb: // C = A Bᵀ: dA = g B, dB = gᵀ A
		if needA {
			t.accum(a, mm(g, b, false, false), needs)
		}
		if needB {
			t.accum(b, mm(g, a, true, false), needs)
		}
	case ta && !tb: // C = Aᵀ B: dA = B gᵀ, dB = A g
		if needA {
			t.accum(a, mm(b, g, false, true), needs)
		}
		if needB {
			t.accum(b, mm(a, g, false, false), needs)
		}
	default: // C = Aᵀ Bᵀ: dA = Bᵀ gᵀ, dB = gᵀ Aᵀ
		if needA {
			t.accum(a, mm(b, g, true, true), needs)
		}
		if needB {
			t.accum(b, mm(g, a, true, true), needs)
		}
	}
}

// grow returns s with length n, reallocated (contents lost) when its
// capacity is less.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/2)
	}
	return s[:n]
}
