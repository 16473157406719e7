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
	f32                  [][]float32 // per part scratch: three coefficients

	// The split kernels of synchronised batch norm (statistics and
	// gradient sums over several processes' rows): per-column float64 sums
	// out, or in, and the row count of the whole batch.
	sum1, sum2 []float64
	mean64     []float64
	n          float64
}

var bnJobs = sync.Pool{New: func() any { return new(bnJob) }}

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
	p := parallel.Default()
	parts := p.PartsFor(j.c, 16)
	for len(j.acc) < parts {
		j.acc = append(j.acc, nil)
		j.f32 = append(j.f32, nil)
	}
	p.ForParts(j.c, parts, j)
}

func (j *bnJob) Run(part, lo, hi int) {
	w := hi - lo
	if cap(j.acc[part]) < 2*w {
		j.acc[part] = make([]float64, 2*w)
	}
	a, b := j.acc[part][:w], j.acc[part][w:2*w]
	if cap(j.f32[part]) < 3*w {
		j.f32[part] = make([]float32, 3*w)
	}
	f := j.f32[part][:3*w]
	rows, c := j.rows, j.c
	switch j.kind {
	case bnStats:
		clear(a)
		for r := 0; r < rows; r++ {
			x := j.x[r*c+lo : r*c+hi]
			a := a[:len(x)]
			for i, v := range x {
				a[i] += float64(v)
			}
		}
		for i := range a {
			a[i] /= float64(rows)
		}
		clear(b)
		for r := 0; r < rows; r++ {
			x := j.x[r*c+lo : r*c+hi]
			a, b := a[:len(x)], b[:len(x)]
			for i, v := range x {
				d := float64(v) - a[i]
				b[i] += d * d
			}
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
			x := j.x[r*c+lo : r*c+hi]
			y := j.y[r*c+lo : r*c+hi]
			y, s32, t32 := y[:len(x)], s32[:len(x)], t32[:len(x)]
			for i, v := range x {
				y[i] = v*s32[i] + t32[i]
			}
		}
	case bnSums, bnCentered:
		clear(a)
		for r := 0; r < rows; r++ {
			x := j.x[r*c+lo : r*c+hi]
			a := a[:len(x)]
			if j.kind == bnSums {
				for i, v := range x {
					a[i] += float64(v)
				}
				continue
			}
			m := j.mean64[lo:hi]
			m = m[:len(x)]
			for i, v := range x {
				d := float64(v) - m[i]
				a[i] += d * d
			}
		}
		copy(j.sum1[lo:hi], a)
	case bnGradSums:
		clear(a)
		clear(b)
		for r := 0; r < rows; r++ {
			x := j.x[r*c+lo : r*c+hi]
			g := j.g[r*c+lo : r*c+hi]
			x, a, b := x[:len(g)], a[:len(g)], b[:len(g)]
			for i, v := range g {
				a[i] += float64(v)
				b[i] += float64(v) * float64(x[i])
			}
		}
		copy(j.sum1[lo:hi], a)
		copy(j.sum2[lo:hi], b)
	case bnGradFromSum:
		copy(a, j.sum1[lo:hi])
		for i := range b {
			b[i] = float64(j.rstd[lo+i]) * (j.sum2[lo+i] - float64(j.mean[lo+i])*a[i])
		}
		j.dxFromSums(lo, hi, a, b, f, j.n)
	case bnBackward:
		// dβ = Σ g, dγ = Σ g·x̂, dx = γ·rstd·(g − dβ/n − x̂·dγ/n).
		clear(a)
		clear(b)
		for r := 0; r < rows; r++ {
			x := j.x[r*c+lo : r*c+hi]
			g := j.g[r*c+lo : r*c+hi]
			x, a, b := x[:len(g)], a[:len(g)], b[:len(g)]
			for i, v := range g {
				a[i] += float64(v)
				b[i] += float64(v) * float64(x[i])
			}
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
		j.dxFromSums(lo, hi, a, b, f, float64(rows))
	}
}

// dxFromSums writes the columns [lo, hi) of dx from dβ = a and dγ = b of
// the batch of n rows: dx = k·g + m·x + q per column, with k = γ·rstd,
// m = −k·rstd·dγ/n, q = −k·dβ/n − m·mean.
func (j *bnJob) dxFromSums(lo, hi int, a, b []float64, f []float32, n float64) {
	w := hi - lo
	rows, c := j.rows, j.c
	k32, m32, q32 := f[:w], f[w:2*w], f[2*w:]
	for i := range a {
		k := float64(j.gamma[lo+i]) * float64(j.rstd[lo+i])
		m := -k * float64(j.rstd[lo+i]) * b[i] / n
		k32[i] = float32(k)
		m32[i] = float32(m)
		q32[i] = float32(-k*a[i]/n - m*float64(j.mean[lo+i]))
	}
	for r := 0; r < rows; r++ {
		x := j.x[r*c+lo : r*c+hi]
		g := j.g[r*c+lo : r*c+hi]
		dx := j.dx[r*c+lo : r*c+hi]
		x, g, k32, m32, q32 := x[:len(dx)], g[:len(dx)], k32[:len(dx)], m32[:len(dx)], q32[:len(dx)]
		for i := range dx {
			dx[i] = k32[i]*g[i] + m32[i]*x[i] + q32[i]
		}
	}
}

// BatchNormStats writes the per-column mean, biased variance and
// 1/sqrt(variance + eps) of x (rows×c).
func BatchNormStats(mean, variance, rstd, x []float32, rows, c int, eps float32) {
	j := bnJobs.Get().(*bnJob)
	acc, f32 := j.acc, j.f32
	*j = bnJob{kind: bnStats, rows: rows, c: c, x: x, mean: mean, variance: variance, rstd: rstd, eps: eps, acc: acc, f32: f32}
	runBN(j)
	j.x, j.mean, j.variance, j.rstd = nil, nil, nil, nil
	bnJobs.Put(j)
}

// BatchNormApply writes y = (x − mean)·rstd·gamma + beta for x (rows×c).
func BatchNormApply(y, x, mean, rstd, gamma, beta []float32, rows, c int) {
	j := bnJobs.Get().(*bnJob)
	acc, f32 := j.acc, j.f32
	*j = bnJob{kind: bnApply, rows: rows, c: c, x: x, y: y, mean: mean, rstd: rstd, gamma: gamma, beta: beta, acc: acc, f32: f32}
	runBN(j)
	*j = bnJob{acc: acc, f32: f32}
	bnJobs.Put(j)
}

// BatchNormBackward computes the gradients of batch normalisation in
// training mode (batch statistics) for the upstream gradient g: dbeta =
// Σ g, dgamma = Σ g·x̂ and, when dx is not nil, dx = gamma·rstd·(g − dbeta/n
// − x̂·dgamma/n), where x̂ = (x − mean)·rstd and n = rows.
func BatchNormBackward(dx, dgamma, dbeta, g, x, mean, rstd, gamma []float32, rows, c int) {
	j := bnJobs.Get().(*bnJob)
	acc, f32 := j.acc, j.f32
	*j = bnJob{kind: bnBackward, rows: rows, c: c, x: x, g: g, mean: mean, rstd: rstd, gamma: gamma, dx: dx, dgamma: dgamma, dbeta: dbeta, acc: acc, f32: f32}
	runBN(j)
	*j = bnJob{acc: acc, f32: f32}
	bnJobs.Put(j)
}

// Synchronised batch norm (the statistics of a batch whose rows are spread
// over several processes) splits the kernels above at their sums: each
// process sums its rows in float64, the sums are added across processes,
// and each process finishes with the whole batch's figures.

// BatchNormSums writes Σ x of each column of x (rows×c) into sum.
func BatchNormSums(sum []float64, x []float32, rows, c int) {
	runSplitBN(&bnJob{kind: bnSums, rows: rows, c: c, x: x, sum1: sum})
}

// BatchNormCentered writes Σ (x − mean)² of each column of x into sum.
func BatchNormCentered(sum, mean []float64, x []float32, rows, c int) {
	runSplitBN(&bnJob{kind: bnCentered, rows: rows, c: c, x: x, mean64: mean, sum1: sum})
}

// BatchNormGradSums writes Σ g and Σ g·x of each column into sumG and
// sumGX: the local parts of batch norm's gradient sums.
func BatchNormGradSums(sumG, sumGX []float64, g, x []float32, rows, c int) {
	runSplitBN(&bnJob{kind: bnGradSums, rows: rows, c: c, x: x, g: g, sum1: sumG, sum2: sumGX})
}

// BatchNormBackwardFromSums writes dx for this process's rows of a batch
// of n rows in all, given that batch's sums Σ g and Σ g·x (over every
// process's rows) and its mean and rstd: the same formula as
// BatchNormBackward's.
func BatchNormBackwardFromSums(dx, g, x, mean, rstd, gamma []float32, sumG, sumGX []float64, n, rows, c int) {
	runSplitBN(&bnJob{kind: bnGradFromSum, rows: rows, c: c, x: x, g: g, dx: dx, mean: mean, rstd: rstd, gamma: gamma, sum1: sumG, sum2: sumGX, n: float64(n)})
}

func runSplitBN(j *bnJob) {
	p := bnJobs.Get().(*bnJob)
	j.acc, j.f32 = p.acc, p.f32
	runBN(j)
	p.acc, p.f32 = j.acc, j.f32
	bnJobs.Put(p)
}
