package nn_test

import (
	"testing"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

// BenchmarkSelfAttention is a training pass (forward and backward) of
// BigGAN's attention at the size of biggan-fashion-mnist's: 32 maps of
// 14×14×32, spectrally normalised.
func BenchmarkSelfAttention(b *testing.B) {
	rng := tensor.NewRNG(1)
	a := nn.NewSelfAttention(32, rng)
	for _, m := range []*nn.Conv2D{a.Theta, a.Phi, a.G, a.O} {
		if _, err := nn.AddSpectralNorm(m, "weight", rng); err != nil {
			b.Fatal(err)
		}
	}
	a.Gamma.Value.Data[0] = 0.5
	x := tensor.New(32, 14, 14, 32)
	rng.Normal(x.Data, 0, 1)
	tp := autograd.NewTape()
	xp := autograd.NewParam("x", x) // x's gradient is wanted too, as in training
	ps := append(nn.ParamList(a), xp)
	b.ResetTimer()
	for range b.N {
		tp.Reset()
		y := a.Forward(&nn.Ctx{Tape: tp, Training: true}, tp.Param(xp))
		if err := tp.Backward(tp.Sum(tp.Square(y), false), ps); err != nil {
			b.Fatal(err)
		}
	}
}
