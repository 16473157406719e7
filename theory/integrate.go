package theory

import (
	"errors"
	"fmt"
	"math"

	"github.com/minmaxgan/minmax/dist"
)

// Defaults of an Integrator's zero fields.
const (
	DefaultAbsTol   = 1e-10
	DefaultRelTol   = 1e-10
	DefaultMaxEvals = 50_000_000
)

// minScale is the narrowest landmark scale, relative to the width of the
// domain and to the size of its coordinates, that quadrature accepts.
const minScale = 1e-13

// innerMaxEvals caps the evaluations of one inner (y) integral of a 2-D
// integration, so that one hard line cannot use up the whole budget.
const innerMaxEvals = 400_000

// Result is the value of an integral (or of a quantity computed from
// integrals) with an estimate of its absolute error.
type Result struct {
	Value float64
	Err   float64 // estimated absolute error of Value
	Evals int     // integrand evaluations spent
}

// Integrator holds the accuracy settings of the quadrature. The zero
// value uses the defaults; the package-level functions (KL, JSD, ...) use
// the zero value.
//
// An integral succeeds when its error estimate is at most
// max(AbsTol, RelTol·|value|). The estimate is the sum over panels of
// |Kronrod 15 - Gauss 7| (and, in 2-D, of the inner integrals' estimates),
// which for smooth integrands is far larger than the true error.
type Integrator struct {
	AbsTol   float64 // absolute tolerance; 0 means DefaultAbsTol
	RelTol   float64 // relative tolerance; 0 means DefaultRelTol
	MaxEvals int     // evaluation budget per integral; 0 means DefaultMaxEvals
}

// ToleranceError reports an integral whose error estimate exceeds the
// requested tolerance. Result holds the best estimate reached, which
// methods also return alongside this error.
type ToleranceError struct {
	Quantity string  // what was being computed, e.g. "JSD"
	Result   Result  // best estimate
	Target   float64 // the error the tolerance asked for
	Reason   string  // why the integration stopped
}

// Error describes the shortfall and gives the best value.
func (e *ToleranceError) Error() string {
	return fmt.Sprintf("%s: error estimate %.3g exceeds the tolerance %.3g after %d evaluations (%s); best value %.15g",
		e.Quantity, e.Result.Err, e.Target, e.Result.Evals, e.Reason, e.Result.Value)
}

func (in Integrator) settings() (absTol, relTol float64, maxEvals int, err error) {
	absTol, relTol, maxEvals = in.AbsTol, in.RelTol, in.MaxEvals
	if absTol == 0 {
		absTol = DefaultAbsTol
	}
	if relTol == 0 {
		relTol = DefaultRelTol
	}
	if maxEvals == 0 {
		maxEvals = DefaultMaxEvals
	}
	if !(absTol > 0) || !(relTol > 0) || math.IsInf(absTol, 0) || math.IsInf(relTol, 0) || maxEvals < 0 {
		return 0, 0, 0, fmt.Errorf("invalid Integrator settings %+v: tolerances must be finite and >= 0, MaxEvals >= 0", in)
	}
	return absTol, relTol, maxEvals, nil
}

// domain is the region of integration of a pair of distributions and the
// structure that seeds its first panels.
type domain struct {
	dim    int
	lo, hi [2]float64
	breaks [2][]float64
	lms    []dist.Landmark
}

func newDomain(p, q dist.Dist) (*domain, error) {
	if p == nil || q == nil {
		return nil, errors.New("nil distribution")
	}
	dim := p.Dim()
	if dim != q.Dim() {
		return nil, fmt.Errorf("P = %s and Q = %s have different dimensions (%d and %d)", p, q, dim, q.Dim())
	}
	if dim != 1 && dim != 2 {
		return nil, fmt.Errorf("P = %s has dimension %d; only 1 and 2 are supported", p, dim)
	}
	dm := &domain{dim: dim}
	plo, phi := p.Bounds()
	qlo, qhi := q.Bounds()
	for a := range dim {
		dm.lo[a] = min(plo[a], qlo[a])
		dm.hi[a] = max(phi[a], qhi[a])
		if !(dm.lo[a] < dm.hi[a]) || math.IsInf(dm.hi[a]-dm.lo[a], 0) || math.IsNaN(dm.hi[a]-dm.lo[a]) {
			return nil, fmt.Errorf("the bounds of %s and %s along axis %d, [%g, %g], are not a finite interval",
				p, q, a, dm.lo[a], dm.hi[a])
		}
		dm.breaks[a] = append(p.Breaks(a), q.Breaks(a)...)
	}
	for _, l := range append(dist.Landmarks(p), dist.Landmarks(q)...) {
		if len(l.Center) != dim || !(l.Scale > 0) || math.IsInf(l.Scale, 0) {
			continue
		}
		// Panels cannot usefully be narrower than about 1e-14 of the
		// domain (or of the coordinates): a feature much narrower than
		// that is invisible to float64 quadrature.
		for a := range dim {
			if lim := minScale * max(dm.hi[a]-dm.lo[a], math.Abs(l.Center[a])); l.Scale < lim {
				return nil, fmt.Errorf("%s and %s: a component at %v has scale %g, too narrow to integrate over [%g, %g] in float64 (the limit is %.3g)",
					p, q, l.Center, l.Scale, dm.lo[a], dm.hi[a], lim)
			}
		}
		dm.lms = append(dm.lms, l)
	}
	return dm, nil
}

