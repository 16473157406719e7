// Package viz draws minmax's pictures with gonum.org/v1/plot: the theory
// lab's plots of P, Q, D* and a trained D, heatmaps in 2-D, and the sweep
// of V_D(G_θ, D*) over a family of generators. Every function writes a PNG
// atomically (temporary file, then rename).
package viz
