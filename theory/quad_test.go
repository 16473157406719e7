package theory

import (
	"math"
	"testing"

	"github.com/minmaxgan/minmax/dist"
)

// TestGaussKronrodRule checks the tabulated rule: the Kronrod part must
// integrate every polynomial of degree <= 22 exactly and the Gauss part
// every polynomial of degree <= 13, and neither one degree more.
func TestGaussKronrodRule(t *testing.T) {
	moment := func(k int) float64 { // ∫_{-1}^{1} x^k dx
		if k%2 == 1 {
			return 0
		}
		return 2 / float64(k+1)
	}
	rules := func(k int) (kr, ga float64) {
		kr, ga = wgk[7]*math.Pow(0, float64(k)), wg[3]*math.Pow(0, float64(k))
		for j := range 7 {
			s := math.Pow(xgk[j], float64(k)) + math.Pow(-xgk[j], float64(k))
			kr += wgk[j] * s
			if j%2 == 1 {
				ga += wg[j/2] * s
			}
		}
		return kr, ga
	}
	for k := 0; k <= 24; k++ {
		kr, ga := rules(k)
		m := moment(k)
		if k <= 22 && math.Abs(kr-m) > 1e-15 {
			t.Errorf("Kronrod 15 on x^%d: %.17g, want %.17g", k, kr, m)
		}
		if k <= 13 && math.Abs(ga-m) > 1e-15 {
			t.Errorf("Gauss 7 on x^%d: %.17g, want %.17g", k, ga, m)
		}
		if k == 24 && math.Abs(kr-m) < 1e-12 {
			t.Errorf("Kronrod 15 is exact on x^24 (%.17g): the check cannot fail", kr)
		}
		if k == 14 && math.Abs(ga-m) < 1e-12 {
			t.Errorf("Gauss 7 is exact on x^14: the check cannot fail")
		}
	}
}

func TestSeedPoints(t *testing.T) {
	pts := seedPoints(nil, -10, 10, []float64{0.5, 0.5, 20}, []lm1{{c: 1, s: 0.1}})
	if pts[0] != -10 || pts[len(pts)-1] != 10 {
		t.Fatalf("ends %v", pts)
	}
	for i := 1; i < len(pts); i++ {
		if !(pts[i] > pts[i-1]) {
			t.Fatalf("not increasing: %v", pts)
		}
	}
	// Panels within 0.8 of the landmark at 1 are at most 0.2 wide.
	for i := 1; i < len(pts); i++ {
		if pts[i] > 0.2 && pts[i-1] < 1.8 && pts[i]-pts[i-1] > 0.2+1e-12 {
			t.Errorf("panel [%v, %v] near the landmark is too wide", pts[i-1], pts[i])
		}
	}
}

// TestIntegrateDensities integrates every kind of density to 1: a test of
// both the log-densities and the quadrature. The narrow components can
// only be found because the first panels are seeded around landmarks.
func TestIntegrateDensities(t *testing.T) {
	specs := []string{
		"N(0.3, 2)", "U(-1, 2.5)", "Laplace(1, 0.2)",
		"mix(0.999:N(0, 10), 0.001:N(7.3, 1e-4))",
		"mix(1:U(0, 1), 1:Laplace(0.5, 0.01), 2:N(-3, 0.05))",
		"N2(1, -1, 0.5)", "ring(8, r=2, sd=0.02)", "ring(8, r=2, sd=0.001)", "grid(5)",
		"mix(0.99:N2(0, 0, 5), 0.01:N2(3.1, -2.2, 0.002))",
	}
	for _, s := range specs {
		d := dist.MustParse(s)
		r, err := Integrate(d, d, func(x []float64) float64 { return math.Exp(d.LogProb(x)) })
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if math.Abs(r.Value-1) > 1e-10 || r.Err > 1e-10 {
			t.Errorf("∫ %s = %.15g ± %.2g, want 1", s, r.Value, r.Err)
		}
	}
	// A second moment, as a check that f is integrated, not just densities.
	n := dist.MustParse("N(0, 1.5)")
	r, err := Integrate(n, n, func(x []float64) float64 { return x[0] * x[0] * math.Exp(n.LogProb(x)) })
	if err != nil || math.Abs(r.Value-2.25) > 1e-10 {
		t.Errorf("E[x²] under N(0, 1.5) = %v, %v; want 2.25", r, err)
	}
}

func TestIntegrateErrors(t *testing.T) {
	n1, n2 := dist.MustParse("N(0,1)"), dist.MustParse("N2(0,0,1)")
	one := func(x []float64) float64 { return 1 }
	if _, err := Integrate(n1, n2, one); err == nil {
		t.Error("dimension mismatch accepted")
	}
	if _, err := Integrate(nil, n1, one); err == nil {
		t.Error("nil dist accepted")
	}
	if _, err := Integrate(n1, n1, nil); err == nil {
		t.Error("nil integrand accepted")
	}
	if _, err := (Integrator{AbsTol: -1}).JSD(n1, n1); err == nil {
		t.Error("negative tolerance accepted")
	}
	if _, err := Integrate(n1, n1, func(x []float64) float64 { return math.NaN() }); err == nil {
		t.Error("NaN integrand accepted")
	}
	if r, err := Integrate(n2, n2, func(x []float64) float64 {
		if x[0] > 1 {
			return math.Inf(1)
		}
		return 0
	}); err != nil || !math.IsInf(r.Value, 1) {
		t.Errorf("+Inf integrand: %v, %v", r, err)
	}
	// An evaluation budget too small for the tolerance gives a
	// *ToleranceError and the best estimate.
	ring, wide := dist.MustParse("ring(8)"), dist.MustParse("N2(0,0,1.5)")
	r, err := (Integrator{MaxEvals: 20000}).JSD(ring, wide)
	te, ok := err.(*ToleranceError)
	if !ok || te.Result != r || r.Err <= te.Target || r.Evals < 20000 {
		t.Errorf("tight budget: %v, %#v", r, err)
	} else {
		t.Log(err)
	}
}
