package gan

import (
	"math"
	"testing"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/internal/gemm"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
)

func precisionGame(t *testing.T, p Precision, loss string, r1, gp float64) *Game {
	t.Helper()
	spec, _ := arch.Lookup("mlp")
	rng := tensor.NewRNG(3)
	g, d, err := spec.Build(spec.Defaults(), 64, arch.PointData(2), rng)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := LossByName(loss)
	adam := Adam{LR: 1e-3, Beta1: 0.5, Beta2: 0.999}
	ring, _ := dist.Parse("ring(8, r=2, sd=0.02)")
	game, err := NewGame(Config{Loss: l, Batch: 128, Latent: 64, DSteps: 1, R1Gamma: r1, GPLambda: gp,
		G: adam, D: adam, Steps: 100, Schedule: optim.Linear, Precision: p}, g, d, &PointSampler{D: ring}, rng)
	if err != nil {
		t.Fatal(err)
	}
	return game
}

// A bfloat16 step trains as the float32 one does, within bfloat16's
// rounding: with R1 (a second-order penalty) and with the gradient
// penalty; it leaves the process computing in float32 afterwards.
func TestBFloat16Step(t *testing.T) {
	if err := BFloat16.Available(); err != nil {
		t.Skip(err)
	}
	for _, c := range []struct {
		loss   string
		r1, gp float64
	}{{"minimax", 0.1, 0}, {"wasserstein", 0, 10}} {
		a := precisionGame(t, Float32, c.loss, c.r1, c.gp)
		b := precisionGame(t, BFloat16, c.loss, c.r1, c.gp)
		var sa, sb Stats
		var err error
		for range 30 {
			if sa, err = a.Step(); err != nil {
				t.Fatal(err)
			}
			if sb, err = b.Step(); err != nil {
				t.Fatal(err)
			}
			if gemm.CurrentPrecision() != gemm.Float32 {
				t.Fatal("the step left the products in bfloat16")
			}
		}
		wa, wb := weights(a.G()), weights(b.G())
		var diff, norm float64
		same := true
		for i := range wa {
			d := float64(wa[i] - wb[i])
			diff += d * d
			norm += float64(wa[i]) * float64(wa[i])
			same = same && wa[i] == wb[i]
		}
		rel := math.Sqrt(diff / norm)
		t.Logf("%s: after 30 steps G's weights differ by %.2g relatively; losses %.4f / %.4f (fp32) and %.4f / %.4f (bf16)", c.loss, rel, sa.LossD, sa.LossG, sb.LossD, sb.LossG)
		if same || rel > 0.05 || math.IsNaN(sb.LossD) || math.IsNaN(sb.LossG) {
			t.Errorf("%s: bf16 against fp32: identical %v, relative difference %.3g, losses %v %v", c.loss, same, rel, sb.LossD, sb.LossG)
		}
	}
}

func TestParsePrecision(t *testing.T) {
	for s, want := range map[string]Precision{"": Float32, "fp32": Float32, "bf16": BFloat16} {
		if p, err := ParsePrecision(s); err != nil || p != want {
			t.Errorf("%q: %v %v", s, p, err)
		}
	}
	if _, err := ParsePrecision("fp16"); err == nil {
		t.Error("fp16 accepted")
	}
}
