package gemm

import "github.com/minmaxgan/minmax/internal/parallel"

// kSplitMaxOutputs is the largest C (in elements, 256 KiB) whose product
// may be split over K (kSplitParts) instead of over C.
//
// A product with a small C and a long K is, in training, a weight
// gradient: K runs over the batch, whose rows the previous products
// (forward and back) split between the threads. Cut over C, every thread
// reads all of K, half of it from the other core's cache; cut over K,
// each reads the rows it wrote, and only C's partial sums cross, once.
const kSplitMaxOutputs = 1 << 16

// kSplitParts returns how many parts j's product is split into over K, or
// 0 to split it over C. It splits when each part can take exactly one K
// chunk: part 0 computes chunk 0 into C (its bias or beta applied), part p
// chunk p into a buffer from zero, and the buffers are then added to C in
// order. That is the arithmetic of one thread, which adds each chunk's
// sum, formed in the micro-kernel's registers from zero, to C in order of
// the chunks (beta 1 after the first): the results are bit-identical
// whatever the thread count. The AMX kernel, which loads C into its
// accumulators, and the bfloat16 kernels are left out.
func kSplitParts(threads int, j *job) int {
	if threads < 2 || j.nk < 2 || j.nk > threads || j.im.bf16 || j.m*j.n > kSplitMaxOutputs {
		return 0
	}
	return j.nk
}

// testKSplit, set only by tests, is told of every product split over K.
var testKSplit func(parts int)

// kSplitJob runs the parts of a product split over K: part p computes all
// of C for K chunk p through its own job, subs[p].
type kSplitJob struct {
	subs []job
}

// Run implements parallel.Job.
func (k *kSplitJob) Run(part, _, _ int) {
	s := &k.subs[part]
	ws := s.ws[part]
	ws.bValid, ws.part = false, part
	s.block(ws, 0, s.m, 0, s.n)
}

// kSplit computes j's product in parts over K (kSplitParts): the parts'
// sums are added to C in order of their chunks, then the epilogue runs.
func (x *ctx) kSplit(pool *parallel.Pool, j *job, parts int) {
	if testKSplit != nil {
		testKSplit(parts)
	}
	x.ensure(parts, j)
	j.ws = x.ws[:parts]
	if len(x.ks.subs) < parts {
		x.ks.subs = make([]job, parts)
	}
	subs := x.ks.subs[:parts]
	mn := j.m * j.n
	for p := range subs {
		s := &subs[p]
		s.args = j.args
		s.im, s.nk, s.maxKC = j.im, j.nk, j.maxKC
		s.k0, s.k1 = p, p+1
		s.cm, s.cn, s.ws, s.sb = 1, 1, j.ws, nil
		s.post = nil // after the sums are added (finishAll)
		if p > 0 {
			ws := j.ws[p]
			if len(ws.sum) < mn {
				ws.sum = alignedFloats(mn)
			}
			s.c, s.ldc, s.beta, s.bias = ws.sum[:mn], j.n, 0, nil
		}
	}
	pool.ForParts(parts, parts, &x.ks)
	for p := 1; p < parts; p++ {
		sum := j.ws[p].sum
		for i := range j.m {
			// 1·x + y is x + y exactly: the micro-kernel's beta-1 add.
			j.im.axpy(1, sum[i*j.n:(i+1)*j.n], j.c[i*j.ldc:i*j.ldc+j.n])
		}
	}
	j.finishAll()
	for p := range subs {
		subs[p].args = args{}
		subs[p].ws = nil
	}
}
