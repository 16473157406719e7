package gemm

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// dynamicMaxFlops bounds the products whose thread tiles are cut into
// chunksPerThread chunks taken dynamically; bigger ones run one static tile
// per thread, where a late start is negligible.
//
// Products under staticMaxFlops with a single K chunk are not so cut:
// they run one tile per part, part p the tile of index p, so that a chain
// of products split the same way (the toy's layers of 512 rows, forward
// and back) leaves each thread reading the rows it wrote in the previous
// product, in its own cache. Chunks taken
// in turn scattered those rows between the two cores: the toy step at 2
// threads read 507-516 against 495-497 step/s (three alternations). A
// worker that starts late costs little here: the caller runs any part no
// worker has claimed when it is done with its own (parallel.Pool).
const (
	dynamicMaxFlops = 1 << 28
	staticMaxFlops  = 1 << 26
	chunksPerThread = 8
)

// parallelMinFlops is the smallest 2*m*n*k for which Sgemm uses more than
// one thread, and gemvMinFlops the same for matrix-vector products. Below
// them, waking a worker costs more than it saves: on the 2-vCPU Zen 4 VM
// this was tuned on, a parked worker starts about 100µs after being handed
// work, and two threads only broke even around 4 MFLOP (8 for products with
// a vector, which are memory-bound).
//
// parallelMinOutputs is the size of C (64 KiB) from which a product is
// split even when its FLOPs are fewer: a product summing a few terms
// (the toy's layers of 2 inputs, the gradients through its output of 1)
// costs its writes of C, and its epilogue (SgemmPost) a pass over C, which
// at two threads read half their values from the other core's cache when
// one thread did them: the toy step at 2 threads 487-500 against 458-462
// step/s.
const (
	parallelMinFlops   = 1 << 22
	gemvMinFlops       = 1 << 23
	parallelMinOutputs = 1 << 14
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices.
// op(A) is m×k: A is stored m×k (lda >= k) or, if transA, k×m (lda >= m).
// op(B) is k×n: B is stored k×n (ldb >= n) or, if transB, n×k (ldb >= k).
// C is m×n with ldc >= n. beta == 0 means C's old contents are ignored (NaN-safe).
// Work is spread over pool's threads (nil means parallel.Default()).
//
// Sgemm panics, before touching C, if a dimension is negative, a leading
// dimension is too small or a slice is too short for the shape it is said to
// hold. When k == 0 or alpha == 0, A and B are not read and C = beta*C.
// Every element of C is summed in the same order whatever the number of
// threads, so results are bit-identical for any pool size.
func Sgemm(pool *parallel.Pool, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	run(pool, args{
		transA: transA, transB: transB,
		m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
	})
}

// SgemmBias computes C = op(A)*op(B) + bias, bias (len n) added to every
// row of C, for a stored A. It is bit-identical to filling C's rows with
// bias and calling Sgemm with alpha = 1 and beta = 1, without that
// separate pass over C (which ran on one thread): each tile of C starts
// from the bias as its first K chunk is computed.
func SgemmBias(pool *parallel.Pool, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if len(bias) != n {
		badArg(fmt.Sprintf("len(bias) = %d, want n = %d", len(bias), n))
	}
	run(pool, args{
		transA: transA, transB: transB, bias: bias,
		m: m, n: n, k: k, alpha: 1, beta: 1,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
	})
}

// Epilogue finishes C where a product's sums are complete: the activation
// of a layer fused with its product (Y = ReLU(XWᵀ + b)), or the mask of
// an activation's gradient. The product calls Finish once for every block
// of C, on the thread that computed the block, while it is in that core's
// cache: a separate pass would read C back on one thread, half of it from
// the other core's cache at two threads. Finish is called from several
// threads at once, on disjoint blocks, and must compute each element from
// that element alone, so that the result does not depend on the blocks.
type Epilogue interface {
	// Finish finishes rows [i0, i0+rows) and columns [j0, j0+cols) of
	// C, which c holds from its first element with row stride ldc.
	Finish(c []float32, ldc, i0, rows, j0, cols int)
}

// SgemmPost computes C = post(op(A)*op(B) + bias) for a stored A and B:
// SgemmBias (Sgemm with alpha 1 and beta 0 when bias is nil) with post
// applied to each block of C as its last K chunk is added. The result is
// bit-identical to the product followed by post over all of C.
func SgemmPost(pool *parallel.Pool, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, c []float32, ldc int, post Epilogue) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	run(pool, args{
		transA: transA, transB: transB, bias: bias, post: post,
		m: m, n: n, k: k, alpha: 1, beta: biasBeta(bias, n),
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
	})
}

// biasBeta checks a product's optional bias (n values, or nil) and
// returns the beta that starts C from it (1; C is filled from the bias),
// or from nothing (0).
func biasBeta(bias []float32, n int) float32 {
	if bias == nil {
		return 0
	}
	if len(bias) != n {
		badArg(fmt.Sprintf("len(bias) = %d, want n = %d", len(bias), n))
	}
	return 1
}

