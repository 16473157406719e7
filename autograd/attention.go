package autograd

import "github.com/minmaxgan/minmax/tensor"

// Attention is the attention of SAGAN (unscaled) for batches of query,
// key and value matrices: q (N, M, Dk), k (N, P, Dk) and v (N, P, Dv) give
// softmax(q kᵀ) v, shape (N, M, Dv), the softmax over each row of scores.
// It equals Softmax(BatchMatMul(q, k, false, true), -1) followed by
// BatchMatMul with v, computed in one pass per image (tensor.Attention),
// and its first-order gradient in one pass per image as well. With
// createGraph its gradient is recorded as that composition, so it
// differentiates to any order.
func (t *Tape) Attention(q, k, v *Node) *Node {
	if !t.ok(opAttention, q, k, v) {
		return t.bad
	}
	if q.t.Rank() != 3 || k.t.Rank() != 3 || v.t.Rank() != 3 {
		return t.failf("Attention: query %v, key %v and value %v must be batches of matrices (N, rows, columns)", sh(q.Shape()), sh(k.Shape()), sh(v.Shape()))
	}
	n, m, dk := q.t.Dim(0), q.t.Dim(1), q.t.Dim(2)
	p, dv := v.t.Dim(1), v.t.Dim(2)
	if k.t.Dim(0) != n || v.t.Dim(0) != n || k.t.Dim(1) != p || k.t.Dim(2) != dk {
		return t.failf("Attention: query %v, key %v and value %v: want (N, M, Dk), (N, P, Dk) and (N, P, Dv)", sh(q.Shape()), sh(k.Shape()), sh(v.Shape()))
	}
	out := t.node(opAttention, []int{n, m, dv}, nil, q, k, v)
	out.aux = t.alloc(n * m * p) // the attention weights β, for the backward pass
	tensor.Attention(out.t.Data, out.aux, q.t.Data, k.t.Data, v.t.Data, n, m, p, dk, dv)
	return out
}

func (t *Tape) attentionBackward(n, g *Node, needs []bool) {
	q, k, v := n.ins[0], n.ins[1], n.ins[2]
	bs, m, dk := q.t.Dim(0), q.t.Dim(1), q.t.Dim(2)
	p, dv := v.t.Dim(1), v.t.Dim(2)
	if !t.recording {
		var dq, dk2, dvv *Node
		var dqD, dkD, dvD []float32
		if needs[q.idx] {
			dq = t.node(opGradOut, q.Shape(), nil, nil, nil, nil)
			dqD = dq.t.Data
		}
		if needs[k.idx] {
			dk2 = t.node(opGradOut, k.Shape(), nil, nil, nil, nil)
			dkD = dk2.t.Data
		}
		if needs[v.idx] {
			dvv = t.node(opGradOut, v.Shape(), nil, nil, nil, nil)
			dvD = dvv.t.Data
		}
		var ds []float32
		if dq != nil || dk2 != nil {
			ds = t.alloc(bs * m * p)
		}
		tensor.AttentionBackward(dqD, dkD, dvD, ds, g.t.Data, q.t.Data, k.t.Data, v.t.Data, n.t.Data, n.aux, bs, m, p, dk, dv)
		for _, d := range [...]struct{ x, g *Node }{{q, dq}, {k, dk2}, {v, dvv}} {
			if d.g != nil {
				t.accum(d.x, d.g, needs)
			}
		}
		return
	}
	// Differentiable form: the weights are recomputed as ops of q and k.
	beta := t.Softmax(t.BatchMatMul(q, k, false, true), -1)
	if needs[v.idx] {
		t.accum(v, t.BatchMatMul(beta, g, true, false), needs)
	}
	if needs[q.idx] || needs[k.idx] {
		db := t.BatchMatMul(g, v, false, true)
		ds := t.Mul(beta, t.Sub(db, t.Sum(t.Mul(db, beta), true, 2)))
		if needs[q.idx] {
			t.accum(q, t.BatchMatMul(ds, k, false, false), needs)
		}
		if needs[k.idx] {
			t.accum(k, t.BatchMatMul(ds, q, true, false), needs)
		}
	}
}
