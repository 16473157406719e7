package autograd

import "github.com/minmaxgan/minmax/tensor"

// BatchNorm normalises each column of x, shape (rows, C), by the batch's
// mean and biased variance, then scales by gamma and shifts by beta (both
// shape (C)): y = (x − mean)/sqrt(var + eps)·gamma + beta, batch
// normalisation in training mode (Ioffe & Szegedy 2015) as one fused op.
// BatchNormStats gives the batch statistics for running averages.
//
// Its gradient is a fused kernel; when the backward pass is itself recorded
// (createGraph, for R1 or WGAN-GP through a discriminator with batch norm)
// it is built from differentiable ops instead, so it differentiates to any
// order.
func (t *Tape) BatchNorm(x, gamma, beta *Node, eps float32) *Node {
	if !t.ok(opBatchNorm, x, gamma, beta) {
		return t.bad
	}
	if x.t.Rank() != 2 {
		return t.failf("BatchNorm: input %v, want (rows, features)", sh(x.Shape()))
	}
	rows, c := x.t.Dim(0), x.t.Dim(1)
	if gamma.t.Rank() != 1 || gamma.t.Dim(0) != c || beta.t.Rank() != 1 || beta.t.Dim(0) != c {
		return t.failf("BatchNorm: input %v with scale %v and shift %v: want both (%d)", sh(x.Shape()), sh(gamma.Shape()), sh(beta.Shape()), c)
	}
	if rows < 1 {
		return t.failf("BatchNorm: input %v has no rows to take statistics over", sh(x.Shape()))
	}
	n := t.node(opBatchNorm, x.Shape(), nil, x, gamma, beta)
	n.f = eps
	n.a[1] = rows
	aux := t.alloc(3 * c)
	mean, variance, rstd := aux[:c], aux[c:2*c], aux[2*c:]
	tensor.BatchNormStats(mean, variance, rstd, x.t.Data, rows, c, eps)
	tensor.BatchNormApply(n.t.Data, x.t.Data, mean, rstd, gamma.t.Data, beta.t.Data, rows, c)
	n.aux = aux
	return n
}

// BatchNormStats returns the batch mean and biased variance that the
// BatchNorm op n normalised with (nil for any other node). They alias the
// tape's memory.
func BatchNormStats(n *Node) (mean, variance []float32) {
	if n == nil || n.op != opBatchNorm {
		return nil, nil
	}
	c := len(n.aux) / 3
	return n.aux[:c], n.aux[c : 2*c]
}

func (t *Tape) batchNormBackward(n, g *Node, needs []bool) {
	if n.a[0] == 1 {
		t.syncBatchNormBackward(n, g, needs)
		return
	}
	x, gamma, beta := n.ins[0], n.ins[1], n.ins[2]
	rows, c := x.t.Dim(0), x.t.Dim(1)
	if !t.recording {
		mean, rstd := n.aux[:c], n.aux[2*c:]
		dg := t.node(opGradOut, gamma.Shape(), nil, nil, nil, nil)
		db := t.node(opGradOut, beta.Shape(), nil, nil, nil, nil)
		var dx *Node
		var dxData []float32
		if needs[x.idx] {
			dx = t.node(opGradOut, x.Shape(), nil, nil, nil, nil)
			dxData = dx.t.Data
		}
		tensor.BatchNormBackward(dxData, dg.t.Data, db.t.Data, g.t.Data, x.t.Data, mean, rstd, gamma.t.Data, rows, c)
		if dx != nil {
			t.accum(x, dx, needs)
		}
		t.accum(gamma, dg, needs)
		t.accum(beta, db, needs)
		return
	}
	// Differentiable form: the statistics are recomputed as ops of x.
	mean := t.Mean(x, true, 0)
	xc := t.Sub(x, mean)
	std := t.Sqrt(t.AddScalar(t.Mean(t.Square(xc), true, 0), n.f))
	xhat := t.Div(xc, std)
	db := t.SumTo(g, 1, c)
	dg := t.SumTo(t.Mul(g, xhat), 1, c)
	if needs[x.idx] {
		inv := 1 / float32(rows)
		inner := t.Sub(t.Sub(g, t.Scale(db, inv)), t.Mul(xhat, t.Scale(dg, inv)))
		t.accum(x, t.Mul(t.Div(gamma, std), inner), needs)
	}
	t.accum(gamma, t.Reshape(dg, c), needs)
	t.accum(beta, t.Reshape(db, c), needs)
}
