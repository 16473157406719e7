package tensor

import (
	"math"
	"sync"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// Batch normalisation kernels over the columns of a rows×c matrix (the
// features of a batch, or the channels of NHWC images). Work is split by
// columns, each column summed in row order, so results do not depend on
// the thread count. Sums are in float64.

type bnJob struct {
	kind                 int
	rows, c              int
	x, g, y              []float32
	mean, rstd, variance []float32
	gamma, beta          []float32
	dx, dgamma, dbeta    []float32
	eps                  float32
	acc                  [][]float64 // per part scratch: two accumulators
	f32                  [][]float32 // per part scratch: three coefficients, and a row of g masked by act

	// act is the activation after the affine map (BNReLU, BNLeaky with
	// slope; 0 none): applied to y row by row forward; backward g is
	// masked by the sign of act's output (in y) row by row as it is read.
	act   int
	slope float32

	// The split kernels of synchronised batch norm (statistics and
	// gradient sums over several processes' rows): per-column float64 sums
	// out, or in, and the row count of the whole batch.
	sum1, sum2 []float64
	mean64     []float64
	n          float64

	// A tall job's phase and scratch (batchnorm_tall.go): block sums,
	// the column sums, the per-column coefficients.
	phase int
	back  bool // the phase's parts take their blocks or rows last first
	blk   []float64
	tsum  []float64
	coef  []float32
}

var bnJobs = sync.Pool{New: func() any { return new(bnJob) }}

// The activations a batch norm can apply after its affine map.
const (
	BNNone  = 0
	BNReLU  = 1
	BNLeaky = 2 // LeakyReLU with the job's slope
)

// actRow applies the job's activation to a row of y in place.
func (j *bnJob) actRow(y []float32) {
	switch j.act {
	case BNReLU:
		reluSerial(y, y)
	case BNLeaky:
		leakySerial(y, y, y, j.slope)
	}
}

// actGrad returns g, or with an activation g masked by the sign of its
// output y (the activation's gradient) in dst.
func (j *bnJob) actGrad(dst, g, y []float32) []float32 {
	switch j.act {
	case BNReLU:
		reluMaskSerial(dst[:len(g)], y, g)
		return dst[:len(g)]
	case BNLeaky:
		leakySerial(dst[:len(g)], y, g, j.slope)
		return dst[:len(g)]
	}
	return g
}

const (
	bnStats = iota
	bnApply
	bnBackward
	bnSums        // sum1 = Σ x
	bnCentered    // sum1 = Σ (x − mean64)²
	bnGradSums    // sum1 = Σ g, sum2 = Σ g·x
	bnGradFromSum // dx from the whole batch's sums sum1, sum2 over n rows
)

func runBN(j *bnJob) {
	if isTall(j.rows) {
		j.runTall()
		return
	}
	p := parallel.Default()
	parts := p.PartsFor(j.c, 16)
	for len(j.acc) < parts {
		j.acc = append(j.acc, nil)
		j.f32 = append(j.f32, nil)
	}
	p.ForParts(j.c, parts, j)
}

func (j *bnJob) Run(part, lo, hi int) {
	if j.phase != tallNone {
		j.runTallPart(part, lo, hi)
		return
	}
	w := hi - lo
	if cap(j.acc[part]) < 2*w {
		j.acc[part] = make([]float64, 2*w)
	}
	a, b := j.acc[part][:w], j.acc[part][w:2*w]
	if cap(j.f32[part]) < 4*w {
		j.f32[part] = make([]float32, 4*w)
	}
	f := j.f32[part][:3*w]
	gm := j.f32[part][3*w : 4*w]
	rows, c := j.rows, j.c
	switch j.kind {
	case bnStats:
		clear(a)
		for r := 0; r < rows; r++ {
			sumRow(a, j.x[r*c+lo:r*c+hi])
		}
		for i := range a {
			a[i] /= float64(rows)
		}
		clear(b)
		for r := 0; r < rows; r++ {
			sqRow(b, j.x[r*c+lo:r*c+hi], a)
		}
		for i := range a {
			v := b[i] / float64(rows)
			j.mean[lo+i] = float32(a[i])
			j.variance[lo+i] = float32(v)
			j.rstd[lo+i] = float32(1 / math.Sqrt(v+float64(j.eps)))
		}
	case bnApply:
		// y = x·s + t with s = γ·rstd, t = β − mean·s.
		for i := range a {
			s := float64(j.rstd[lo+i]) * float64(j.gamma[lo+i])
			a[i] = s
			b[i] = float64(j.beta[lo+i]) - float64(j.mean[lo+i])*s
		}
		s32, t32 := f[:w], f[w:2*w]
		for i := range a {
			s32[i], t32[i] = float32(a[i]), float32(b[i])
		}
		for r := 0; r < rows; r++ {
			affineRow(j.y[r*c+lo:r*c+hi], j.x[r*c+lo:r*c+hi], s32, t32)
			j.actRow(j.y[r*c+lo : r*c+hi])
		}
	case bnSums, bnCentered:
		clear(a)
		for r := 0; r < rows; r++ {
			if j.kind == bnSums {
				sumRow(a, j.x[r*c+lo:r*c+hi])
			} else {
				sqRow(a, j.x[r*c+lo:r*c+hi], j.mean64[lo:hi])
			}
		}
		copy(j.sum1[lo:hi], a)
	case bnGradSums:
		clear(a)
		clear(b)
		for r := 0; r < rows; r++ {
			gradRow(a, b, j.g[r*c+lo:r*c+hi], j.x[r*c+lo:r*c+hi])
		}
		copy(j.sum1[lo:hi], a)
		copy(j.sum2[lo:hi], b)
	case bnGradFromSum:
		copy(a, j.sum1[lo:hi])
		for i := range b {
			b[i] = float64(j.rstd[lo+i]) * (j.sum2[lo+i] - float64(j.mean[lo+i])*a[i])
		}
		j.dxFromSums(lo, hi, a, b, j.f32[part][:4*w], j.n)
	case bnBackward:
		// dβ = Σ g, dγ = Σ g·x̂, dx = γ·rstd·(g − dβ/n − x̂·dγ/n).
		clear(a)
		clear(b)
		for r := 0; r < rows; r++ {
			g := j.g[r*c+lo : r*c+hi]
			if j.act != BNNone {
				g = j.actGrad(gm, g, j.y[r*c+lo:r*c+hi])
			}
			gradRow(a, b, g, j.x[r*c+lo:r*c+hi])
		}
		for i := range a {
			// Σ g·x̂ = rstd·(Σ g·x − mean·Σ g)
			b[i] = float64(j.rstd[lo+i]) * (b[i] - float64(j.mean[lo+i])*a[i])
			j.dbeta[lo+i] = float32(a[i])
			j.dgamma[lo+i] = float32(b[i])
		}
		if j.dx == nil {
			return
		}
		j.dxFromSums(lo, hi, a, b, j.f32[part][:4*w], float64(rows))
	}
}

// dxFromSums writes the columns [lo, hi) of dx from dβ = a and dγ = b of
// the batch of n rows: dx = k·g + m·x + q per column, with k = γ·rstd,
// m = −k·rstd·dγ/n, q = −k·dβ/n − m·mean.
func (j *bnJob) dxFromSums(lo, hi int, a, b []float64, f []float32, n float64) {
	w := hi - lo
	rows, c := j.rows, j.c
	k32, m32, q32 := f[:w], f[w:2*w], f[2*w:3*w]
	j.dxCoefs(lo, hi, a, b, f, n)
	for r := 0; r < rows; r++ {
		g := j.g[r*c+lo : r*c+hi]
		if j.act != BNNone {
			g = j.actGrad(f[3*w:4*w], g, j.y[r*c+lo:r*c+hi])
		}
		dxRow(j.dx[r*c+lo:r*c+hi], g, j.x[r*c+lo:r*c+hi], k32, m32, q32)
	}
}

// dxCoefs writes into f the coefficients k, m, q (f[:w], f[w:2w],
// f[2w:3w], w = hi − lo) of dx = k·g + m·x + q for the columns [lo, hi),
// from dβ = a and dγ = b of the batch of n rows.
func (j *bnJob) dxCoefs(lo, hi int, a, b []float64, f []float32, n float64) {
	w := hi - lo
	k32, m32, q32 := f[:w], f[w:2*w], f[2*w:3*w]
	for i := range w {
		k := float64(j.gamma[lo+i]) * float64(j.rstd[lo+i])
		m := -k * float64(j.rstd[lo+i]) * b[i] / n
		k32[i] = float32(k)
		m32[i] = float32(m)
		q32[i] = float32(-k*a[i]/n - m*float64(j.mean[lo+i]))
	}
}

// The row kernels: one row's columns of a part, in assembly where the CPU
// has AVX2 (bn_amd64.s), the tail (or everything) in Go. The explicit
// conversions keep the Go compiler from fusing a multiply and an add,
// which the assembly does not either.

// sumRow adds x to the float64 sums a.
func sumRow(a []float64, x []float32) {
	a = a[:len(x)]
	for i := simdBNSum(a, x); i < len(x); i++ {
		a[i] += float64(x[i])
	}
}

// sqRow adds (x − mean)² to b.
func sqRow(b []float64, x []float32, mean []float64) {
	b, mean = b[:len(x)], mean[:len(x)]
	for i := simdBNSq(b, x, mean); i < len(x); i++ {
		d := float64(x[i]) - mean[i]
		b[i] += float64(d * d)
	}
}

// gradRow adds g to a and g·x to b.
func gradRow(a, b []float64, g, x []float32) {
	a, b, x = a[:len(g)], b[:len(g)], x[:len(g)]
	for i := simdBNGrad(a, b, g, x); i < len(g); i++ {
		a[i] += float64(g[i])
		b[i] += float64(float64(g[i]) * float64(x[i]))
	}
}

// affineRow writes y = x·s + t.
func affineRow(y, x, s, t []float32) {
	y, s, t = y[:len(x)], s[:len(x)], t[:len(x)]
	for i := simdBNAffine(y, x, s, t); i < len(x); i++ {
		y[i] = float32(x[i]*s[i]) + t[i]
	}
}

// dxRow writes dx = k·g + m·x + q.
func dxRow(dx, g, x, k, m, q []float32) {
	g, x, k, m, q = g[:len(dx)], x[:len(dx)], k[:len(dx)], m[:len(dx)], q[:len(dx)]
	for i := simdBNDx(dx, g, x, k, m, q); i < len(dx); i++ {
		dx[i] = float32(float32(k[i]*g[i])+float32(m[i]*x[i])) + q[i]
	}
}

// BatchNormStats writes the per-column mean, biased variance and
// 1/sqrt(variance + eps) of x (rows×c).
func BatchNormStats(mean, variance, rstd, x []float32, rows, c int, eps float32) {
	runPooled(bnJob{kind: bnStats, rows: rows, c: c, x: x, mean: mean, variance: variance, rstd: rstd, eps: eps})
}

// BatchNormApply writes y = (x − mean)·rstd·gamma + beta for x (rows×c).
func BatchNormApply(y, x, mean, rstd, gamma, beta []float32, rows, c int) {
	runPooled(bnJob{kind: bnApply, rows: rows, c: c, x: x, y: y, mean: mean, rstd: rstd, gamma: gamma, beta: beta})
}

// BatchNormApplyAct is BatchNormApply followed by the activation act
// (BNReLU, or BNLeaky: LeakyReLU with slope), each row as it is written.
func BatchNormApplyAct(y, x, mean, rstd, gamma, beta []float32, rows, c, act int, slope float32) {
	runPooled(bnJob{kind: bnApply, rows: rows, c: c, x: x, y: y, mean: mean, rstd: rstd, gamma: gamma, beta: beta, act: act, slope: slope})
}

// BatchNormActBackward is BatchNormBackward for BatchNormApplyAct's output
// y: g is masked by the activation's gradient (from y's sign) row by row
// as it is read.
func BatchNormActBackward(dx, dgamma, dbeta, g, x, y, mean, rstd, gamma []float32, rows, c, act int, slope float32) {
	if act != BNNone && len(y) < rows*c {
		panic("tensor.BatchNormActBackward: output too short")
	}
	runPooled(bnJob{kind: bnBackward, rows: rows, c: c, x: x, y: y, g: g, mean: mean, rstd: rstd, gamma: gamma, dx: dx, dgamma: dgamma, dbeta: dbeta, act: act, slope: slope})
}

// BatchNormBackward computes the gradients of batch normalisation in
// training mode (batch statistics) for the upstream gradient g: dbeta =
// Σ g, dgamma = Σ g·x̂ and, when dx is not nil, dx = gamma·rstd·(g − dbeta/n
// − x̂·dgamma/n), where x̂ = (x − mean)·rstd and n = rows.
func BatchNormBackward(dx, dgamma, dbeta, g, x, mean, rstd, gamma []float32, rows, c int) {
	runPooled(bnJob{kind: bnBackward, rows: rows, c: c, x: x, g: g, mean: mean, rstd: rstd, gamma: gamma, dx: dx, dgamma: dgamma, dbeta: dbeta})
}

// Synchronised batch norm (the statistics of a batch whose rows are spread
// over several processes) splits the kernels above at their sums: each
// process sums its rows in float64, the sums are added across processes,
// and each process finishes with the whole batch's figures.

// BatchNormSums writes Σ x of each column of x (rows×c) into sum.
func BatchNormSums(sum []float64, x []float32, rows, c int) {
	runPooled(bnJob{kind: bnSums, rows: rows, c: c, x: x, sum1: sum})
}

// BatchNormCentered writes Σ (x − mean)² of each column of x into sum.
func BatchNormCentered(sum, mean []float64, x []float32, rows, c int) {
	runPooled(bnJob{kind: bnCentered, rows: rows, c: c, x: x, mean64: mean, sum1: sum})
}

// BatchNormGradSums writes Σ g and Σ g·x of each column into sumG and
// sumGX: the local parts of batch norm's gradient sums.
func BatchNormGradSums(sumG, sumGX []float64, g, x []float32, rows, c int) {
	runPooled(bnJob{kind: bnGradSums, rows: rows, c: c, x: x, g: g, sum1: sumG, sum2: sumGX})
}

// BatchNormBackwardFromSums writes dx for this process's rows of a batch
// of n rows in all, given that batch's sums Σ g and Σ g·x (over every
// process's rows) and its mean and rstd: the same formula as
// BatchNormBackward's.
func BatchNormBackwardFromSums(dx, g, x, mean, rstd, gamma []float32, sumG, sumGX []float64, n, rows, c int) {
	runPooled(bnJob{kind: bnGradFromSum, rows: rows, c: c, x: x, g: g, dx: dx, mean: mean, rstd: rstd, gamma: gamma, sum1: sumG, sum2: sumGX, n: float64(n)})
}

// runPooled runs the job spec on a pooled job, whose per-part scratch it
// keeps between calls (so a call allocates nothing), and drops spec's
// slices from the pool afterwards.
func runPooled(spec bnJob) {
	j := bnJobs.Get().(*bnJob)
	spec.acc, spec.f32 = j.acc, j.f32
	spec.blk, spec.tsum, spec.coef = j.blk, j.tsum, j.coef
	*j = spec
	runBN(j)
	*j = bnJob{acc: j.acc, f32: j.f32, blk: j.blk, tsum: j.tsum, coef: j.coef}
	bnJobs.Put(j)
}
