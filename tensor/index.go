package tensor

import (
	"math"
	"sync"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// Gather writes dst[i] = x[idx[i]], or 0 where idx[i] < 0: a copy through
// an index map (embedding lookups, max pooling, image translations).
func Gather(dst, x []float32, idx []int32) {
	idx = idx[:len(dst)]
	for i, j := range idx {
		if j >= 0 {
			dst[i] = x[j]
		} else {
			dst[i] = 0
		}
	}
}

// ScatterAdd is Gather's adjoint: dst (zeroed first) receives g[i] added
// at idx[i] for every i with idx[i] >= 0, in order of i, so the sums do not
// depend on anything but the data.
func ScatterAdd(dst, g []float32, idx []int32) {
	clear(dst)
	idx = idx[:len(g)]
	for i, j := range idx {
		if j >= 0 {
			dst[j] += g[i]
		}
	}
}

// MaxPoolIndex writes into idx, for each f×f window of the channel-last
// images x (n, h, w, c) (h and w multiples of f), the index in x of the
// window's largest value per channel (the first one on ties), in the
// order of the pooled output (n, h/f, w/f, c).
func MaxPoolIndex(idx []int32, x []float32, n, h, w, c, f int) {
	j := maxPoolJobs.Get().(*maxPoolJob)
	*j = maxPoolJob{idx: idx, x: x, h: h, w: w, c: c, f: f}
	p := parallel.Default()
	p.ForParts(n*(h/f), p.PartsFor(len(x), parallelGrain), j) // inline for one part
	*j = maxPoolJob{}
	maxPoolJobs.Put(j)
}

var maxPoolJobs = sync.Pool{New: func() any { return new(maxPoolJob) }}

// maxPoolJob finds the maxima of pooled rows [lo, hi) (image b, pooled
// row y as b·(h/f) + y), each as alone.
type maxPoolJob struct {
	idx        []int32
	x          []float32
	h, w, c, f int
}

func (j *maxPoolJob) Run(_, lo, hi int) {
	h, w, c, f := j.h, j.w, j.c, j.f
	oh, ow := h/f, w/f
	x := j.x
	for r := lo; r < hi; r++ {
		b, y := r/oh, r%oh
		o := r * ow * c
		for xx := 0; xx < ow; xx++ {
			base := ((b*h+y*f)*w + xx*f) * c
			if f == 2 {
				// The 2×2 windows of attention: the four candidates of
				// every channel in the same order, from four slices.
				idx := j.idx[o : o+c]
				a0, a1 := x[base:base+c], x[base+c:base+2*c]
				b0, b1 := x[base+w*c:base+w*c+c], x[base+w*c+c:base+w*c+2*c]
				for ch := range idx {
					best, bi := float32(math.Inf(-1)), base+ch
					if v := a0[ch]; v > best {
						best, bi = v, base+ch
					}
					if v := a1[ch]; v > best {
						best, bi = v, base+c+ch
					}
					if v := b0[ch]; v > best {
						best, bi = v, base+w*c+ch
					}
					if v := b1[ch]; v > best {
						bi = base + w*c + c + ch
					}
					idx[ch] = int32(bi)
				}
				o += c
				continue
			}
			for ch := 0; ch < c; ch++ {
				best, bi := float32(math.Inf(-1)), base+ch
				for dy := 0; dy < f; dy++ {
					row := base + dy*w*c + ch
					for dx := 0; dx < f; dx++ {
						if v := x[row+dx*c]; v > best {
							best, bi = v, row+dx*c
						}
					}
				}
				j.idx[o] = int32(bi)
				o++
			}
		}
	}
}

// Softmax writes the softmax of x over the middle axis of its
// (outer, mid, inner) view into dst, computed stably (the maximum is
// subtracted before exponentiating; sums in float64). Large ones are split
// over the worker pool by line; each line is computed as alone.
func Softmax(dst, x []float32, outer, mid, inner int) {
	if inner == 1 {
		if !runElemJob(outer, outer*mid, elemJob{kind: elemSoftmax, dst: dst, x: x, w: mid}) {
			softmaxLines(dst, x, 0, outer, mid)
		}
		return
	}
	for o := 0; o < outer; o++ {
		for in := 0; in < inner; in++ {
			softmaxLine(dst, x, o*mid*inner+in, mid, inner)
		}
	}
}

// softmaxLines computes lines [lo, hi) of a softmax over contiguous lines
// of length mid.
func softmaxLines(dst, x []float32, lo, hi, mid int) {
	for o := lo; o < hi; o++ {
		softmaxLine(dst, x, o*mid, mid, 1)
	}
}

// lineMax is the largest value of a non-empty line (NaN if it holds one),
// in four interleaved parts.
func lineMax(x []float32) float32 {
	if m, n := simdMax(x); n > 0 {
		for _, v := range x[n:] {
			m = max(m, v)
		}
		return m
	}
	m0 := x[0]
	m1, m2, m3 := m0, m0, m0
	k := 1
	for ; k+4 <= len(x); k += 4 {
		m0, m1, m2, m3 = max(m0, x[k]), max(m1, x[k+1]), max(m2, x[k+2]), max(m3, x[k+3])
	}
	for ; k < len(x); k++ {
		m0 = max(m0, x[k])
	}
	return max(max(m0, m1), max(m2, m3))
}

// softmaxLine computes the softmax of the mid values of x at base, base +
// stride, ...
func softmaxLine(dst, x []float32, base, mid, stride int) {
	if stride == 1 {
		line := x[base : base+mid]
		if m := lineMax(line); !math.IsNaN(float64(m)) && !math.IsInf(float64(m), 0) {
			// A contiguous line with a finite maximum (every line but
			// those holding NaN or ±Inf): float32 exponentials,
			// vectorised; the sum in float64 in four interleaved parts
			// (independent chains: attention's lines are short).
			out := dst[base : base+mid]
			expShiftLine(out, line, m)
			var s0, s1, s2, s3 float64
			k := 0
			for ; k+4 <= len(out); k += 4 {
				s0 += float64(out[k])
				s1 += float64(out[k+1])
				s2 += float64(out[k+2])
				s3 += float64(out[k+3])
			}
			for ; k < len(out); k++ {
				s0 += float64(out[k])
			}
			inv := float32(1 / ((s0 + s1) + (s2 + s3)))
			for k := range out {
				out[k] *= inv
			}
			return
		}
	}
	m := x[base]
	for k := 1; k < mid; k++ {
		m = max(m, x[base+k*stride])
	}
	var s float64
	for k := 0; k < mid; k++ {
		e := math.Exp(float64(x[base+k*stride] - m))
		dst[base+k*stride] = float32(e)
		s += e
	}
	inv := float32(1 / s)
	for k := 0; k < mid; k++ {
		dst[base+k*stride] *= inv
	}
}
