package theory

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/minmaxgan/minmax/dist"
)

func mustJSD(t *testing.T, p, q dist.Dist) Result {
	t.Helper()
	r, err := JSD(p, q)
	if err != nil {
		t.Fatalf("JSD(%s, %s): %v", p, q, err)
	}
	return r
}

func TestJSDSelfIsZero(t *testing.T) {
	for _, s := range []string{
		"N(1, 0.5)", "U(0, 2)", "Laplace(0, 1)",
		"mix(0.3:N(-2, 0.5), 0.7:Laplace(1, 0.3))",
		"N2(0, 1, 0.7)", "ring(8)", "grid(5)", "mix(1:ring(4, r=1, sd=0.05), 2:N2(0, 0, 1))",
	} {
		d := dist.MustParse(s)
		r := mustJSD(t, d, d)
		if math.Abs(r.Value) > 1e-9 || r.Err > 1e-9 {
			t.Errorf("JSD(%s, itself) = %.3g ± %.2g, want 0", s, r.Value, r.Err)
		}
	}
}

func TestDisjointSupports(t *testing.T) {
	cases := [][2]string{
		{"U(0, 1)", "U(2, 3)"},
		{"U(0, 1)", "U(1, 3)"}, // touching: the overlap has measure zero
		{"mix(1:U(0, 1), 1:U(4, 5))", "U(2, 3)"},
		// 2-D: 1000 sd apart, the overlap is far below float64 resolution.
		{"N2(0, 0, 0.01)", "N2(10, 0, 0.01)"},
		{"ring(4, r=5, sd=0.01)", "N2(0, 0, 0.01)"},
	}
	for _, c := range cases {
		p, q := dist.MustParse(c[0]), dist.MustParse(c[1])
		r := mustJSD(t, p, q)
		if math.Abs(r.Value-math.Ln2) > 1e-6 {
			t.Errorf("JSD(%s, %s) = %.15g, want log 2", c[0], c[1], r.Value)
		}
		b, _ := JSDBits(p, q)
		if math.Abs(b.Value-1) > 1e-6 {
			t.Errorf("JSD(%s, %s) = %.15g bits, want 1", c[0], c[1], b.Value)
		}
	}
	for _, c := range [][2]string{{"U(0, 1)", "U(2, 3)"}, {"N(0, 1)", "U(-1, 1)"}, {"U(0, 1)", "U(0.5, 3)"}} {
		r, err := KL(dist.MustParse(c[0]), dist.MustParse(c[1]))
		if err != nil || !math.IsInf(r.Value, 1) {
			t.Errorf("KL(%s ‖ %s) = %v, %v; want +Inf", c[0], c[1], r, err)
		}
	}
	// Support of P inside that of Q: finite, log(3/1) for uniforms.
	r, err := KL(dist.MustParse("U(0, 1)"), dist.MustParse("U(0, 3)"))
	if err != nil || math.Abs(r.Value-math.Log(3)) > 1e-12 {
		t.Errorf("KL(U(0,1) ‖ U(0,3)) = %v, %v; want log 3", r, err)
	}
}

func TestKLClosedForm(t *testing.T) {
	kl1 := func(m1, s1, m2, s2 float64) float64 {
		return math.Log(s2/s1) + (s1*s1+(m1-m2)*(m1-m2))/(2*s2*s2) - 0.5
	}
	for _, c := range [][4]float64{{0, 1, 1, 2}, {0, 1, 0, 1}, {-3, 0.1, 2, 5}, {1, 3, 0, 0.5}, {0, 0.01, 0.05, 0.02}} {
		p, _ := dist.NewNormal(c[0], c[1])
		q, _ := dist.NewNormal(c[2], c[3])
		r, err := KL(p, q)
		want := kl1(c[0], c[1], c[2], c[3])
		if err != nil || math.Abs(r.Value-want) > 1e-9 {
			t.Errorf("KL(%s ‖ %s) = %.15g ± %.2g (%v), want %.15g", p, q, r.Value, r.Err, err, want)
		}
	}
	// Isotropic 2-D normals: KL = 2 log(s2/s1) + (2 s1² + |Δμ|²)/(2 s2²) - 1.
	p := dist.MustParse("N2(0, 0, 1)")
	q := dist.MustParse("N2(1, -0.5, 1.5)")
	want := 2*math.Log(1.5) + (2+1.25)/(2*2.25) - 1
	if r, err := KL(p, q); err != nil || math.Abs(r.Value-want) > 1e-9 {
		t.Errorf("KL(%s ‖ %s) = %v (%v), want %.15g", p, q, r, err, want)
	}
}

