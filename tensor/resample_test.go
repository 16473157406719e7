package tensor

import (
	"math"
	"testing"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// Upsample2D repeats each pixel over its block (checked against the
// definition), BlockSum2D is its adjoint (<up(x), y> = <x, sum(y)> in
// float64), and both give the same bits at 1, 2 and 3 threads.
func TestUpsampleBlockSum(t *testing.T) {
	// Images of no channels: nothing to do, nothing read.
	BlockSum2D(nil, nil, 1, 2, 2, 0, 2, 1)
	Upsample2D(nil, nil, 1, 2, 2, 0, 2, 1)
	defer parallel.SetThreads(parallel.Default().Threads())
	rng := NewRNG(7)
	for _, s := range []struct{ n, h, w, c, f int }{{2, 3, 5, 4, 2}, {3, 7, 7, 32, 2}, {1, 2, 3, 5, 3}, {2, 14, 14, 33, 2}, {2, 4, 6, 64, 2}} {
		x := make([]float32, s.n*s.h*s.w*s.c)
		y := make([]float32, len(x)*s.f*s.f)
		rng.Normal(x, 0, 1)
		rng.Normal(y, 0, 1)
		var ref [2][]float32
		for th := 1; th <= 3; th++ {
			parallel.SetThreads(th)
			up, sum := make([]float32, len(y)), make([]float32, len(x))
			Upsample2D(up, x, s.n, s.h, s.w, s.c, s.f, 1.5)
			BlockSum2D(sum, y, s.n, s.h, s.w, s.c, s.f, 0.5)
			if th == 1 {
				ref = [2][]float32{up, sum}
				H, W := s.h*s.f, s.w*s.f
				var lhs, rhs float64
				for i := range s.n {
					for yy := range H {
						for xx := range W {
							for ch := range s.c {
								o := ((i*H+yy)*W+xx)*s.c + ch
								want := x[((i*s.h+yy/s.f)*s.w+xx/s.f)*s.c+ch] * 1.5
								if up[o] != want {
									t.Fatalf("%+v: up[%d] = %v, want %v", s, o, up[o], want)
								}
								lhs += float64(up[o]) * float64(y[o])
							}
						}
					}
				}
				for i := range x {
					rhs += float64(x[i]) * float64(sum[i]) * 3 // 1.5 / 0.5
				}
				// The block sums, in the definition's order, to the bit.
				for i := range s.n {
					for yy := range s.h {
						for xx := range s.w {
							for ch := range s.c {
								var want float32
								for fy := range s.f {
									for fx := range s.f {
										want += y[((i*H+yy*s.f+fy)*W+xx*s.f+fx)*s.c+ch]
									}
								}
								want *= 0.5
								if o := ((i*s.h+yy)*s.w+xx)*s.c + ch; math.Float32bits(sum[o]) != math.Float32bits(want) {
									t.Fatalf("%+v: sum[%d] = %v, want %v", s, o, sum[o], want)
								}
							}
						}
					}
				}
				if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
					t.Fatalf("%+v: <up x, y> = %v, <x, sum y> = %v", s, lhs, rhs)
				}
				continue
			}
			for k, got := range [2][]float32{up, sum} {
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(ref[k][i]) {
						t.Fatalf("%+v at %d threads: result %d differs at %d", s, th, k, i)
					}
				}
			}
		}
	}
}