// Rows is a matrix that is computed rather than stored, such as the
// unfolded patches of a convolution (im2col): Row writes M[i][p0:p0+len(dst)]
// into dst. The product packs the rows it needs into its cache blocks as it
// goes, so the whole matrix never exists in memory. Row is called from
// several threads at once.
type Rows interface {
	Row(dst []float32, i, p0 int)
}

// StridedRows is a Rows whose values lie in memory in strided blocks, so
// that the product packs them directly, without gathering: the
// convolution of a padded image, whose consecutive patches along an output
// row are the same run of the image shifted by the stride.
type StridedRows interface {
	Rows
	// Span is how many columns from p0 (1 to kc) lie contiguously in
	// memory in every row.
	Span(p0, kc int) int
	// Run returns the longest run of rows from i0 (1 to n of them) whose
	// Span(p0, ·) columns from p0 lie at src[t*ld:] for the run's row t;
	// or src nil for a run of rows that do not lie in memory (a
	// convolution's patches over the padding) and are gathered by Row.
	Run(i0, n, p0 int) (src []float32, ld, count int)
}

// SgemmRowsA computes C = alpha*A*op(B) + beta*C as Sgemm does, with the
// m×k matrix A given by its rows. The packed blocks hold exactly the values
// Sgemm would pack from A stored, so the result is bit-identical to Sgemm's
// on the stored matrix.
func SgemmRowsA(pool *parallel.Pool, m, n, k int, alpha float32, a Rows, transB bool, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(false, transB, m, n, k, nil, max(1, k), b, ldb, c, ldc)
	run(pool, args{
		transB: transB, ga: a,
		m: m, n: n, k: k, alpha: alpha, beta: beta,
		lda: k, b: b, ldb: ldb, c: c, ldc: ldc,
	})
}

// SgemmRowsABias computes C = A*op(B) + bias, bias added to every row of
// C, with A given by its rows. It is bit-identical to filling C's rows with
// bias and calling SgemmRowsA with alpha = 1 and beta = 1, without the
// separate pass over C.
func SgemmRowsABias(pool *parallel.Pool, m, n, k int, a Rows, transB bool, b []float32, ldb int, bias []float32, c []float32, ldc int) {
	checkArgs(false, transB, m, n, k, nil, max(1, k), b, ldb, c, ldc)
	if len(bias) != n {
		badArg(fmt.Sprintf("len(bias) = %d, want n = %d", len(bias), n))
	}
	run(pool, args{
		transB: transB, ga: a, bias: bias,
		m: m, n: n, k: k, alpha: 1, beta: 1,
		lda: k, b: b, ldb: ldb, c: c, ldc: ldc,
	})
}

// SgemmRowsAPost computes C = post(A*op(B) + bias) with A given by its
// rows (bias nil: no bias): SgemmRowsABias, or SgemmRowsA with alpha 1 and
// beta 0, with post applied to each block of C as its last K chunk is
// added (SgemmPost). The result is bit-identical to the product followed
// by post over all of C.
func SgemmRowsAPost(pool *parallel.Pool, m, n, k int, a Rows, transB bool, b []float32, ldb int, bias []float32, c []float32, ldc int, post Epilogue) {
	checkArgs(false, transB, m, n, k, nil, max(1, k), b, ldb, c, ldc)
	run(pool, args{
		transB: transB, ga: a, bias: bias, post: post,
		m: m, n: n, k: k, alpha: 1, beta: biasBeta(bias, n),
		lda: k, b: b, ldb: ldb, c: c, ldc: ldc,
	})
}

// SgemmRowsB computes C = alpha*op(A)*B + beta*C as Sgemm does, with the
// k×n matrix B given by its rows; bit-identical to Sgemm on B stored.
func SgemmRowsB(pool *parallel.Pool, transA bool, m, n, k int, alpha float32, a []float32, lda int, b Rows, beta float32, c []float32, ldc int) {
	checkArgs(transA, false, m, n, k, a, lda, nil, max(1, n), c, ldc)
	run(pool, args{
		transA: transA, gb: b,
		m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, lda: lda, ldb: n, c: c, ldc: ldc,
	})
}

// SgemmRowsBT computes C = alpha*op(A)*B + beta*C with the k×n matrix B
// given as the rows of its transpose: b.Row(dst, j, p0) writes
// B[p0:p0+len(dst)][j], column j of B. It serves products whose computed
// operand is the long one but must sit on the right, such as a
// convolution to a few channels computed transposed (Cᵀ = W·patchesᵀ):
// there the C tiles are full, where patches·Wᵀ would fill a few of each
// tile's columns. The packed blocks hold the values Sgemm would pack from
// B stored, so the result is bit-identical to Sgemm's.
func SgemmRowsBT(pool *parallel.Pool, transA bool, m, n, k int, alpha float32, a []float32, lda int, b Rows, beta float32, c []float32, ldc int) {
	checkArgs(transA, false, m, n, k, a, lda, nil, max(1, n), c, ldc)
	run(pool, args{
		transA: transA, gbT: b,
		m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, lda: lda, ldb: n, c: c, ldc: ldc,
	})
}

