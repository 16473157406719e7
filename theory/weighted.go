package theory

import (
	"errors"
	"fmt"
	"math"

	"github.com/minmaxgan/minmax/dist"
)

// MassM returns the mass that M = (P + Q)/2 puts on region, ∫ M·1[region]
// dx (region nil means everywhere, giving 1 up to the tails outside the
// Bounds).
//
// A region with a curved edge makes the integrand discontinuous; the
// quadrature still converges (it bisects down to the edge) but needs many
// more evaluations than for a smooth integrand, so a looser Integrator
// (e.g. AbsTol 1e-8) may be preferable for such regions in 2-D.
func (in Integrator) MassM(p, q dist.Dist, region func(x []float64) bool) (Result, error) {
	dm, err := newDomain(p, q)
	if err != nil {
		return Result{}, err
	}
	return in.integrate("M-mass", dm, func(x []float64) float64 {
		if region != nil && !region(x) {
			return 0
		}
		return 0.5 * (math.Exp(p.LogProb(x)) + math.Exp(q.LogProb(x)))
	})
}

// WeightedRMSE returns the root-mean-square of f under M = (P + Q)/2
// restricted to region (nil means everywhere):
//
//	sqrt( ∫_region M f² dx / ∫_region M dx ).
//
// It is how a trained discriminator is compared with D*: f = D - D* over
// {|D*| <= 5}, or f = σ(D) - P/(P+Q) everywhere. Where M = 0, f is not
// evaluated. Err is propagated from the errors of the two integrals to
// first order. It is an error if the region has no M-mass.
func (in Integrator) WeightedRMSE(p, q dist.Dist, f func(x []float64) float64, region func(x []float64) bool) (Result, error) {
	if f == nil {
		return Result{}, errors.New("WeightedRMSE: nil function")
	}
	den, err := in.MassM(p, q, region)
	if err != nil {
		return den, err
	}
	dm, err := newDomain(p, q)
	if err != nil {
		return Result{}, err
	}
	num, err := in.integrate("M-weighted mean square", dm, func(x []float64) float64 {
		if region != nil && !region(x) {
			return 0
		}
		m := 0.5 * (math.Exp(p.LogProb(x)) + math.Exp(q.LogProb(x)))
		if m == 0 {
			return 0
		}
		v := f(x)
		return m * v * v
	})
	evals := den.Evals + num.Evals
	if err != nil {
		num.Evals = evals
		return num, err
	}
	if !(den.Value > 0) {
		return Result{Evals: evals}, fmt.Errorf("WeightedRMSE: the region has M-mass %g", den.Value)
	}
	ms := max(num.Value, 0) / den.Value
	rmse := math.Sqrt(ms)
	// d(sqrt(a/b)) = (da/b + a db/b²) / (2 sqrt(a/b)); at 0 use sqrt(da/b).
	dms := num.Err/den.Value + ms*den.Err/den.Value
	var e float64
	if rmse > 0 {
		e = min(dms/(2*rmse), math.Sqrt(dms))
	} else {
		e = math.Sqrt(dms)
	}
	return Result{Value: rmse, Err: e, Evals: evals}, nil
}

// MassM is Integrator{}.MassM.
func MassM(p, q dist.Dist, region func(x []float64) bool) (Result, error) {
	return Integrator{}.MassM(p, q, region)
}

// WeightedRMSE is Integrator{}.WeightedRMSE.
func WeightedRMSE(p, q dist.Dist, f func(x []float64) float64, region func(x []float64) bool) (Result, error) {
	return Integrator{}.WeightedRMSE(p, q, f, region)
}
