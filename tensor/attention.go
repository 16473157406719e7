package tensor

import (
	"sync"

	"github.com/minmaxgan/minmax/internal/gemm"
	"github.com/minmaxgan/minmax/internal/parallel"
)

// Attention computes, for each of n images, the attention of SAGAN
// without scaling: beta[i] = softmax(q[i] k[i]ᵀ) over its rows and o[i] =
// beta[i] v[i], with q[i] of shape (m, dk), k[i] (p, dk), v[i] (p, dv),
// beta[i] (m, p) and o[i] (m, dv), each batch's matrices stored one after
// another. It is the composition BatchMatMul, Softmax over the last axis,
// BatchMatMul in one pass per image: the scores are normalised while they
// are still in the cache, and the images are spread over the threads (one
// image's products are far too small to split). Each image is computed
// alone in a fixed order, so the result does not depend on the thread
// count.
func Attention(o, beta, q, k, v []float32, n, m, p, dk, dv int) {
	j := attnJobs.Get().(*attnJob)
	*j = attnJob{o: o, beta: beta, q: q, k: k, v: v, m: m, p: p, dkDim: dk, dvDim: dv}
	parallel.Default().For(n, j)
	*j = attnJob{}
	attnJobs.Put(j)
}

// AttentionBackward is Attention's gradient for the upstream gradient dO:
// with dβ = dO vᵀ and dS = β ⊙ (dβ − rowsum(dβ ⊙ β)) (softmax's gradient;
// the row sum is the dot product of the rows of dO and o), dq = dS k, dk =
// dSᵀ q and dv = βᵀ dO. A nil dq, dk or dv is not computed; ds is scratch
// of beta's size (it holds dS afterwards). The outputs are overwritten.
func AttentionBackward(dq, dk, dv, ds, dO, q, k, v, o, beta []float32, n, m, p, dkDim, dvDim int) {
	j := attnJobs.Get().(*attnJob)
	*j = attnJob{back: true, dq: dq, dk: dk, dv: dv, ds: ds, dO: dO, o: o, beta: beta, q: q, k: k, v: v, m: m, p: p, dkDim: dkDim, dvDim: dvDim}
	parallel.Default().For(n, j)
	*j = attnJob{}
	attnJobs.Put(j)
}

// attnJobs holds jobs for reuse, so that attention allocates nothing in a
// training step's steady state.
var attnJobs = sync.Pool{New: func() any { return new(attnJob) }}

// attnJob runs images [lo, hi) of Attention or AttentionBackward.
type attnJob struct {
	back               bool
	o, beta, q, k, v   []float32
	dq, dk, dv, ds, dO []float32
	m, p, dkDim, dvDim int
}

func (j *attnJob) Run(_, lo, hi int) {
	m, p, dk, dv := j.m, j.p, j.dkDim, j.dvDim
	for i := lo; i < hi; i++ {
		q := j.q[i*m*dk : (i+1)*m*dk]
		k := j.k[i*p*dk : (i+1)*p*dk]
		v := j.v[i*p*dv : (i+1)*p*dv]
		beta := j.beta[i*m*p : (i+1)*m*p]
		o := j.o[i*m*dv : (i+1)*m*dv]
		if !j.back {
			gemm.Sgemm(serial, false, true, m, p, dk, 1, q, dk, k, dk, 0, beta, p)
			for r := 0; r < m; r++ {
				softmaxLine(beta, beta, r*p, p, 1)
			}
			gemm.Sgemm(serial, false, false, m, dv, p, 1, beta, p, v, dv, 0, o, dv)
			continue
		}
		dO := j.dO[i*m*dv : (i+1)*m*dv]
		if j.dv != nil {
			gemm.Sgemm(serial, true, false, p, dv, m, 1, beta, p, dO, dv, 0, j.dv[i*p*dv:(i+1)*p*dv], dv)
		}
		if j.dq == nil && j.dk == nil {
			continue
		}
		ds := j.ds[i*m*p : (i+1)*m*p]
		gemm.Sgemm(serial, false, true, m, p, dv, 1, dO, dv, v, dv, 0, ds, p)
		for r := 0; r < m; r++ {
			var dot float32
			for c, g := range dO[r*dv : (r+1)*dv] {
				dot += g * o[r*dv+c]
			}
			b, d := beta[r*p:(r+1)*p], ds[r*p:(r+1)*p]
			for c := range d {
				d[c] = b[c] * (d[c] - dot)
			}
		}
		if j.dq != nil {
			gemm.Sgemm(serial, false, false, m, dk, p, 1, ds, p, k, dk, 0, j.dq[i*m*dk:(i+1)*m*dk], dk)
		}
		if j.dk != nil {
			gemm.Sgemm(serial, true, false, p, dk, m, 1, ds, p, q, dk, 0, j.dk[i*p*dk:(i+1)*p*dk], dk)
		}
	}
}
