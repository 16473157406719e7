package nn_test

import (
	"math"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/autograd/gradcheck"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
)

// toyGAN is one alternating step of the seed's game on MLPs, the `toy`
// workload's shapes: D descends V_D (eq. 1), then G descends on D's verdict
// of its samples.
type toyGAN struct {
	g, d       *nn.MLP
	optG, optD *optim.Adam
	tp         *autograd.Tape
	rng        *tensor.RNG
	z, real    *tensor.Tensor
}

func newToyGAN(seed uint64, batch int) *toyGAN {
	rng := tensor.NewRNG(seed)
	relu := nn.Activation{Kind: "relu"}
	g, _ := nn.NewMLP("G", []int{256, 128, 128, 2}, relu, nn.Activation{}, rng)
	d, _ := nn.NewMLP("D", []int{2, 128, 128, 1}, relu, nn.Activation{}, rng)
	return &toyGAN{
		g: g, d: d, rng: rng, tp: autograd.NewTape(),
		optG: optim.NewAdam(g.Params(), 1e-3, 0.5, 0.999),
		optD: optim.NewAdam(d.Params(), 1e-3, 0.5, 0.999),
		z:    tensor.New(batch, 256), real: tensor.New(batch, 2),
	}
}

func (s *toyGAN) step() error {
	tp := s.tp
	// (1) Update D: minimise E_P softplus(-D(x)) + E_Q softplus(D(G(z))).
	tp.Reset()
	s.rng.Normal(s.real.Data, 1, 0.1)
	s.rng.Normal(s.z.Data, 0, 1)
	fake := s.g.Forward(tp, tp.Leaf(s.z))
	lossD := tp.Add(
		tp.Mean(tp.Softplus(tp.Neg(s.d.Forward(tp, tp.Leaf(s.real)))), false),
		tp.Mean(tp.Softplus(s.d.Forward(tp, fake)), false))
	autograd.ZeroGrads(s.optD.Params())
	if err := tp.Backward(lossD, s.optD.Params()); err != nil {
		return err
	}
	s.optD.Step()
	// (2) Update G through the updated, frozen D.
	tp.Reset()
	s.rng.Normal(s.z.Data, 0, 1)
	lossG := tp.Mean(tp.Softplus(tp.Neg(s.d.Forward(tp, s.g.Forward(tp, tp.Leaf(s.z))))), false)
	autograd.ZeroGrads(s.optG.Params())
	if err := tp.Backward(lossG, s.optG.Params()); err != nil {
		return err
	}
	s.optG.Step()
	return nil
}

