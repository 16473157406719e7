package gan

import (
	"math"

	"github.com/minmaxgan/minmax/tensor"
)

// Ring is k equal-weight isotropic Gaussians on a circle of radius R (the
// first at angle 0), the standard test of mode coverage.
type Ring struct {
	K     int
	R, SD float64
}

// Dim is 2.
func (r Ring) Dim() int { return 2 }

// Sample draws n points into out (n×2).
func (r Ring) Sample(rng *tensor.RNG, n int, out []float32) {
	g := rng.Rand()
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(g.IntN(r.K)) / float64(r.K)
		out[2*i] = float32(r.R*math.Cos(a) + r.SD*g.NormFloat64())
		out[2*i+1] = float32(r.R*math.Sin(a) + r.SD*g.NormFloat64())
	}
}
