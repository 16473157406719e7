package theory_test

import (
	"fmt"
	"math"

	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/theory"
)

func ExampleJSD() {
	p, _ := dist.Parse("N(0, 1)")
	q, _ := dist.Parse("N(1, 2)")
	r, err := theory.JSD(p, q)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("JSD = %.9f nats\n", r.Value)
	fmt.Println(r.Err < 1e-10)

	// Disjoint supports: JSD = log 2 (1 bit).
	u1, _ := dist.Parse("U(0, 1)")
	u2, _ := dist.Parse("U(2, 3)")
	bits, _ := theory.JSDBits(u1, u2)
	fmt.Printf("JSD = %.9f bits\n", bits.Value)
	// Output:
	// JSD = 0.128174973 nats
	// true
	// JSD = 1.000000000 bits

}

func ExampleVDStar() {
	p, _ := dist.Parse("ring(8)")
	q, _ := dist.Parse("N2(0, 0, 1.5)")
	byEq1, _ := theory.VDStar(p, q)    // equation (1) at D*
	byEq7, _ := theory.VDStarEq7(p, q) // 2 log 2 - 2 JSD
	fmt.Printf("V_D(G, D*) = %.8f by (1), %.8f by (7)\n", byEq1.Value, byEq7.Value)
	// Output:
	// V_D(G, D*) = 0.02209704 by (1), 0.02209704 by (7)
}

func ExampleKL() {
	p, _ := dist.Parse("N(0, 1)")
	q, _ := dist.Parse("N(1, 2)")
	r, _ := theory.KL(p, q)
	closed := math.Log(2) + (1+1)/(2*4.0) - 0.5
	fmt.Printf("KL = %.12f (closed form %.12f)\n", r.Value, closed)
	// Output:
	// KL = 0.443147180560 (closed form 0.443147180560)
}

func ExampleDStar() {
	p, _ := dist.Parse("mix(0.5:N(-1, 0.5), 0.5:N(1, 0.5))")
	q, _ := dist.Parse("N(0, 1)")
	dstar := theory.DStar(p, q)
	// D* is the minimiser of V_D (equation (6)): moving it raises V_D.
	best, _ := theory.VD(p, q, dstar)
	worse, _ := theory.VD(p, q, func(x []float64) float64 { return dstar(x) + 0.5 })
	fmt.Println(worse.Value > best.Value)
	// and the functional derivative (4)-(5) vanishes there.
	fmt.Println(math.Abs(theory.FunctionalDerivative(p, q, dstar, []float64{0.3})) < 1e-15)
	// Output:
	// true
	// true
}

func ExampleIntegrator_WeightedRMSE() {
	p, _ := dist.Parse("N(0, 1)")
	q, _ := dist.Parse("N(0, 2)")
	dstar := theory.DStar(p, q)
	// A "trained" discriminator, off by 0.1 everywhere.
	d := func(x []float64) float64 { return dstar(x) + 0.1 }
	region := func(x []float64) bool { return math.Abs(dstar(x)) <= 5 }
	in := theory.Integrator{AbsTol: 1e-8, RelTol: 1e-8}
	rmse, _ := in.WeightedRMSE(p, q, func(x []float64) float64 { return d(x) - dstar(x) }, region)
	mass, _ := in.MassM(p, q, region)
	fmt.Printf("RMSE %.6f over M-mass %.6f\n", rmse.Value, mass.Value)
	// Output:
	// RMSE 0.100000 over M-mass 0.974255
}
