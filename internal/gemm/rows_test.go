package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// variants names every kernel of this CPU, then "bf16" and "amx" where it
// has the AVX-512 BF16 and AMX bfloat16 kernels (useVariant).
func variants() []string {
	var v []string
	for _, k := range Available() {
		v = append(v, k.String())
	}
	if bf16DotImpl != nil {
		v = append(v, "bf16")
	}
	if amxImpl != nil {
		v = append(v, "amx")
	}
	return v
}

// useVariant makes the variant named v (see variants) current for t;
// "resident" keeps the current kernel and makes every B with more than
// one K chunk resident (blockResident) by a larger residentBytes.
func useVariant(t *testing.T, v string) {
	switch v {
	case "resident":
		save := residentBytes
		residentBytes = 8 << 20
		t.Cleanup(func() { residentBytes = save })
		return
	case "bf16":
		useBF16Dot(t)
		return
	case "amx":
		useAMX(t)
		return
	}
	for _, k := range Available() {
		if k.String() == v {
			useKernel(t, k)
		}
	}
}

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
	shapes := [][3]int{{1, 1, 1}, {13, 7, 5}, {1, 40, 300}, {40, 1, 300}, {1, 3001, 1500}, {3001, 1, 1500}, {37, 45, 600}, {200, 70, 531}, {64, 576, 2048}}
	for _, v := range variants() {
		t.Run(v, func(t *testing.T) {
			useVariant(t, v)
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
			t.Fatalf("%s: element %d is %v, want %v", what, i, got[i], want[i])
		}
	}
}

// Steady-state products with computed operands allocate nothing.
func TestSgemmRowsNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, n, k := 96, 64, 300
	a, b, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
	ra, rb := &storedRows{a, k}, &storedRows{b, n}
	rs := &stridedRows{storedRows{a, k}, 64, 13, true} // read in place, with gathered rows
	p := pool(2)
	SgemmRowsA(p, m, n, k, 1, ra, false, b, n, 0, c, n)
	SgemmRowsA(p, m, n, k, 1, rs, false, b, n, 0, c, n)
	SgemmRowsB(p, false, m, n, k, 1, a, k, rb, 0, c, n)
	if allocs := testing.AllocsPerRun(10, func() {
		SgemmRowsA(p, m, n, k, 1, ra, false, b, n, 0, c, n)
		SgemmRowsA(p, m, n, k, 1, rs, false, b, n, 0, c, n)
		SgemmRowsB(p, false, m, n, k, 1, a, k, rb, 0, c, n)
		SgemmRowsA(p, 1, n, k, 1, ra, false, b, n, 0, c, n)
	}); allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

// stridedRows serves a stored matrix as strided runs cut at awkward
// places: spans of at most span columns (cut at multiples of span) and
// runs of at most run rows (cut at multiples of run); with holes, every
// other run (by its row block and column span) is one for Row (src nil),
// as a convolution's patches over the padding are.
type stridedRows struct {
	storedRows
	span, run int
	holes     bool
}

func (s *stridedRows) Span(p0, kc int) int { return min(kc, s.span-p0%s.span) }

func (s *stridedRows) Run(i0, n, p0 int) ([]float32, int, int) {
	count := min(n, s.run-i0%s.run)
	if s.holes && (i0/s.run+p0/s.span)%2 == 1 {
		return nil, 0, count
	}
	return s.m[i0*s.cols+p0:], s.cols, count
}

// Packing from strided runs (as A or as B), or reading them in place (A,
// spans of 32 columns or more on AVX-512), is bit-identical to packing
// stored rows, whatever the cuts and holes (runs shorter than the 4 rows
// the assembly packers take, spans shorter than their 8 columns).
func TestSgemmStridedRowsMatchesStored(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, k := range Available() {
		t.Run(k.String(), func(t *testing.T) {
			useKernel(t, k)
			for _, sh := range [][3]int{{13, 7, 5}, {37, 45, 600}, {200, 70, 531}, {64, 40, 1000}} {
				m, n, kk := sh[0], sh[1], sh[2]
				a, b, c0 := randSlice(rng, m*kk), randSlice(rng, kk*n), randSlice(rng, m*n)
				want := append([]float32(nil), c0...)
				Sgemm(pool(2), false, false, m, n, kk, 1, a, kk, b, n, 1, want, n)
				// The same matrix as B: C = eᵀ·A, n×kk, for e stored m×n.
				e := randSlice(rng, m*n)
				wantB := make([]float32, n*kk)
				Sgemm(pool(2), true, false, n, kk, m, 1, e, n, a, kk, 0, wantB, kk)
				for _, cut := range [][2]int{{1, 1}, {3, 2}, {7, 5}, {8, 4}, {64, 13}, {192, 32}, {kk, m}} {
					for _, holes := range []bool{false, true} {
						what := fmt.Sprintf("%dx%dx%d spans %d runs %d holes %v", m, n, kk, cut[0], cut[1], holes)
						got := append([]float32(nil), c0...)
						SgemmRowsA(pool(2), m, n, kk, 1, &stridedRows{storedRows{a, kk}, cut[0], cut[1], holes}, false, b, n, 1, got, n)
						same(t, what, want, got)
						gotB := make([]float32, n*kk)
						SgemmRowsB(pool(2), true, n, kk, m, 1, e, n, &stridedRows{storedRows{a, kk}, cut[0], cut[1], holes}, 0, gotB, kk)
						same(t, what+" as B", wantB, gotB)
					}
				}
			}
		})
	}
}