// bf16MinK is the shortest sum computed in bfloat16 at that precision:
// shorter ones stay in float32, where turning the panels into pairs and
// merging the edge tiles (the bfloat16 kernel has no edge variants) cost
// more than the products (attention's QKᵀ sums 8 terms; a 3×3
// convolution of one channel 9).
const bf16MinK = 16

// InBF16 says whether an m×n product summing k terms is computed with
// bfloat16 operands at the current precision (matrix-vector products and
// sums shorter than bf16MinK stay in float32).
func InBF16(m, n, k int) bool {
	return bf16Impl != nil && Precision(precision.Load()) == BFloat16 && m > 1 && n > 1 && k >= bf16MinK
}

// run computes the product j describes (its arguments checked).
func run(pool *parallel.Pool, spec args) {
	m, n, k := spec.m, spec.n, spec.k
	if m == 0 || n == 0 {
		return
	}
	if spec.bias != nil && (k == 0 || m == 1 || n == 1) {
		// Paths that do not tile C: fill it first.
		for i := range m {
			copy(spec.c[i*spec.ldc:i*spec.ldc+n], spec.bias)
		}
		spec.bias = nil
	}
	if k == 0 || spec.alpha == 0 {
		scaleC(m, n, spec.beta, spec.c, spec.ldc)
		spec.finishAll()
		return
	}
	if pool == nil {
		pool = parallel.Default()
	}
	im := kernelFor(m, n, k)
	x := getCtx()
	j := &x.job
	j.args, j.im, j.cm, j.cn, j.ws, j.sb, j.oneThread = spec, im, 0, 0, nil, nil, false
	j.next.Store(0)
	if vec := n == 1 && (j.gb != nil || j.gbT != nil) || n != 1 && m == 1 && j.ga != nil; vec {
		// A computed vector of a matrix-vector product is gathered whole
		// into a buffer kept with the context (a computed matrix is
		// gathered a few rows at a time as the product reads it: gemv).
		x.materialize(j)
	}
	j.cutK()

	if m == 1 || n == 1 {
		x.gemv(pool, im, j)
		j.finishAll()
		putCtx(x)
		return
	}
	if j.thinOK() {
		x.thin(pool, j)
		putCtx(x)
		return
	}
	threads := pool.Threads()
	if 2*float64(m)*float64(n)*float64(k) < parallelMinFlops && m*n < parallelMinOutputs {
		threads = 1
	}
	if parts := kSplitParts(threads, j); parts > 1 {
		x.kSplit(pool, j, parts)
		putCtx(x)
		return
	}
	tm, tn := splitGrid(threads, m, n, k, im, canShare(threads, n, k, im))
	parts := tm * tn
	j.cm, j.cn = tm, tn
	mt := (m + im.mr - 1) / im.mr
	nt := (n + im.nr - 1) / im.nr
	j.static = parts > 1 && j.nk == 1 && 2*float64(m)*float64(n)*float64(k) < staticMaxFlops
	if parts > 1 && !j.static && (j.nk == 1 && 2*float64(m)*float64(n)*float64(k) < dynamicMaxFlops || tn == 1 && j.resident(n)) {
		// Cut each thread's tile into a few chunks that threads take in
		// turn, so that a worker that wakes up late (tens of microseconds
		// on a virtual machine) just takes fewer of them. With a single K
		// chunk a thread keeps its packed B from one chunk to the next;
		// so it does with all of B resident (blockResident), where a
		// static split left one thread computing alone for milliseconds
		// when the other core ran slower (biggan32's convolutions of 64
		// channels, 2 threads).
		if mt*tn >= nt*tm {
			j.cm = min(tm*chunksPerThread, mt/2)
		} else {
			j.cn = min(tn*chunksPerThread, nt)
		}
		j.cm, j.cn = max(j.cm, tm), max(j.cn, tn)
	}
	j.oneThread = parts == 1
	x.ensure(parts, j)
	j.ws = x.ws[:parts]
	if j.cm > 1 && canShare(parts, n, k, im) {
		// Several chunks of rows read the same columns of op(B): the
		// parts pack it once between them (sharedB).
		x.share(j)
	}
	switch {
	case testParts != nil:
		testParts(j, parts)
	case parts == 1:
		j.Run(0, 0, 1)
	default:
		pool.ForParts(parts, parts, j)
	}
	putCtx(x)
}

// testParts, set only by tests, runs a job's parts in place of the pool.
var testParts func(j *job, parts int)

// checkArgs panics with a message naming the bad argument.
func checkArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		badArg(fmt.Sprintf("negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if a != nil || m*k == 0 {
		checkMat("a", "lda", a, ar, ac, lda)
	}
	if b != nil || k*n == 0 {
		checkMat("b", "ldb", b, br, bc, ldb)
	}
	checkMat("c", "ldc", c, m, n, ldc)
}