func TestTrainingStepAllocatesNothing(t *testing.T) {
	s := newToyGAN(1, 64)
	for i := 0; i < 3; i++ { // warm the arena
		if err := s.step(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(20, func() {
		if err := s.step(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("a steady-state MLP GAN step (forward, backward, Adam for D and G) made %v heap allocations, want 0", allocs)
	}
}

func weights(m nn.Module) []float32 {
	var w []float32
	for _, p := range m.Params() {
		w = append(w, p.Value.Data...)
	}
	return w
}

// The same seed and thread count give bit-identical weights.
func TestDeterminism(t *testing.T) {
	for _, threads := range []int{1, 2} {
		parallel.SetThreads(threads)
		run := func() []float32 {
			s := newToyGAN(7, 128)
			for i := 0; i < 5; i++ {
				if err := s.step(); err != nil {
					t.Fatal(err)
				}
			}
			return append(weights(s.g), weights(s.d)...)
		}
		a, b := run(), run()
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("threads=%d: weight %d differs between identical runs: %v vs %v", threads, i, a[i], b[i])
			}
		}
	}
}

func BenchmarkToyStep(b *testing.B) {
	s := newToyGAN(1, 512)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.step(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBatchNormGradcheckAndRunningStats(t *testing.T) {
	rng := tensor.NewRNG(5)
	bn := nn.NewBatchNorm("bn", 3)
	rng.Normal(bn.Gamma.Value.Data, 1, 0.3)
	rng.Normal(bn.Beta.Value.Data, 0, 0.3)
	x := tensor.New(6, 3)
	rng.Normal(x.Data, 2, 1.5)
	f := func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
		return tp.Tanh(bn.Forward(tp, in[0], true))
	}
	if err := gradcheck.Check(f, []*tensor.Tensor{x}, gradcheck.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := gradcheck.CheckSecond(f, []*tensor.Tensor{x}, gradcheck.Options{}); err != nil {
		t.Fatal(err)
	}
	// Training-mode output has zero mean and unit (biased) variance per
	// feature before γ, β; running stats move toward the batch's.
	b2 := nn.NewBatchNorm("b2", 3)
	tp := autograd.NewTape()
	y := b2.Forward(tp, tp.Leaf(x), true)
	for j := 0; j < 3; j++ {
		var m, v, bm float64
		for i := 0; i < 6; i++ {
			m += float64(y.Data()[i*3+j]) / 6
			bm += float64(x.Data[i*3+j]) / 6
		}
		for i := 0; i < 6; i++ {
			d := float64(y.Data()[i*3+j]) - m
			v += d * d / 6
		}
		if math.Abs(m) > 1e-5 || math.Abs(v-1) > 1e-3 {
			t.Errorf("feature %d: mean %g, variance %g after normalisation", j, m, v)
		}
		if math.Abs(float64(b2.RunningMean.Data[j])-0.1*bm) > 1e-5 {
			t.Errorf("running mean %g, want %g", b2.RunningMean.Data[j], 0.1*bm)
		}
	}
}

// The image layers built from composed ops differentiate to second order
// like the ops they are made of.
func TestImageLayersGradcheck(t *testing.T) {
	rng := tensor.NewRNG(8)
	x := tensor.New(2, 4, 6, 3)
	rng.Normal(x.Data, 0, 1)
	bn := nn.NewBatchNorm2D("bn", 3)
	rng.Normal(bn.Gamma.Value.Data, 1, 0.3)
	for name, f := range map[string]gradcheck.Func{
		"Upsample2D": func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
			return tp.Square(nn.Upsample2D(tp, in[0], 2))
		},
		"AvgPool2D": func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
			return tp.Square(nn.AvgPool2D(tp, in[0], 2))
		},
		"BatchNorm2D": func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
			return tp.Tanh(bn.Forward(tp, in[0], true))
		},
	} {
		if err := gradcheck.Check(f, []*tensor.Tensor{x}, gradcheck.Options{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := gradcheck.CheckSecond(f, []*tensor.Tensor{x}, gradcheck.Options{}); err != nil {
			t.Errorf("%s, second order: %v", name, err)
		}
	}
	// Upsampling repeats each pixel into a 2×2 block; pooling averages it back.
	tp := autograd.NewTape()
	up := nn.Upsample2D(tp, tp.Leaf(x), 2)
	back := nn.AvgPool2D(tp, up, 2)
	if s := up.Shape(); s[1] != 8 || s[2] != 12 {
		t.Fatalf("upsampled shape %v", s)
	}
	if up.Data()[3] != x.Data[0] || up.Data()[12*3] != x.Data[0] {
		t.Error("upsampling does not repeat pixel (0, 0) into its block")
	}
	for i, v := range back.Data() {
		if math.Abs(float64(v-x.Data[i])) > 1e-6 {
			t.Fatalf("AvgPool2D(Upsample2D(x)) differs from x at %d", i)
		}
	}
	// Shape errors name the layer.
	nn.AvgPool2D(tp, tp.Leaf(x), 4)
	if err := tp.Err(); err == nil || !strings.Contains(err.Error(), "AvgPool2D") {
		t.Errorf("pooling 4×6 by 4: err = %v", err)
	}
}

// In evaluation mode batch norm is (x - μ)/√(σ² + ε)·γ + β with the running
// statistics, and its gradient in x is right (γ and β reach the result
// through the same ops as x does).
func TestBatchNormEvaluationMode(t *testing.T) {
	rng := tensor.NewRNG(9)
	bn := nn.NewBatchNorm("bn", 4)
	rng.Normal(bn.Gamma.Value.Data, 1, 0.3)
	rng.Normal(bn.Beta.Value.Data, 0, 0.3)
	rng.Normal(bn.RunningMean.Data, 1, 1)
	rng.Uniform(bn.RunningVar.Data, 0.2, 3)
	x := tensor.New(5, 4)
	rng.Normal(x.Data, 1, 2)
	tp := autograd.NewTape()
	y := bn.Forward(tp, tp.Leaf(x), false).Data()
	for i := range x.Data {
		j := i % 4
		want := (float64(x.Data[i])-float64(bn.RunningMean.Data[j]))/math.Sqrt(float64(bn.RunningVar.Data[j])+1e-5)*float64(bn.Gamma.Value.Data[j]) + float64(bn.Beta.Value.Data[j])
		if math.Abs(float64(y[i])-want) > 1e-5*(1+math.Abs(want)) {
			t.Fatalf("element %d: %v, want %v", i, y[i], want)
		}
	}
	f := func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
		return tp.Tanh(bn.Forward(tp, in[0], false))
	}
	if err := gradcheck.Check(f, []*tensor.Tensor{x}, gradcheck.Options{}); err != nil {
		t.Fatal(err)
	}
}
