package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchSgemm times C = A*B (+ transposes) and reports GFLOP/s.
func benchSgemm(b *testing.B, kern Kernel, threads int, transA, transB bool, m, n, k int) {
	useKernel(b, kern)
	rng := rand.New(rand.NewPCG(1, 1))
	a := randSlice(rng, m*k)
	bb := randSlice(rng, k*n)
	c := randSlice(rng, m*n)
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	p := pool(threads)
	Sgemm(p, transA, transB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Sgemm(p, transA, transB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm1024 is the 1024×1024×1024 product on every kernel with
// 1 and 2 threads.
func BenchmarkSgemm1024(b *testing.B) {
	for _, kern := range Available() {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%v/threads=%d", kern, th), func(b *testing.B) {
				benchSgemm(b, kern, th, false, false, 1024, 1024, 1024)
			})
		}
	}
}

// smallShapes are typical GAN layer products: m, n, k and transposes.
var smallShapes = []struct {
	m, n, k        int
	transA, transB bool
}{
	{512, 128, 256, false, false},
	{512, 128, 256, false, true},
	{512, 128, 128, true, false},
	{512, 1, 128, false, false},
	{512, 1, 128, false, true},
	{64, 6272, 100, false, false},
	{64, 6272, 100, false, true},
	{100, 6272, 64, true, false},
	{6272, 64, 1024, false, false},
	{6272, 64, 1024, false, true},
	{1024, 64, 6272, true, false},
}

// BenchmarkSgemmSmall times the small GAN shapes on the default kernel
// with 1 and 2 threads.
func BenchmarkSgemmSmall(b *testing.B) {
	kern := Available()[0]
	for _, s := range smallShapes {
		for _, th := range []int{1, 2} {
			name := fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k)
			if s.transA {
				name += "/tA"
			}
			if s.transB {
				name += "/tB"
			}
			b.Run(fmt.Sprintf("%s/threads=%d", name, th), func(b *testing.B) {
				benchSgemm(b, kern, th, s.transA, s.transB, s.m, s.n, s.k)
			})
		}
	}
}
