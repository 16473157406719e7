package gan

import (
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/tensor"
)

// PointSampler draws real data from a distribution (the toy data).
type PointSampler struct {
	D   dist.Dist
	buf []float64
}

// Dim is the distribution's dimension.
func (s *PointSampler) Dim() int { return s.D.Dim() }

// Sample draws n points into x; the points have no labels.
func (s *PointSampler) Sample(rng *tensor.RNG, n int, x []float32, _ []int) {
	k := n * s.D.Dim()
	if cap(s.buf) < k {
		s.buf = make([]float64, k)
	}
	buf := s.buf[:k]
	dist.SampleN(s.D, rng.Rand(), n, buf)
	for i, v := range buf {
		x[i] = float32(v)
	}
}
