package gan

import (
	"math"
	"testing"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
)

// noiseImages is a sampler of uniform noise images, with labels.
type noiseImages struct{ dim, classes int }

func (s noiseImages) Dim() int { return s.dim }
func (s noiseImages) Sample(rng *tensor.RNG, n int, x []float32, labels []int) {
	rng.Uniform(x[:n*s.dim], -1, 1)
	for i := range labels {
		labels[i] = i % s.classes
	}
}

// toyGame is the toy workload's game (G z(256)-128-128-2, D 2-128-128-1)
// with every feature of the trainer on: R1 (lazy), the EMA and a schedule.
func toyGame(t testing.TB, seed uint64, batch int) *Game {
	t.Helper()
	spec, err := arch.Lookup("mlp")
	if err != nil {
		t.Fatal(err)
	}
	rng := tensor.NewRNG(seed)
	data := arch.PointData(2)
	g, d, err := spec.Build(spec.Defaults(), 256, data, rng)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := dist.Parse("ring(8, r=2, sd=0.02)")
	loss, _ := LossByName("nonsaturating")
	adam := Adam{LR: 1e-3, Beta1: 0.5, Beta2: 0.999}
	game, err := NewGame(Config{Loss: loss, Batch: batch, Latent: 256, DSteps: 1, R1Gamma: 0.1, R1Every: 2,
		G: adam, D: adam, Steps: 1000, Schedule: optim.Linear, EMA: 0.99}, g, d, &PointSampler{D: p}, rng)
	if err != nil {
		t.Fatal(err)
	}
	return game
}

// dcganGame is the dcgan28 workload's game on noise images.
func dcganGame(t testing.TB, seed uint64) *Game {
	t.Helper()
	spec, _ := arch.Lookup("dcgan")
	rng := tensor.NewRNG(seed)
	data := arch.ImageData(28, 28, 1, nil)
	g, d, err := spec.Build(spec.Defaults(), 100, data, rng)
	if err != nil {
		t.Fatal(err)
	}
	loss, _ := LossByName("nonsaturating")
	adam := Adam{LR: 2e-4, Beta1: 0.5, Beta2: 0.999}
	game, err := NewGame(Config{Loss: loss, Batch: 64, Latent: 100, DSteps: 1, G: adam, D: adam, Steps: 1000}, g, d, noiseImages{dim: data.Dim, classes: 10}, rng)
	if err != nil {
		t.Fatal(err)
	}
	return game
}

