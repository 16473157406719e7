package theory

import (
	"errors"
	"fmt"
	"math"

	"github.com/minmaxgan/minmax/dist"
)

// FunctionalDerivative returns the functional derivative of V_D with
// respect to D at x, equations (4)-(5):
//
//	δV_D/δD(x) = -P(x) σ(-D(x)) + Q(x) σ(D(x)).
//
// It vanishes for every x at D = D* (equation (6)). It returns NaN if p or
// q is nil, d is nil, or x does not have their dimension.
func FunctionalDerivative(p, q dist.Dist, d func(x []float64) float64, x []float64) float64 {
	if p == nil || q == nil || d == nil || len(x) != p.Dim() || len(x) != q.Dim() {
		return math.NaN()
	}
	P, Q := math.Exp(p.LogProb(x)), math.Exp(q.LogProb(x))
	return derivative(P, Q, d(x))
}

func derivative(P, Q, dx float64) float64 {
	var s float64
	if P != 0 {
		s -= P * sigmoid(-dx)
	}
	if Q != 0 {
		s += Q * sigmoid(dx)
	}
	if dx != dx {
		return dx
	}
	return s
}

// DerivativeNorms summarises the functional derivative δV_D/δD over a
// grid; see FunctionalDerivativeNorms.
type DerivativeNorms struct {
	MaxAbs float64 // max over the grid of |δV_D/δD|
	// MaxRel is the max over the grid of |δV_D/δD| / (P + Q), taken over
	// the points where P + Q >= 1e-290 (below that, products of densities
	// lose relative precision in float64).
	MaxRel float64
	// L1 is the midpoint-rule estimate of ∫ |δV_D/δD| dx over the grid's
	// box: the sum of |δV_D/δD| times the cell volume.
	L1         float64
	MaxDensity float64 // max over the grid of P + Q, for scale
	Points     int     // number of grid points
}

// FunctionalDerivativeNorms evaluates δV_D/δD at the centres of an n-cell
// (1-D) or n×n-cell (2-D) grid covering the union of the Bounds of p and
// q, and returns its largest absolute and relative values and its L1 norm.
// n must be in [1, 100000] in 1-D and [1, 4000] in 2-D.
func FunctionalDerivativeNorms(p, q dist.Dist, d func(x []float64) float64, n int) (DerivativeNorms, error) {
	dm, err := newDomain(p, q)
	if err != nil {
		return DerivativeNorms{}, err
	}
	if d == nil {
		return DerivativeNorms{}, errors.New("FunctionalDerivativeNorms: nil discriminator")
	}
	limit := 100000
	if dm.dim == 2 {
		limit = 4000
	}
	if n < 1 || n > limit {
		return DerivativeNorms{}, fmt.Errorf("FunctionalDerivativeNorms: n = %d; want 1 <= n <= %d in %d-D", n, limit, dm.dim)
	}
	var h [2]float64
	cell := 1.0
	for a := range dm.dim {
		h[a] = (dm.hi[a] - dm.lo[a]) / float64(n)
		cell *= h[a]
	}
	var out DerivativeNorms
	x := make([]float64, dm.dim)
	visit := func() error {
		P, Q := math.Exp(p.LogProb(x)), math.Exp(q.LogProb(x))
		v := math.Abs(derivative(P, Q, d(x)))
		if v != v {
			return fmt.Errorf("FunctionalDerivativeNorms: δV_D/δD is NaN at x = %v", x)
		}
		out.MaxAbs = max(out.MaxAbs, v)
		out.L1 += v * cell
		out.MaxDensity = max(out.MaxDensity, P+Q)
		if P+Q >= 1e-290 {
			out.MaxRel = max(out.MaxRel, v/(P+Q))
		}
		out.Points++
		return nil
	}
	for i := range n {
		x[0] = dm.lo[0] + (float64(i)+0.5)*h[0]
		if dm.dim == 1 {
			if err := visit(); err != nil {
				return out, err
			}
			continue
		}
		for j := range n {
			x[0] = dm.lo[0] + (float64(i)+0.5)*h[0]
			x[1] = dm.lo[1] + (float64(j)+0.5)*h[1]
			if err := visit(); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}