// jsdMonteCarlo estimates JSD = ½ E_P[log(P/M)] + ½ E_Q[log(Q/M)] from n
// samples of each, with its standard error.
func jsdMonteCarlo(p, q dist.Dist, n int, r *rand.Rand) (est, se float64) {
	half := func(a, b dist.Dist) (mean, variance float64) {
		dim := a.Dim()
		xs := make([]float64, n*dim)
		_ = dist.SampleN(a, r, n, xs)
		var s, s2 float64
		for i := range n {
			x := xs[i*dim : (i+1)*dim]
			la, lb := a.LogProb(x), b.LogProb(x)
			v := la - (logAddExp(la, lb) - math.Ln2)
			s += v
			s2 += v * v
		}
		mean = s / float64(n)
		return mean, (s2/float64(n) - mean*mean) / float64(n-1)
	}
	mp, vp := half(p, q)
	mq, vq := half(q, p)
	return 0.5 * (mp + mq), 0.5 * math.Sqrt(vp+vq)
}

func TestJSDMatchesMonteCarlo(t *testing.T) {
	r := rand.New(rand.NewPCG(2024, 11))
	for _, c := range [][2]string{
		{"N(0, 1)", "N(1, 2)"},
		{"mix(0.3:N(-2, 0.5), 0.7:N(1, 1))", "Laplace(0, 1)"},
		{"N2(0, 0, 1)", "N2(1, 0.5, 1.5)"},
		{"ring(8, r=2, sd=0.02)", "N2(0, 0, 1.5)"},
	} {
		p, q := dist.MustParse(c[0]), dist.MustParse(c[1])
		quad := mustJSD(t, p, q)
		mc, se := jsdMonteCarlo(p, q, 200000, r)
		if se > 2e-3 {
			t.Fatalf("Monte Carlo standard error %.2g is too large to test anything", se)
		}
		if math.Abs(quad.Value-mc) > 4*se {
			t.Errorf("JSD(%s, %s): quadrature %.6f, Monte Carlo %.6f ± %.6f", c[0], c[1], quad.Value, mc, se)
		}
		t.Logf("JSD(%s, %s) = %.12f ± %.2g (quadrature, %d evals); Monte Carlo %.5f ± %.5f",
			c[0], c[1], quad.Value, quad.Err, quad.Evals, mc, se)
	}
}

// disjoint reports whether the pair has disjoint supports.
func disjoint(c [2]string) bool { return c == [2]string{"U(0, 1)", "U(2, 3)"} }

// overlapping returns the pairs whose supports overlap.
func overlapping(pairs [][2]string) (out [][2]string) {
	for _, c := range pairs {
		if !disjoint(c) {
			out = append(out, c)
		}
	}
	return out
}

var vdPairs = [][2]string{
	{"N(0, 1)", "N(1, 2)"},
	{"mix(0.3:N(-2, 0.5), 0.7:N(1, 1))", "Laplace(0, 1)"},
	{"U(-1, 1)", "N(0, 1)"},
	{"U(0, 1)", "U(2, 3)"},
	{"N2(0, 0, 1)", "N2(1, 0.5, 1.5)"},
	{"ring(8, r=2, sd=0.02)", "N2(0, 0, 1.5)"},
	{"grid(5)", "ring(8)"},
}