// The real trainer's step, in its steady state, allocates nothing: the
// toy game with R1, EMA and schedule, and the DCGAN game with batch norm.
func TestGameStepAllocatesNothing(t *testing.T) {
	for _, c := range []struct {
		name string
		game *Game
	}{{"toy", toyGame(t, 1, 64)}, {"dcgan28", dcganGame(t, 1)}} {
		for i := 0; i < 4; i++ { // warm the arena (R1 every other step)
			if _, err := c.game.Step(); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(10, func() {
			if _, err := c.game.Step(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 && !raceEnabled {
			t.Errorf("%s: a steady-state Game.Step made %v heap allocations, want 0", c.name, allocs)
		}
	}
}

func weights(m nn.Module) []float32 {
	var w []float32
	for _, p := range nn.Params(m) {
		w = append(w, p.Param.Value.Data...)
	}
	return w
}

// The same seed and thread count give bit-identical weights.
func TestGameIsDeterministic(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	for _, threads := range []int{1, 2} {
		parallel.SetThreads(threads)
		play := func() []float32 {
			g := toyGame(t, 7, 128)
			for i := 0; i < 5; i++ {
				if _, err := g.Step(); err != nil {
					t.Fatal(err)
				}
			}
			return append(weights(g.G()), weights(g.D())...)
		}
		a, b := play(), play()
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("threads=%d: weight %d differs between identical runs: %v vs %v", threads, i, a[i], b[i])
			}
		}
	}
}

// A step moves both players, each with its own optimiser; the state names
// every tensor training changes, and restoring it restores the game.
func TestGameStateRestores(t *testing.T) {
	a := toyGame(t, 3, 32)
	before := append([]float32(nil), weights(a.G())...)
	beforeD := append([]float32(nil), weights(a.D())...)
	for i := 0; i < 3; i++ {
		if _, err := a.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if a.optG.Steps() != 3 || a.optD.Steps() != 3 || a.StepsDone() != 3 {
		t.Fatalf("after 3 steps: optimiser steps G %d D %d, game %d", a.optG.Steps(), a.optD.Steps(), a.StepsDone())
	}
	if weights(a.G())[0] == before[0] || weights(a.D())[0] == beforeD[0] {
		t.Fatal("a player did not move")
	}
	st, err := a.State()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"G.fc1.weight", "D.fc3.bias", "optG.G.fc1.weight.adam_m", "optD.D.fc1.weight.adam_v", "G_ema.G.fc2.weight"} {
		if st.Tensors[k] == nil {
			t.Errorf("the state has no %s", k)
		}
	}
	// Copy a's state into a fresh game; both then play the same steps.
	b := toyGame(t, 99, 32)
	sb, _ := b.State()
	if len(sb.Tensors) != len(st.Tensors) {
		t.Fatalf("states of %d and %d tensors", len(st.Tensors), len(sb.Tensors))
	}
	for k, v := range st.Tensors {
		copy(sb.Tensors[k].Data, v.Data)
	}
	if err := b.Restore(st.Meta); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		sa, err1 := a.Step()
		sb, err2 := b.Step()
		if err1 != nil || err2 != nil || sa != sb {
			t.Fatalf("step %d after restoring: %+v / %+v (%v, %v)", i, sa, sb, err1, err2)
		}
	}
	if err := b.Restore(map[string]string{"step": "x"}); err == nil {
		t.Error("bad metadata was accepted")
	}
}

// A conditional game passes the real labels to D and uniform labels to
// G and D on generated samples.
func TestConditionalGameSeesLabels(t *testing.T) {
	rng := tensor.NewRNG(1)
	g, d := &labelProbe{}, &labelProbe{}
	g.w = g.NewParam("w", 1)
	d.w = d.NewParam("w", 1)
	loss, _ := LossByName("hinge")
	adam := Adam{LR: 1e-3, Beta1: 0, Beta2: 0.9}
	game, err := NewGame(Config{Loss: loss, Batch: 8, Latent: 2, DSteps: 1, G: adam, D: adam, Steps: 10, Classes: 3},
		g, d, noiseImages{dim: 2, classes: 3}, rng)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := game.Step(); err != nil {
		t.Fatal(err)
	}
	if len(g.seen) != 1 || len(d.seen) != 3 {
		t.Fatalf("G saw %d batches of labels, D %d; want 1 and 3", len(g.seen), len(d.seen))
	}
	for i, l := range d.seen[0] {
		if l != i%3 {
			t.Fatalf("D's real labels %v, want the data's", d.seen[0])
		}
	}
	for i, l := range g.seen[0] {
		if l < 0 || l >= 3 || d.seen[1][i] != l || d.seen[2][i] != l {
			t.Fatalf("generated labels: G %v, D %v and %v", g.seen[0], d.seen[1], d.seen[2])
		}
	}
}

// labelProbe records the labels of every pass; its output is x·w summed
// per row.
type labelProbe struct {
	nn.Base
	w    *autograd.Param
	seen [][]int
}

func (p *labelProbe) Forward(c *nn.Ctx, x *autograd.Node) *autograd.Node {
	p.seen = append(p.seen, append([]int(nil), c.Labels...))
	return c.Tape.Mul(x, c.Tape.Param(p.w))
}

func TestLossOfDivergedStepIsAnError(t *testing.T) {
	g := toyGame(t, 1, 16)
	for _, p := range nn.Params(g.D()) {
		p.Param.Value.Data[0] = float32(math.NaN())
	}
	if _, err := g.Step(); err == nil {
		t.Fatal("a step with NaN weights in D did not fail")
	}
}
