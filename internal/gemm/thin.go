package gemm

import (
	"github.com/minmaxgan/minmax/internal/parallel"
)

// Thin products: one dimension of a few (a layer of 2 inputs or outputs,
// as the toy's first and last layers). The tiled path pads such a product
// to its 12×32 tiles: a K of 2 costs a tile's set-up and store for 24
// multiply-adds, an N of 2 sixteen times the multiply-adds it needs, and
// either packs the large operand for one use. In the toy's step these
// products took 14% of the time at one thread, and ran on one thread at
// two. Here each row of C is a combination of rows of op(B) (rowVec
// kernel), and each operand is read once, where it lies:
//
//   - K of a few (thinK): C's rows from op(B)'s k rows (op(B)ᵀ packed
//     first when B is stored transposed: k·n values);
//   - M of a few (thinMN): the same, op(B) read once per row of C;
//   - N of a few: Cᵀ = op(B)ᵀ·op(A)ᵀ, Cᵀ's rows from the rows of
//     op(A)ᵀ, which are A's rows when A is stored transposed (else A is
//     transposed into a buffer first), Cᵀ then merged into C.
//
// Every element is the tile kernels' own: per K chunk (the same cuts), a
// fused multiply-add chain from +0 in K order, stored, added to C or
// added to the bias as the tile kernels store it. So the bits are the
// tiled path's (TestThinMatchesTiled), at any thread count.

// rowVecKernel computes rows of C as combinations of rows of B (see
// asm_gen.go's rowVec512).
type rowVecKernel func(rows, n, kc int, a *float32, ars, as int, b *float32, ldb int, c *float32, ldc int, mode int, bias *float32)

// thinK and thinMN are the largest K, and the largest M or N, of a thin
// product.
const (
	thinK  = 4
	thinMN = 4
)

// The rowVec kernel's store modes.
const (
	rowVecStore = 0
	rowVecAdd   = 1
	rowVecBias  = 2
)

// thinRows is the number of rows of C a part of a thin product's split
// takes at a time: the rows a thread claims in turn.
const thinRows = 32

// thinOK says whether j runs as a thin product: the float32 rowVec kernel,
// stored operands, alpha 1, beta 0 or 1, and a dimension of a few (not
// the matrix-vector shapes, which gemv sums in its own order).
func (j *job) thinOK() bool {
	// rowVec is set on the float32 kernels only (bfloat16 and AMX clear it).
	if !testThin || j.im.rowVec == nil || j.alpha != 1 || (j.beta != 0 && j.beta != 1) ||
		j.a == nil || j.b == nil || j.ga != nil || j.gb != nil || j.gbT != nil || j.m < 2 || j.n < 2 {
		return false
	}
	switch {
	case j.k <= thinK:
		return true
	case j.m <= thinMN:
		// op(B)ᵀ is transposed whole into a buffer where B is stored
		// transposed: only where that stays small.
		return !j.transB || j.k*j.n <= thinMaxCopy
	case j.n <= thinMN:
		// A panel of op(A)ᵀ is thinPanel·k values.
		return j.transA || thinPanel*j.k <= thinMaxCopy
	}
	return false
}

// thinMaxCopy bounds the values a thin product copies into a buffer of
// its own (1 MB); larger ones take the tiled path, which packs in blocks.
const thinMaxCopy = 1 << 18

// testThin, cleared only by tests, lets products take the thin path.
var testThin = true

// rowVecMode is the rowVec store mode of K chunk pi.
func (j *job) rowVecMode(pi int) int {
	switch {
	case pi > 0:
		return rowVecAdd
	case j.bias != nil:
		return rowVecBias
	case j.beta == 1:
		return rowVecAdd
	}
	return rowVecStore
}

// thinJob is a thin product's rows of C split over the pool (the K-few
// and M-few forms): op(B)'s rows at b, ldb apart; A's values of row i at
// a + i·ars, as apart.
type thinJob struct {
	j       *job
	a, b    []float32
	ars, as int
	ldb     int
	blocks  int
}

// Run computes blocks [lo, hi) of thinRows rows.
func (t *thinJob) Run(_, lo, hi int) {
	j := t.j
	var bias *float32
	if j.bias != nil {
		bias = &j.bias[0]
	}
	for blk := lo; blk < hi; blk++ {
		i0 := blk * thinRows
		rows := min(thinRows, j.m-i0)
		for pi := range j.nk {
			p0, p1 := j.kChunk(pi)
			j.im.rowVec(rows, j.n, p1-p0, &t.a[i0*t.ars+p0*t.as], 4*t.ars, 4*t.as,
				&t.b[p0*t.ldb], 4*t.ldb, &j.c[i0*j.ldc], 4*j.ldc, j.rowVecMode(pi), bias)
		}
		if j.post != nil {
			j.post.Finish(j.c[i0*j.ldc:], j.ldc, i0, rows, 0, j.n)
		}
	}
}

