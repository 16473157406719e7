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
					})
				}
			}
		}
	}
}