// A bias filled tile by tile gives the same bits as filling C first.
func TestSgemmRowsABias(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, k := range Available() {
		t.Run(k.String(), func(t *testing.T) {
			useKernel(t, k)
			for _, sh := range [][3]int{{1, 9, 30}, {9, 1, 30}, {13, 7, 5}, {37, 45, 600}, {200, 70, 531}, {5, 6, 0}} {
				m, n, kk := sh[0], sh[1], sh[2]
				a, bt, bias := randSlice(rng, m*kk), randSlice(rng, n*kk), randSlice(rng, n)
				want, got := randSlice(rng, m*n), randSlice(rng, m*n)
				for i := range m {
					copy(want[i*n:(i+1)*n], bias)
				}
				for _, threads := range []int{1, 2, 3} {
					SgemmRowsA(pool(threads), m, n, kk, 1, &storedRows{a, max(kk, 1)}, true, bt, max(kk, 1), 1, want, n)
					// Strided runs with holes: read in place where the
					// kernel can (spans of 64), the bias in the tiles.
					SgemmRowsABias(pool(threads), m, n, kk, &stridedRows{storedRows{a, max(kk, 1)}, 64, 13, true}, true, bt, max(kk, 1), bias, got, n)
					same(t, fmt.Sprintf("%dx%dx%d threads %d", m, n, kk, threads), want, got)
					for i := range m {
						copy(want[i*n:(i+1)*n], bias)
					}
				}
			}
		})
	}
}

// A B given by the rows of Bᵀ (SgemmRowsBT), stored or strided with
// holes, gives the bits of Sgemm on B stored, with A plain or transposed,
// at every thread count; products with one row or column take the
// matrix-vector path.
func TestSgemmRowsBTMatchesStored(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, k := range Available() {
		t.Run(k.String(), func(t *testing.T) {
			useKernel(t, k)
			for _, sh := range [][3]int{{3, 70, 576}, {4, 1000, 27}, {13, 45, 600}, {1, 33, 40}, {1, 3001, 1500}, {5, 1, 17}, {12, 64, 300}} {
				m, n, kk := sh[0], sh[1], sh[2]
				bt := randSlice(rng, n*kk) // Bᵀ, n×k
				c0 := randSlice(rng, m*n)
				for _, transA := range []bool{false, true} {
					a := randSlice(rng, m*kk)
					lda := kk
					if transA {
						lda = m
					}
					want := append([]float32(nil), c0...)
					Sgemm(pool(1), transA, true, m, n, kk, 1, a, lda, bt, kk, 1, want, n)
					for _, th := range []int{1, 2, 3} {
						for _, b := range []Rows{&storedRows{bt, kk}, &stridedRows{storedRows{bt, kk}, 7, 5, true}} {
							got := append([]float32(nil), c0...)
							SgemmRowsBT(pool(th), transA, m, n, kk, 1, a, lda, b, 1, got, n)
							same(t, fmt.Sprintf("%dx%dx%d transA %v threads %d %T", m, n, kk, transA, th, b), want, got)
						}
					}
				}
			}
		})
	}
}

// stridedRowsBF16 is stridedRows with its values also held rounded to
// bfloat16 (StridedRowsBF16), with the same runs and holes.
type stridedRowsBF16 struct {
	stridedRows
	b []uint16
}

func (s *stridedRowsBF16) RunBF16(i0, n, p0 int) ([]uint16, int, int) {
	src, ld, count := s.Run(i0, n, p0)
	if src == nil {
		return nil, 0, count
	}
	return s.b[i0*s.cols+p0:], ld, count
}