// thin computes j (thinOK), its buffers x's.
func (x *ctx) thin(pool *parallel.Pool, j *job) {
	m, n, k := j.m, j.n, j.k
	if n <= thinMN && k > thinK && m > thinMN {
		x.thinT(pool, j)
		return
	}
	t := &x.tj
	*t = thinJob{j: j, a: j.a, b: j.b, ldb: j.ldb, ars: j.lda, as: 1}
	defer func() { *t = thinJob{} }()
	if j.transA {
		t.ars, t.as = 1, j.lda
	}
	if j.transB {
		// op(B)'s rows, k·n values: B's columns.
		t.b, t.ldb = x.scratch(k*n), n
		packTransRaw(j.im, t.b, n, j.b, j.ldb, n, k, 1, 0)
	}
	t.blocks = (m + thinRows - 1) / thinRows
	parts := 1
	if m*n >= parallelMinOutputs || 2*float64(m)*float64(n)*float64(k) >= parallelMinFlops {
		parts = min(pool.Threads(), t.blocks)
	}
	if parts == 1 {
		t.Run(0, 0, t.blocks)
		return
	}
	pool.ForChunks(t.blocks, 1, parts, t)
}

// thinT computes a product of N of a few as Cᵀ = op(B)ᵀ·op(A)ᵀ: Cᵀ's n
// rows from the k rows of op(A)ᵀ, thinPanel columns (rows of C) at a
// time: A's rows where A is stored transposed, else the panel of A
// transposed into a buffer that stays in L1 (a whole Aᵀ, written 2 KB a
// row apart for the toy's 512 rows, took twice the product). Each K
// chunk of a panel is merged into C as the tile kernels store it. The
// panels go to the pool's threads where A holds thinMinValues values or
// more (its transposition is most of the work).
func (x *ctx) thinT(pool *parallel.Pool, j *job) {
	t := &x.tt
	*t = thinTJob{j: j, brs: 1, bs: j.ldb}
	defer func() { *t = thinTJob{} }()
	if j.transB {
		t.brs, t.bs = j.ldb, 1
	}
	panels := (j.m + thinPanel - 1) / thinPanel
	parts := 1
	if j.m*j.k >= thinMinValues {
		parts = min(pool.Threads(), panels)
	}
	t.per = j.n * thinPanel // Cᵀ's panel
	if !j.transA {
		t.per += thinPanel * j.k // and op(A)ᵀ's
	}
	t.bufs = x.scratch(parts * t.per)
	if parts == 1 {
		t.Run(0, 0, panels)
		return
	}
	pool.ForChunks(panels, 1, parts, t)
}

// thinTJob is thinT's panels split over the pool: op(B)ᵀ's row r, value p
// at B[r·brs + p·bs]; per values of bufs for each part.
type thinTJob struct {
	j       *job
	brs, bs int
	bufs    []float32
	per     int
}

// Run computes panels [lo, hi) with part's buffers.
func (t *thinTJob) Run(part, lo, hi int) {
	j := t.j
	n := j.n
	buf := t.bufs[part*t.per : (part+1)*t.per]
	ct, panel := buf[:n*thinPanel], buf[n*thinPanel:]
	for i0 := lo * thinPanel; i0 < min(j.m, hi*thinPanel); i0 += thinPanel {
		w := min(thinPanel, j.m-i0)
		at, ldat := j.a[i0:], j.lda // op(A)ᵀ's columns i0.., k rows
		if !j.transA {
			at, ldat = panel, thinPanel
			packTransRaw(j.im, panel, thinPanel, j.a[i0*j.lda:], j.lda, w, j.k, 1, 0)
		}
		for pi := range j.nk {
			p0, p1 := j.kChunk(pi)
			j.im.rowVec(n, w, p1-p0, &j.b[p0*t.bs], 4*t.brs, 4*t.bs, &at[p0*ldat], 4*ldat, &ct[0], 4*thinPanel, rowVecStore, nil)
			// Cᵀ's row r into C's column r (v + C, v + bias: the operands
			// of the tile kernels' additions).
			mode := j.rowVecMode(pi)
			for r := range n {
				src := ct[r*thinPanel : r*thinPanel+w]
				dst := j.c[i0*j.ldc+r:]
				switch mode {
				case rowVecStore:
					for i, v := range src {
						dst[i*j.ldc] = v
					}
				case rowVecAdd:
					for i, v := range src {
						dst[i*j.ldc] = v + dst[i*j.ldc]
					}
				default:
					b := j.bias[r]
					for i, v := range src {
						dst[i*j.ldc] = v + b
					}
				}
			}
		}
		if j.post != nil {
			j.post.Finish(j.c[i0*j.ldc:], j.ldc, i0, w, 0, n)
		}
	}
}

// thinMinValues is the size of A from which thinT splits its panels
// over the threads: 32 Ki values (the toy's 512×128, transposed in about
// 7 µs at one thread).
const thinMinValues = 1 << 15

// thinPanel is the number of rows of C that thinT computes at a time: a
// transposed panel of A of 64 columns is 64 KB at K 256.
const thinPanel = 64

// scratch returns n floats of x's operand buffer (x.tmp is the computed
// vector of matrix-vector products, which a thin product never has).
func (x *ctx) scratch(n int) []float32 {
	if cap(x.tmp) < n {
		x.tmp = make([]float32, n)
	}
	return x.tmp[:n]
}
