package autograd

import (
	"math"

	"github.com/minmaxgan/minmax/tensor"
)

// AllReducer sums buffers element-wise across the processes (ranks) of a
// data-parallel group, in place, every rank getting the same result;
// cluster.Comm is one. Every rank must make the same calls in the same
// order.
type AllReducer interface {
	AllReduceFloat32(buf []float32) error
	AllReduceFloat64(buf []float64) error
}

// SetAllReducer sets the group that AllReduce and SyncBatchNorm sum
// across (nil: none).
func (t *Tape) SetAllReducer(r AllReducer) { t.reducer = r }

// AllReducer returns the group set by SetAllReducer.
func (t *Tape) AllReducer() AllReducer { return t.reducer }

// AllReduce returns the sum of x over the ranks of the tape's group, the
// same on every rank. Its gradient is the sum of every rank's gradient
// (each rank's loss depends on every rank's x through the sum), so a
// backward pass through it is collective too, to any order: every rank
// must run the same backward passes.
func (t *Tape) AllReduce(x *Node) *Node {
	if !t.ok(opAllReduce, x) {
		return t.bad
	}
	if t.reducer == nil {
		return t.failf("AllReduce: the tape has no group to sum across (SetAllReducer)")
	}
	n := t.node(opAllReduce, x.Shape(), nil, x, nil, nil)
	copy(n.t.Data, x.t.Data)
	if err := t.reducer.AllReduceFloat32(n.t.Data); err != nil {
		return t.failf("AllReduce of %v: %v", sh(x.Shape()), err)
	}
	return n
}

// SyncBatchNorm is BatchNorm over the rows of every rank together (the
// batch of a data-parallel step spread over the ranks of the tape's
// group): the mean and variance are the whole batch's, as one process
// holding it would compute them (in float64, summed across ranks), and the
// gradient of each rank's rows accounts for every rank's rows
// (PyTorch's SyncBatchNorm). x is this rank's rows (rows, C); each rank
// may hold a different number. BatchNormStats and BatchNormCount give the
// whole batch's statistics and row count. It differentiates to any order
// like BatchNorm, every backward pass being collective.
func (t *Tape) SyncBatchNorm(x, gamma, beta *Node, eps float32) *Node {
	if !t.ok(opBatchNorm, x, gamma, beta) {
		return t.bad
	}
	if t.reducer == nil {
		return t.failf("SyncBatchNorm: the tape has no group to synchronise with (SetAllReducer)")
	}
	if x.t.Rank() != 2 {
		return t.failf("SyncBatchNorm: input %v, want (rows, features)", sh(x.Shape()))
	}
	rows, c := x.t.Dim(0), x.t.Dim(1)
	if gamma.t.Rank() != 1 || gamma.t.Dim(0) != c || beta.t.Rank() != 1 || beta.t.Dim(0) != c {
		return t.failf("SyncBatchNorm: input %v with scale %v and shift %v: want both (%d)", sh(x.Shape()), sh(gamma.Shape()), sh(beta.Shape()), c)
	}
	// Σ x and the row count, summed over the ranks.
	buf := t.sumsBuf(2*c + 1)
	sums, sq := buf[:c+1], buf[c+1:]
	tensor.BatchNormSums(sums[:c], x.t.Data, rows, c)
	sums[c] = float64(rows)
	if err := t.reducer.AllReduceFloat64(sums); err != nil {
		return t.failf("SyncBatchNorm: %v", err)
	}
	total := sums[c]
	if total < 1 {
		return t.failf("SyncBatchNorm: the batch has no rows on any rank")
	}
	mean64 := sums[:c]
	for i := range mean64 {
		mean64[i] /= total
	}
	tensor.BatchNormCentered(sq, mean64, x.t.Data, rows, c)
	if err := t.reducer.AllReduceFloat64(sq); err != nil {
		return t.failf("SyncBatchNorm: %v", err)
	}
	n := t.node(opBatchNorm, x.Shape(), nil, x, gamma, beta)
	n.f = eps
	n.a[0], n.a[1] = 1, int(total)
	aux := t.alloc(3 * c)
	mean, variance, rstd := aux[:c], aux[c:2*c], aux[2*c:]
	for i := range c {
		v := sq[i] / total
		mean[i] = float32(mean64[i])
		variance[i] = float32(v)
		rstd[i] = float32(1 / math.Sqrt(v+float64(eps)))
	}
	tensor.BatchNormApply(n.t.Data, x.t.Data, mean, rstd, gamma.t.Data, beta.t.Data, rows, c)
	n.aux = aux
	return n
}

// BatchNormCount is the number of rows the BatchNorm, SyncBatchNorm or
// CondBatchNorm op n took its statistics over (every rank's, for
// SyncBatchNorm), 0 for any other node.
func BatchNormCount(n *Node) int {
	if n == nil || (n.op != opBatchNorm && n.op != opCondBN) {
		return 0
	}
	return n.a[1]
}

// syncBatchNormBackward is SyncBatchNorm's gradient: dγ and dβ are this
// rank's rows' share (the trainer sums parameter gradients across ranks),
// dx uses the sums of the whole batch.
func (t *Tape) syncBatchNormBackward(n, g *Node, needs []bool) {
	x, gamma, beta := n.ins[0], n.ins[1], n.ins[2]
	rows, c := x.t.Dim(0), x.t.Dim(1)
	total := n.a[1]
	if !t.recording {
		mean, rstd := n.aux[:c], n.aux[2*c:]
		sums := t.sumsBuf(2 * c)
		sumG, sumGX := sums[:c], sums[c:]
		tensor.BatchNormGradSums(sumG, sumGX, g.t.Data, x.t.Data, rows, c)
		dg := t.node(opGradOut, gamma.Shape(), nil, nil, nil, nil)
		db := t.node(opGradOut, beta.Shape(), nil, nil, nil, nil)
		for i := range c {
			db.t.Data[i] = float32(sumG[i])
			dg.t.Data[i] = float32(float64(rstd[i]) * (sumGX[i] - float64(mean[i])*sumG[i]))
		}
		if needs[x.idx] {
			if err := t.reducer.AllReduceFloat64(sums); err != nil {
				t.failf("SyncBatchNorm's gradient: %v", err)
				return
			}
			dx := t.node(opGradOut, x.Shape(), nil, nil, nil, nil)
			tensor.BatchNormBackwardFromSums(dx.t.Data, g.t.Data, x.t.Data, mean, rstd, gamma.t.Data, sumG, sumGX, total, rows, c)
			t.accum(x, dx, needs)
		}
		t.accum(gamma, dg, needs)
		t.accum(beta, db, needs)
		return
	}
	// Differentiable form: the statistics recomputed as ops of x, summed
	// across the ranks by AllReduce ops.
	inv := 1 / float32(total)
	mean := t.Scale(t.AllReduce(t.SumTo(x, 1, c)), inv)
	xc := t.Sub(x, mean)
	std := t.Sqrt(t.AddScalar(t.Scale(t.AllReduce(t.SumTo(t.Square(xc), 1, c)), inv), n.f))
	xhat := t.Div(xc, std)
	db := t.SumTo(g, 1, c)
	dg := t.SumTo(t.Mul(g, xhat), 1, c)
	if needs[x.idx] {
		inner := t.Sub(t.Sub(g, t.Scale(t.AllReduce(db), inv)), t.Mul(xhat, t.Scale(t.AllReduce(dg), inv)))
		t.accum(x, t.Mul(t.Div(gamma, std), inner), needs)
	}
	t.accum(gamma, t.Reshape(dg, c), needs)
	t.accum(beta, t.Reshape(db, c), needs)
}