func checkMat(name, ldName string, s []float32, rows, cols, ld int) {
	if ld < max(1, cols) {
		badArg(fmt.Sprintf("%s = %d, want >= %d", ldName, ld, max(1, cols)))
	}
	if rows > 0 && cols > 0 {
		if rows-1 > (math.MaxInt-cols)/ld {
			badArg(fmt.Sprintf("%d×%d matrix %s with %s = %d overflows int", rows, cols, name, ldName, ld))
		}
		if need := (rows-1)*ld + cols; len(s) < need {
			badArg(fmt.Sprintf("len(%s) = %d, want >= %d for %d×%d with %s = %d", name, len(s), need, rows, cols, ldName, ld))
		}
	}
}

//go:noinline
func badArg(msg string) { panic("gemm.Sgemm: " + msg) }

// scaleC sets C = beta*C (C = 0 when beta == 0, whatever C held).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// splitGrid chooses how to cut C into tm×tn thread tiles (tm*tn <= threads)
// by minimising an estimate of a thread's time: its padded multiply-adds
// plus the packing it has to do. With shared, the threads of a column of
// tiles pack its B between them (sharedB).
func splitGrid(threads, m, n, k int, im *impl, shared bool) (tm, tn int) {
	mt := (m + im.mr - 1) / im.mr // micro-tile rows
	nt := (n + im.nr - 1) / im.nr // micro-tile columns
	best := -1.0
	tm, tn = 1, 1
	for a := 1; a <= threads && a <= mt; a++ {
		b := min(threads/a, nt)
		rows := float64(mt*im.mr) / float64(a) // average thread tile
		cols := float64(nt*im.nr) / float64(b)
		kk := float64(k)
		// A is packed once per NC-wide column block, B once.
		nblocks := math.Ceil(cols / float64(im.nc))
		packB := cols * kk
		if shared && a > 1 {
			// Each thread packs 1/a of the tile's B but reads all of
			// it, part from the other threads' caches: count half the
			// saving.
			packB *= (1 + 1/float64(a)) / 2
		}
		cost := rows*cols*kk + 4*(rows*kk*nblocks+packB)
		if best < 0 || cost < best {
			best, tm, tn = cost, a, b
		}
	}
	return tm, tn
}

// workspace is one thread's packing memory, kept between calls.
type workspace struct {
	a, b  []float32        // packed A block and B block, 64-byte aligned
	rows  []float32        // rows of a computed operand, gathered before packing
	tile  [32 * 32]float32 // edge tiles are computed here, then merged
	segs  []uintptr        // the row segments of A read in place (rowSegments)
	rowsB []uint16         // bfloat16 rows gathered for the rows kernel
	zero  []float32        // zeros, the rows past the edge of C read in place
	amx   []uint32         // an A micro-panel in AMX's layout (toAMXA)
	sum   []float32        // a K chunk's sum over all of C (kSplit)
	// bKey says which block of op(B) ws.b holds (jc, nc, p0, kc) when
	// bValid; valid only within one call.
	bKey   [4]int
	bValid bool
	part   int // the part this workspace serves in the current call
}

// ctx is the reusable state of one Sgemm call: the job handed to the pool
// and a workspace per part. Contexts are recycled through a free list so
// that steady-state calls do not allocate, and so that concurrent calls
// (from different pools) never share buffers.
type ctx struct {
	job job
	gv  gemvJob
	ws  []*workspace
	tmp []float32 // a computed operand of a matrix-vector product, or a thin product's transposed one
	tj  thinJob   // a thin product's split (thin)
	tt  thinTJob  // the panels of a thin product of few columns (thinT)
	// whole is a packed B of all of K (RowBlocks), packed by pw.
	whole []float32
	pw    packWholeJob
	// sb is the packed op(B) the parts share (sharedB).
	sb sharedPack
	// ks is the parts of a product split over K (kSplit).
	ks kSplitJob
}

// materialize gathers the computed operand of j into x.tmp and makes j
// read it as a stored matrix.
func (x *ctx) materialize(j *job) {
	rows, cols, src := j.m, j.k, j.ga
	switch {
	case j.gb != nil:
		rows, cols, src = j.k, j.n, j.gb
	case j.gbT != nil: // Bᵀ stored, n×k
		rows, cols, src = j.n, j.k, j.gbT
	}
	if cap(x.tmp) < rows*cols {
		x.tmp = make([]float32, rows*cols)
	}
	t := x.tmp[:rows*cols]
	for i := range rows {
		src.Row(t[i*cols:(i+1)*cols], i, 0)
	}
	switch {
	case j.ga != nil:
		j.a, j.lda, j.ga = t, cols, nil
	case j.gb != nil:
		j.b, j.ldb, j.gb = t, cols, nil
	default:
		j.b, j.ldb, j.transB, j.gbT = t, cols, true, nil
	}
}

var (
	ctxMu   sync.Mutex
	ctxFree []*ctx
)

func getCtx() *ctx {
	ctxMu.Lock()
	defer ctxMu.Unlock()
	if n := len(ctxFree); n > 0 {
		x := ctxFree[n-1]
		ctxFree = ctxFree[:n-1]
		return x
	}
	return new(ctx)
}

