package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The parts of a product that share its packed op(B) (sharedB) give the
// bits of one thread, whether they run together or one after another (the
// first to run then takes every chunk and packs every unit itself, from
// its own share on, wrapping around), on every kernel and in bfloat16,
// for B stored either way, computed by rows or by the rows of Bᵀ, with A
// read in place, and on the resident path (B kept whole, several K
// chunks: forced here by a larger residentBytes). And each part packs
// its own where shareB is off.
func TestSharedPackMatchesOneThread(t *testing.T) {
	// Shared whatever this CPU's L2 (shareB).
	defer func(v bool) { shareB = v }(shareB)
	shareB = true
	rng := rand.New(rand.NewPCG(21, 22))
	// n of 768 or more: two units of 128 columns a thread at 3 threads.
	shapes := [][3]int{{1501, 800, 300}, {2000, 1000, 70}, {1024, 1024, 260}, {3001, 777, 600}}
	for _, v := range append(variants(), "resident") {
		t.Run(v, func(t *testing.T) {
			useVariant(t, v)
			shapes := shapes
			if v == Generic.String() {
				shapes = shapes[1:2] // the Go kernel is slow
			}
			for _, sh := range shapes {
				m, n, kk := sh[0], sh[1], sh[2]
				a, b, bt := randSlice(rng, m*kk), randSlice(rng, kk*n), randSlice(rng, n*kk)
				c0 := randSlice(rng, m*n)
				products := map[string]func(threads int) []float32{
					"B": func(th int) []float32 {
						c := append([]float32(nil), c0...)
						Sgemm(pool(th), false, false, m, n, kk, 0.5, a, kk, b, n, 1, c, n)
						return c
					},
					"Bt": func(th int) []float32 {
						c := append([]float32(nil), c0...)
						Sgemm(pool(th), false, true, m, n, kk, 1, a, kk, bt, kk, 0, c, n)
						return c
					},
					"rows B": func(th int) []float32 {
						c := append([]float32(nil), c0...)
						SgemmRowsB(pool(th), false, m, n, kk, 1, a, kk, &storedRows{b, n}, 1, c, n)
						return c
					},
					"rows Bt": func(th int) []float32 {
						c := append([]float32(nil), c0...)
						SgemmRowsBT(pool(th), false, m, n, kk, 1, a, kk, &storedRows{bt, kk}, 1, c, n)
						return c
					},
					"A in place": func(th int) []float32 {
						c := append([]float32(nil), c0...)
						SgemmRowsA(pool(th), m, n, kk, 1, &stridedRows{storedRows{a, kk}, 64, 5, true}, false, b, n, 1, c, n)
						return c
					},
				}
				for name, f := range products {
					what := fmt.Sprintf("%s %dx%dx%d", name, m, n, kk)
					want := f(1)
					var shared, packed int
					testParts = func(j *job, parts int) {
						if j.sb != nil {
							shared++
						}
						// The last part runs first and alone.
						for p := parts - 1; p >= 0; p-- {
							j.Run(p, 0, 1)
						}
						if j.sb != nil {
							for i := range j.sb.state[:j.sb.units*j.nk] {
								if j.sb.state[i].Load() == unitPacked {
									packed++
								}
							}
						}
					}
					got := f(3)
					testParts = nil
					same(t, what+", parts one after another", want, got)
					if shared == 0 {
						t.Errorf("%s: op(B) was not shared at 3 threads", what)
					} else if packed == 0 {
						t.Errorf("%s: no unit of the shared op(B) was packed", what)
					}
					same(t, what+", parts together", want, f(3))
					// Not shared (shareB off): each part packs its own.
					shareB, shared = false, 0
					testParts = func(j *job, parts int) {
						if j.sb != nil {
							shared++
						}
						for p := range parts {
							j.Run(p, 0, 1)
						}
					}
					got = f(3)
					testParts, shareB = nil, true
					same(t, what+", each part packing", want, got)
					if shared != 0 {
						t.Errorf("%s: op(B) shared with shareB off", what)
					}
				}
			}
		})
	}
}