// integrate computes ∫ f over the domain. what names the quantity in
// errors.
func (in Integrator) integrate(what string, dm *domain, f func(x []float64) float64) (Result, error) {
	absTol, relTol, maxEvals, err := in.settings()
	if err != nil {
		return Result{}, err
	}
	st := &state{maxEvals: maxEvals}
	var v, e float64
	if dm.dim == 1 {
		v, e = integrate1(st, dm, f, absTol, relTol)
	} else {
		v, e = integrate2(st, dm, f, absTol, relTol)
	}
	res := Result{Value: v, Err: e, Evals: st.evals}
	switch {
	case st.nan:
		return Result{Value: math.NaN(), Err: math.Inf(1), Evals: st.evals},
			fmt.Errorf("%s: the integrand is NaN at x = %v", what, st.nanAt)
	case st.posInf && st.negInf:
		return Result{Value: math.NaN(), Err: math.Inf(1), Evals: st.evals},
			fmt.Errorf("%s: the integrand takes both +Inf and -Inf", what)
	case st.posInf:
		return Result{Value: math.Inf(1), Evals: st.evals}, nil
	case st.negInf:
		return Result{Value: math.Inf(-1), Evals: st.evals}, nil
	}
	target := max(absTol, relTol*math.Abs(v))
	if !(e <= target) {
		reason := "no panel can be improved further: roundoff, or inner integrals that did not converge"
		if st.evals >= maxEvals {
			reason = "evaluation budget exhausted"
		}
		return res, &ToleranceError{Quantity: what, Result: res, Target: target, Reason: reason}
	}
	return res, nil
}

func integrate1(st *state, dm *domain, f func(x []float64) float64, absTol, relTol float64) (v, e float64) {
	x := make([]float64, 1)
	ad := &adaptive{st: st, f: func(t float64) (float64, float64) {
		st.evals++
		x[0] = t
		y := f(x)
		st.note(y, x)
		return y, 0
	}}
	lms := make([]lm1, len(dm.lms))
	for i, l := range dm.lms {
		lms[i] = lm1{c: l.Center[0], s: l.Scale}
	}
	pts := seedPoints(nil, dm.lo[0], dm.hi[0], dm.breaks[0], lms)
	return ad.run(pts, absTol, relTol, st.maxEvals)
}

// integrate2 computes ∫∫ f(x, y) dy dx as an adaptive integral over x of
// adaptive integrals over y. Each inner integral is seeded with the
// landmarks visible on its line (those within seedReach scales of it in
// x), so narrow modes are seen; the inner error estimates are integrated
// along with the values and added to the outer estimate.
func integrate2(st *state, dm *domain, f func(x []float64) float64, absTol, relTol float64) (v, e float64) {
	buf := make([]float64, 2)
	var x0 float64
	inner := &adaptive{st: st, f: func(t float64) (float64, float64) {
		st.evals++
		buf[0], buf[1] = x0, t // reset each call: f may scribble on its argument
		y := f(buf)
		if y != y || math.IsInf(y, 0) {
			buf[0], buf[1] = x0, t
			st.note(y, buf)
		}
		return y, 0
	}}
	width := dm.hi[0] - dm.lo[0]
	innerAbs := 0.1 * absTol / width
	innerRel := 0.1 * relTol
	var ys []float64
	var visible []lm1
	outer := &adaptive{st: st, f: func(t float64) (float64, float64) {
		x0 = t
		visible = visible[:0]
		for _, l := range dm.lms {
			if math.Abs(t-l.Center[0]) <= seedReach*l.Scale {
				visible = append(visible, lm1{c: l.Center[1], s: l.Scale})
			}
		}
		ys = seedPoints(ys, dm.lo[1], dm.hi[1], dm.breaks[1], visible)
		budget := min(st.maxEvals, st.evals+innerMaxEvals)
		return inner.run(ys, innerAbs, innerRel, budget)
	}}
	xl := make([]lm1, len(dm.lms))
	for i, l := range dm.lms {
		xl[i] = lm1{c: l.Center[0], s: l.Scale}
	}
	xs := seedPoints(nil, dm.lo[0], dm.hi[0], dm.breaks[0], xl)
	return outer.run(xs, absTol, relTol, st.maxEvals)
}

// Integrate returns ∫ f(x) dx over the union of the Bounds of p and q
// (which must have the same dimension, 1 or 2), with the first panels
// split at their Breaks and refined around their Landmarks. f must be
// integrable there and should be negligible outside; it may be called
// millions of times, from one goroutine. A +Inf (or -Inf) value anywhere
// makes the result +Inf (-Inf); NaN is an error.
func (in Integrator) Integrate(p, q dist.Dist, f func(x []float64) float64) (Result, error) {
	dm, err := newDomain(p, q)
	if err != nil {
		return Result{}, err
	}
	if f == nil {
		return Result{}, errors.New("Integrate: nil integrand")
	}
	return in.integrate("integral", dm, f)
}

// Integrate is Integrator{}.Integrate.
func Integrate(p, q dist.Dist, f func(x []float64) float64) (Result, error) {
	return Integrator{}.Integrate(p, q, f)
}
