package autograd

import (
	"github.com/minmaxgan/minmax/tensor"
)

// This file holds the ops of attention and of conditional models: the
// batched matrix product, the softmax over an axis, and the index ops
// (gather through an index map and its adjoint, scatter-add) on which
// embeddings, max pooling and image translations are built. Each backward
// rule is written with differentiable ops, so all of them differentiate to
// any order.

// BatchMatMul returns op(a[i]) @ op(b[i]) for each i of a batch: a of shape
// (B, M, K) (or (B, K, M) with transA), b of shape (B, K, N) (or (B, N, K)
// with transB), the result (B, M, N).
func (t *Tape) BatchMatMul(a, b *Node, transA, transB bool) *Node {
	if !t.ok(opBatchMatMul, a, b) {
		return t.bad
	}
	if a.t.Rank() != 3 || b.t.Rank() != 3 || a.t.Dim(0) != b.t.Dim(0) {
		return t.failf("BatchMatMul: operands must be batches of matrices of one size, got shapes %v and %v", sh(a.Shape()), sh(b.Shape()))
	}
	bs := a.t.Dim(0)
	m, ka := a.t.Dim(1), a.t.Dim(2)
	if transA {
		m, ka = ka, m
	}
	kb, nn := b.t.Dim(1), b.t.Dim(2)
	if transB {
		kb, nn = nn, kb
	}
	if ka != kb {
		return t.failf("BatchMatMul: shapes %v%s and %v%s: inner dimensions %d and %d differ",
			sh(a.Shape()), tr(transA), sh(b.Shape()), tr(transB), ka, kb)
	}
	n := t.node(opBatchMatMul, []int{bs, m, nn}, nil, a, b, nil)
	n.a[0], n.a[1] = b2i(transA), b2i(transB)
	tensor.BatchMatMul(n.t.Data, a.t.Data, b.t.Data, bs, m, nn, ka, transA, transB, false)
	return n
}

// bmmBackward is matmulBackward for batches.
func (t *Tape) bmmBackward(n, g *Node, needs []bool) {
	t.productBackward(n, g, needs, t.BatchMatMul)
}

// Softmax returns the softmax of x over axis (negative counts from the
// end): exp(x) normalised to sum 1 along it, computed stably.
func (t *Tape) Softmax(x *Node, axis int) *Node {
	if !t.ok(opSoftmax, x) {
		return t.bad
	}
	axis, ok := t.axis("Softmax", x, axis)
	if !ok {
		return t.bad
	}
	n := t.node(opSoftmax, x.Shape(), nil, x, nil, nil)
	n.a[0] = axis
	outer, mid, inner := tensor.AxisSplit(x.Shape(), axis)
	tensor.Softmax(n.t.Data, x.t.Data, outer, mid, inner)
	return n
}

// Gather returns y with y[i] = x[index[i]] (flat indices into x), or 0
// where index[i] < 0, shaped as shape. index must stay unchanged until the
// tape is reset (use the tape's own, from Index).
func (t *Tape) Gather(x *Node, index []int32, shape ...int) *Node {
	if !t.ok(opGather, x) {
		return t.bad
	}
	if err := tensor.CheckShape(shape); err != nil || tensor.NumElems(shape) != len(index) {
		return t.failf("Gather: %d indices for shape %v", len(index), sh(shape))
	}
	lim := int32(x.t.Len())
	for i, j := range index {
		if j >= lim {
			return t.failf("Gather: index %d at %d is outside an input of %d elements", j, i, lim)
		}
	}
	n := t.node(opGather, shape, nil, x, nil, nil)
	n.index = index
	tensor.Gather(n.t.Data, x.t.Data, index)
	return n
}

// scatter is Gather's adjoint: a tensor of shape `shape` receiving g[i]
// added at index[i].
func (t *Tape) scatter(g *Node, index []int32, shape []int) *Node {
	if !t.ok(opScatter, g) {
		return t.bad
	}
	n := t.node(opScatter, shape, nil, g, nil, nil)
	n.index = index
	tensor.ScatterAdd(n.t.Data, g.t.Data, index)
	return n
}

// Index returns an index map of n entries owned by the tape (valid until
// Reset), for Gather.
func (t *Tape) Index(n int) []int32 { return t.allocIndex(n) }

// Rows returns the rows labels[0], labels[1], ... of the matrix w (K, D):
// an embedding lookup, shape (len(labels), D). A label outside [0, K) is an
// error.
func (t *Tape) Rows(w *Node, labels []int) *Node {
	if !t.ok(opGather, w) {
		return t.bad
	}
	if w.t.Rank() != 2 {
		return t.failf("Rows: table %v, want (rows, width)", sh(w.Shape()))
	}
	k, d := w.t.Dim(0), w.t.Dim(1)
	idx := t.allocIndex(len(labels) * d)
	for i, l := range labels {
		if l < 0 || l >= k {
			return t.failf("Rows: label %d of sample %d is not a row of a table of %d", l, i, k)
		}
		for j := range d {
			idx[i*d+j] = int32(l*d + j)
		}
	}
	return t.Gather(w, idx, len(labels), d)
}

// MaxPool2D returns the maximum of each f×f window of x, channel-last
// images (N, H, W, C) with H and W multiples of f: a Gather at the windows'
// largest elements, so its gradient flows to them alone.
func (t *Tape) MaxPool2D(x *Node, f int) *Node {
	if !t.ok(opGather, x) {
		return t.bad
	}
	s := x.Shape()
	if len(s) != 4 || f < 1 || s[1]%f != 0 || s[2]%f != 0 {
		return t.failf("MaxPool2D: input %v by %d, want (N, H, W, C) with H and W multiples of the factor", sh(s), f)
	}
	nb, h, w, c := s[0], s[1], s[2], s[3]
	idx := t.allocIndex(nb * (h / f) * (w / f) * c)
	tensor.MaxPoolIndex(idx, x.t.Data, nb, h, w, c, f)
	return t.Gather(x, idx, nb, h/f, w/f, c)
}

// indexBackward applies the rules of Gather (dx = scatter of g) and
// ScatterAdd (dg = gather of g); both are linear, with fixed indices.
func (t *Tape) indexBackward(n, g *Node, needs []bool) {
	x := n.ins[0]
	if n.op == opGather {
		t.accum(x, t.scatter(g, n.index, x.Shape()), needs)
		return
	}
	t.accum(x, t.Gather(g, n.index, x.Shape()...), needs)
}

// softmaxBackward: y = softmax(x): dx = y ⊙ (g − Σ_axis g⊙y).
func (t *Tape) softmaxBackward(n, g *Node, needs []bool) {
	x := n.ins[0]
	t.accum(x, t.Mul(n, t.Sub(g, t.Sum(t.Mul(g, n), true, n.a[0]))), needs)
}
