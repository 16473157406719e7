package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// RowBlocks gives Sgemm's bits for the whole product, in blocks of any
// rows (not multiples of the micro-tile), on every kernel and precision,
// (both bfloat16 kernels where the CPU has them), with B stored either way, K in one chunk or several, and the columns
// in one block or several.
func TestRowBlocksMatchesSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, kern := range Available() {
		for _, v := range []struct {
			prec Precision
			bf16 *impl
		}{{Float32, nil}, {BFloat16, bf16DotImpl}, {BFloat16, amxImpl}} {
			prec := v.prec
			if prec == BFloat16 && (kern != AVX512 || v.bf16 == nil) {
				continue
			}
			name := prec.String()
			if v.bf16 == amxImpl {
				name = "amx"
			}
			for _, s := range []struct{ m, n, k, blockBytes int }{{98, 1024, 128, 0}, {98, 1024, 128, 64 << 10}, {49, 16, 64, 0}, {200, 100, 600, 0},
				{200, 100, 600, 40 << 10}, {60, 70, 3000, 16 << 10}, {13, 33, 7, 0}, {2, 2, 1, 0}} {
				for _, transB := range []bool{false, true} {
					t.Run(fmt.Sprintf("%v/%v/%dx%dx%d/block=%d/tB=%v", kern, name, s.m, s.n, s.k, s.blockBytes, transB), func(t *testing.T) {
						useKernel(t, kern)
						if s.blockBytes > 0 {
							// Column blocks narrower than B, the A panels
							// kept (600) or packed per block (3000).
							defer func(v int) { rowBlocksBytes = v }(rowBlocksBytes)
							rowBlocksBytes = s.blockBytes
						}
						if prec == BFloat16 {
							useBF16Kernel(t, v.bf16)
						}
						a := randSlice(rng, s.m*s.k)
						b := randSlice(rng, s.k*s.n)
						ldb := s.n
						if transB {
							ldb = s.k
						}
						want := make([]float32, s.m*s.n)
						Sgemm(pool(1), false, transB, s.m, s.n, s.k, 1, a, s.k, b, ldb, 0, want, s.n)
						rb := NewRowBlocks(2, s.m, s.n, s.k, a, s.k, transB, b, ldb)
						defer rb.Close()
						ldc := s.n + 3
						for i0, part := 0, 0; i0 < s.m; part = 1 - part {
							i1 := min(s.m, i0+1+rng.IntN(30))
							c := make([]float32, (i1-i0)*ldc)
							for i := range c {
								c[i] = float32(math.NaN()) // overwritten, never read
							}
							rb.Rows(part, i0, i1, c, ldc)
							for i := i0; i < i1; i++ {
								for jj := range s.n {
									if g, w := c[(i-i0)*ldc+jj], want[i*s.n+jj]; math.Float32bits(g) != math.Float32bits(w) {
										t.Fatalf("C[%d][%d] = %v in block [%d, %d), Sgemm %v", i, jj, g, i0, i1, w)
									}
								}
							}
							i0 = i1
						}
						// RowsFolded: the same bits a panel at a time, the
						// panels in order, where B is one column block (the
						// cases with narrow blocks have several).
						mr := rb.PanelRows()
						if (mr == 0) != (s.blockBytes > 0) {
							t.Fatalf("PanelRows() = %d with column blocks of %d bytes", mr, rowBlocksBytes)
						}
						if mr == 0 {
							return
						}
						f := &checkFolder{t: t, want: want, n: s.n, ldc: ldc, buf: make([]float32, mr*ldc)}
						for i0, part := 0, 0; i0 < s.m; part = 1 - part {
							i1 := min(s.m, i0+1+rng.IntN(30))
							f.next = i0
							rb.RowsFolded(part, i0, i1, f.buf, ldc, f)
							if f.next != i1 {
								t.Fatalf("rows [%d, %d) folded up to %d", i0, i1, f.next)
							}
							i0 = i1
						}
					})
				}
			}
		}
	}
}

// checkFolder checks each panel RowsFolded hands it against want (m×n)
// and that the panels come in order, each at most PanelRows long.
type checkFolder struct {
	t         *testing.T
	want, buf []float32
	n, ldc    int
	next      int // the first row of the next panel
}

func (f *checkFolder) Fold(r0, r1 int) {
	if r0 != f.next || r1 <= r0 || (r1-r0-1)*f.ldc+f.n > len(f.buf) {
		f.t.Fatalf("panel [%d, %d), want one from row %d within %d values", r0, r1, f.next, len(f.buf))
	}
	for i := r0; i < r1; i++ {
		for jj := range f.n {
			if g, w := f.buf[(i-r0)*f.ldc+jj], f.want[i*f.n+jj]; math.Float32bits(g) != math.Float32bits(w) {
				f.t.Fatalf("folded C[%d][%d] = %v, Sgemm %v", i, jj, g, w)
			}
		}
	}
	f.next = r1
}
