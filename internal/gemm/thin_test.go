package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The thin path (a dimension of a few: K, M, or N with A stored either
// way) gives the tiled path's bits: every form, transposes, K in one and
// several chunks, row counts that leave masked columns, beta 0 and 1, a
// bias, an epilogue (finishing each element once), padded leading
// dimensions, signed zeros and a NaN, at 1 and 2 threads. A mistake in
// the chunks' store modes, or one chunk in place of the K chunks, was
// caught.
func TestThinMatchesTiled(t *testing.T) {
	for _, kern := range Available() {
		useKernel(t, kern)
		if current.Load().rowVec == nil {
			continue
		}
		t.Run(kern.String(), testThinMatchesTiled)
	}
}

func testThinMatchesTiled(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 41))
	shapes := [][3]int{
		{512, 128, 1}, {512, 128, 2}, {70, 33, 3}, {300, 17, 4}, // K of a few
		{2, 128, 512}, {3, 70, 600}, {4, 5, 40}, {3, 700, 400}, // M of a few (the last tiled where B is stored transposed: thinMaxCopy)
		{512, 2, 128}, {130, 3, 600}, {77, 4, 9}, {65, 2, 64}, // N of a few
	}
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, pad := range []int{0, 3} {
				tc := newCase(rng, tr[0], tr[1], m, n, k, pad, 1)
				// Zeros of both signs and a NaN among the operands.
				tc.a[0], tc.b[len(tc.b)-1] = float32(math.Copysign(0, -1)), 0
				tc.a[len(tc.a)/2] = float32(math.NaN())
				bias := randSlice(rng, n)
				for _, v := range []struct {
					name string
					beta float32
					bias []float32
					post bool
				}{{"beta 0", 0, nil, false}, {"beta 1", 1, nil, false}, {"bias", 1, bias, false}, {"epilogue", 0, nil, true}, {"bias+epilogue", 1, bias, true}} {
					run := func(thin bool, threads int) ([]float32, []int) {
						testThin = thin
						defer func() { testThin = true }()
						c := append([]float32(nil), tc.c0...)
						p := pool(threads)
						switch {
						case v.post:
							post := &countingPost{n: n, count: make([]int, m*n)}
							SgemmPost(p, tc.transA, tc.transB, m, n, k, tc.a, tc.lda, tc.b, tc.ldb, v.bias, c, tc.ldc, post)
							return c, post.count
						case v.bias != nil:
							SgemmBias(p, tc.transA, tc.transB, m, n, k, tc.a, tc.lda, tc.b, tc.ldb, v.bias, c, tc.ldc)
						default:
							Sgemm(p, tc.transA, tc.transB, m, n, k, 1, tc.a, tc.lda, tc.b, tc.ldb, v.beta, c, tc.ldc)
						}
						return c, nil
					}
					want, _ := run(false, 1)
					for _, threads := range []int{1, 2} {
						got, count := run(true, threads)
						where := fmt.Sprintf("%v pad %d, %s, %d threads", tc, pad, v.name, threads)
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s: C[%d] = %v, tiled %v", where, i, got[i], want[i])
							}
						}
						for i, c := range count {
							if c != 1 {
								t.Fatalf("%s: element %d finished %d times", where, i, c)
							}
						}
					}
				}
			}
		}
	}
}
