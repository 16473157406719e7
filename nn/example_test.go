package nn_test

import (
	"fmt"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
)

// Fit an MLP to y = x² with Adam: the loop every trainer in minmax follows
// (Reset, forward, ZeroGrads, Backward, Step).
func ExampleMLP() {
	rng := tensor.NewRNG(1)
	mlp, _ := nn.NewMLP("f", []int{1, 32, 1}, nn.Activation{Kind: "tanh"}, nn.Activation{}, rng)
	opt := optim.NewAdam(mlp.Params(), 0.01, 0.9, 0.999)
	x, y := tensor.New(64, 1), tensor.New(64, 1)
	for i := range x.Data {
		x.Data[i] = float32(i)/32 - 1
		y.Data[i] = x.Data[i] * x.Data[i]
	}
	tp := autograd.NewTape()
	var loss float32
	for step := 0; step < 2000; step++ {
		tp.Reset()
		mse := tp.Mean(tp.Square(tp.Sub(mlp.Forward(tp, tp.Leaf(x)), tp.Leaf(y))), false)
		autograd.ZeroGrads(mlp.Params())
		if err := tp.Backward(mse, mlp.Params()); err != nil {
			fmt.Println(err)
			return
		}
		opt.Step()
		loss = mse.Item()
	}
	fmt.Println("parameters:", nn.NumParams(mlp), "fit below 1e-3:", loss < 1e-3)
	// Output: parameters: 97 fit below 1e-3: true
}

// A DCGAN generator for 28×28 grey images (the dcgan28 benchmark's) maps
// latent codes to images, flattened and channel-last; the discriminator
// maps them to one logit each. The parameter counts are those of the
// PyTorch peer's G28 and D28.
func ExampleNewDCGANGenerator() {
	rng := tensor.NewRNG(1)
	shape := nn.DCGANShape{Size: 28, Channels: 1, Width: 64}
	g, _ := nn.NewDCGANGenerator("G", 100, shape, rng)
	d, _ := nn.NewDCGANDiscriminator("D", shape, rng)
	tp := autograd.NewTape()
	z := tensor.New(2, 100)
	rng.Normal(z.Data, 0, 1)
	x := g.Forward(tp, tp.Leaf(z))
	logit := d.Forward(tp, x)
	fmt.Println(x.Shape(), logit.Shape(), nn.NumParams(g), nn.NumParams(d), tp.Err())
	// Output: [2 784] [2 1] 759681 138689 <nil>
}
