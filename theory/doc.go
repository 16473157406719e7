// Package theory makes the seed's mathematics (MATH.md, equations (1)-(10))
// executable: for two distributions P and Q of package dist it computes
// KL and JSD, the optimal discriminator D* of equation (6), the
// discriminator loss V_D of equation (1) for any logit D and at D* (both
// directly and by equation (7), V_D(G, D*) = 2 log 2 - 2 JSD), the
// functional derivative of equations (4)-(5), and the M-weighted errors
// used to compare a trained discriminator with D*.
//
// # Quadrature
//
// Everything is computed by deterministic adaptive quadrature in float64,
// never by sampling, and every integral comes back as a Result carrying an
// error estimate; if the estimate exceeds the tolerance (by default
// max(1e-10, 1e-10·|value|)) the method returns a *ToleranceError along with
// its best estimate.
//
// In 1-D the integral runs over the union of both distributions' Bounds,
// with global adaptive Gauss–Kronrod 7-15: the panel with the largest
// error estimate |K15 - G7| is bisected until the total is within
// tolerance. The first panels are split at both distributions' Breaks
// (uniform edges, Laplace peaks) and, around every Landmark (the centre and
// scale s of each component: a normal's sd, a Laplace's b, a uniform's
// half-width), into panels at most 2s wide out to 8s, so that a narrow mode
// can never fall between the nodes of a wide panel.
//
// In 2-D the integral is iterated: an adaptive integral over x of adaptive
// integrals over y. The outer panels are seeded with the x-projections of
// the landmarks; each inner integral, on the line at x, is seeded with the
// y-coordinates of the landmarks within 8 scales of that line. The inner
// tolerance is a tenth of the outer one (per unit length), and the inner
// error estimates are integrated and added to the outer estimate. Iterating
// 1-D rules makes the method robust where the integrand is discontinuous
// along a curve (a region's edge, a ReLU network's kinks): each line only
// has to bisect down to a few points.
//
// All densities are handled in log space: 0·log 0 = 0, disjoint supports
// give JSD = log 2 and KL = +Inf exactly, and D* = log P - log Q is exact
// in the tails.
//
// # Jumps
//
// Gauss–Kronrod nodes stay 0.0085 of a half-width away from the ends of a
// panel, so each panel is also sampled just inside both ends; an end value
// that does not continue the outermost nodes smoothly marks a jump in that
// sliver. When most of a panel's variation lies between two neighbouring
// samples, the jump there is pinned down to a few ulps by bisection before
// the panel is split at it. So integrands with jumps (a region's indicator)
// converge in 1-D at little cost. In 2-D a line that crosses a corner of a
// region over less than its sample spacing cannot see it; near points where
// a curved edge is tangent to the lines this can make the error estimate
// optimistic by up to about an order of magnitude at tolerances of 1e-8 and
// below, and such integrals cost millions of evaluations at the default
// tolerance: use a looser Integrator for them (AbsTol and RelTol 1e-7).
//
// # Cost
//
// On one core: a 1-D JSD takes about 500 evaluations (under 0.1 ms); the
// 2-D JSD of ring(8, r=2, sd=0.02) against N2(0, 0, 1.5) about 570 000
// evaluations of both densities (about 60 ms), grid(5) against N2(0, 0, 2)
// about 1.1 million (about 130 ms). Integrator.MaxEvals (default 5e7)
// bounds the work; components narrower than 1e-13 of the domain are
// refused, since float64 quadrature cannot resolve them.
package theory
