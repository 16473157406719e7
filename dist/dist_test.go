package dist

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestLogProbValues(t *testing.T) {
	h := 0.5 * math.Log(2*math.Pi)
	cases := []struct {
		spec string
		x    []float64
		want float64
	}{
		{"N(0, 1)", []float64{0}, -h},
		{"N(1, 2)", []float64{3}, -0.5 - math.Log(2) - h},
		// Far tail: finite and exact, not -Inf.
		{"N(0, 1)", []float64{1e3}, -5e5 - h},
		{"N(0, 1)", []float64{-1e150}, -5e299},
		{"U(0, 4)", []float64{1}, -math.Log(4)},
		{"U(0, 4)", []float64{0}, -math.Log(4)},
		{"U(0, 4)", []float64{4}, -math.Log(4)},
		{"U(0, 4)", []float64{4.0000001}, math.Inf(-1)},
		{"U(0, 4)", []float64{-1e-300}, math.Inf(-1)},
		{"Laplace(1, 0.5)", []float64{2}, -2 - math.Log(1)},
		{"Laplace(1, 0.5)", []float64{-999}, -2000},
		{"N2(1, 2, 2)", []float64{1, 0}, -0.5 - 2*math.Log(2) - 2*h},
		{"ring(4, r=2, sd=0.5)", []float64{0, 1e3}, math.Log(0.25) - (998*998)/(2*0.25) - 2*math.Log(0.5) - 2*h},
		{"grid(1, spacing=1, sd=1)", []float64{0, 0}, -2 * h},
		{"grid(3, spacing=2, sd=0.1)", []float64{-2, 1e3}, math.Log(1.0/9) - 998*998/(2*0.01) - 2*math.Log(0.1) - 2*h},
		// Mixture far in the tail: the dominant component, exactly.
		{"mix(1:N(0, 1), 3:N(3, 1))", []float64{1e3}, math.Log(0.75) - 0.5*997*997 - h},
		{"mix(1:N(0, 1), 3:N(3, 1))", []float64{-1e3}, math.Log(0.25) - 5e5 - h},
		{"mix(1:U(0, 1), 1:U(2, 3))", []float64{1.5}, math.Inf(-1)},
		{"mix(1:U(0, 1), 1:U(0.5, 3))", []float64{0.75}, math.Log(0.5 + 0.5/2.5)},
	}
	for _, c := range cases {
		d := MustParse(c.spec)
		got := d.LogProb(c.x)
		ok := got == c.want || near(got, c.want, 1e-14*max(1, math.Abs(c.want)))
		if !ok {
			t.Errorf("%s.LogProb(%v) = %.17g, want %.17g", c.spec, c.x, got, c.want)
		}
	}
	// Wrong length gives NaN rather than a panic.
	for _, spec := range []string{"N(0,1)", "U(0,1)", "Laplace(0,1)", "N2(0,0,1)", "ring(3)", "grid(2)", "mix(1:N(0,1))"} {
		d := MustParse(spec)
		if v := d.LogProb(make([]float64, 3-d.Dim())); !math.IsNaN(v) {
			t.Errorf("%s.LogProb(wrong length) = %v, want NaN", spec, v)
		}
	}
}

