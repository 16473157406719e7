package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// countingPost is an epilogue that maps every element through a
// nonlinear function and counts how often each one was finished.
type countingPost struct {
	n     int
	count []int
}

func (p *countingPost) Finish(c []float32, ldc, i0, rows, j0, cols int) {
	for r := range rows {
		for x := range cols {
			v := c[r*ldc+x]
			if v < 0 {
				v *= -0.25
			}
			c[r*ldc+x] = v + 1
			p.count[(i0+r)*p.n+j0+x]++
		}
	}
}

// SgemmPost gives the bits of the product followed by its epilogue over
// all of C, finishing every element exactly once, on every kernel and in
// bfloat16, at 1-3 threads, with and without a bias, on shapes with edge
// tiles, several K chunks (also on the resident path), no K, and
// matrix-vector products.
func TestSgemmPost(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	shapes := [][3]int{{1, 9, 30}, {9, 1, 30}, {13, 7, 5}, {5, 6, 0}, {37, 45, 600}, {512, 128, 128}, {200, 70, 1100}, {300, 33, 64}}
	for _, v := range append(variants(), "resident") {
		t.Run(v, func(t *testing.T) {
			useVariant(t, v)
			for _, sh := range shapes {
				m, n, kk := sh[0], sh[1], sh[2]
				for tr := range 8 {
					transA, transB, withBias := tr&1 != 0, tr&2 != 0, tr&4 != 0
					a, b := randSlice(rng, m*kk), randSlice(rng, n*kk)
					var bias []float32
					if withBias {
						bias = randSlice(rng, n)
					}
					lda, ldb := max(kk, 1), n
					if transA {
						lda = m
					}
					if transB {
						ldb = max(kk, 1)
					}
					want := randSlice(rng, m*n)
					if withBias {
						SgemmBias(pool(1), transA, transB, m, n, kk, a, lda, b, ldb, bias, want, n)
					} else {
						Sgemm(pool(1), transA, transB, m, n, kk, 1, a, lda, b, ldb, 0, want, n)
					}
					ref := &countingPost{n: n, count: make([]int, m*n)}
					ref.Finish(want, n, 0, m, 0, n)
					for _, threads := range []int{1, 2, 3} {
						what := fmt.Sprintf("%dx%dx%d transA %v transB %v bias %v threads %d", m, n, kk, transA, transB, withBias, threads)
						got := randSlice(rng, m*n)
						post := &countingPost{n: n, count: make([]int, m*n)}
						SgemmPost(pool(threads), transA, transB, m, n, kk, a, lda, b, ldb, bias, got, n, post)
						same(t, what, want, got)
						for i, c := range post.count {
							if c != 1 {
								t.Fatalf("%s: element (%d, %d) finished %d times, want 1", what, i/n, i%n, c)
							}
						}
					}
				}
			}
		})
	}
}

// SgemmRowsAPost gives the bits of SgemmRowsA (or SgemmRowsABias)
// followed by its epilogue over all of C, each element finished once, with
// A gathered by rows or read in place, on every kernel and in bfloat16.
func TestSgemmRowsAPost(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	shapes := [][3]int{{1, 9, 64}, {13, 7, 5}, {37, 45, 600}, {200, 70, 531}, {300, 64, 256}}
	for _, v := range variants() {
		t.Run(v, func(t *testing.T) {
			useVariant(t, v)
			for _, sh := range shapes {
				m, n, kk := sh[0], sh[1], sh[2]
				a, b := randSlice(rng, m*kk), randSlice(rng, n*kk)
				for tr := range 4 {
					inPlace, withBias := tr&1 != 0, tr&2 != 0
					var rows Rows = &storedRows{a, kk}
					if inPlace {
						rows = &stridedRows{storedRows{a, kk}, 64, 5, true}
					}
					var bias []float32
					if withBias {
						bias = randSlice(rng, n)
					}
					want := randSlice(rng, m*n)
					if withBias {
						SgemmRowsABias(pool(1), m, n, kk, rows, true, b, kk, bias, want, n)
					} else {
						SgemmRowsA(pool(1), m, n, kk, 1, rows, true, b, kk, 0, want, n)
					}
					(&countingPost{n: n, count: make([]int, m*n)}).Finish(want, n, 0, m, 0, n)
					for _, threads := range []int{1, 2, 3} {
						what := fmt.Sprintf("%dx%dx%d in place %v bias %v threads %d", m, n, kk, inPlace, withBias, threads)
						got := randSlice(rng, m*n)
						post := &countingPost{n: n, count: make([]int, m*n)}
						SgemmRowsAPost(pool(threads), m, n, kk, rows, true, b, kk, bias, got, n, post)
						same(t, what, want, got)
						for i, c := range post.count {
							if c != 1 {
								t.Fatalf("%s: element (%d, %d) finished %d times, want 1", what, i/n, i%n, c)
							}
						}
					}
				}
			}
		})
	}
}
