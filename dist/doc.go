// Package dist provides the probability distributions that minmax uses as
// the real data P(x) of the seed's equations (1)-(10) on toy problems: each
// has an exact log-density, a sampler that draws from an explicit
// *rand.Rand, and a canonical text form in a small spec language.
//
// # Distributions
//
// One-dimensional:
//
//	N(mu, sd)          normal, sd > 0
//	U(a, b)            uniform on [a, b], a < b
//	Laplace(mu, b)     Laplace (double exponential), scale b > 0
//
// Two-dimensional:
//
//	N2(mx, my, sd)                  isotropic normal
//	ring(k, r=2, sd=0.02)           k equal-weight isotropic normals on a circle of radius r
//	grid(k, spacing=2, sd=0.05)     k×k equal-weight isotropic normals on a square lattice
//
// and mixtures of any of them (all components of one dimension):
//
//	mix(0.3:N(-2, 0.5), 0.7:N(1, 1))
//
// Parse reads a spec; every Dist's String method writes the canonical spec,
// which Parse accepts back. The grammar, the defaults and the density of
// every distribution are in docs/distributions.md.
//
// # Numerics
//
// LogProb is computed in log space throughout, so it is finite and accurate
// far in the tails (the log-density of N(0, 1) at x = 1000 is
// -500000 - log(2π)/2, not -Inf), and mixtures combine their components
// with a one-pass log-sum-exp. The grid density factorises into a product of
// two one-dimensional mixtures, so its log-density costs 2k rather than k²
// exponentials.
//
// # Concurrency
//
// A Dist is immutable once built, so it may be used from many goroutines at
// once; the *rand.Rand passed to Sample may not.
package dist
