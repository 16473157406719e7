package gemm

import (
	"fmt"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// RowBlocks is the product C = A·op(B), A stored m×k, computed a block of
// rows at a time into buffers of the caller's, by callers on goroutines of
// their own: op(B) is packed once, whole, and each block's rows can be
// consumed while they are in cache (Rows), or each panel of a tile's
// height as soon as it is complete (RowsFolded). A transposed
// convolution folds them into its images at once, instead of writing its
// columns to memory and reading them back (tensor.ConvTMatMul).
//
// Every element is computed as Sgemm computes it for the whole product:
// the same kernel and precision (chosen from m, n and k), the same K
// chunks, each chunk's products in the same order. The bits are Sgemm's.
type RowBlocks struct {
	x   *ctx
	ncr int // columns of the packed B, a multiple of NR
	ncb int // columns of a column block (Rows), a multiple of NR, or n
}

// NewRowBlocks packs op(B) (k×n, or n×k stored when transB) for the
// product of the m×k matrix a (row stride lda), to be computed by parts
// callers (RowBlocks.Rows's part, each used by one goroutine at a time).
// m and n must be at least 2 (Sgemm computes a matrix-vector product in
// its own order) and k at least 1. Close releases it.
func NewRowBlocks(parts, m, n, k int, a []float32, lda int, transB bool, b []float32, ldb int) RowBlocks {
	if parts < 1 || m < 2 || n < 2 || k < 1 {
		badArg(fmt.Sprintf("RowBlocks of %d parts for m=%d n=%d k=%d (need m, n > 1, k > 0)", parts, m, n, k))
	}
	checkMat("A", "lda", a, m, k, lda)
	if transB {
		checkMat("B", "ldb", b, n, k, ldb)
	} else {
		checkMat("B", "ldb", b, k, n, ldb)
	}
	im := kernelFor(m, n, k)
	x := getCtx()
	j := &x.job
	j.args = args{m: m, n: n, k: k, alpha: 1, a: a, lda: lda, transB: transB, b: b, ldb: ldb}
	j.im, j.cm, j.cn, j.ws = im, 0, 0, nil
	j.cutK()
	x.ensure(parts, j)
	j.ws = x.ws[:parts]
	// Chunk pi's panels start at p0·ncr (chunks are contiguous in K), as
	// in blockResident.
	ncr := roundUp(n, im.nr)
	if len(x.whole) < ncr*k {
		x.whole = alignedFloats(ncr * k)
	}
	np := ncr / im.nr
	x.pw = packWholeJob{j: j, whole: x.whole, ncr: ncr, np: np}
	pool := parallel.Default()
	pool.ForParts(j.nk*np, pool.PartsFor(ncr*k, packWholeGrain), &x.pw)
	x.pw = packWholeJob{}
	ncb := max(im.nr, rowBlocksBytes/(4*k)/im.nr*im.nr)
	if ncb >= n {
		ncb = n
	}
	return RowBlocks{x: x, ncr: ncr, ncb: ncb}
}

// packWholeGrain is the least number of packed values worth a second
// thread: 32 Ki values, 128 KiB. dcgan28's transposed convolutions pack
// kernels of 128 Ki values serially before this; at 2 threads the main
// thread spent 0.9% of the step there while the other waited.
const packWholeGrain = 32 << 10

// packWholeJob packs op(B) into a RowBlocks' whole buffer over the pool.
// Its items are the NR-column panels of every K chunk in turn (np a
// chunk); a panel packs the same whichever thread packs it.
type packWholeJob struct {
	j       *job
	whole   []float32
	ncr, np int
}

// Run packs panels [lo, hi), a run of panels per K chunk.
func (p *packWholeJob) Run(_, lo, hi int) {
	j, nr := p.j, p.j.im.nr
	for u := lo; u < hi; {
		pi, q := u/p.np, u%p.np
		q1 := min(p.np, q+hi-u)
		p0, p1 := j.kChunk(pi)
		kc := p1 - p0
		c0, c1 := q*nr, min(j.n, q1*nr)
		j.packBChunk(p.whole[p0*p.ncr+c0*kc:], nil, c0, c1-c0, p0, kc)
		u += q1 - q
	}
}

// Rows computes rows [i0, i1) of C into c, row i of C at c[(i−i0)·ldc:],
// with part's workspace. The columns go in blocks whose packed B (all of
// K) takes about rowBlocksBytes, which stay in L2 while every A
// micro-panel of the rows passes them: where all of B fits, one block.
// The A micro-panels are packed once where they fit the workspace, else
// again for each block. Each element still sees its K chunks in order.
func (r RowBlocks) Rows(part, i0, i1 int, c []float32, ldc int) {
	j := &r.x.job
	if i0 < 0 || i1 > j.m || i0 > i1 || part < 0 || part >= len(j.ws) || ldc < j.n || i1 > i0 && len(c) < (i1-i0-1)*ldc+j.n {
		badArg(fmt.Sprintf("RowBlocks.Rows: rows [%d, %d) of %d, part %d of %d, %d values at stride %d", i0, i1, j.m, part, len(j.ws), len(c), ldc))
	}
	ws, mr := j.ws[part], j.im.mr
	keep := r.ncb < j.n && roundUp(i1-i0, mr)*j.k <= len(ws.a)
	if keep {
		for ic := i0; ic < i1; ic += mr {
			for pi := range j.nk {
				p0, p1 := j.kChunk(pi)
				at := (ic-i0)*j.k + mr*p0
				j.packAMicro(ws, ws.a[at:at+mr*(p1-p0)], ic, min(mr, i1-ic), p0, p1-p0)
			}
		}
	}
	for jc := 0; jc < j.n; jc += r.ncb {
		nc := min(r.ncb, j.n-jc)
		for ic := i0; ic < i1; ic += mr {
			rows := min(mr, i1-ic)
			for pi := range j.nk {
				p0, p1 := j.kChunk(pi)
				kc := p1 - p0
				var a []float32
				if keep {
					a = ws.a[(ic-i0)*j.k+mr*p0:]
				} else {
					a = ws.a[:mr*kc]
					j.packAMicro(ws, a, ic, rows, p0, kc)
				}
				j.tilesTo(ws, a, r.x.whole[p0*r.ncr+jc*kc:], c, ldc, ic-i0, rows, jc, nc, kc, pi)
			}
		}
	}
}

// Close returns r's buffers; r must not be used afterwards.
func (r RowBlocks) Close() { putCtx(r.x) }

// PanelRows is the number of rows RowsFolded computes at a time (the
// kernel's tile height), or 0 where B is packed in several column blocks
// (rows are complete only once every block has passed them): use Rows.
func (r RowBlocks) PanelRows() int {
	if r.ncb < r.x.job.n {
		return 0
	}
	return r.x.job.im.mr
}

// A Folder consumes the rows of a product as RowsFolded completes them.
type Folder interface {
	// Fold is called with rows [r0, r1) of C, complete, at the start of
	// the buffer RowsFolded was given; the calls come in row order.
	Fold(r0, r1 int)
}

// RowsFolded computes rows [i0, i1) of C as Rows does, PanelRows at a
// time into c (row r0 at c[0:], the next ldc on), handing each panel to
// f once it is complete. The caller folds the rows while they are in L1
// (a transposed convolution's columns into its images) rather than
// writing a block of them and reading it back. It panics unless
// PanelRows() > 0.
func (r RowBlocks) RowsFolded(part, i0, i1 int, c []float32, ldc int, f Folder) {
	j := &r.x.job
	mr := r.PanelRows()
	if mr == 0 || i0 < 0 || i1 > j.m || i0 > i1 || part < 0 || part >= len(j.ws) || ldc < j.n || len(c) < (mr-1)*ldc+j.n {
		badArg(fmt.Sprintf("RowBlocks.RowsFolded: rows [%d, %d) of %d, part %d of %d, %d values at stride %d, panels of %d rows", i0, i1, j.m, part, len(j.ws), len(c), ldc, mr))
	}
	ws := j.ws[part]
	for ic := i0; ic < i1; ic += mr {
		rows := min(mr, i1-ic)
		for pi := range j.nk {
			p0, p1 := j.kChunk(pi)
			kc := p1 - p0
			a := ws.a[:mr*kc]
			j.packAMicro(ws, a, ic, rows, p0, kc)
			j.tilesTo(ws, a, r.x.whole[p0*r.ncr:], c, ldc, 0, rows, 0, j.n, kc, pi)
		}
		f.Fold(ic, ic+rows)
	}
}
