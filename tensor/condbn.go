package tensor

import (
	"sync"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// Conditional batch normalisation (BigGAN's class-conditional batch norm)
// fused into one affine map per sample and channel: the input is n
// samples of s rows × c channels (NHWC images, s = H·W), normalised with
// the statistics of all n·s rows (BatchNormStats), then scaled and shifted
// per sample: y = x̂·scale[i] + shift[i], scale and shift n×c. Written as
// batch norm, then a broadcast product and sum, this was five passes over
// the batch forward and as many backward; here it is one forward (after
// the statistics) and two backward. The work is split by samples, each
// sample's sums taken in row order and the per-channel totals over the
// samples in sample order, so results do not depend on the thread count.

// condBNJob is one call's kernel, its per-sample float64 sums and its
// per-part coefficients.
type condBNJob struct {
	backward         bool
	relu             bool // y = max(0, ·) (forward); g masked by y > 0 (backward, y set)
	n, s, c          int
	x, g, y, dx      []float32
	mean, rstd       []float32
	scale, shift     []float32
	dscale, dshift   []float32
	sumG, sumGX      []float64 // backward: per sample and channel, Σ g and Σ g·x̂
	m, q             []float32 // backward: dx's per-channel coefficients
	phase            int
	coef             [][]float32 // per part: two rows of c coefficients, and a masked row of g
	partsA, partsB   [][]float64 // per part: a sample's raw sums Σ g, Σ g·x
	totalsA, totalsB []float64   // per channel: Σ h, Σ h·x̂ over the batch
}

var condBNJobs = sync.Pool{New: func() any { return new(condBNJob) }}

// CondBatchNormApply writes y = (x − mean)·rstd·scale[i] + shift[i] for
// the rows of sample i of x (n samples of s rows × c), mean and rstd from
// BatchNormStats, scale and shift n×c.
func CondBatchNormApply(y, x, mean, rstd, scale, shift []float32, n, s, c int) {
	condBNApply(false, y, x, mean, rstd, scale, shift, n, s, c)
}

// CondBatchNormApplyReLU is CondBatchNormApply followed by ReLU, y =
// max(0, ·), each row rectified as it is written.
func CondBatchNormApplyReLU(y, x, mean, rstd, scale, shift []float32, n, s, c int) {
	condBNApply(true, y, x, mean, rstd, scale, shift, n, s, c)
}

func condBNApply(relu bool, y, x, mean, rstd, scale, shift []float32, n, s, c int) {
	if len(x) < n*s*c || len(y) < n*s*c || len(mean) < c || len(rstd) < c || len(scale) < n*c || len(shift) < n*c {
		panic("tensor.CondBatchNormApply: buffer too short")
	}
	j := condBNJobs.Get().(*condBNJob)
	j.set(false, n, s, c)
	j.relu = relu
	j.x, j.y, j.mean, j.rstd, j.scale, j.shift = x, y, mean, rstd, scale, shift
	j.run()
	j.drop()
	condBNJobs.Put(j)
}

// CondBatchNormBackward computes, for the upstream gradient g of
// CondBatchNormApply's y, dshift[i] = Σ g and dscale[i] = Σ g·x̂ over the
// rows of sample i, and, when dx is not nil, dx = rstd·(h − mean(h) −
// x̂·mean(h·x̂)) with h = g·scale[i] and the means over all n·s rows.
func CondBatchNormBackward(dx, dscale, dshift, g, x, mean, rstd, scale []float32, n, s, c int) {
	CondBatchNormReLUBackward(dx, dscale, dshift, g, x, nil, mean, rstd, scale, n, s, c)
}

// CondBatchNormReLUBackward is CondBatchNormBackward for
// CondBatchNormApplyReLU's output y: g counts only where y > 0 (ReLU's
// gradient, taken row by row as g is read). With y nil it is
// CondBatchNormBackward.
func CondBatchNormReLUBackward(dx, dscale, dshift, g, x, y, mean, rstd, scale []float32, n, s, c int) {
	if len(x) < n*s*c || len(g) < n*s*c || (dx != nil && len(dx) < n*s*c) || (y != nil && len(y) < n*s*c) || len(mean) < c || len(rstd) < c ||
		len(scale) < n*c || len(dscale) < n*c || len(dshift) < n*c {
		panic("tensor.CondBatchNormBackward: buffer too short")
	}
	j := condBNJobs.Get().(*condBNJob)
	j.set(true, n, s, c)
	j.x, j.g, j.dx, j.mean, j.rstd, j.scale, j.dscale, j.dshift = x, g, dx, mean, rstd, scale, dscale, dshift
	j.y, j.relu = y, y != nil
	j.run()
	j.drop()
	condBNJobs.Put(j)
}

func (j *condBNJob) set(backward bool, n, s, c int) {
	j.backward, j.n, j.s, j.c, j.phase, j.relu = backward, n, s, c, 0, false
}

// drop forgets the caller's slices (the scratch stays with the job).
func (j *condBNJob) drop() {
	j.x, j.g, j.y, j.dx, j.mean, j.rstd, j.scale, j.shift, j.dscale, j.dshift = nil, nil, nil, nil, nil, nil, nil, nil, nil, nil
}

func (j *condBNJob) run() {
	p := parallel.Default()
	// A part takes whole samples; below ~16k values a sample the second
	// thread does not pay.
	parts := p.PartsFor(j.n*j.s*j.c, 1<<14)
	parts = max(1, min(parts, j.n))
	for len(j.coef) < parts {
		j.coef = append(j.coef, nil)
		j.partsA = append(j.partsA, nil)
		j.partsB = append(j.partsB, nil)
	}
	for i := range parts {
		if cap(j.coef[i]) < 3*j.c {
			j.coef[i] = make([]float32, 3*j.c)
			j.partsA[i] = make([]float64, j.c)
			j.partsB[i] = make([]float64, j.c)
		}
	}
	if !j.backward {
		p.ForParts(j.n, parts, j)
		return
	}
	nc := j.n * j.c
	if cap(j.sumG) < nc {
		j.sumG, j.sumGX = make([]float64, nc), make([]float64, nc)
	}
	j.sumG, j.sumGX = j.sumG[:nc], j.sumGX[:nc]
	p.ForParts(j.n, parts, j) // phase 0: the per-sample sums
	// The per-channel totals of h = g·scale and h·x̂, in sample order.
	if cap(j.totalsA) < j.c {
		j.totalsA, j.totalsB = make([]float64, j.c), make([]float64, j.c)
		j.m, j.q = make([]float32, j.c), make([]float32, j.c)
	}
	a, b := j.totalsA[:j.c], j.totalsB[:j.c]
	clear(a)
	clear(b)
	for i := range j.n {
		sc := j.scale[i*j.c : (i+1)*j.c]
		for ch := range j.c {
			a[ch] += float64(sc[ch]) * j.sumG[i*j.c+ch]
			b[ch] += float64(sc[ch]) * j.sumGX[i*j.c+ch]
		}
	}
	if j.dx == nil {
		return
	}
	// dx = k_i·g + m·x + q per channel: k_i = rstd·scale[i], m =
	// −rstd²·B/N, q = −rstd·A/N − m·mean (N = n·s rows).
	rows := float64(j.n * j.s)
	m, q := j.m[:j.c], j.q[:j.c]
	for ch := range j.c {
		r := float64(j.rstd[ch])
		mm := -r * r * b[ch] / rows
		m[ch] = float32(mm)
		q[ch] = float32(-r*a[ch]/rows - mm*float64(j.mean[ch]))
	}
	j.phase = 1
	p.ForParts(j.n, parts, j)
}

// Run implements parallel.Job over samples [lo, hi).
func (j *condBNJob) Run(part, lo, hi int) {
	c, s := j.c, j.s
	f := j.coef[part]
	k32, t32, gm := f[:c], f[c:2*c], f[2*c:3*c]
	// grad is row o's upstream gradient, masked by y > 0 after a ReLU.
	grad := func(o int) []float32 {
		if !j.relu {
			return j.g[o : o+c]
		}
		reluMaskSerial(gm, j.y[o:o+c], j.g[o:o+c])
		return gm
	}
	for i := lo; i < hi; i++ {
		rows := i * s * c
		sc := j.scale[i*c : (i+1)*c]
		switch {
		case !j.backward:
			// y = x·k + t with k = rstd·scale, t = shift − mean·k.
			sh := j.shift[i*c : (i+1)*c]
			for ch := range c {
				k := float64(j.rstd[ch]) * float64(sc[ch])
				k32[ch] = float32(k)
				t32[ch] = float32(float64(sh[ch]) - float64(j.mean[ch])*k)
			}
			for r := range s {
				o := rows + r*c
				affineRow(j.y[o:o+c], j.x[o:o+c], k32, t32)
				if j.relu {
					reluSerial(j.y[o:o+c], j.y[o:o+c])
				}
			}
		case j.phase == 0:
			a, b := j.partsA[part][:c], j.partsB[part][:c]
			clear(a)
			clear(b)
			for r := range s {
				o := rows + r*c
				gradRow(a, b, grad(o), j.x[o:o+c])
			}
			for ch := range c {
				// Σ g·x̂ = rstd·(Σ g·x − mean·Σ g)
				gx := float64(j.rstd[ch]) * (b[ch] - float64(j.mean[ch])*a[ch])
				j.sumG[i*c+ch], j.sumGX[i*c+ch] = a[ch], gx
				j.dshift[i*c+ch], j.dscale[i*c+ch] = float32(a[ch]), float32(gx)
			}
		default:
			for ch := range c {
				k32[ch] = float32(float64(j.rstd[ch]) * float64(sc[ch]))
			}
			for r := range s {
				o := rows + r*c
				dxRow(j.dx[o:o+c], grad(o), j.x[o:o+c], k32, j.m, j.q)
			}
		}
	}
}
