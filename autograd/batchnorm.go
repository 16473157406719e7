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
	return t.batchNorm(x, gamma, beta, eps, tensor.BNNone, 0)
}

// BatchNormReLU is ReLU(BatchNorm(x, gamma, beta, eps)) as one op: each
// row rectified as it is written, the upstream gradient masked row by row
// as the backward pass reads it (DCGAN's generator follows every batch norm
// with a ReLU). It differentiates to any order as the composition does.
func (t *Tape) BatchNormReLU(x, gamma, beta *Node, eps float32) *Node {
	return t.batchNorm(x, gamma, beta, eps, tensor.BNReLU, 0)
}

// BatchNormLeaky is LeakyReLU(BatchNorm(x, gamma, beta, eps), slope) as
// one op (DCGAN's discriminator), as BatchNormReLU is for ReLU, for a
// slope of 0 or more.
func (t *Tape) BatchNormLeaky(x, gamma, beta *Node, eps, slope float32) *Node {
	return t.batchNorm(x, gamma, beta, eps, tensor.BNLeaky, slope)
}

func (t *Tape) batchNorm(x, gamma, beta *Node, eps float32, act int, slope float32) *Node {
	if !t.ok(opBatchNorm, x, gamma, beta) {
		return t.bad
	}
	if act == tensor.BNLeaky && !(slope >= 0) {
		// The fused gradient reads the activation's sign off its output,
		// which a negative slope flips.
		return t.failf("BatchNormLeaky: slope %v, want 0 or more (use LeakyReLU after BatchNorm)", slope)
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
	tensor.BatchNormApplyAct(n.t.Data, x.t.Data, mean, rstd, gamma.t.Data, beta.t.Data, rows, c, act, slope)
	n.a[2], n.f2 = act, slope
	n.aux = aux
	return n
}

// BatchNormStats returns the batch mean and biased variance that the
// BatchNorm (SyncBatchNorm, CondBatchNorm) op n normalised with (nil for
// any other node). They alias the
// tape's memory.
func BatchNormStats(n *Node) (mean, variance []float32) {
	if n == nil || (n.op != opBatchNorm && n.op != opCondBN) {
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
		tensor.BatchNormActBackward(dxData, dg.t.Data, db.t.Data, g.t.Data, x.t.Data, n.t.Data, mean, rstd, gamma.t.Data, rows, c, n.a[2], n.f2)
		if dx != nil {
			t.accum(x, dx, needs)
		}
		t.accum(gamma, dg, needs)
		t.accum(beta, db, needs)
		return
	}
	switch n.a[2] {
	case tensor.BNReLU: // the activation's gradient first, from the output's sign
		g = t.reluMask(n, g)
	case tensor.BNLeaky:
		g = t.leakyMask(n, g, n.f2)
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

// CondBatchNorm is conditional batch normalisation (BigGAN's): each
// column of x, shape (rows, C), normalised by the batch's mean and biased
// variance as BatchNorm does (without an affine part of its own), then
// scaled and shifted per sample: x holds n = scale.Dim(0) samples of
// rows/n consecutive rows each (an NHWC batch as (N·H·W, C)), and row r of
// sample i becomes x̂_r·scale[i] + shift[i], scale and shift of shape (n,
// C). It is BatchNorm followed by a broadcast Mul and Add, fused: one pass
// over x after the statistics, two backward. BatchNormStats and
// BatchNormCount give its statistics; it differentiates to any order as
// BatchNorm does.
func (t *Tape) CondBatchNorm(x, scale, shift *Node, eps float32) *Node {
	return t.condBatchNorm(x, scale, shift, eps, false)
}

// CondBatchNormReLU is ReLU(CondBatchNorm(x, scale, shift, eps)) as one
// op: each row is rectified as it is written, and the backward pass masks
// the upstream gradient row by row as it reads it (BigGAN's generator
// follows every conditional batch norm with a ReLU: two passes over the
// batch fewer each way). It differentiates to any order as the
// composition does.
func (t *Tape) CondBatchNormReLU(x, scale, shift *Node, eps float32) *Node {
	return t.condBatchNorm(x, scale, shift, eps, true)
}

func (t *Tape) condBatchNorm(x, scale, shift *Node, eps float32, relu bool) *Node {
	if !t.ok(opCondBN, x, scale, shift) {
		return t.bad
	}
	if x.t.Rank() != 2 {
		return t.failf("CondBatchNorm: input %v, want (rows, features)", sh(x.Shape()))
	}
	rows, c := x.t.Dim(0), x.t.Dim(1)
	if scale.t.Rank() != 2 || scale.t.Dim(1) != c || !tensor.SameShape(scale.Shape(), shift.Shape()) {
		return t.failf("CondBatchNorm: input %v with scale %v and shift %v: want both (samples, %d)", sh(x.Shape()), sh(scale.Shape()), sh(shift.Shape()), c)
	}
	n := scale.t.Dim(0)
	if n < 1 || rows%n != 0 {
		return t.failf("CondBatchNorm: %d rows do not split into %d samples", rows, n)
	}
	out := t.node(opCondBN, x.Shape(), nil, x, scale, shift)
	out.f = eps
	out.a[1] = rows
	aux := t.alloc(3 * c)
	mean, variance, rstd := aux[:c], aux[c:2*c], aux[2*c:]
	tensor.BatchNormStats(mean, variance, rstd, x.t.Data, rows, c, eps)
	if relu {
		out.a[2] = 1
		tensor.CondBatchNormApplyReLU(out.t.Data, x.t.Data, mean, rstd, scale.t.Data, shift.t.Data, n, rows/n, c)
	} else {
		tensor.CondBatchNormApply(out.t.Data, x.t.Data, mean, rstd, scale.t.Data, shift.t.Data, n, rows/n, c)
	}
	out.aux = aux
	return out
}

func (t *Tape) condBatchNormBackward(n, g *Node, needs []bool) {
	x, scale, shift := n.ins[0], n.ins[1], n.ins[2]
	rows, c := x.t.Dim(0), x.t.Dim(1)
	ns := scale.t.Dim(0)
	s := rows / ns
	if !t.recording {
		mean, rstd := n.aux[:c], n.aux[2*c:]
		dscale := t.node(opGradOut, scale.Shape(), nil, nil, nil, nil)
		dshift := t.node(opGradOut, shift.Shape(), nil, nil, nil, nil)
		var dx *Node
		var dxData []float32
		if needs[x.idx] {
			dx = t.node(opGradOut, x.Shape(), nil, nil, nil, nil)
			dxData = dx.t.Data
		}
		var y []float32 // the output, whose sign masks g after a ReLU
		if n.a[2] == 1 {
			y = n.t.Data
		}
		tensor.CondBatchNormReLUBackward(dxData, dscale.t.Data, dshift.t.Data, g.t.Data, x.t.Data, y, mean, rstd, scale.t.Data, ns, s, c)
		if dx != nil {
			t.accum(x, dx, needs)
		}
		t.accum(scale, dscale, needs)
		t.accum(shift, dshift, needs)
		return
	}
	if n.a[2] == 1 {
		// ReLU's gradient first: g where the output is positive.
		g = t.reluMask(n, g)
	}
	// Differentiable form: the statistics are recomputed as ops of x.
	mean := t.Mean(x, true, 0)
	xc := t.Sub(x, mean)
	std := t.Sqrt(t.AddScalar(t.Mean(t.Square(xc), true, 0), n.f))
	xhat := t.Div(xc, std)
	g3 := t.Reshape(g, ns, s, c)
	t.accum(shift, t.Reshape(t.SumTo(g3, ns, 1, c), ns, c), needs)
	t.accum(scale, t.Reshape(t.SumTo(t.Mul(g3, t.Reshape(xhat, ns, s, c)), ns, 1, c), ns, c), needs)
	if needs[x.idx] {
		// dx = (h − mean(h) − x̂·mean(h·x̂))/σ with h = g·scale.
		h := t.Reshape(t.Mul(g3, t.Reshape(scale, ns, 1, c)), rows, c)
		inner := t.Sub(t.Sub(h, t.Mean(h, true, 0)), t.Mul(xhat, t.Mean(t.Mul(h, xhat), true, 0)))
		t.accum(x, t.Div(inner, std), needs)
	}
}
