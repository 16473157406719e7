package tensor

import (
	"math"
	"testing"
)

// The assembly Adam update is bit-identical to the Go loop, with and
// without (decoupled) weight decay.
func TestAdamSIMDMatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2: only the Go loop runs")
	}
	rng := NewRNG(8)
	for _, decoupled := range []bool{false, true} {
		for _, n := range []int{1, 7, 8, 9, 64, 1001} {
			w := make([]float32, n)
			NewRNG(1).Normal(w, 0, 1)
			wa, wb := append([]float32(nil), w...), append([]float32(nil), w...)
			ma, va := make([]float32, n), make([]float32, n)
			mb, vb := make([]float32, n), make([]float32, n)
			g := make([]float32, n)
			for step := 1; step <= 5; step++ {
				rng.Normal(g, 0, 1)
				c := NewAdamConsts(1e-3, 0.5, 0.999, 1e-8, 0.01, decoupled, step)
				if !decoupled {
					c.WD, c.Decay = 0, 1
				}
				Adam(wa, g, ma, va, &c)
				useAVX2 = false
				Adam(wb, g, mb, vb, &c)
				useAVX2 = true
			}
			for j := range wa {
				if math.Float32bits(wa[j]) != math.Float32bits(wb[j]) || va[j] != vb[j] || ma[j] != mb[j] {
					t.Fatalf("decoupled=%v n=%d element %d: assembly %v, Go %v", decoupled, n, j, wa[j], wb[j])
				}
			}
		}
	}
}

func TestStateKernels(t *testing.T) {
	avg := []float32{0, 10}
	Lerp(avg, []float32{4, 0}, 0.5)
	if avg[0] != 2 || avg[1] != 5 {
		t.Errorf("Lerp: %v, want [2 5]", avg)
	}
	run := []float32{1, 1}
	MomentumUpdate(run, []float32{3, 5}, 0.1, 2)
	if math.Abs(float64(run[0])-1.5) > 1e-6 || math.Abs(float64(run[1])-1.9) > 1e-6 {
		t.Errorf("MomentumUpdate: %v, want [1.5 1.9]", run)
	}
	a, b := []float32{1, 2}, []float32{3, 4}
	Swap(a, b)
	if a[0] != 3 || a[1] != 4 || b[0] != 1 || b[1] != 2 {
		t.Errorf("Swap: %v %v", a, b)
	}
	if m := Mean([]float32{1, 2, 3, 6}); m != 3 {
		t.Errorf("Mean = %v, want 3", m)
	}
	if Mean(nil) != 0 {
		t.Error("Mean of nothing is not 0")
	}
	w, buf := []float32{1}, []float32{0}
	SGD(w, []float32{1}, buf, &SGDConsts{LR: 0.1, Momentum: 0.9, First: true})
	SGD(w, []float32{1}, buf, &SGDConsts{LR: 0.1, Momentum: 0.9})
	if math.Abs(float64(w[0])-0.71) > 1e-6 {
		t.Errorf("SGD with momentum: %v, want 0.71", w[0])
	}
}
