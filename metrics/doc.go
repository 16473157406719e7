// Package metrics measures generated samples against the truth.
//
// For data whose modes are known (mixtures of Gaussians: the ring and grid
// benchmarks of the VEEGAN and PacGAN papers), ModeCoverage follows their
// protocol: a sample is high quality when it lies within 3 standard
// deviations of its nearest mode; a mode is covered when at least one high
// quality sample is nearest to it; and the reverse KL divergence is
// KL(q || w) between the distribution q of high-quality samples over the
// modes and the modes' true weights w (uniform for the ring and the grid,
// which is the papers' definition).
package metrics
