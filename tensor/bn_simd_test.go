package tensor

import (
	"math"
	"testing"
)

// The batch-norm row kernels in assembly give the pure-Go results bit for
// bit, for every kernel, on widths with and without tails, thread counts
// aside (the parts split columns).
func TestBatchNormSIMDMatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this machine: only the pure-Go kernels run")
	}
	rng := NewRNG(8)
	for _, c := range []int{1, 3, 4, 5, 7, 8, 9, 13, 16, 33, 64, 100} {
		for _, rows := range []int{1, 2, 5, 33} {
			x, g, gamma, beta := make([]float32, rows*c), make([]float32, rows*c), make([]float32, c), make([]float32, c)
			rng.Normal(x, 0.3, 2)
			rng.Normal(g, 0, 1)
			rng.Normal(gamma, 1, 0.2)
			rng.Normal(beta, 0, 0.2)
			run := func() [][]float64 { return bnEntryPoints(x, g, gamma, beta, rows, c, 2*rows) }
			asm := run()
			useAVX2 = false
			pure := run()
			useAVX2 = true
			for k := range asm {
				for i := range asm[k] {
					if math.Float64bits(asm[k][i]) != math.Float64bits(pure[k][i]) {
						t.Fatalf("c=%d rows=%d: %s[%d]: assembly %v, Go %v", c, rows, bnEntryNames[k], i, asm[k][i], pure[k][i])
					}
				}
			}
		}
	}
}

// bnEntryNames names the results of bnEntryPoints.
var bnEntryNames = []string{"mean", "variance", "rstd", "y", "dx", "dgamma", "dbeta", "dx from sums", "Σx", "Σ(x−mean)²", "Σg", "Σg·x"}

// bnEntryPoints runs every batch-norm entry point on x (rows×c) with the
// upstream gradient g, dx from sums for a batch of n rows, and returns
// their results (bnEntryNames) as float64.
func bnEntryPoints(x, g, gamma, beta []float32, rows, c, n int) [][]float64 {
	mean, variance, rstd := make([]float32, c), make([]float32, c), make([]float32, c)
	BatchNormStats(mean, variance, rstd, x, rows, c, 1e-5)
	y := make([]float32, rows*c)
	BatchNormApply(y, x, mean, rstd, gamma, beta, rows, c)
	dx, dg, db := make([]float32, rows*c), make([]float32, c), make([]float32, c)
	BatchNormBackward(dx, dg, db, g, x, mean, rstd, gamma, rows, c)
	sum, cent, sg, sgx := make([]float64, c), make([]float64, c), make([]float64, c), make([]float64, c)
	BatchNormSums(sum, x, rows, c)
	m64 := make([]float64, c)
	for i := range m64 {
		m64[i] = sum[i] / float64(rows)
	}
	BatchNormCentered(cent, m64, x, rows, c)
	BatchNormGradSums(sg, sgx, g, x, rows, c)
	dx2 := make([]float32, rows*c)
	BatchNormBackwardFromSums(dx2, g, x, mean, rstd, gamma, sg, sgx, n, rows, c)
	var out [][]float64
	for _, f := range [][]float32{mean, variance, rstd, y, dx, dg, db, dx2} {
		v := make([]float64, len(f))
		for i := range f {
			v[i] = float64(f[i])
		}
		out = append(out, v)
	}
	return append(out, sum, cent, sg, sgx)
}
