package autograd_test

import (
	"fmt"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// The gradient of the seed's discriminator loss (eq. 1) for a linear
// discriminator D(x) = w·x, with respect to w only.
func ExampleTape_Backward() {
	w := autograd.NewParam("w", must(tensor.FromData([]float32{0.5, -0.25}, 1, 2)))
	real := must(tensor.FromData([]float32{1, 2, 3, 4}, 2, 2))
	fake := must(tensor.FromData([]float32{0, 1, 1, 0}, 2, 2))

	tp := autograd.NewTape()
	dReal := tp.Linear(tp.Leaf(real), tp.Param(w), nil)
	dFake := tp.Linear(tp.Leaf(fake), tp.Param(w), nil)
	vd := tp.Add(tp.Mean(tp.Softplus(tp.Neg(dReal)), false), tp.Mean(tp.Softplus(dFake), false))
	if err := tp.Backward(vd, []*autograd.Param{w}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("V_D = %.4f, dV_D/dw = %.4f\n", vd.Item(), w.Grad.Data)
	// Output: V_D = 1.3586, dV_D/dw = [-0.5051 -1.0362]
}

// A gradient penalty needs the gradient of D with respect to its input,
// inside the loss: Grad with createGraph returns it as a node that can be
// differentiated again.
func ExampleTape_Grad() {
	x := must(tensor.FromData([]float32{1, 2}, 2))
	tp := autograd.NewTape()
	xn := tp.Leaf(x)
	f := tp.Sum(tp.Mul(tp.Square(xn), xn), false)  // Σ x³
	g, _ := tp.Grad(f, []*autograd.Node{xn}, true) // 3x²
	pen := tp.Sum(tp.Square(g[0]), false)          // Σ 9x⁴
	gg, _ := tp.Grad(pen, []*autograd.Node{xn}, false)
	fmt.Println(g[0].Data(), gg[0].Data())
	// Output: [3 12] [36 288]
}

// Shape mismatches are errors that name the op and both shapes.
func ExampleTape_Err() {
	tp := autograd.NewTape()
	tp.MatMul(tp.Full(1, 3, 4), tp.Full(1, 5, 2), false, false)
	fmt.Println(tp.Err())
	// Output: MatMul: shapes [3 4] and [5 2]: inner dimensions 4 and 5 differ
}

func must(t *tensor.Tensor, err error) *tensor.Tensor {
	if err != nil {
		panic(err)
	}
	return t
}
