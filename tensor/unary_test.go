package tensor

import (
	"math"
	"testing"

	"github.com/minmaxgan/minmax/internal/parallel"
)

func TestReLUAndMask(t *testing.T) {
	neg0 := float32(math.Copysign(0, -1))
	x := []float32{-2, -1e-30, neg0, 0, 1e-30, 3, float32(math.Inf(1)), float32(math.Inf(-1))}
	g := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	want := []float32{0, 0, 0, 0, 1e-30, 3, float32(math.Inf(1)), 0}
	wantMask := []float32{0, 0, 0, 0, 5, 6, 7, 0}
	y := make([]float32, len(x))
	ReLU(y, x)
	m := make([]float32, len(x))
	ReLUMask(m, x, g)
	for i := range x {
		if y[i] != want[i] || math.Signbit(float64(y[i])) {
			t.Errorf("ReLU(%g) = %g, want %g", x[i], y[i], want[i])
		}
		if m[i] != wantMask[i] {
			t.Errorf("ReLUMask(%g, %g) = %g, want %g", x[i], g[i], m[i], wantMask[i])
		}
	}
}

// SumSquares is exact on small integers, within a few float64 roundings
// of the sum of the float64 squares elsewhere, and the AVX2 kernel gives
// the bits of the Go loop at every length around its 32-element steps.
func TestSumSquares(t *testing.T) {
	for n := 0; n < 11; n++ {
		x := make([]float32, n)
		var want float64
		for i := range x {
			x[i] = float32(i) - 3.5
			want += float64(x[i]) * float64(x[i])
		}
		if got := SumSquares(x); got != want {
			t.Fatalf("n=%d: %v, want %v", n, got, want)
		}
	}
	rng := NewRNG(5)
	for _, n := range []int{1, 31, 32, 33, 63, 64, 95, 1000, 4099, 100003} {
		x := make([]float32, n)
		rng.Normal(x, 0, 3)
		for i := range x {
			x[i] *= float32(math.Ldexp(1, i%23-11)) // squares of many scales
		}
		got := SumSquares(x)
		prev := useAVX2
		useAVX2 = false
		goBits := SumSquares(x)
		useAVX2 = prev
		if got != goBits {
			t.Errorf("n=%d: %v with the kernels, %v with the Go loop", n, got, goBits)
		}
		var ref, comp float64 // Kahan-compensated reference
		for _, v := range x {
			y := float64(v)*float64(v) - comp
			s := ref + y
			comp = (s - ref) - y
			ref = s
		}
		if d := math.Abs(got-ref) / ref; d > float64(n)*0x1p-52 {
			t.Errorf("n=%d: %v, reference %v (relative error %.2g)", n, got, ref, d)
		}
	}
}

// Tanh and Sigmoid spread over the pool give each element the bits of
// the float64 functions (math.Tanh, sigmoid64) rounded to float32, at 1
// and 2 threads, on arrays below and above the size they are split at.
func TestTanhSigmoidMatchFloat64(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	rng := NewRNG(3)
	for _, n := range []int{1, 100, 5000, 70000} {
		x := make([]float32, n)
		rng.Normal(x, 0, 3)
		x[0] = float32(math.Inf(1))
		for _, threads := range []int{1, 2} {
			parallel.SetThreads(threads)
			th, sg := make([]float32, n), make([]float32, n)
			Tanh(th, x)
			Sigmoid(sg, x)
			for i, v := range x {
				if want := float32(math.Tanh(float64(v))); math.Float32bits(th[i]) != math.Float32bits(want) {
					t.Fatalf("n %d, %d threads: tanh(%v) = %v, want %v", n, threads, v, th[i], want)
				}
				if want := float32(sigmoid64(float64(v))); math.Float32bits(sg[i]) != math.Float32bits(want) {
					t.Fatalf("n %d, %d threads: sigmoid(%v) = %v, want %v", n, threads, v, sg[i], want)
				}
			}
		}
	}
}

// The chunked float64 path (map64) gives each element the bits of the
// plain loop, float32(f(float64(v))), on lengths around its chunk and on
// special values (±0, ±Inf, NaN, subnormals, the largest float32).
func TestMap64MatchesElementwise(t *testing.T) {
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), 1e-45, -1e-45, 1e-39, math.MaxFloat32, -math.MaxFloat32, 88.7, -103.9}
	fns := []struct {
		name string
		op   func(dst, x []float32)
		f    func(float64) float64
	}{
		{"Softplus", Softplus, Softplus64},
		{"Exp", Exp, math.Exp},
		{"Log", Log, math.Log},
		{"tanhSerial", tanhSerial, math.Tanh},
		{"sigmoidSerial", sigmoidSerial, sigmoid64},
	}
	rng := NewRNG(5)
	for _, n := range []int{0, 1, map64Chunk - 1, map64Chunk, map64Chunk + 1, 3*map64Chunk + 17} {
		x := make([]float32, n)
		rng.Normal(x, 0, 4)
		for i := 0; i < n && i < len(specials); i++ {
			x[(i*7)%n] = specials[i]
		}
		for _, fn := range fns {
			got := make([]float32, n)
			fn.op(got, x)
			for i, v := range x {
				want := float32(fn.f(float64(v)))
				if math.Float32bits(got[i]) != math.Float32bits(want) && !(want != want && got[i] != got[i]) {
					t.Fatalf("%s, n %d: element %d (%v) = %v, want %v", fn.name, n, i, v, got[i], want)
				}
			}
		}
	}
}

// BenchmarkSoftplus times Softplus on a batch of discriminator outputs
// (512 values), per value.
func BenchmarkSoftplus(b *testing.B) {
	x, dst := make([]float32, 512), make([]float32, 512)
	NewRNG(1).Normal(x, 0, 3)
	for range b.N {
		Softplus(dst, x)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/512, "ns/value")
}