// TestMixtureMatchesDirectSum checks log-sum-exp against the plain sum
// where the plain sum is accurate.
func TestMixtureMatchesDirectSum(t *testing.T) {
	m := MustParse("mix(0.2:N(-1, 0.5), 0.5:Laplace(1, 0.7), 0.3:U(-2, 0.5))").(*Mixture)
	for x := -3.0; x <= 3; x += 0.037 {
		var s float64
		for i := range m.Components() {
			c, w := m.Component(i)
			s += w * math.Exp(c.LogProb([]float64{x}))
		}
		if got := math.Exp(m.LogProb([]float64{x})); !near(got, s, 1e-15*max(1, s)) {
			t.Fatalf("x=%v: %v vs direct %v", x, got, s)
		}
	}
	r := MustParse("ring(5, r=1, sd=0.3)")
	for _, x := range [][]float64{{0, 0}, {1, 0.2}, {-0.4, 0.9}} {
		var s float64
		modes, _ := Modes(r)
		for _, md := range modes {
			n2, _ := NewNormal2(md.Center[0], md.Center[1], md.SD)
			s += md.Weight * math.Exp(n2.LogProb(x))
		}
		if got := math.Exp(r.LogProb(x)); !near(got, s, 1e-14*s) {
			t.Errorf("ring at %v: %v vs %v", x, got, s)
		}
	}
	// Large rings take a shortcut (walking out from the nearest mode in
	// angle); it must agree with the plain sum over all modes.
	rng := rand.New(rand.NewPCG(5, 6))
	for _, spec := range []string{"ring(17, r=1, sd=0.05)", "ring(1000, r=1, sd=0.001)", "ring(64, r=3, sd=1)", "ring(999, r=2, sd=0.3)"} {
		d := MustParse(spec)
		modes, _ := Modes(d)
		pts := [][]float64{{0, 0}, {1e-300, 0}, {-1, 0}, {0, -1e3}, {3, 3}}
		for range 200 {
			pts = append(pts, []float64{4 * (rng.Float64() - 0.5), 4 * (rng.Float64() - 0.5)})
		}
		for _, x := range pts {
			acc := newLSE()
			for _, md := range modes {
				dx, dy := x[0]-md.Center[0], x[1]-md.Center[1]
				acc.add(-(dx*dx + dy*dy) / (2 * md.SD * md.SD))
			}
			want := acc.value() - 2*math.Log(modes[0].SD) - math.Log(2*math.Pi) - math.Log(float64(len(modes)))
			if got := d.LogProb(x); !near(got, want, 1e-13*max(1, math.Abs(want))) {
				t.Fatalf("%s at %v: %.17g, plain sum %.17g", spec, x, got, want)
			}
		}
	}
	for _, spec := range []string{"grid(100, spacing=1, sd=0.01)", "grid(7, spacing=0.1, sd=1)", "grid(2, spacing=3, sd=0.2)"} {
		d := MustParse(spec)
		modes, _ := Modes(d)
		pts := [][]float64{{0, 0}, {-1e3, 2}, {60, -60}}
		for range 200 {
			pts = append(pts, []float64{120 * (rng.Float64() - 0.5), 6 * (rng.Float64() - 0.5)})
		}
		for _, x := range pts {
			acc := newLSE()
			for _, md := range modes {
				dx, dy := x[0]-md.Center[0], x[1]-md.Center[1]
				acc.add(-(dx*dx + dy*dy) / (2 * md.SD * md.SD))
			}
			want := acc.value() - 2*math.Log(modes[0].SD) - math.Log(2*math.Pi) - math.Log(float64(len(modes)))
			if got := d.LogProb(x); !near(got, want, 1e-13*max(1, math.Abs(want))) {
				t.Fatalf("%s at %v: %.17g, plain sum %.17g", spec, x, got, want)
			}
		}
	}
	g := MustParse("grid(3, spacing=1, sd=0.4)")
	modes, _ := Modes(g)
	for _, x := range [][]float64{{0, 0}, {1, 0.2}, {-0.4, 0.9}} {
		var s float64
		for _, md := range modes {
			n2, _ := NewNormal2(md.Center[0], md.Center[1], md.SD)
			s += md.Weight * math.Exp(n2.LogProb(x))
		}
		if got := math.Exp(g.LogProb(x)); !near(got, s, 1e-14*s) {
			t.Errorf("grid at %v: %v vs %v", x, got, s)
		}
	}
}

// TestNormalised integrates each density on a fine grid (trapezoid, which
// is spectrally accurate for these smooth, rapidly decaying densities, and
// exact for the piecewise-constant uniform when the edges are grid points).
func TestNormalised(t *testing.T) {
	for _, spec := range []string{"N(1, 0.3)", "Laplace(0.5, 0.2)", "U(-1, 1)", "mix(1:N(0,1), 2:Laplace(1,0.5))"} {
		d := MustParse(spec)
		lo, hi := d.Bounds()
		n := 200000
		h := (hi[0] - lo[0]) / float64(n)
		var s float64
		for i := 0; i <= n; i++ {
			w := 1.0
			if i == 0 || i == n {
				w = 0.5
			}
			s += w * math.Exp(d.LogProb([]float64{lo[0] + float64(i)*h}))
		}
		// Laplace has a kink, so trapezoid is only second order there.
		if s *= h; !near(s, 1, 1e-7) {
			t.Errorf("%s integrates to %.12f", spec, s)
		}
	}
	for _, spec := range []string{"N2(1, -1, 0.5)", "ring(8, r=2, sd=0.05)", "grid(3, spacing=1, sd=0.1)"} {
		d := MustParse(spec)
		lo, hi := d.Bounds()
		n := 800
		hx, hy := (hi[0]-lo[0])/float64(n), (hi[1]-lo[1])/float64(n)
		var s float64
		x := make([]float64, 2)
		for i := 0; i <= n; i++ {
			for j := 0; j <= n; j++ {
				x[0], x[1] = lo[0]+float64(i)*hx, lo[1]+float64(j)*hy
				s += math.Exp(d.LogProb(x))
			}
		}
		if s *= hx * hy; !near(s, 1, 1e-9) {
			t.Errorf("%s integrates to %.12f", spec, s)
		}
	}
}

