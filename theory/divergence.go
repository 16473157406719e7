package theory

import (
	"errors"
	"math"

	"github.com/minmaxgan/minmax/dist"
)

// KL returns KL(P ‖ Q) = ∫ P log(P/Q) dx in nats (the divergence of
// equations (7)-(8)). Points where P = 0 contribute 0 (0·log 0 = 0); if P
// has mass where Q = 0 the result is +Inf.
func (in Integrator) KL(p, q dist.Dist) (Result, error) {
	dm, err := newDomain(p, q)
	if err != nil {
		return Result{}, err
	}
	return in.integrate("KL", dm, func(x []float64) float64 {
		lp := p.LogProb(x)
		if lp == math.Inf(-1) {
			return 0
		}
		lq := q.LogProb(x)
		if lq == math.Inf(-1) {
			return math.Inf(1)
		}
		return math.Exp(lp) * (lp - lq)
	})
}

// JSD returns the Jensen–Shannon divergence in nats,
//
//	JSD(P ‖ Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M),  M = (P + Q)/2,
//
// computed as one integral in log space. It lies in [0, log 2]: 0 when
// P = Q, log 2 when their supports are disjoint.
func (in Integrator) JSD(p, q dist.Dist) (Result, error) {
	dm, err := newDomain(p, q)
	if err != nil {
		return Result{}, err
	}
	return in.integrate("JSD", dm, func(x []float64) float64 {
		lp, lq := p.LogProb(x), q.LogProb(x)
		lm := logAddExp(lp, lq) - math.Ln2
		return 0.5 * (xlogRatio(lp, lm) + xlogRatio(lq, lm))
	})
}

// JSDBits returns JSD(P ‖ Q) in bits (in [0, 1]).
func (in Integrator) JSDBits(p, q dist.Dist) (Result, error) {
	r, err := in.JSD(p, q)
	r.Value /= math.Ln2
	r.Err /= math.Ln2
	return r, err
}

// DStar returns the optimal discriminator of equation (6),
//
//	D*(x) = log P(x) - log Q(x),
//
// computed from the log-densities, so it is exact far in the tails. It is
// +Inf where only Q vanishes, -Inf where only P vanishes, and 0 where both
// do (there every D is optimal; 0 is the indifferent choice σ(0) = ½).
func DStar(p, q dist.Dist) func(x []float64) float64 {
	return func(x []float64) float64 {
		lp, lq := p.LogProb(x), q.LogProb(x)
		if lp == math.Inf(-1) && lq == math.Inf(-1) {
			return 0
		}
		return lp - lq
	}
}

// VD returns the discriminator loss of equation (1) for the logit d,
//
//	V_D = ∫ P softplus(-D) dx + ∫ Q softplus(D) dx,
//
// by direct quadrature. Where a density is 0 its term is 0 whatever D is.
func (in Integrator) VD(p, q dist.Dist, d func(x []float64) float64) (Result, error) {
	dm, err := newDomain(p, q)
	if err != nil {
		return Result{}, err
	}
	if d == nil {
		return Result{}, errors.New("VD: nil discriminator")
	}
	return in.integrate("V_D", dm, func(x []float64) float64 {
		P, Q := math.Exp(p.LogProb(x)), math.Exp(q.LogProb(x))
		if P == 0 && Q == 0 {
			return 0
		}
		dx := d(x)
		var s float64
		if P != 0 {
			s += P * softplus(-dx)
		}
		if Q != 0 {
			s += Q * softplus(dx)
		}
		return s
	})
}

// VDStar returns V_D(G, D*): equation (1) evaluated at the optimal
// discriminator D* of equation (6), in log form so that it is stable where
// D* is huge or infinite:
//
//	P softplus(-D*) = P (log(P+Q) - log P),  Q softplus(D*) = Q (log(P+Q) - log Q).
//
// Equation (7) says it equals 2 log 2 - 2 JSD(P ‖ Q) (see VDStarEq7).
func (in Integrator) VDStar(p, q dist.Dist) (Result, error) {
	dm, err := newDomain(p, q)
	if err != nil {
		return Result{}, err
	}
	return in.integrate("V_D(D*)", dm, func(x []float64) float64 {
		lp, lq := p.LogProb(x), q.LogProb(x)
		ls := logAddExp(lp, lq)
		return -xlogRatio(lp, ls) - xlogRatio(lq, ls)
	})
}

// VDStarEq7 returns V_D(G, D*) by equations (7)-(8): 2 log 2 - 2 JSD(P ‖ Q).
func (in Integrator) VDStarEq7(p, q dist.Dist) (Result, error) {
	r, err := in.JSD(p, q)
	r.Value = 2*math.Ln2 - 2*r.Value
	r.Err *= 2
	return r, err
}

// KL is Integrator{}.KL.
func KL(p, q dist.Dist) (Result, error) { return Integrator{}.KL(p, q) }

// JSD is Integrator{}.JSD.
func JSD(p, q dist.Dist) (Result, error) { return Integrator{}.JSD(p, q) }

// JSDBits is Integrator{}.JSDBits.
func JSDBits(p, q dist.Dist) (Result, error) { return Integrator{}.JSDBits(p, q) }

// VD is Integrator{}.VD.
func VD(p, q dist.Dist, d func(x []float64) float64) (Result, error) {
	return Integrator{}.VD(p, q, d)
}

// VDStar is Integrator{}.VDStar.
func VDStar(p, q dist.Dist) (Result, error) { return Integrator{}.VDStar(p, q) }

// VDStarEq7 is Integrator{}.VDStarEq7.
func VDStarEq7(p, q dist.Dist) (Result, error) { return Integrator{}.VDStarEq7(p, q) }

// logAddExp returns log(e^a + e^b) without overflow or underflow.
func logAddExp(a, b float64) float64 {
	if a == math.Inf(-1) {
		return b
	}
	if b == math.Inf(-1) {
		return a
	}
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// xlogRatio returns e^la (la - lb), the integrand P log(P/B) in log form,
// with 0·log 0 = 0.
func xlogRatio(la, lb float64) float64 {
	if la == math.Inf(-1) {
		return 0
	}
	return math.Exp(la) * (la - lb)
}

// softplus returns log(1 + e^z) without overflow: softplus(+Inf) = +Inf,
// softplus(-Inf) = 0.
func softplus(z float64) float64 {
	return max(z, 0) + math.Log1p(math.Exp(-math.Abs(z)))
}

// sigmoid returns 1/(1 + e^-z) without overflow.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
