package lab

import (
	"math"
	"testing"

	"github.com/minmaxgan/minmax/tensor"
	"github.com/minmaxgan/minmax/theory"
)

// The family members are proper densities, sample where their density is,
// and equal P at θ = At.
func TestFamilies(t *testing.T) {
	for _, spec := range []string{"mix(0.3:N(-2, 0.5), 0.7:Laplace(1, 1))", "ring(8, r=2, sd=0.1)"} {
		p := mustParse(t, spec)
		for name, fam := range Families {
			for _, th := range []float64{fam.At, fam.At + 0.7} {
				q, err := fam.Make(p, th)
				if err != nil {
					t.Fatal(err)
				}
				mass, err := theory.Integrate(q, q, func(x []float64) float64 { return math.Exp(q.LogProb(x)) })
				if err != nil {
					t.Fatalf("%s %s θ=%g: %v", spec, name, th, err)
				}
				if math.Abs(mass.Value-1) > 1e-8 {
					t.Errorf("%s, %s θ=%g: density integrates to %v", spec, name, th, mass.Value)
				}
				// The sample mean of x₁ moves as the family says.
				rng := tensor.NewRNG(1)
				x := make([]float64, q.Dim())
				var mp, mq float64
				const n = 40000
				for i := 0; i < n; i++ {
					p.Sample(rng.Rand(), x)
					mp += x[0]
					q.Sample(rng.Rand(), x)
					mq += x[0]
				}
				mp, mq = mp/n, mq/n
				want := mp + th
				if name == "scale" {
					want = mp * th
				}
				if math.Abs(mq-want) > 0.05 {
					t.Errorf("%s, %s θ=%g: mean x₁ %.3f, want %.3f", spec, name, th, mq, want)
				}
				jsd, err := theory.JSD(p, q)
				if err != nil {
					t.Fatal(err)
				}
				if (th == fam.At) != (jsd.Value < 1e-9) {
					t.Errorf("%s, %s θ=%g: JSD(P, Q_θ) = %g", spec, name, th, jsd.Value)
				}
			}
		}
	}
}
