package dist_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/minmaxgan/minmax/dist"
)

func ExampleParse() {
	d, err := dist.Parse("mix(0.3:N(-2, 0.5), 0.7:Laplace(1, 1))")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Dim(), d)
	fmt.Printf("log p(0) = %.6f\n", d.LogProb([]float64{0}))

	// Defaults are filled in and shown in the canonical form.
	r, _ := dist.Parse("ring(8)")
	fmt.Println(r)
	// Output:
	// 1 mix(0.3:N(-2, 0.5), 0.7:Laplace(1, 1))
	// log p(0) = -2.049199
	// ring(8, r=2, sd=0.02)
}

func ExampleParse_error() {
	_, err := dist.Parse("mix(0.5:N(0, 1), 0.5:N2(0, 0, 1))")
	fmt.Println(err)
	// Output:
	// bad spec at column 22: mix components have different dimensions: 1 and 2
	//   mix(0.5:N(0, 1), 0.5:N2(0, 0, 1))
	//                        ^
}

func ExampleSampleN() {
	d, _ := dist.Parse("grid(3, spacing=1, sd=0.01)")
	r := rand.New(rand.NewPCG(1, 2)) // an explicit, seeded source
	xy := make([]float64, 4*d.Dim())
	if err := dist.SampleN(d, r, 4, xy); err != nil {
		fmt.Println(err)
		return
	}
	for i := range 4 {
		fmt.Printf("(%.1f, %.1f)\n", xy[2*i], xy[2*i+1])
	}
}

func ExampleModes() {
	d, _ := dist.Parse("mix(1:ring(4, r=1, sd=0.1), 1:N2(0, 0, 2))")
	modes, ok := dist.Modes(d)
	fmt.Println(ok)
	for _, m := range modes {
		fmt.Printf("centre %v sd %v weight %v\n", m.Center, m.SD, m.Weight)
	}
	// Output:
	// true
	// centre [1 0] sd 0.1 weight 0.125
	// centre [0 1] sd 0.1 weight 0.125
	// centre [-1 0] sd 0.1 weight 0.125
	// centre [0 -1] sd 0.1 weight 0.125
	// centre [0 0] sd 2 weight 0.5
}