func TestModesAndCentres(t *testing.T) {
	modes, ok := Modes(MustParse("ring(4, r=2, sd=0.1)"))
	if !ok || len(modes) != 4 {
		t.Fatalf("ring(4) modes: %v %v", modes, ok)
	}
	want := [][]float64{{2, 0}, {0, 2}, {-2, 0}, {0, -2}}
	for i, m := range modes {
		if !slices.Equal(m.Center, want[i]) || m.SD != 0.1 || m.Weight != 0.25 {
			t.Errorf("ring(4) mode %d = %+v, want centre %v", i, m, want[i])
		}
	}
	modes, _ = Modes(MustParse("ring(8, r=1, sd=0.1)"))
	if c := modes[1].Center; !near(c[0], math.Sqrt2/2, 1e-15) || !near(c[1], math.Sqrt2/2, 1e-15) {
		t.Errorf("ring(8) second centre %v", c)
	}
	modes, ok = Modes(MustParse("grid(5)"))
	if !ok || len(modes) != 25 {
		t.Fatalf("grid(5) modes: %d %v", len(modes), ok)
	}
	seen := map[[2]float64]bool{}
	for _, m := range modes {
		seen[[2]float64{m.Center[0], m.Center[1]}] = true
		if m.Weight != 1.0/25 || m.SD != 0.05 {
			t.Errorf("grid mode %+v", m)
		}
	}
	for _, x := range []float64{-4, -2, 0, 2, 4} {
		for _, y := range []float64{-4, -2, 0, 2, 4} {
			if !seen[[2]float64{x, y}] {
				t.Errorf("grid(5) lacks centre (%v, %v)", x, y)
			}
		}
	}
	modes, ok = Modes(MustParse("mix(1:mix(1:N(0,1), 3:N(5,2)), 1:N(-1, 0.5))"))
	if !ok || len(modes) != 3 {
		t.Fatalf("nested mix modes %v %v", modes, ok)
	}
	ws := []float64{0.125, 0.375, 0.5}
	for i, m := range modes {
		if !near(m.Weight, ws[i], 1e-15) {
			t.Errorf("nested mode %d weight %v, want %v", i, m.Weight, ws[i])
		}
	}
	for _, spec := range []string{"U(0,1)", "Laplace(0,1)", "mix(1:N(0,1), 1:U(0,1))"} {
		if _, ok := Modes(MustParse(spec)); ok {
			t.Errorf("Modes(%s) ok", spec)
		}
	}
	if lm := Landmarks(MustParse("mix(1:N(0,1), 1:U(0,1), 1:Laplace(2,0.1))")); len(lm) != 3 || lm[1].Center[0] != 0.5 || lm[1].Scale != 0.5 || lm[2].Scale != 0.1 {
		t.Errorf("Landmarks = %v", lm)
	}
}

func TestBoundsAndBreaks(t *testing.T) {
	d := MustParse("mix(1:N(0,1), 1:U(-20, -19), 1:Laplace(5, 0.5))")
	lo, hi := d.Bounds()
	if lo[0] != -20 || hi[0] != 5+36*0.5 {
		t.Errorf("bounds %v %v", lo, hi)
	}
	if b := d.Breaks(0); !slices.Equal(b, []float64{-20, -19, 5}) {
		t.Errorf("breaks %v", b)
	}
	if b := d.Breaks(1); b != nil {
		t.Errorf("breaks on axis 1: %v", b)
	}
	lo, hi = MustParse("ring(4, r=2, sd=0.1)").Bounds()
	if !near(lo[0], -2.9, 1e-15) || !near(lo[1], -2.9, 1e-15) || !near(hi[0], 2.9, 1e-15) {
		t.Errorf("ring bounds %v %v", lo, hi)
	}
	lo, hi = MustParse("grid(5)").Bounds()
	if !near(lo[0], -4.45, 1e-15) || !near(hi[1], 4.45, 1e-15) {
		t.Errorf("grid bounds %v %v", lo, hi)
	}
}

