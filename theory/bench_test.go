package theory

import (
	"math"
	"testing"

	"github.com/minmaxgan/minmax/dist"
)

func benchJSD(b *testing.B, p, q string) {
	pd, qd := dist.MustParse(p), dist.MustParse(q)
	var r Result
	for b.Loop() {
		var err error
		if r, err = JSD(pd, qd); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(r.Evals), "evals/op")
}

func BenchmarkJSD1D(b *testing.B) {
	benchJSD(b, "mix(0.3:N(-2, 0.5), 0.7:N(1, 1))", "Laplace(0, 1)")
}

func BenchmarkJSDRing(b *testing.B) { benchJSD(b, "ring(8, r=2, sd=0.02)", "N2(0, 0, 1.5)") }

func BenchmarkJSDGrid(b *testing.B) { benchJSD(b, "grid(5)", "N2(0, 0, 2)") }

func BenchmarkMassRingRegion(b *testing.B) {
	p, q := dist.MustParse("ring(8, r=2, sd=0.02)"), dist.MustParse("N2(0, 0, 1.5)")
	ds := DStar(p, q)
	region := func(x []float64) bool { return math.Abs(ds(x)) <= 5 }
	in := Integrator{AbsTol: 1e-7, RelTol: 1e-7}
	var r Result
	for b.Loop() {
		var err error
		if r, err = in.MassM(p, q, region); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(r.Evals), "evals/op")
}
