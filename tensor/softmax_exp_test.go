package tensor

import (
	"math"
	"testing"
)

// expShift is within 2 units in the last place of float32's rounding of
// e^v over the range a softmax uses, exactly 1 at 0, and 0 below the
// lowest normal result and at −Inf; the AVX2 kernel gives its bits.
func TestExpShift(t *testing.T) {
	rng := NewRNG(11)
	vs := []float32{0, -0.0, -1e-30, -1e-7, -0.5, -0.6931472, -1, -10, -87, -87.33, float32(expLowest), -87.34, -100, -1e30, float32(math.Inf(-1))}
	for range 20000 {
		vs = append(vs, -float32(rng.Rand().Float64()*90), -float32(rng.Rand().Float64()*2))
	}
	worst := 0.0
	for _, v := range vs {
		got := expShift(v)
		if v < expLowest {
			if got != 0 {
				t.Fatalf("expShift(%v) = %v, want 0 below the lowest argument", v, got)
			}
			continue
		}
		want := float32(math.Exp(float64(v)))
		ulp := float64(math.Nextafter32(want, 2) - want)
		if d := math.Abs(float64(got)-float64(want)) / ulp; d > worst {
			worst = d
		}
	}
	if worst > 2 {
		t.Errorf("expShift: %.2f units in the last place from float32(math.Exp), want at most 2", worst)
	}
	if expShift(0) != 1 {
		t.Errorf("expShift(0) = %v, want 1", expShift(0))
	}
	t.Logf("expShift: within %.2f ulp of float32(math.Exp) over %d arguments", worst, len(vs))
	// The assembly against the Go loop, bit for bit (the tail of a length
	// that is not a multiple of 8 is Go's either way).
	x := make([]float32, len(vs)+5)
	for i := range x {
		x[i] = vs[i%len(vs)] + 3
	}
	asm, pure := make([]float32, len(x)), make([]float32, len(x))
	expShiftLine(asm, x, 3)
	defer func(old bool) { useAVX2 = old }(useAVX2)
	useAVX2 = false
	expShiftLine(pure, x, 3)
	for i := range x {
		if math.Float32bits(asm[i]) != math.Float32bits(pure[i]) {
			t.Fatalf("e^(%v − 3): kernel %v, Go %v", x[i], asm[i], pure[i])
		}
	}
}

// A softmax with the float32 exponentials agrees with float64 sums of
// math.Exp, and lines holding NaN or infinities keep math.Exp's answers.
func TestSoftmaxAgainstFloat64(t *testing.T) {
	rng := NewRNG(12)
	const outer, mid = 7, 61
	x := make([]float32, outer*mid)
	rng.Normal(x, 0, 4)
	x[mid+3] = float32(math.Inf(-1)) // a masked entry: weight 0
	x[2*mid+5] = float32(math.NaN())
	x[3*mid+7] = float32(math.Inf(1))
	y := make([]float32, len(x))
	Softmax(y, x, outer, mid, 1)
	for o := range outer {
		line := x[o*mid : (o+1)*mid]
		m := math.Inf(-1)
		for _, v := range line {
			m = math.Max(m, float64(v))
		}
		var s float64
		for _, v := range line {
			s += math.Exp(float64(v) - m)
		}
		for k, v := range line {
			want := math.Exp(float64(v)-m) / s
			got := float64(y[o*mid+k])
			switch {
			case math.IsNaN(want) || math.IsNaN(m):
				if !math.IsNaN(got) {
					t.Fatalf("line %d [%d]: %v, want NaN", o, k, got)
				}
			case math.Abs(got-want) > want*(4e-7+0x1p-24*math.Abs(float64(v)-m))+1e-30:
				// float32 rounding: of e^v (1 ulp), of 1/Σ and the product,
				// and of v − m (relative 2⁻²⁴·|v − m| in e^(v − m)).
				t.Fatalf("line %d [%d]: %v, float64 %v", o, k, got, want)
			}
		}
	}
	if y[mid+3] != 0 {
		t.Errorf("e^−Inf: softmax weight %v, want 0", y[mid+3])
	}
}