// moments returns the exact mean and variance along each axis.
func moments(t *testing.T, d Dist) (mean, variance []float64) {
	dim := d.Dim()
	mean, variance = make([]float64, dim), make([]float64, dim)
	switch d := d.(type) {
	case *Uniform:
		mean[0], variance[0] = (d.a+d.b)/2, (d.b-d.a)*(d.b-d.a)/12
		return
	case *Laplace:
		mean[0], variance[0] = d.mu, 2*d.b*d.b
		return
	case *Mixture:
		second := make([]float64, dim)
		for i := range d.Components() {
			c, w := d.Component(i)
			m, v := moments(t, c)
			for a := range dim {
				mean[a] += w * m[a]
				second[a] += w * (v[a] + m[a]*m[a])
			}
		}
		for a := range dim {
			variance[a] = second[a] - mean[a]*mean[a]
		}
		return
	}
	modes, ok := Modes(d)
	if !ok {
		t.Fatalf("no moments for %v", d)
	}
	second := make([]float64, dim)
	for _, m := range modes {
		for a := range dim {
			mean[a] += m.Weight * m.Center[a]
			second[a] += m.Weight * (m.SD*m.SD + m.Center[a]*m.Center[a])
		}
	}
	for a := range dim {
		variance[a] = second[a] - mean[a]*mean[a]
	}
	return
}

func TestSamplerMoments(t *testing.T) {
	specs := []string{
		"N(1, 2)", "U(-1, 3)", "Laplace(-2, 0.5)",
		"N2(1, -2, 0.3)", "ring(8)", "ring(3, r=1, sd=0.2)", "grid(5)", "grid(2, spacing=1, sd=0.3)",
		"mix(0.3:N(-2, 0.5), 0.7:N(1, 1))", "mix(1:U(0,1), 2:Laplace(3, 1), 1:N(-4, 0.1))",
		"mix(1:ring(4, r=1, sd=0.1), 3:N2(2, 2, 1))",
	}
	r := rand.New(rand.NewPCG(1, 2))
	const n = 200000
	for _, spec := range specs {
		d := MustParse(spec)
		dim := d.Dim()
		xs := make([]float64, n*dim)
		if err := SampleN(d, r, n, xs); err != nil {
			t.Fatal(err)
		}
		mean, variance := moments(t, d)
		lo, hi := d.Bounds()
		for a := range dim {
			var s float64
			for i := range n {
				v := xs[i*dim+a]
				if v < lo[a] || v > hi[a] {
					t.Fatalf("%s: sample %v outside bounds [%v, %v]", spec, v, lo[a], hi[a])
				}
				s += v
			}
			m := s / n
			var s2, s4 float64
			for i := range n {
				dv := xs[i*dim+a] - m
				s2 += dv * dv
				s4 += dv * dv * dv * dv
			}
			v := s2 / (n - 1)
			m4 := s4 / n
			seMean := math.Sqrt(variance[a] / n)
			seVar := math.Sqrt(max(m4-v*v, 0) / n)
			if math.Abs(m-mean[a]) > 4.5*seMean {
				t.Errorf("%s axis %d: sample mean %.5f, want %.5f (se %.2g)", spec, a, m, mean[a], seMean)
			}
			if math.Abs(v-variance[a]) > 4.5*seVar {
				t.Errorf("%s axis %d: sample variance %.5f, want %.5f (se %.2g)", spec, a, v, variance[a], seVar)
			}
		}
	}
}

func TestSampleMixtureProportions(t *testing.T) {
	d := MustParse("mix(1:U(0,1), 3:U(10,11))")
	r := rand.New(rand.NewPCG(3, 4))
	const n = 100000
	xs := make([]float64, n)
	_ = SampleN(d, r, n, xs)
	var hi int
	for _, x := range xs {
		if x >= 10 {
			hi++
		}
	}
	p := float64(hi) / n
	if se := math.Sqrt(0.75 * 0.25 / n); math.Abs(p-0.75) > 4.5*se {
		t.Errorf("proportion in second component %v, want 0.75", p)
	}
}

func TestSampleNErrors(t *testing.T) {
	d := MustParse("N2(0,0,1)")
	r := rand.New(rand.NewPCG(1, 1))
	if err := SampleN(d, r, 3, make([]float64, 5)); err == nil {
		t.Error("short out accepted")
	}
	if err := SampleN(d, nil, 1, make([]float64, 2)); err == nil {
		t.Error("nil rand accepted")
	}
	if err := SampleN(nil, r, 1, make([]float64, 2)); err == nil {
		t.Error("nil dist accepted")
	}
	if err := SampleN(d, r, -1, nil); err == nil {
		t.Error("negative n accepted")
	}
	if err := SampleN(d, r, 0, nil); err != nil {
		t.Errorf("n = 0: %v", err)
	}
}

func TestSamplingIsReproducible(t *testing.T) {
	d := MustParse("mix(1:ring(8), 1:grid(3))")
	a, b := make([]float64, 200), make([]float64, 200)
	_ = SampleN(d, rand.New(rand.NewPCG(7, 7)), 100, a)
	_ = SampleN(d, rand.New(rand.NewPCG(7, 7)), 100, b)
	if !slices.Equal(a, b) {
		t.Error("same seed, different samples")
	}
}
