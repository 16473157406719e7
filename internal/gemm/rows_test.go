package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// storedRows serves the rows of a stored row-major matrix, counting calls.
type storedRows struct {
	m    []float32
	cols int
}

func (s *storedRows) Row(dst []float32, i, p0 int) {
	copy(dst, s.m[i*s.cols+p0:i*s.cols+p0+len(dst)])
}

// A product with an operand given by its rows is bit-identical to the same
// product on the stored operand, on every kernel, at every thread count, on
// shapes with edges, several K chunks and matrix-vector products.
func TestSgemmRowsMatchesStored(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	shapes := [][3]int{{1, 1, 1}, {13, 7, 5}, {1, 40, 300}, {40, 1, 300}, {37, 45, 600}, {200, 70, 531}, {64, 576, 2048}}
	for _, k := range Available() {
		t.Run(k.String(), func(t *testing.T) {
			useKernel(t, k)
			for _, sh := range shapes {
				m, n, kk := sh[0], sh[1], sh[2]
				a, b := randSlice(rng, m*kk), randSlice(rng, kk*n)
				bt := randSlice(rng, n*kk) // B stored transposed
				at := randSlice(rng, kk*m) // A stored transposed
				c0 := randSlice(rng, m*n)
				for _, threads := range []int{1, 2, 3} {
					p := pool(threads)
					for _, beta := range []float32{0, 1} {
						name := fmt.Sprintf("%dx%dx%d threads %d beta %v", m, n, kk, threads, beta)
						for _, transB := range []bool{false, true} {
							bb, ldb := b, n
							if transB {
								bb, ldb = bt, kk
							}
							want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
							Sgemm(p, false, transB, m, n, kk, 0.5, a, kk, bb, ldb, beta, want, n)
							SgemmRowsA(p, m, n, kk, 0.5, &storedRows{a, kk}, transB, bb, ldb, beta, got, n)
							same(t, name+" rows of A", want, got)
						}
						for _, transA := range []bool{false, true} {
							aa, lda := a, kk
							if transA {
								aa, lda = at, m
							}
							want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
							Sgemm(p, transA, false, m, n, kk, 0.5, aa, lda, b, n, beta, want, n)
							SgemmRowsB(p, transA, m, n, kk, 0.5, aa, lda, &storedRows{b, n}, beta, got, n)
							same(t, name+" rows of B", want, got)
						}
					}
				}
			}
		})
	}
}

func same(t *testing.T, what string, want, got []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("%s: element %d is %v, stored operand gives %v", what, i, got[i], want[i])
		}
	}
}

// Steady-state products with computed operands allocate nothing.
func TestSgemmRowsNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, n, k := 96, 64, 300
	a, b, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
	ra, rb := &storedRows{a, k}, &storedRows{b, n}
	p := pool(2)
	SgemmRowsA(p, m, n, k, 1, ra, false, b, n, 0, c, n)
	SgemmRowsB(p, false, m, n, k, 1, a, k, rb, 0, c, n)
	if allocs := testing.AllocsPerRun(10, func() {
		SgemmRowsA(p, m, n, k, 1, ra, false, b, n, 0, c, n)
		SgemmRowsB(p, false, m, n, k, 1, a, k, rb, 0, c, n)
		SgemmRowsA(p, 1, n, k, 1, ra, false, b, n, 0, c, n)
	}); allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}
