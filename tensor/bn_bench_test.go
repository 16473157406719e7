package tensor

import (
	"fmt"
	"testing"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// BenchmarkBatchNorm times a tall batch norm with LeakyReLU, forward
// (statistics, then the affine map and activation) and backward, on
// dcgan28's shapes (D's 64 images of 7×7×128, G's of 14×14×64), at
// benchThreads threads; GB/s counts x's bytes once per forward or
// backward (the passes read it two or three times).
func BenchmarkBatchNorm(b *testing.B) {
	defer parallel.SetThreads(parallel.Default().Threads())
	parallel.SetThreads(benchThreads())
	for _, s := range []struct{ rows, c int }{{64 * 49, 128}, {64 * 196, 64}} {
		rows, c := s.rows, s.c
		rng := NewRNG(1)
		x := make([]float32, rows*c)
		rng.Normal(x, 0.3, 2)
		g := make([]float32, rows*c)
		rng.Normal(g, 0, 1)
		y, dx := make([]float32, rows*c), make([]float32, rows*c)
		mean, variance, rstd := make([]float32, c), make([]float32, c), make([]float32, c)
		gamma, beta := make([]float32, c), make([]float32, c)
		rng.Normal(gamma, 1, 0.1)
		rng.Normal(beta, 0, 0.1)
		dgamma, dbeta := make([]float32, c), make([]float32, c)
		b.Run(fmt.Sprintf("%dx%d/forward", rows, c), func(b *testing.B) {
			for range b.N {
				BatchNormStats(mean, variance, rstd, x, rows, c, 1e-5)
				BatchNormApplyAct(y, x, mean, rstd, gamma, beta, rows, c, BNLeaky, 0.2)
			}
			b.ReportMetric(float64(4*rows*c)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		b.Run(fmt.Sprintf("%dx%d/backward", rows, c), func(b *testing.B) {
			for range b.N {
				BatchNormActBackward(dx, dgamma, dbeta, g, x, y, mean, rstd, gamma, rows, c, BNLeaky, 0.2)
			}
			b.ReportMetric(float64(4*rows*c)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}