func putCtx(x *ctx) {
	x.job.a, x.job.b, x.job.c, x.job.ws, x.job.ga, x.job.gb, x.job.gbT, x.job.bias = nil, nil, nil, nil, nil, nil, nil, nil
	x.job.post = nil
	ctxMu.Lock()
	ctxFree = append(ctxFree, x)
	ctxMu.Unlock()
}

// ensure makes x hold parts workspaces big enough for j.
func (x *ctx) ensure(parts int, j *job) {
	im := j.im
	rowsA := min(im.mc, roundUp(j.m, im.mr))
	colsB := min(im.nc, roundUp(j.n, im.nr))
	na := rowsA * j.maxKC
	nb := colsB * j.maxKC
	if j.nk > 1 {
		// Room for a resident B (blockResident) of any part's columns.
		nb = max(nb, min(colsB*j.k, residentBytes/4))
	}
	for len(x.ws) < parts {
		x.ws = append(x.ws, new(workspace))
	}
	nrows := 0
	if j.ga != nil || j.inPlace() {
		nrows = im.mr * j.maxKC
	}
	if j.gb != nil {
		// A row of the block; in bfloat16 the three rows of
		// packPairsStrided.
		nrows = colsB
		if im.bf16 {
			nrows = 3 * colsB
		}
	}
	if j.gbT != nil {
		nrows = im.nr * j.maxKC
	}
	for _, w := range x.ws[:parts] {
		if len(w.a) < na {
			w.a = alignedFloats(na)
		}
		if len(w.b) < nb {
			w.b = alignedFloats(nb)
		}
		if len(w.rows) < nrows {
			w.rows = make([]float32, nrows)
		}
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// alignedFloats returns n float32s starting on a 64-byte boundary.
func alignedFloats(n int) []float32 {
	s := make([]float32, n+16)
	off := int(uintptr(unsafe.Pointer(&s[0]))&63) / 4
	if off != 0 {
		off = 16 - off
	}
	return s[off : off+n : off+n]
}

// job is one Sgemm call as seen by the pool. C is cut into cm×cn chunks
// along micro-tile boundaries; the parts take chunks from the shared
// counter next.
type job struct {
	args
	im        *impl
	stored    inPlaceA // a stored A as the rows kernel reads it (useRows)
	oneThread bool     // the product runs as one part (inPlace)
	nk, maxKC int      // number of K chunks and the largest chunk
	// k0, k1: the K chunks block computes, [k0, k1): all of them (0, nk)
	// but in a part of a split over K (kSplit), which computes one.
	k0, k1 int
	cm, cn int          // chunk grid: cm×cn chunks of C
	next   atomic.Int32 // next chunk to take
	// static: each part computes the chunk of its index (cm×cn ==
	// parts) instead of taking chunks from next (staticMaxFlops).
	static bool
	ws     []*workspace
	sb     *sharedPack // op(B) packed once for all parts, or nil
}

// args are the operands of one product.
type args struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	ga, gb         Rows // A or B computed by rows (a or b is then nil)
	gbT            Rows // or B computed by the rows of Bᵀ (SgemmRowsBT)
	// bias, when set (len n), is C's starting value in every row: each
	// tile is filled from it just before its first product, while it is
	// in cache (beta is then 1); the rows kernels add it as they store a
	// full tile's first K chunk instead (tilesRows), with the same bits.
	bias []float32
	// post, when set, finishes each block of C after its last K chunk
	// (finish); the paths that do not tile C run it over all of C at
	// the end (finishAll).
	post Epilogue
}

// finish runs the epilogue, if any, over the rows×cols block of C at row
// i0, column j0, once K chunk pi has been added to it, if pi is the last.
func (j *job) finish(pi, i0, rows, j0, cols int) {
	if j.post != nil && pi == j.nk-1 {
		j.post.Finish(j.c[i0*j.ldc+j0:], j.ldc, i0, rows, j0, cols)
	}
}

// finishAll runs the epilogue, if any, over all of C: for the paths that
// do not tile C (no K, matrix-vector products).
func (a *args) finishAll() {
	if a.post != nil {
		a.post.Finish(a.c, a.ldc, 0, a.m, 0, a.n)
	}
}

// kernelFor is the micro-kernel of an m×n×k product: the current one, or
// the bfloat16 one where the precision is bfloat16 and the product is
// summed so (InBF16).
func kernelFor(m, n, k int) *impl {
	if InBF16(m, n, k) {
		return bf16Impl
	}
	return current.Load()
}

// cutK sets j's K chunks (nk, maxKC): near-equal chunks of about im.kc.
// The cuts depend only on k, never on the thread split, so each C element
// sees the same sequence of operations whatever the pool size.
func (j *job) cutK() {
	j.nk = (j.k + j.im.kc - 1) / j.im.kc
	j.k0, j.k1 = 0, j.nk
	j.maxKC = 0
	for pi := range j.nk {
		p0, p1 := j.kChunk(pi)
		j.maxKC = max(j.maxKC, p1-p0)
	}
}

// kChunk returns the bounds of K chunk pi: near-equal, and cut at
// multiples of 8 so that the transposing packers need no scalar tail (of
// 32 for the AMX kernel).
func (j *job) kChunk(pi int) (p0, p1 int) {
	p0, p1 = parallel.Split(j.k, j.nk, pi)
	cut := 8
	if j.im.amx {
		// Whole blocks of 16 pairs, so that a direct convolution's
		// chunks (SgemmTaps) need no padding within them.
		cut = 32
	}
	if pi > 0 {
		p0 &^= cut - 1
	}
	if pi < j.nk-1 {
		p1 &^= cut - 1
	}
	return p0, p1
}

// Run implements parallel.Job: each part takes chunks in order until none
// is left, or computes the chunk of its index when j.static (lo and hi are
// ignored). Which part computes a chunk does not change its result.
func (j *job) Run(part, lo, hi int) {
	ws := j.ws[part]
	ws.bValid, ws.part = false, part
	if j.static {
		j.chunk(ws, part)
		return
	}
	for {
		t := int(j.next.Add(1)) - 1
		if t >= j.cm*j.cn {
			return
		}
		j.chunk(ws, t)
	}
}

// chunk computes chunk t of C's cm×cn chunks. Chunks go down a column of
// chunks first, so that consecutive ones share their B block.
func (j *job) chunk(ws *workspace, t int) {
	im := j.im
	mt := (j.m + im.mr - 1) / im.mr
	nt := (j.n + im.nr - 1) / im.nr
	ti, tj := t%j.cm, t/j.cm
	r0, r1 := parallel.Split(mt, j.cm, ti)
	c0, c1 := parallel.Split(nt, j.cn, tj)
	j.block(ws, r0*im.mr, min(r1*im.mr, j.m), c0*im.nr, min(c1*im.nr, j.n))
}

// block computes rows [i0, i1) and columns [j0, j1) of C. All bounds are
// multiples of the micro-tile (except at the matrix edge), so the tiles
// are the same whatever the thread grid.
func (j *job) block(ws *workspace, i0, i1, j0, j1 int) {
	if j.resident(j1 - j0) {
		j.blockResident(ws, i0, i1, j0, j1)
		return
	}
	im := j.im
	mr := im.mr
	for jc := j0; jc < j1; jc += im.nc {
		nc := min(im.nc, j1-jc)
		for pi := j.k0; pi < j.k1; pi++ {
			p0, p1 := j.kChunk(pi)
			kc := p1 - p0
			bBlock := ws.b
			if j.sb != nil {
				bBlock = j.sharedB(ws, pi, jc, nc)
			} else if key := [4]int{jc, nc, p0, kc}; !ws.bValid || ws.bKey != key {
				j.packBChunk(ws.b, ws.rows, jc, nc, p0, kc)
				ws.bKey, ws.bValid = key, true
			}
			for ic := i0; ic < i1; ic += im.mc {
				mc := min(im.mc, i1-ic)
				if j.transA {
					// Rows of Aᵀ are contiguous across the block: pack it whole.
					packA(im, ws.a, j.a, j.lda, true, ic, mc, p0, kc, j.alpha)
					for ir := 0; ir < mc; ir += mr {
						panelA(im, ws, ws.a[ir*kc:(ir+mr)*kc], kc)
					}
				}
				// The A micro-panel stays in L1 while the B block (in L2)
				// streams past it.
				s, inPlace := j.useRows(p0, kc)
				for ir := 0; ir < mc; ir += mr {
					rows := min(mr, mc-ir)
					if j.transA && im.asmPack {
						j.prefetchNextA(ic+mc, i0, i1, p0, kc, pi, ir/mr, (mc+mr-1)/mr)
					}
					if inPlace {
						j.tilesRows(ws, s, bBlock, ic+ir, rows, jc, nc, p0, kc, pi)
						continue
					}
					if !j.transA {
						j.packAMicro(ws, ws.a[ir*kc:ir*kc+mr*kc], ic+ir, rows, p0, kc)
					}
					j.tiles(ws, ws.a[ir*kc:], bBlock, ic+ir, rows, jc, nc, kc, pi)
				}
			}
		}
	}
}

// resident reports whether a block of cols columns is computed by
// blockResident: there is more than one K chunk, the columns are one B
// block, and the packed B of every chunk fits in residentBytes.
func (j *job) resident(cols int) bool {
	return j.k1-j.k0 > 1 && cols <= j.im.nc && roundUp(cols, j.im.nr)*j.k*4 <= residentBytes
}

// blockResident computes rows [i0, i1) and columns [j0, j1) of C with B
// packed whole (every K chunk, in L2) and the K chunks innermost: each
// mr-row strip of C (a few KB, in L1) receives all its chunks before the
// next, instead of a pass over all of C per chunk. For the long, narrow
// products of convolutions (131,072×64 with K = 576 in biggan32) that
// pass is C read and written from memory once per chunk. The products
// each element sees, and their order, are those of block: the results are
// bit-identical.
func (j *job) blockResident(ws *workspace, i0, i1, j0, j1 int) {
	im := j.im
	mr := im.mr
	nc := j1 - j0
	ncr := roundUp(nc, im.nr)
	// Chunk pi's packed B starts at p0·ncr (chunks are contiguous in K),
	// or in the shared B at p0·ncr + j0·kc with ncr its width.
	bs, base := ws.b, 0
	if j.sb != nil {
		for pi := j.k0; pi < j.k1; pi++ {
			j.sharedB(ws, pi, j0, nc)
		}
		bs, ncr, base = j.sb.buf, j.sb.ncr, j0
	} else if key := [4]int{j0, nc, -1, j.k}; !ws.bValid || ws.bKey != key {
		for pi := j.k0; pi < j.k1; pi++ {
			p0, p1 := j.kChunk(pi)
			j.packBChunk(ws.b[p0*ncr:], ws.rows, j0, nc, p0, p1-p0)
		}
		ws.bKey, ws.bValid = key, true
	}
	for ic := i0; ic < i1; ic += mr {
		rows := min(mr, i1-ic)
		for pi := j.k0; pi < j.k1; pi++ {
			p0, p1 := j.kChunk(pi)
			kc := p1 - p0
			if j.transA {
				packA(im, ws.a, j.a, j.lda, true, ic, rows, p0, kc, j.alpha)
				panelA(im, ws, ws.a[:mr*kc], kc)
			} else if s, ok := j.useRows(p0, kc); ok {
				j.tilesRows(ws, s, bs[p0*ncr+base*kc:], ic, rows, j0, nc, p0, kc, pi)
				continue
			} else {
				j.packAMicro(ws, ws.a[:mr*kc], ic, rows, p0, kc)
			}
			j.tiles(ws, ws.a, bs[p0*ncr+base*kc:], ic, rows, j0, nc, kc, pi)
		}
	}
}

// padAMXBlock zeroes the padding pair rows of every panel of a packed
// block of nc columns (padAMXB) where the kernel is AMX's.
func (j *job) padAMXBlock(dst []float32, nc, kc int) {
	if !j.im.amx {
		return
	}
	for jr := 0; jr < nc; jr += 32 {
		padAMXB(dst[jr*kc:(jr+32)*kc], kc)
	}
}

// packBChunk packs the kc×nc block of op(B) at row p0, column jc into dst
// (as bfloat16 pairs for the BF16 kernel).
func (j *job) packBChunk(dst, rowsBuf []float32, jc, nc, p0, kc int) {
	im := j.im
	if im.bf16 && bf16PackAsm && j.b != nil && !j.transB && im.nr == 32 {
		// Straight into pairs: one pass over B instead of a copy and a
		// pass over the copy.
		panels := (nc + 31) / 32
		_ = dst[panels*32*kc-1]
		_ = j.b[(p0+kc-1)*j.ldb+jc+nc-1]
		packPairsB(&dst[0], &j.b[p0*j.ldb+jc], j.ldb, kc, panels, pairsTail(nc-(panels-1)*32), 32*kc)
		j.padAMXBlock(dst, nc, kc)
		return
	}
	if s, ok := j.gb.(StridedRows); ok && im.bf16 && bf16PackAsm && im.nr == 32 && len(rowsBuf) >= 3*nc &&
		packPairsStrided(dst, rowsBuf, s, jc, nc, p0, kc) {
		j.padAMXBlock(dst, nc, kc)
		return
	}
	if j.gbT != nil {
		for jr := 0; jr < nc; jr += im.nr {
			packRowsT(im, dst[jr*kc:(jr+im.nr)*kc], rowsBuf, j.gbT, jc+jr, min(im.nr, nc-jr), p0, kc, 1, im.nr)
		}
	} else if j.gb != nil {
		packBRows(im, dst, rowsBuf, j.gb, jc, nc, p0, kc)
	} else {
		packB(im, dst, j.b, j.ldb, j.transB, jc, nc, p0, kc)
	}
	if im.bf16 {
		for jr := 0; jr < nc; jr += im.nr {
			panel := dst[jr*kc : (jr+im.nr)*kc]
			toPairs(panel, im.nr, kc)
			if im.amx {
				padAMXB(panel, kc)
			}
		}
	}
}

// packAMicro packs the micro-panel of rows [i0, i0+rows), columns [p0,
// p0+kc) of a stored (untransposed) or computed A into dst (as bfloat16
// pairs for the BF16 kernel).
func (j *job) packAMicro(ws *workspace, dst []float32, i0, rows, p0, kc int) {
	im := j.im
	if im.amx {
		j.packAMXMicro(ws, dst, i0, rows, p0, kc)
		return
	}
	if j.ga != nil {
		packARows(im, dst, ws.rows, j.ga, i0, rows, p0, kc, j.alpha)
	} else {
		// Pack the micro-panel just before use, prefetching the next
		// one's rows while this one is computed.
		packAPanel(im, dst, j.a, j.lda, i0, rows, p0, kc, j.alpha, true)
	}
	panelA(im, ws, dst[:im.mr*kc], kc)
}

// panelA turns a packed float32 A micro-panel into the layout im's kernel
// reads: unchanged for float32, bfloat16 pairs (toPairs) for the BF16
// kernel, AMX's row blocks (toAMXA) for the AMX kernel.
func panelA(im *impl, ws *workspace, panel []float32, kc int) {
	switch {
	case im.amx:
		toAMXA(panel, kc, ws)
	case im.bf16:
		toPairs(panel, im.mr, kc)
	}
}

// tiles computes the micro-tiles of rows [i0, i0+rows) (at most mr) and
// columns [jc, jc+nc) of C for K chunk pi of depth kc, from the packed A
// micro-panel a and the packed B block b: C is filled from the bias before
// the first chunk, scaled by beta on the first chunk, accumulated after.
// fillBias writes the bias, from column j0 on, into the rows×cols tile of
// C at off, where the product has one (its first K chunk then accumulates
// onto it).
func (j *job) fillBias(off, rows, cols, j0 int) { j.fillBiasTo(j.c, j.ldc, off, rows, cols, j0) }

// fillBiasTo is fillBias into c (row stride ldc) in place of C.
func (j *job) fillBiasTo(c []float32, ldc, off, rows, cols, j0 int) {
	if j.bias == nil {
		return
	}
	for r := range rows {
		copy(c[off+r*ldc:off+r*ldc+cols], j.bias[j0:j0+cols])
	}
}

func (j *job) tiles(ws *workspace, a, b []float32, i0, rows, jc, nc, kc, pi int) {
	j.tilesTo(ws, a, b, j.c, j.ldc, i0, rows, jc, nc, kc, pi)
	j.finish(pi, i0, rows, jc, nc)
}

// tilesTo is tiles into c (row stride ldc) in place of C: row i0 of c is
// the first it writes.
func (j *job) tilesTo(ws *workspace, a, b, c []float32, ldc, i0, rows, jc, nc, kc, pi int) {
	im := j.im
	mr, nr := im.mr, im.nr
	beta := j.beta
	if pi > j.k0 {
		beta = 1
	}
	ap := &a[0]
	if pi == j.k0 {
		// The bias of all the tiles' rows at once (a copy per tile row
		// took 5% of the toy step on AVX2's 6×16 tiles).
		j.fillBiasTo(c, ldc, i0*ldc+jc, rows, nc, jc)
	}
	jr0 := 0
	if full := nc / nr; im.panels != nil && rows == mr && full > 0 && (beta == 0 || beta == 1) {
		im.panels(kc, ap, &b[0], &c[i0*ldc+jc], ldc, beta, full)
		jr0 = full * nr
	}
	for jr := jr0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		bp := &b[jr*kc]
		off := i0*ldc + jc + jr
		if rows == mr && cols == nr {
			im.fn(kc, ap, bp, &c[off], ldc, beta)
			continue
		}
		if im.amx {
			amxEdge(im, ws, kc, ap, bp, c[off:], ldc, rows, cols, beta)
			continue
		}
		e := edgeKernel{im.fn, mr, nr}
		if im.edge != nil {
			e = im.edge(rows, cols)
		}
		if e.rows == rows && e.cols == cols {
			e.fn(kc, ap, bp, &c[off], ldc, beta)
			continue
		}
		e.fn(kc, ap, bp, &ws.tile[0], nr, 0)
		mergeTile(c[off:], ldc, ws.tile[:], nr, rows, cols, beta)
	}
}

