package tensor

import (
	"sync"

	"github.com/minmaxgan/minmax/internal/gemm"
	"github.com/minmaxgan/minmax/internal/parallel"
)

// serial is a pool of one thread: the GEMMs of a batched product split
// over the batch run on it, each on the thread of its part.
var serial = parallel.NewPool(1)

// bmmSplitFlops is the size of one product below which a batched product
// is split over the batch rather than each product over the threads (the
// GEMM's own parallel threshold).
const bmmSplitFlops = 1 << 22

// bmmJob runs products [lo, hi) of a batched product.
type bmmJob struct {
	c, a, b              []float32
	m, n, k              int
	transA, transB, accu bool
}

func (j *bmmJob) Run(_, lo, hi int) {
	for i := lo; i < hi; i++ {
		j.one(serial, i)
	}
}

func (j *bmmJob) one(pool *parallel.Pool, i int) {
	m, n, k := j.m, j.n, j.k
	lda, ldb := k, n
	if j.transA {
		lda = m
	}
	if j.transB {
		ldb = k
	}
	var beta float32
	if j.accu {
		beta = 1
	}
	gemm.Sgemm(pool, j.transA, j.transB, m, n, k, 1, j.a[i*m*k:(i+1)*m*k], lda, j.b[i*k*n:(i+1)*k*n], ldb, beta, j.c[i*m*n:(i+1)*m*n], n)
}

// bmmFree holds jobs for reuse, so that a batched product allocates
// nothing in a training step's steady state.
var (
	bmmMu   sync.Mutex
	bmmFree []*bmmJob
)

func getBMMJob() *bmmJob {
	bmmMu.Lock()
	defer bmmMu.Unlock()
	if n := len(bmmFree); n > 0 {
		j := bmmFree[n-1]
		bmmFree = bmmFree[:n-1]
		return j
	}
	return new(bmmJob)
}

func putBMMJob(j *bmmJob) {
	*j = bmmJob{}
	bmmMu.Lock()
	bmmFree = append(bmmFree, j)
	bmmMu.Unlock()
}

// BatchMatMul computes c[i] = op(a[i]) @ op(b[i]) (+ c[i] when accumulate)
// for i < batch, with the matrices of MatMul stored one after another.
// Small products are spread over the threads by batch element, large ones
// each over the threads; every element is summed in the same order either
// way, so the result does not depend on the thread count.
func BatchMatMul(c, a, b []float32, batch, m, n, k int, transA, transB, accumulate bool) {
	j := getBMMJob()
	*j = bmmJob{c: c, a: a, b: b, m: m, n: n, k: k, transA: transA, transB: transB, accu: accumulate}
	pool := parallel.Default()
	if 2*float64(m)*float64(n)*float64(k) >= bmmSplitFlops || batch == 1 {
		for i := 0; i < batch; i++ {
			j.one(pool, i)
		}
	} else {
		pool.For(batch, j)
	}
	putBMMJob(j)
}
