package tensor

import (
	"fmt"
	"math"
	"testing"

	"github.com/minmaxgan/minmax/internal/parallel"
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

// The fused products give the bits of the product followed by its
// elementwise op: MatMulBiasAct those of MatMulBias (or MatMul) then ReLU
// or LeakyReLU, MatMulMask those of MatMul then ReLUMask, with a mask
// holding zeros of both signs, NaN and subnormals, at 1 and 2 threads.
func TestMatMulFusedMatchesSeparate(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	rng := NewRNG(41)
	for _, s := range [][3]int{{512, 128, 128}, {512, 128, 2}, {512, 2, 128}, {1, 9, 30}, {9, 1, 30}, {37, 45, 600}} {
		m, n, k := s[0], s[1], s[2]
		for tr := range 4 {
			ta, tb := tr&1 != 0, tr&2 != 0
			a, b, bias := make([]float32, m*k), make([]float32, k*n), make([]float32, n)
			mask := make([]float32, m*n)
			rng.Normal(a, 0, 1)
			rng.Normal(b, 0, 1)
			rng.Normal(bias, 0, 1)
			rng.Normal(mask, 0, 1)
			specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), 1e-45, -1e-45}
			for i := 0; i < len(mask); i += 7 {
				mask[i] = specials[i%len(specials)]
			}
			for _, th := range []int{1, 2} {
				parallel.SetThreads(th)
				what := func(op string) string {
					return fmt.Sprintf("%s %dx%dx%d ta=%v tb=%v threads %d", op, m, n, k, ta, tb, th)
				}
				want, got := make([]float32, m*n), make([]float32, m*n)
				for _, act := range []Act{{Kind: ActReLU}, {Kind: ActLeaky, Slope: 0.2}} {
					MatMulBias(want, a, b, bias, m, n, k, ta, tb)
					outOp{act: act}.apply(want)
					MatMulBiasAct(got, a, b, bias, m, n, k, ta, tb, act)
					sameBits(t, what(fmt.Sprintf("MatMulBiasAct %+v", act)), want, got)

					MatMul(want, a, b, m, n, k, ta, tb, false)
					outOp{act: act}.apply(want)
					MatMulBiasAct(got, a, b, nil, m, n, k, ta, tb, act)
					sameBits(t, what(fmt.Sprintf("MatMulBiasAct %+v without bias", act)), want, got)
				}

				MatMul(want, a, b, m, n, k, ta, tb, false)
				ReLUMask(want, mask, want)
				MatMulMask(got, a, b, mask, m, n, k, ta, tb)
				sameBits(t, what("MatMulMask"), want, got)
			}
		}
	}
}

func sameBits(t *testing.T, what string, want, got []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("%s: element %d is %v, want %v", what, i, got[i], want[i])
		}
	}
}
