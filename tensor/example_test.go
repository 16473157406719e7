package tensor_test

import (
	"fmt"

	"github.com/minmaxgan/minmax/tensor"
)

func ExampleMatMul() {
	a := []float32{1, 2, 3, 4, 5, 6} // 2×3
	b := []float32{1, 0, 0, 1, 1, 1} // 3×2
	c := make([]float32, 4)
	tensor.MatMul(c, a, b, 2, 2, 3, false, false, false)
	fmt.Println(c)
	// Output: [4 5 10 11]
}

func ExampleTensor_Reshape() {
	t := tensor.New(2, 3)
	v, _ := t.Reshape(3, -1)
	v.Data[0] = 7 // a view: same data
	fmt.Println(v.Shape(), t.Data[0])
	_, err := t.Reshape(4, -1)
	fmt.Println(err)
	// Output:
	// [3 2] 7
	// bad shape: reshape [2 3] (6 elements) to [4 -1]: cannot infer the -1
}

func ExampleRNG() {
	a, b := tensor.NewRNG(42), tensor.NewRNG(42)
	x, y := make([]float32, 3), make([]float32, 3)
	a.Normal(x, 0, 1)
	b.Normal(y, 0, 1)
	fmt.Println(x[0] == y[0] && x[2] == y[2])
	// Output: true
}
