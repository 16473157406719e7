package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// A product split over K (kSplitParts) gives the bits of one thread, on
// every kernel and variant, at 2-4 threads: Sgemm with every transpose,
// alpha and beta (checked against float64 too), with a bias, with an
// epilogue (each element finished once, after the sums are added), with
// A read in place and with B computed by rows. Shapes of 2, 3 and 4 K
// chunks, edge tiles, and ones not split (too many chunks, too large a C)
// alongside.
func TestKSplitMatchesOneThread(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	shapes := [][3]int{{128, 128, 512}, {37, 45, 600}, {13, 70, 1000}, {256, 256, 520}, {200, 70, 1300}, {300, 300, 512}}
	for _, v := range variants() {
		t.Run(v, func(t *testing.T) {
			useVariant(t, v)
			split := 0
			testKSplit = func(int) { split++ }
			defer func() { testKSplit = nil }()
			for _, sh := range shapes {
				m, n, kk := sh[0], sh[1], sh[2]
				for tr := range 4 {
					tc := newCase(rng, tr&1 != 0, tr&2 != 0, m, n, kk, 3, 50)
					for _, alpha := range alphas {
						for _, beta := range betas {
							want := tc.run(pool(1), alpha, beta)
							if v != "bf16" && v != "amx" {
								tc.check(t, v, alpha, beta, want)
							}
							for th := 2; th <= 4; th++ {
								got := tc.run(pool(th), alpha, beta)
								same(t, fmt.Sprintf("%v alpha=%v beta=%v, %d threads", tc, alpha, beta, th), want, got)
							}
						}
					}
				}
				a, b, bias := randSlice(rng, m*kk), randSlice(rng, kk*n), randSlice(rng, n)
				products := map[string]func(th int) []float32{
					"bias": func(th int) []float32 {
						c := make([]float32, m*n)
						SgemmBias(pool(th), false, false, m, n, kk, a, kk, b, n, bias, c, n)
						return c
					},
					"A in place": func(th int) []float32 {
						c := randSlice(rand.New(rand.NewPCG(1, 1)), m*n)
						SgemmRowsA(pool(th), m, n, kk, 1, &stridedRows{storedRows{a, kk}, 64, 5, true}, false, b, n, 1, c, n)
						return c
					},
					"B by rows": func(th int) []float32 {
						c := make([]float32, m*n)
						SgemmRowsB(pool(th), false, m, n, kk, 0.5, a, kk, &storedRows{b, n}, 0, c, n)
						return c
					},
				}
				for name, f := range products {
					want := f(1)
					for th := 2; th <= 4; th++ {
						same(t, fmt.Sprintf("%s %dx%dx%d, %d threads", name, m, n, kk, th), want, f(th))
					}
				}
				for th := 1; th <= 4; th++ {
					post := &countingPost{n: n, count: make([]int, m*n)}
					got := make([]float32, m*n)
					SgemmPost(pool(th), false, true, m, n, kk, a, kk, b, kk, bias, got, n, post)
					want := make([]float32, m*n)
					SgemmBias(pool(1), false, true, m, n, kk, a, kk, b, kk, bias, want, n)
					(&countingPost{n: n, count: make([]int, m*n)}).Finish(want, n, 0, m, 0, n)
					same(t, fmt.Sprintf("epilogue %dx%dx%d, %d threads", m, n, kk, th), want, got)
					for i, c := range post.count {
						if c != 1 {
							t.Fatalf("epilogue %dx%dx%d, %d threads: element %d finished %d times", m, n, kk, th, i, c)
						}
					}
				}
			}
			if v == "bf16" || v == "amx" {
				return // bfloat16 is not split
			}
			if split == 0 {
				t.Errorf("%s: no product was split over K", v)
			}
		})
	}
}
