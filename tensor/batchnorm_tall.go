package tensor

import (
	"math"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// Tall batch norms (the channels of a batch of images: rows = N·H·W in the
// thousands, c = channels in the tens) are split by rows, not columns: two
// threads each reading half of every 256-byte row of 64 channels pull the
// whole matrix through memory twice and ran slower than one (measured in
// biggan32: batch norm took 2.2x longer at 2 threads than at 1). The sums
// are taken over fixed blocks of bnBlockRows rows, each block summed in row
// order and the blocks added in order, so they do not depend on the thread
// count; the elementwise passes split the rows any way.

// bnAlternate turns every other pass of a tall batch norm around: its
// parts take their blocks (or chunks of rows) last first where the pass
// before ended, so that what it left in L2 is read first. G's batch norm
// in dcgan28 (12,544×64, 3.2 MB, more than L2) had each pass stream the
// matrix through memory after the one before had pushed its start out.
// The producer writes x first to last; the statistics read it backward,
// then the squares forward and the affine map backward; the gradient
// sums go backward over the g the producer wrote, then dx forward. Only
// the order of whole blocks and chunks changes, never that of a block's
// rows, and the blocks are added in order: the same bits. A producer,
// batch norm forward and backward and the readers of y and dx, with the
// caches flushed before (a benchmark, not committed), took 3.01-3.16 ms
// against 3.15-3.35 in four alternations at 1 thread. Tests turn it off
// to compare.
var bnAlternate = true

// bnBlockRows is the block of rows whose column sums a tall batch norm
// computes in one piece; a matrix of at least 2·bnBlockRows rows is tall.
const bnBlockRows = 1024

// The phases of a tall job (bnJob.phase): block sums over blocks [lo, hi),
// or an elementwise pass over rows [lo, hi).
const (
	tallNone    = iota
	tallSumX    // block sums of x
	tallSumSq   // block sums of (x − mean64)²
	tallSumGrad // block sums of g and of g·x
	tallAffine  // y = x·s + t with s, t = coef[:c], coef[c:2c]
	tallDx      // dx = k·g + m·x + q with k, m, q = coef[:c], [c:2c], [2c:3c]
)

// isTall says whether a rows×c batch norm is split by rows.
func isTall(rows int) bool { return rows >= 2*bnBlockRows }

// runTall runs j (a tall one) phase by phase.
func (j *bnJob) runTall() {
	c, rows := j.c, j.rows
	nb := (rows + bnBlockRows - 1) / bnBlockRows
	if cap(j.blk) < 2*c*nb {
		j.blk = make([]float64, 2*c*nb)
	}
	if cap(j.tsum) < 2*c {
		j.tsum = make([]float64, 2*c)
	}
	if cap(j.coef) < 3*c {
		j.coef = make([]float32, 3*c)
	}
	if j.act != BNNone {
		// The masked g of a chunk of rows per part.
		parts := parallel.Default().Threads()
		for len(j.f32) < parts {
			j.f32 = append(j.f32, nil)
		}
		for i := range parts {
			if cap(j.f32[i]) < bnChunkRows*c {
				j.f32[i] = make([]float32, bnChunkRows*c)
			}
		}
	}
	a, b := j.tsum[:c], j.tsum[c:2*c]
	f := j.coef[:3*c]
	switch j.kind {
	case bnStats:
		j.back = bnAlternate
		j.sumBlocks(tallSumX, nb, a, nil)
		for i := range a {
			a[i] /= float64(rows)
		}
		j.mean64 = a
		j.back = false
		j.sumBlocks(tallSumSq, nb, b, nil)
		for i := range a {
			v := b[i] / float64(rows)
			j.mean[i] = float32(a[i])
			j.variance[i] = float32(v)
			j.rstd[i] = float32(1 / math.Sqrt(v+float64(j.eps)))
		}
	case bnApply:
		for i := range c {
			s := float64(j.rstd[i]) * float64(j.gamma[i])
			f[i] = float32(s)
			f[c+i] = float32(float64(j.beta[i]) - float64(j.mean[i])*s)
		}
		j.back = bnAlternate
		j.passRows(tallAffine)
	case bnSums:
		j.sumBlocks(tallSumX, nb, j.sum1[:c], nil)
	case bnCentered:
		j.sumBlocks(tallSumSq, nb, j.sum1[:c], nil)
	case bnGradSums:
		j.sumBlocks(tallSumGrad, nb, j.sum1[:c], j.sum2[:c])
	case bnGradFromSum:
		copy(a, j.sum1[:c])
		for i := range b {
			b[i] = float64(j.rstd[i]) * (j.sum2[i] - float64(j.mean[i])*a[i])
		}
		j.dxCoefs(0, c, a, b, f, j.n)
		j.passRows(tallDx)
	case bnBackward:
		j.back = bnAlternate
		j.sumBlocks(tallSumGrad, nb, a, b)
		j.back = false
		for i := range a {
			b[i] = float64(j.rstd[i]) * (b[i] - float64(j.mean[i])*a[i])
			j.dbeta[i] = float32(a[i])
			j.dgamma[i] = float32(b[i])
		}
		if j.dx != nil {
			j.dxCoefs(0, c, a, b, f, float64(rows))
			j.passRows(tallDx)
		}
	}
}

// sumBlocks computes the block sums of phase over the pool, then adds the
// blocks in order into outA (and outB for the gradient sums).
func (j *bnJob) sumBlocks(phase, nb int, outA, outB []float64) {
	p := parallel.Default()
	j.phase = phase
	p.ForParts(nb, p.PartsFor(j.rows*j.c, parallelGrain), j)
	j.phase = tallNone
	c := j.c
	clear(outA)
	clear(outB)
	for k := range nb {
		s := j.blk[2*k*c : 2*(k+1)*c]
		for i := range outA {
			outA[i] += s[i]
		}
		for i := range outB {
			outB[i] += s[c+i]
		}
	}
}

// passRows runs the elementwise phase over the pool, split by rows.
func (j *bnJob) passRows(phase int) {
	p := parallel.Default()
	j.phase = phase
	p.ForParts(j.rows, p.PartsFor(j.rows*j.c, parallelGrain), j)
	j.phase = tallNone
}

// bnChunkRows is the chunk of rows whose activation (or its gradient
// mask) a tall pass applies in one call, over the chunk's contiguous
// values, rather than row by row: with 64 channels a row is four 512-bit
// vectors, fewer than a call's overhead (the row-by-row ReLU masks were
// a third of the dcgan28 step's batch norm).
const bnChunkRows = 64

// runTallPart runs blocks (the sum phases) or rows (the others) [lo, hi)
// of the current phase.
func (j *bnJob) runTallPart(part, lo, hi int) {
	c := j.c
	var gm []float32 // g masked by the activation, a chunk of rows
	if j.act != BNNone {
		gm = j.f32[part][:bnChunkRows*c]
	}
	if j.phase == tallAffine || j.phase == tallDx {
		k, m, q := j.coef[:c], j.coef[c:2*c], j.coef[2*c:3*c]
		chunks := (hi - lo + bnChunkRows - 1) / bnChunkRows
		for i := range chunks {
			if j.back {
				i = chunks - 1 - i
			}
			r0 := lo + i*bnChunkRows
			r1 := min(hi, r0+bnChunkRows)
			if j.phase == tallAffine {
				affineRows(j.y[r0*c:r1*c], j.x[r0*c:r1*c], k, m, r1-r0, c)
				j.actRow(j.y[r0*c : r1*c])
				continue
			}
			g := j.chunkGrad(gm, r0, r1)
			dxRows(j.dx[r0*c:r1*c], g, j.x[r0*c:r1*c], k, m, q, r1-r0, c)
		}
		return
	}
	for i := lo; i < hi; i++ {
		k := i
		if j.back {
			k = hi - 1 - (i - lo)
		}
		s1, s2 := j.blk[2*k*c:(2*k+1)*c], j.blk[(2*k+1)*c:2*(k+1)*c]
		clear(s1)
		clear(s2)
		end := min(j.rows, (k+1)*bnBlockRows)
		for r0 := k * bnBlockRows; r0 < end; r0 += bnChunkRows {
			r1 := min(end, r0+bnChunkRows)
			var g []float32
			if j.phase == tallSumGrad {
				g = j.chunkGrad(gm, r0, r1)
			}
			x := j.x[r0*c : r1*c]
			switch j.phase {
			case tallSumX:
				sumRows(s1, x, r1-r0, c)
			case tallSumSq:
				sqRows(s1, x, j.mean64[:c], r1-r0, c)
			case tallSumGrad:
				gradRows(s1, s2, g, x, r1-r0, c)
			}
		}
	}
}

// chunkGrad returns the output gradient of rows [r0, r1): g's rows, or
// with an activation those rows masked by it (actGrad) into gm.
func (j *bnJob) chunkGrad(gm []float32, r0, r1 int) []float32 {
	c := j.c
	if gm == nil {
		return j.g[r0*c : r1*c]
	}
	return j.actGrad(gm, j.g[r0*c:r1*c], j.y[r0*c:r1*c])
}

// The block forms of the row kernels (batchnorm.go) over rows rows of c
// values: the AVX-512 block kernels do the first columns, keeping the sums
// in registers over the block, and the row kernels the rest; every column
// gets the row kernels' arithmetic in the same order, so the results do
// not depend on which ran.

// sumRows adds the rows of x to a.
func sumRows(a []float64, x []float32, rows, c int) {
	if n := simdBNSumRows(a, x, rows, c); n < c {
		for r := range rows {
			sumRow(a[n:c], x[r*c+n:(r+1)*c])
		}
	}
}

// sqRows adds (x − mean)² of the rows of x to b.
func sqRows(b []float64, x []float32, mean []float64, rows, c int) {
	if n := simdBNSqRows(b, x, mean, rows, c); n < c {
		for r := range rows {
			sqRow(b[n:c], x[r*c+n:(r+1)*c], mean[n:c])
		}
	}
}

// gradRows adds the rows of g to a and of g·x to b.
func gradRows(a, b []float64, g, x []float32, rows, c int) {
	if n := simdBNGradRows(a, b, g, x, rows, c); n < c {
		for r := range rows {
			gradRow(a[n:c], b[n:c], g[r*c+n:(r+1)*c], x[r*c+n:(r+1)*c])
		}
	}
}

// affineRows writes the rows of y = x·s + t.
func affineRows(y, x, s, t []float32, rows, c int) {
	if n := simdBNAffineRows(y, x, s, t, rows, c); n < c {
		for r := range rows {
			affineRow(y[r*c+n:(r+1)*c], x[r*c+n:(r+1)*c], s[n:c], t[n:c])
		}
	}
}

// dxRows writes the rows of dx = k·g + m·x + q.
func dxRows(dx, g, x, k, m, q []float32, rows, c int) {
	if n := simdBNDxRows(dx, g, x, k, m, q, rows, c); n < c {
		for r := range rows {
			dxRow(dx[r*c+n:(r+1)*c], g[r*c+n:(r+1)*c], x[r*c+n:(r+1)*c], k[n:c], m[n:c], q[n:c])
		}
	}
}