// TestVDStarEquation7 compares V_D(G, D*) computed three ways: equation
// (1) by quadrature with D = D* plugged in, equation (1) in log form, and
// equation (7), 2 log 2 - 2 JSD.
func TestVDStarEquation7(t *testing.T) {
	for _, c := range vdPairs {
		p, q := dist.MustParse(c[0]), dist.MustParse(c[1])
		start := time.Now()
		a, err := VDStar(p, q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := VDStarEq7(p, q)
		if err != nil {
			t.Fatal(err)
		}
		d, err := VD(p, q, DStar(p, q))
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(a.Value-b.Value) > 1e-6 || math.Abs(d.Value-b.Value) > 1e-6 {
			t.Errorf("%s vs %s: V_D(D*) by (1) in log form %.15g, by (1) with D* %.15g, by (7) %.15g",
				c[0], c[1], a.Value, d.Value, b.Value)
		}
		// V_D(G, D*) <= 2 log 2, with equality iff P = Q (equations (9)-(10)).
		if b.Value > 2*math.Ln2+1e-12 {
			t.Errorf("V_D(D*) = %v > 2 log 2", b.Value)
		}
		t.Logf("%s vs %s: |(1) - (7)| = %.2g, |(1 with D*) - (7)| = %.2g (%v for three integrals)",
			c[0], c[1], math.Abs(a.Value-b.Value), math.Abs(d.Value-b.Value), time.Since(start))
	}
}

func TestDStarIsTheMinimiser(t *testing.T) {
	perturbations := map[string]func(x []float64) float64{
		"+0.5":         func(x []float64) float64 { return 0.5 },
		"-0.2":         func(x []float64) float64 { return -0.2 },
		"0.3 sin(3x0)": func(x []float64) float64 { return 0.3 * math.Sin(3*x[0]) },
	}
	for _, c := range overlapping(vdPairs) {
		p, q := dist.MustParse(c[0]), dist.MustParse(c[1])
		ds := DStar(p, q)
		best, err := VD(p, q, ds)
		if err != nil {
			t.Fatal(err)
		}
		for name, h := range perturbations {
			v, err := VD(p, q, func(x []float64) float64 { return ds(x) + h(x) })
			if err != nil {
				t.Fatal(err)
			}
			if v.Value <= best.Value+10*(v.Err+best.Err) {
				t.Errorf("%s vs %s: V_D(D* %s) = %.12g is not above V_D(D*) = %.12g", c[0], c[1], name, v.Value, best.Value)
			}
		}
	}
	// D = 0 (a coin flip) gives exactly 2 log 2 for any P and Q.
	p, q := dist.MustParse("ring(8)"), dist.MustParse("N2(0, 0, 1.5)")
	v, err := VD(p, q, func(x []float64) float64 { return 0 })
	if err != nil || math.Abs(v.Value-2*math.Ln2) > 1e-9 {
		t.Errorf("V_D(D = 0) = %v, %v; want 2 log 2", v, err)
	}
}

func TestFunctionalDerivative(t *testing.T) {
	for _, c := range vdPairs {
		p, q := dist.MustParse(c[0]), dist.MustParse(c[1])
		ds := DStar(p, q)
		n := 20000
		if p.Dim() == 2 {
			n = 400
		}
		at, err := FunctionalDerivativeNorms(p, q, ds, n)
		if err != nil {
			t.Fatal(err)
		}
		if at.MaxRel > 1e-12 || at.MaxAbs > 1e-12*at.MaxDensity {
			t.Errorf("%s vs %s: δV/δD at D* is not ~0: %+v", c[0], c[1], at)
		}
		off, err := FunctionalDerivativeNorms(p, q, func(x []float64) float64 { return ds(x) + 0.5 }, n)
		if err != nil {
			t.Fatal(err)
		}
		// Where P and Q are comparable, δV/δD at D* + 0.5 is about a
		// tenth of P + Q. (With disjoint supports D* = ±Inf wherever
		// there is mass, and D* + 0.5 is still optimal.)
		if disjoint(c) {
			continue
		}
		if off.MaxRel < 0.05 || off.L1 < 1e-3 {
			t.Errorf("%s vs %s: δV/δD at D* + 0.5 is ~0: %+v", c[0], c[1], off)
		}
		t.Logf("%s vs %s: at D*: max %.2g (rel %.2g), L1 %.2g; at D*+0.5: max %.2g, L1 %.2g",
			c[0], c[1], at.MaxAbs, at.MaxRel, at.L1, off.MaxAbs, off.L1)
	}
	// The pointwise function agrees with equations (4)-(5) written out.
	p, q := dist.MustParse("N(0, 1)"), dist.MustParse("N(1, 2)")
	x := []float64{0.3}
	P, Q := math.Exp(p.LogProb(x)), math.Exp(q.LogProb(x))
	D := 0.7
	want := -P*math.Exp(-D)/(1+math.Exp(-D)) + Q*math.Exp(D)/(1+math.Exp(D))
	if got := FunctionalDerivative(p, q, func([]float64) float64 { return D }, x); math.Abs(got-want) > 1e-16 {
		t.Errorf("FunctionalDerivative = %v, want %v", got, want)
	}
	if got := FunctionalDerivative(p, q, DStar(p, q), []float64{1, 2}); !math.IsNaN(got) {
		t.Errorf("wrong dimension gave %v", got)
	}
}

func TestDStar(t *testing.T) {
	p, q := dist.MustParse("U(0, 1)"), dist.MustParse("U(0.5, 2)")
	ds := DStar(p, q)
	for _, c := range []struct{ x, want float64 }{
		{0.25, math.Inf(1)}, {0.75, math.Log(1.5)}, {1.5, math.Inf(-1)}, {5, 0},
	} {
		if got := ds([]float64{c.x}); got != c.want && math.Abs(got-c.want) > 1e-15 {
			t.Errorf("D*(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	// Far in the tails D* is exact, not Inf - Inf.
	n1, n2 := dist.MustParse("N(0, 1)"), dist.MustParse("N(0, 2)")
	x := 1e3
	want := math.Log(2) - x*x/2 + x*x/8
	if got := DStar(n1, n2)([]float64{x}); math.Abs(got-want) > 1e-15*math.Abs(want) {
		t.Errorf("D*(1e3) = %v, want %v", got, want)
	}
}

func TestWeightedRMSE(t *testing.T) {
	// P = N(0, 1), Q = N(0, 2): D* = log 2 - 3x²/8, so {|D*| <= 5} is
	// |x| <= a with a² = 8(5 + log 2)/3, and its M-mass is
	// ½ (erf(a/√2) + erf(a/(2√2))).
	p, q := dist.MustParse("N(0, 1)"), dist.MustParse("N(0, 2)")
	ds := DStar(p, q)
	region := func(x []float64) bool { return math.Abs(ds(x)) <= 5 }
	a := math.Sqrt(8 * (5 + math.Ln2) / 3)
	wantMass := 0.5 * (math.Erf(a/math.Sqrt2) + math.Erf(a/(2*math.Sqrt2)))
	m, err := MassM(p, q, region)
	if err != nil || math.Abs(m.Value-wantMass) > 1e-9 {
		t.Errorf("1-D M-mass of |D*| <= 5: %v, %v; want %.15g", m, err, wantMass)
	}
	// A constant error c has RMSE c on any region.
	r, err := WeightedRMSE(p, q, func([]float64) float64 { return 0.5 }, region)
	if err != nil || math.Abs(r.Value-0.5) > 1e-9 {
		t.Errorf("RMSE of 0.5: %v, %v", r, err)
	}
	// E_M[x²] = (1 + 4)/2 over everything.
	r, err = WeightedRMSE(p, q, func(x []float64) float64 { return x[0] }, nil)
	if err != nil || math.Abs(r.Value-math.Sqrt(2.5)) > 1e-9 {
		t.Errorf("RMSE of x under M: %v, %v; want sqrt(2.5)", r, err)
	}
	// σ(D*) = P/(P+Q) exactly.
	r, err = WeightedRMSE(p, q, func(x []float64) float64 {
		P, Q := math.Exp(p.LogProb(x)), math.Exp(q.LogProb(x))
		return sigmoid(ds(x)) - P/(P+Q)
	}, nil)
	if err != nil || r.Value > 1e-12 {
		t.Errorf("RMSE of σ(D*) - P/(P+Q): %v, %v", r, err)
	}

	// 2-D: P = N2(0,0,1), Q = N2(0,0,2): D* = 2 log 2 - 3r²/8, so the
	// region is the disc r² <= a² = 8(5 + 2 log 2)/3, with M-mass
	// ½ [(1 - e^{-a²/2}) + (1 - e^{-a²/8})]. The disc's edge makes the
	// integrand discontinuous along a circle.
	p2, q2 := dist.MustParse("N2(0, 0, 1)"), dist.MustParse("N2(0, 0, 2)")
	ds2 := DStar(p2, q2)
	region2 := func(x []float64) bool { return math.Abs(ds2(x)) <= 5 }
	a2 := 8 * (5 + 2*math.Ln2) / 3
	wantMass2 := 0.5 * ((1 - math.Exp(-a2/2)) + (1 - math.Exp(-a2/8)))
	start := time.Now()
	m2, err := MassM(p2, q2, region2)
	if err != nil || math.Abs(m2.Value-wantMass2) > 1e-9 {
		t.Errorf("2-D M-mass of |D*| <= 5: %v, %v; want %.15g", m2, err, wantMass2)
	}
	t.Logf("2-D M-mass of a disc: %.15g ± %.2g (true error %.2g), %d evals, %v",
		m2.Value, m2.Err, math.Abs(m2.Value-wantMass2), m2.Evals, time.Since(start))
	r, err = WeightedRMSE(p2, q2, func(x []float64) float64 { return 0.25 }, region2)
	if err != nil || math.Abs(r.Value-0.25) > 1e-9 {
		t.Errorf("2-D RMSE of 0.25: %v, %v", r, err)
	}
	if _, err := WeightedRMSE(p2, q2, func([]float64) float64 { return 1 }, func([]float64) bool { return false }); err == nil {
		t.Error("empty region accepted")
	}
}

// TestRegionEdges puts the edge of a region just inside a first panel,
// closer to its end than the outermost Kronrod node (panels near N(0, 1)
// start at the even integers): only the check of the end values sees it.
func TestRegionEdges(t *testing.T) {
	n := dist.MustParse("N(0, 1)")
	for _, edge := range []float64{4.0037, 3.99999, 2.000001, -5.99, 0.3, 1e-9} {
		m, err := MassM(n, n, func(x []float64) bool { return x[0] <= edge })
		want := 0.5 * math.Erfc(-edge/math.Sqrt2)
		if err != nil || math.Abs(m.Value-want) > 1e-10 {
			t.Errorf("mass of x <= %v: %v, %v; want %.15g", edge, m, err, want)
		}
	}
	// Two edges in one panel, and a window narrower than the node spacing
	// but touching a node.
	m, err := MassM(n, n, func(x []float64) bool { return x[0] > 0.5 && x[0] < 0.7 })
	want := 0.5 * (math.Erfc(-0.7/math.Sqrt2) - math.Erfc(-0.5/math.Sqrt2))
	if err != nil || math.Abs(m.Value-want) > 1e-10 {
		t.Errorf("mass of (0.5, 0.7): %v, %v; want %.15g", m, err, want)
	}
}

func TestDeterministic(t *testing.T) {
	p, q := dist.MustParse("ring(8)"), dist.MustParse("N2(0, 0, 1.5)")
	a := mustJSD(t, p, q)
	b := mustJSD(t, p, q)
	if a != b {
		t.Errorf("two runs differ: %v vs %v", a, b)
	}
}

// TestRingJSDCost records the cost of the headline 2-D integral. The bound
// is loose (shared machines are slow); the log shows the real time.
func TestRingJSDCost(t *testing.T) {
	p, q := dist.MustParse("ring(8, r=2, sd=0.02)"), dist.MustParse("N2(0, 0, 1.5)")
	start := time.Now()
	r := mustJSD(t, p, q)
	el := time.Since(start)
	t.Logf("JSD(ring(8, r=2, sd=0.02), N2(0,0,1.5)) = %.15g ± %.2g, %d evals, %v", r.Value, r.Err, r.Evals, el)
	if r.Evals > 2_000_000 {
		t.Errorf("%d evaluations; expected well under 2e6", r.Evals)
	}
}
