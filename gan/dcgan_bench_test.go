package gan

import (
	"testing"

	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
)

type noiseImages struct{ dim int }

func (s noiseImages) Dim() int { return s.dim }
func (s noiseImages) Sample(rng *tensor.RNG, n int, out []float32) {
	rng.Uniform(out[:n*s.dim], -1, 1)
}

func BenchmarkDCGAN28Step(b *testing.B) {
	rng := tensor.NewRNG(1)
	sh := nn.DCGANShape{Size: 28, Channels: 1, Width: 64}
	g, err := nn.NewDCGANGenerator("G", 100, sh, rng)
	if err != nil {
		b.Fatal(err)
	}
	d, _ := nn.NewDCGANDiscriminator("D", sh, rng)
	loss, _ := LossByName("nonsaturating")
	tr, err := NewTrainer(Options{Loss: loss, Batch: 64, Latent: 100, DSteps: 1}, g, d,
		optim.NewAdam(g.Params(), 2e-4, 0.5, 0.999), optim.NewAdam(d.Params(), 2e-4, 0.5, 0.999), noiseImages{sh.Dim()}, rng)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := tr.Step(); err != nil {
			b.Fatal(err)
		}
	}
}
