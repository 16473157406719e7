package gan

import (
	"math"
	"testing"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

func vals(t *testing.T, tp *autograd.Tape, xs ...float32) *autograd.Node {
	t.Helper()
	x, err := tensor.FromData(append([]float32(nil), xs...), len(xs), 1)
	if err != nil {
		t.Fatal(err)
	}
	return tp.Leaf(x)
}

func softplus(x float64) float64 { return math.Log1p(math.Exp(x)) }

// Each loss against its formula on hand-picked scores.
func TestLossFormulas(t *testing.T) {
	real := []float32{1.5, -0.5, 2}
	fake := []float32{-1, 0.25}
	mean := func(f func(float64) float64, xs []float32) float64 {
		var s float64
		for _, x := range xs {
			s += f(float64(x))
		}
		return s / float64(len(xs))
	}
	vd := mean(func(x float64) float64 { return softplus(-x) }, real) + mean(softplus, fake)
	cases := []struct {
		name  string
		wantD float64
		wantG float64
	}{
		// eq. (1) and eq. (2): V_G = -V_D, whose G-dependent part is -E_Q softplus(D).
		{"minimax", vd, -mean(softplus, fake)},
		{"nonsaturating", vd, mean(func(x float64) float64 { return softplus(-x) }, fake)},
		{"hinge", mean(func(x float64) float64 { return math.Max(0, 1-x) }, real) + mean(func(x float64) float64 { return math.Max(0, 1+x) }, fake),
			-mean(func(x float64) float64 { return x }, fake)},
		{"wasserstein", mean(func(x float64) float64 { return x }, fake) - mean(func(x float64) float64 { return x }, real),
			-mean(func(x float64) float64 { return x }, fake)},
		{"leastsquares", 0.5*mean(func(x float64) float64 { return (x - 1) * (x - 1) }, real) + 0.5*mean(func(x float64) float64 { return x * x }, fake),
			0.5 * mean(func(x float64) float64 { return (x - 1) * (x - 1) }, fake)},
	}
	for _, c := range cases {
		l, err := LossByName(c.name)
		if err != nil {
			t.Fatal(err)
		}
		tp := autograd.NewTape()
		d := l.D(tp, vals(t, tp, real...), vals(t, tp, fake...)).Item()
		g := l.G(tp, vals(t, tp, fake...)).Item()
		if math.Abs(float64(d)-c.wantD) > 1e-6 || math.Abs(float64(g)-c.wantG) > 1e-6 {
			t.Errorf("%s: D loss %v (want %v), G loss %v (want %v)", c.name, d, c.wantD, g, c.wantG)
		}
	}
	if _, err := LossByName("minmax"); err == nil {
		t.Error("a misspelt loss was accepted")
	}
}

// R1 and the gradient penalty against closed forms for D(x) = w·x + c,
// whose input gradient is w everywhere.
func TestPenalties(t *testing.T) {
	tp := autograd.NewTape()
	w, _ := tensor.FromData([]float32{3, 4}, 1, 2) // |w| = 5
	x, _ := tensor.FromData([]float32{1, 2, -1, 0.5, 0, 0}, 3, 2)
	xn := tp.Leaf(x)
	d := tp.AddScalar(tp.Linear(xn, tp.Leaf(w), nil), 0.7)
	r1, err := R1(tp, d, xn, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := r1.Item(); math.Abs(float64(got)-25) > 1e-4 { // γ/2 |w|² = 25
		t.Errorf("R1 = %v, want 25", got)
	}
	gp, err := GradientPenalty(tp, d, xn, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := gp.Item(); math.Abs(float64(got)-160) > 1e-3 { // λ (|w| - 1)² = 160
		t.Errorf("gradient penalty = %v, want 160", got)
	}
	// The penalty is differentiable with respect to D's weights: R1's
	// gradient with respect to w is γ w.
	tp2 := autograd.NewTape()
	wp := autograd.NewParam("w", w.Clone())
	xn2 := tp2.Leaf(x)
	d2 := tp2.Linear(xn2, tp2.Param(wp), nil)
	r, err := R1(tp2, d2, xn2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := tp2.Backward(r, []*autograd.Param{wp}); err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(wp.Grad.Data[0])-6) > 1e-4 || math.Abs(float64(wp.Grad.Data[1])-8) > 1e-4 {
		t.Errorf("dR1/dw = %v, want [6 8]", wp.Grad.Data)
	}
}
