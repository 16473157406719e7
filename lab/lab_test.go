package lab

import (
	"math"
	"testing"
	"time"

	"github.com/minmaxgan/minmax/dist"
)

func mustParse(t *testing.T, s string) dist.Dist {
	t.Helper()
	d, err := dist.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The acceptance bounds: a trained D approaches D* (eq. 6) and its
// V_D approaches 2 log 2 - 2 JSD (eq. 7).
func TestTrainedDiscriminatorApproachesDStar(t *testing.T) {
	cases := []struct {
		p, q    string
		maxDRMS float64
	}{
		{"mix(0.3:N(-2, 0.5), 0.7:N(1, 1))", "Laplace(0, 1.5)", 0.1},
		{"ring(8, r=2, sd=0.3)", "N2(0, 0, 1.5)", 0.15},
	}
	for _, c := range cases {
		t.Run(c.p, func(t *testing.T) {
			p, q := mustParse(t, c.p), mustParse(t, c.q)
			start := time.Now()
			ex, err := ComputeExact(p, q)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Train(p, q, ex, Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			el := time.Since(start)
			t.Logf("%s vs %s: JSD %.5f, estimate %.5f ± %.5f, excess %.5f, d_rmse %.4f (mass %.3f), p_rmse %.4f, deriv max %.3g, %.1fs",
				c.p, c.q, ex.JSD, r.JSDEstimate, r.VDTrainedSE/2, r.VDExcess, r.DRMSE, r.DRMSEMass, r.PRMSE, r.DerivMaxAbs, el.Seconds())
			if r.DRMSE > c.maxDRMS || r.PRMSE > 0.02 || r.VDExcess > 0.005 || r.VDExcess < -1e-6 || math.Abs(r.JSDEstimate-ex.JSD) > 0.01 {
				t.Errorf("trained D misses the bounds")
			}
		})
	}
}