// In bfloat16, strided runs read in place from their rounded copy (and
// the holes gathered and rounded) give the bits of the packed product,
// which rounds every value as it packs; spans of odd length make a chunk
// fall back to packing.
func TestSgemmStridedRowsBF16MatchesPacked(t *testing.T) {
	useBF16Dot(t)
	rng := rand.New(rand.NewPCG(11, 12))
	for _, sh := range [][3]int{{37, 45, 600}, {200, 70, 532}, {64, 128, 1024}, {25, 33, 96}} {
		m, n, kk := sh[0], sh[1], sh[2]
		a, b, c0 := randSlice(rng, m*kk), randSlice(rng, kk*n), randSlice(rng, m*n)
		ab := make([]uint16, len(a))
		ToBF16(ab, a)
		for _, cut := range [][2]int{{64, 13}, {256, 12}, {kk, m}, {33, 7}} {
			for _, holes := range []bool{false, true} {
				what := fmt.Sprintf("%dx%dx%d spans %d runs %d holes %v", m, n, kk, cut[0], cut[1], holes)
				s := stridedRows{storedRows{a, kk}, cut[0], cut[1], holes}
				for _, threads := range []int{1, 2} {
					want := append([]float32(nil), c0...)
					SgemmRowsA(pool(threads), m, n, kk, 1, &s, false, b, n, 1, want, n)
					got := append([]float32(nil), c0...)
					SgemmRowsA(pool(threads), m, n, kk, 1, &stridedRowsBF16{s, ab}, false, b, n, 1, got, n)
					same(t, fmt.Sprintf("%s threads %d", what, threads), want, got)
				}
			}
		}
	}
}

// SgemmBias gives the bits of filling C with the bias then Sgemm with
// beta 1, for every transposition, at every thread count, on the paths
// that tile C and those that do not (one row or column, k = 0), and in
// bfloat16.
func TestSgemmBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	check := func(t *testing.T) {
		for _, sh := range [][3]int{{1, 9, 30}, {9, 1, 30}, {13, 7, 5}, {37, 45, 600}, {200, 70, 531}, {5, 6, 0}, {300, 33, 64}} {
			m, n, kk := sh[0], sh[1], sh[2]
			for tr := range 4 {
				transA, transB := tr&1 != 0, tr&2 != 0
				a, b, bias := randSlice(rng, m*kk), randSlice(rng, n*kk), randSlice(rng, n)
				lda, ldb := max(kk, 1), n
				if transA {
					lda = m
				}
				if transB {
					ldb = max(kk, 1)
				}
				want, got := randSlice(rng, m*n), randSlice(rng, m*n)
				for i := range m {
					copy(want[i*n:(i+1)*n], bias)
				}
				Sgemm(pool(1), transA, transB, m, n, kk, 1, a, lda, b, ldb, 1, want, n)
				for _, threads := range []int{1, 2, 3} {
					SgemmBias(pool(threads), transA, transB, m, n, kk, a, lda, b, ldb, bias, got, n)
					same(t, fmt.Sprintf("%dx%dx%d transA %v transB %v threads %d", m, n, kk, transA, transB, threads), want, got)
				}
			}
		}
	}
	for _, k := range Available() {
		t.Run(k.String(), func(t *testing.T) {
			useKernel(t, k)
			check(t)
		})
	}
	if SetPrecision(BFloat16) == nil {
		defer SetPrecision(Float32)
		t.Run("bf16", check)
	}
}

// A stored, untransposed A read in place by the rows kernel (inPlace)
// gives the bits of the packed A: every kernel, shapes with edges in M
// and N, one and several K chunks, rows padded (lda > k), beta 0, 1 and
// 0.5, with a bias, on one thread (where it applies) and two; shapes it
// leaves packed (alpha ≠ 1, B wider than inPlaceMaxN, spans under
// rowsMinSpan, rows 4 KB apart) agree too.
func TestInPlaceAMatchesPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	defer func() { storedInPlace = true }()
	for _, k := range Available() {
		t.Run(k.String(), func(t *testing.T) {
			useKernel(t, k)
			for _, sh := range [][4]int{{512, 128, 256, 256}, {37, 45, 600, 603}, {200, 70, 531, 531}, {13, 33, 40, 41}, {25, 600, 64, 64}, {30, 20, 20, 20}, {100, 64, 16, 16}, {24, 64, 1024, 1024}} {
				m, n, kk, lda := sh[0], sh[1], sh[2], sh[3]
				a, b, bias := randSlice(rng, m*lda), randSlice(rng, kk*n), randSlice(rng, n)
				c0 := randSlice(rng, m*n)
				for _, threads := range []int{1, 2} {
					for _, alpha := range []float32{1, 0.75} {
						for _, beta := range []float32{0, 1, 0.5} {
							var res [2][]float32
							for i, on := range []bool{false, true} {
								storedInPlace = on
								c := append([]float32(nil), c0...)
								Sgemm(pool(threads), false, false, m, n, kk, alpha, a, lda, b, n, beta, c, n)
								res[i] = c
							}
							same(t, fmt.Sprintf("%dx%dx%d lda %d threads %d alpha %v beta %v", m, n, kk, lda, threads, alpha, beta), res[0], res[1])
						}
					}
					var res [2][]float32
					for i, on := range []bool{false, true} {
						storedInPlace = on
						c := make([]float32, m*n)
						SgemmBias(pool(threads), false, false, m, n, kk, a, lda, b, n, bias, c, n)
						res[i] = c
					}
					same(t, fmt.Sprintf("bias %dx%dx%d lda %d threads %d", m, n, kk, lda, threads), res[0], res[1])
				}
			}
		})
	}
}
