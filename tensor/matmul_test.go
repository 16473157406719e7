package tensor

import (
	"math"
	"testing"
)

// MatMul against a naive product on the thin shapes autograd produces
// (vectors on either side, every transpose, with and without accumulate).
func TestMatMulThinShapes(t *testing.T) {
	rng := NewRNG(9)
	for _, s := range [][3]int{{6, 1, 5}, {1, 5, 6}, {5, 1, 6}, {1, 1, 7}, {6, 5, 1}, {1, 6, 1}, {3, 4, 5}} {
		m, n, k := s[0], s[1], s[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for _, acc := range []bool{false, true} {
					a, b := make([]float32, m*k), make([]float32, k*n)
					rng.Normal(a, 0, 1)
					rng.Normal(b, 0, 1)
					c := make([]float32, m*n)
					rng.Normal(c, 0, 1)
					want := make([]float64, m*n)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							var s float64
							if acc {
								s = float64(c[i*n+j])
							}
							for p := 0; p < k; p++ {
								av := a[i*k+p]
								if ta {
									av = a[p*m+i]
								}
								bv := b[p*n+j]
								if tb {
									bv = b[j*k+p]
								}
								s += float64(av) * float64(bv)
							}
							want[i*n+j] = s
						}
					}
					MatMul(c, a, b, m, n, k, ta, tb, acc)
					for i := range c {
						if math.Abs(float64(c[i])-want[i]) > 1e-4 {
							t.Fatalf("m=%d n=%d k=%d ta=%v tb=%v acc=%v: element %d = %v, want %v", m, n, k, ta, tb, acc, i, c[i], want[i])
						}
					}
				}
			}
		}
	}
}
