package optim

import (
	"math"
	"testing"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

func param(vals ...float32) *autograd.Param {
	t, _ := tensor.FromData(append([]float32(nil), vals...), len(vals))
	return autograd.NewParam("p", t)
}

// Adam against a float64 transcription of its update rule.
func TestAdamMatchesReference(t *testing.T) {
	p := param(1, -2, 0.5)
	a := NewAdam([]*autograd.Param{p}, 0.01, 0.5, 0.999)
	a.WeightDecay = 0.1
	w := []float64{1, -2, 0.5}
	m := make([]float64, 3)
	v := make([]float64, 3)
	for step := 1; step <= 5; step++ {
		for j := range w {
			g := math.Sin(float64(step*3 + j)) // any gradient
			p.Grad.Data[j] = float32(g)
			g += 0.1 * w[j]
			m[j] = 0.5*m[j] + 0.5*g
			v[j] = 0.999*v[j] + 0.001*g*g
			mh := m[j] / (1 - math.Pow(0.5, float64(step)))
			vh := v[j] / (1 - math.Pow(0.999, float64(step)))
			w[j] -= 0.01 * mh / (math.Sqrt(vh) + 1e-8)
		}
		a.Step()
	}
	for j := range w {
		if math.Abs(float64(p.Value.Data[j])-w[j]) > 1e-5 {
			t.Fatalf("weight %d = %v, reference %v", j, p.Value.Data[j], w[j])
		}
	}
}

func TestAdamMinimisesQuadratic(t *testing.T) {
	p := param(3, -4)
	a := NewAdam([]*autograd.Param{p}, 0.05, 0.9, 0.999)
	for i := 0; i < 2000; i++ {
		for j, w := range p.Value.Data {
			p.Grad.Data[j] = 2 * w
		}
		a.Step()
	}
	for _, w := range p.Value.Data {
		if math.Abs(float64(w)) > 1e-2 {
			t.Fatalf("Adam did not reach the minimum of w²: %v", p.Value.Data)
		}
	}
}

func TestSGDMomentum(t *testing.T) {
	p := param(1)
	s := NewSGD([]*autograd.Param{p}, 0.1, 0.9)
	p.Grad.Data[0] = 1
	s.Step() // buf = 1, w = 0.9
	s.Step() // buf = 1.9, w = 0.71
	if math.Abs(float64(p.Value.Data[0])-0.71) > 1e-6 {
		t.Fatalf("w = %v, want 0.71", p.Value.Data[0])
	}
}

func TestEMA(t *testing.T) {
	p := param(0)
	e, err := NewEMA([]*autograd.Param{p}, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	p.Value.Data[0] = 4
	e.Update() // 2
	p.Value.Data[0] = 6
	e.Update() // 4
	e.Swap()
	if p.Value.Data[0] != 4 {
		t.Fatalf("averaged weight = %v, want 4", p.Value.Data[0])
	}
	e.Swap()
	if p.Value.Data[0] != 6 {
		t.Fatalf("live weight after swapping back = %v, want 6", p.Value.Data[0])
	}
	if _, err := NewEMA(nil, 1); err == nil {
		t.Fatal("decay 1 accepted")
	}
}

func TestStepDoesNotAllocate(t *testing.T) {
	p := param(1, 2, 3)
	a := NewAdam([]*autograd.Param{p}, 0.01, 0.5, 0.999)
	s := NewSGD([]*autograd.Param{p}, 0.01, 0.9)
	if n := testing.AllocsPerRun(10, func() { a.Step(); s.Step() }); n != 0 {
		t.Fatalf("Step allocates %v times", n)
	}
}