// prefetchNextA prefetches into L2 part q of nq of the source of the next
// transposed-A block this thread will pack: rows [next, next+MC) of op(A)
// for the current K chunk, or rows [i0, i0+MC) of the next K chunk when
// this block is the last. Spread over the current block's micro-panels,
// the memory traffic overlaps with the micro-kernel's arithmetic.
func (j *job) prefetchNextA(next, i0, i1, p0, kc, pi, q, nq int) {
	im := j.im
	if next >= i1 {
		if pi+1 >= j.k1 {
			return
		}
		next = i0
		p0, kc = j.kChunk(pi + 1)
		kc -= p0
	}
	cols := min(im.mc, i1-next)
	r0, r1 := p0+q*kc/nq, p0+(q+1)*kc/nq
	if r1 <= r0 {
		return
	}
	// Aᵀ row p holds op(A)[next:next+cols][p] contiguously.
	prefetchL2(&j.a[r0*j.lda+next], j.lda, r1-r0, (cols*4+63)/64+1)
}

// mergeTile folds the rows×cols corner of the computed tile t (row stride
// nr) into C with the same arithmetic as the micro-kernels.
func mergeTile(c []float32, ldc int, t []float32, nr, rows, cols int, beta float32) {
	for i := 0; i < rows; i++ {
		dst := c[i*ldc : i*ldc+cols]
		src := t[i*nr : i*nr+cols]
		switch beta {
		case 0:
			copy(dst, src)
		case 1:
			for x, v := range src {
				dst[x] += v
			}
		default:
			for x, v := range src {
				dst[x] = float32(beta*dst[x]) + v
			}
		}
	}
}
