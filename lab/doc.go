// Package lab is the theory lab: it trains a discriminator against a fixed
// pair of distributions P and Q with the seed's loss (eq. 1), exactly the
// situation of the seed's derivation (eq. 4-6: Q_G held fixed, D free),
// and measures how close the trained D comes to what package theory
// computes exactly: D* = log P/Q (eq. 6), V_D(G, D*) = 2 log 2 - 2 JSD
// (eq. 7), and a vanishing functional derivative (eq. 4-5).
//
// The experiment is honest about what a finite sample can learn: D - D* is
// compared only where |D*| <= 5 (P/Q within e^±5), weighted by
// M = (P+Q)/2, and the share of M's mass in that region is reported; over
// the whole space the comparison is of sigmoid(D) with P/(P+Q), which stays
// bounded where D* runs off to infinity.
package lab
