package nn_test

import (
	"fmt"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
)

// Fit an MLP to y = x² with Adam through optim.Loop, the loop every
// single-player training in minmax uses (reset, forward, descend).
func ExampleMLP() {
	rng := tensor.NewRNG(1)
	mlp, _ := nn.NewMLP([]int{1, 32, 1}, nn.Activation{Kind: "tanh"}, nn.Activation{}, false, rng)
	x, y := tensor.New(64, 1), tensor.New(64, 1)
	for i := range x.Data {
		x.Data[i] = float32(i)/32 - 1
		y.Data[i] = x.Data[i] * x.Data[i]
	}
	var loss float64
	loop := optim.Loop{
		Opt: optim.NewAdam(nn.ParamList(mlp), 0.01, 0.9, 0.999), LR: 0.01, Steps: 2000,
		Loss: func(tp *autograd.Tape, _ int) (*autograd.Node, error) {
			out := mlp.Forward(&nn.Ctx{Tape: tp, Training: true}, tp.Leaf(x))
			return tp.Mean(tp.Square(tp.Sub(out, tp.Leaf(y))), false), nil
		},
		After: func(_ int, l float64) error { loss = l; return nil },
	}
	if err := loop.Run(nil); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("parameters:", nn.NumParams(mlp), "fit below 1e-3:", loss < 1e-3)
	// Output: parameters: 97 fit below 1e-3: true
}

// A module's state is named by the path to it, PyTorch's state_dict:
// parameters, then buffers (batch norm's running statistics).
func ExampleState() {
	rng := tensor.NewRNG(1)
	m, _ := nn.NewMLP([]int{2, 4, 1}, nn.Activation{Kind: "relu"}, nn.Activation{}, true, rng)
	if err := nn.Root(m, "D"); err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range nn.State(m) {
		fmt.Println(s.Name, s.Tensor.Shape())
	}
	fmt.Println(nn.ParamList(m)[0].Name)
	// Output:
	// fc1.weight [4 2]
	// fc1.bias [4]
	// bn1.weight [4]
	// bn1.bias [4]
	// fc2.weight [1 4]
	// fc2.bias [1]
	// bn1.running_mean [4]
	// bn1.running_var [4]
	// D.fc1.weight
}
