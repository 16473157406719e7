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
}

var bnJobs = sync.Pool{New: func() any { return new(bnJob) }}

const (
	bnStats = iota
	bnApply
	bnBackward
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
		// dx = k·g + m·x + q per column, with k = γ·rstd,
		// m = −k·rstd·dγ/n, q = −k·dβ/n − m·mean.
		k32, m32, q32 := f[:w], f[w:2*w], f[2*w:]
		n := float64(rows)
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
