package gan

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/cluster"
	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

// playGroup trains one game per rank of an in-process group of n ranks
// for steps steps and returns every rank's stats and game. mk builds a
// rank's game from a seed: ranks other than 0 get another seed, which
// Distribute must overwrite with rank 0's state.
func playGroup(t *testing.T, n int, syncBN bool, mk func(seed uint64) *Game, steps int) ([][]Stats, []*Game) {
	t.Helper()
	comms := cluster.Local(n)
	stats := make([][]Stats, n)
	games := make([]*Game, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r := range n {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			seed := uint64(1)
			if r > 0 {
				seed = 1000 + uint64(r)
			}
			g := mk(seed)
			games[r] = g
			if errs[r] = g.Distribute(comms[r], syncBN); errs[r] != nil {
				return
			}
			for range steps {
				st, err := g.Step()
				if err != nil {
					errs[r] = err
					return
				}
				stats[r] = append(stats[r], st)
			}
		}(r)
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	return stats, games
}

// statsDiff is the largest relDiff of a step's figures.
func statsDiff(a, b Stats) float64 {
	return max(relDiff(a.LossD, b.LossD), relDiff(a.LossG, b.LossG), relDiff(a.Penalty, b.Penalty),
		relDiff(a.DReal, b.DReal), relDiff(a.DFake, b.DFake), relDiff(a.GradD, b.GradD), relDiff(a.GradG, b.GradG))
}

// relDiff is |a − b| / (1 + |b|).
func relDiff(a, b float64) float64 { return math.Abs(a-b) / (1 + math.Abs(b)) }

// checkSameAsSingle compares a group's run with one process's: every
// rank's figures equal rank 0's bit for bit, and rank 0's equal the
// single process's within tol at every step. The largest difference it
// logs includes the final weights of G and D, which are not held to tol:
// the bias of a convolution followed by batch norm has a gradient of
// zero up to rounding, which Adam turns into steps of the learning rate
// whose sign the rounding decides (BigGAN's blocks: ~1e-3 after 6 steps).
func checkSameAsSingle(t *testing.T, name string, single []Stats, singleGame *Game, stats [][]Stats, games []*Game, tol float64) float64 {
	t.Helper()
	worst := 0.0
	for r := 1; r < len(stats); r++ {
		if !slices.Equal(stats[r], stats[0]) {
			t.Errorf("%s: rank %d's figures differ from rank 0's", name, r)
		}
		for _, m := range []func(*Game) nn.Module{(*Game).G, (*Game).D} {
			if !slices.Equal(weights(m(games[r])), weights(m(games[0]))) {
				t.Errorf("%s: rank %d's weights differ from rank 0's", name, r)
			}
		}
		if !slices.EqualFunc(bnBuffers(games[r]), bnBuffers(games[0]), slices.Equal) {
			t.Errorf("%s: rank %d's batch-norm running statistics differ from rank 0's", name, r)
		}
	}
	for i, want := range single {
		got := stats[0][i]
		for _, f := range []struct {
			what string
			a, b float64
		}{{"loss_d", got.LossD, want.LossD}, {"loss_g", got.LossG, want.LossG}, {"penalty", got.Penalty, want.Penalty},
			{"d_real", got.DReal, want.DReal}, {"d_fake", got.DFake, want.DFake},
			{"grad_norm_d", got.GradD, want.GradD}, {"grad_norm_g", got.GradG, want.GradG}} {
			d := relDiff(f.a, f.b)
			worst = max(worst, d)
			if d > tol {
				t.Errorf("%s: step %d: %s %.9g over %d ranks, %.9g in one process (relative difference %.3g > %.3g)", name, i+1, f.what, f.a, len(stats), f.b, d, tol)
			}
		}
	}
	for _, m := range []func(*Game) nn.Module{(*Game).G, (*Game).D} {
		a, b := weights(m(games[0])), weights(m(singleGame))
		for i := range a {
			worst = max(worst, relDiff(float64(a[i]), float64(b[i])))
		}
	}
	t.Logf("%s: %d ranks against one process, %d steps: largest relative difference %.3g", name, len(stats), len(stats[0]), worst)
	return worst
}

func bnBuffers(g *Game) [][]float32 {
	var out [][]float32
	for _, m := range []nn.Module{g.G(), g.D()} {
		nn.Walk(m, func(_ string, mm nn.Module) {
			if b, ok := mm.(*nn.BatchNorm); ok {
				out = append(out, b.RunningMean.Data, b.RunningVar.Data)
			}
		})
	}
	return out
}

func playSingle(t *testing.T, g *Game, steps int) []Stats {
	t.Helper()
	var out []Stats
	for range steps {
		st, err := g.Step()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st)
	}
	return out
}

// Data parallelism computes the single process's step: the toy game (R1
// every other step, EMA, schedule) over 2 and 3 ranks (64 = 22+21+21), the
// DCGAN game with synchronised batch norm over 2, and the BigGAN game
// (conditional, hierarchical z, attention, spectral norm, the joint step,
// DiffAugment, LeCam, orthogonal regularisation, two D steps, R1) with
// synchronised batch norm over 3 ranks of an uneven batch of 8, and the
// same game with the DCGAN step and D judging both batches at once over 2.
func TestDistributedStepIsTheSingleStep(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	parallel.SetThreads(1) // the ranks are goroutines sharing the worker pool
	cases := []struct {
		name   string
		ranks  int
		syncBN bool
		steps  int
		mk     func(seed uint64) *Game
	}{
		{"toy", 2, false, 30, func(seed uint64) *Game { return toyGame(t, seed, 64) }},
		{"toy", 3, false, 30, func(seed uint64) *Game { return toyGame(t, seed, 64) }},
		{"dcgan28 --sync-bn", 2, true, 6, func(seed uint64) *Game { return dcganGame(t, seed) }},
		{"biggan --sync-bn", 3, true, 6, func(seed uint64) *Game { return bigganGame(t, seed) }},
		{"biggan, DCGAN step, joint D, --sync-bn", 2, true, 6, func(seed uint64) *Game {
			g := bigganGame(t, seed)
			g.cfg.Joint, g.cfg.JointD = false, true
			return g
		}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%d", c.name, c.ranks), func(t *testing.T) {
			if testing.Short() && c.name != "toy" {
				t.Skip("-short: the image games take a while under the race detector")
			}
			one := c.mk(1)
			single := playSingle(t, one, c.steps)
			stats, games := playGroup(t, c.ranks, c.syncBN, c.mk, c.steps)
			if c.name == "toy" {
				// float32 sums in another order (the batch's products
				// and means split at the shards), carried through the
				// steps.
				checkSameAsSingle(t, c.name, single, one, stats, games, 1e-4)
				return
			}
			// The image games' first step agrees to the rounding of sums
			// split at the shards; later steps drift as one process
			// drifts from itself when every summed gradient gets an
			// error of that size (TestDistributedDriftIsRoundingDrift:
			// Adam turns rounding in near-zero gradients into moves of
			// the learning rate). Each step is held to 10 times that
			// drift so far (at least 1e-4).
			checkSameAsSingle(t, c.name, single[:1], one, stats, games, 1e-6)
			ulp := playSingle(t, nudge(c.mk(1)), c.steps)
			envelope := 0.0
			for i := range single {
				envelope = max(envelope, statsDiff(ulp[i], single[i]))
				if d := statsDiff(stats[0][i], single[i]); d > max(1e-4, 10*envelope) {
					t.Errorf("%s: step %d: %d ranks differ from one process by %.3g, more than 10 times the drift of rounding-sized gradient errors (%.3g) or 1e-4", c.name, i+1, c.ranks, d, envelope)
				}
			}
			t.Logf("%s: %d steps: %d ranks vs one process %.3g; one process with rounding-sized gradient errors vs not %.3g", c.name, c.steps, c.ranks, statsDiff(stats[0][c.steps-1], single[c.steps-1]), envelope)
		})
	}
}

// Per-rank batch norm (no --sync-bn) is not the single process's step,
// but the ranks stay identical: the running statistics are averaged.
func TestDistributedPerRankBatchNorm(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	parallel.SetThreads(1)
	stats, games := playGroup(t, 2, false, func(seed uint64) *Game { return dcganGame(t, seed) }, 3)
	if !slices.Equal(stats[0], stats[1]) {
		t.Error("the ranks' figures differ")
	}
	if !slices.EqualFunc(bnBuffers(games[0]), bnBuffers(games[1]), slices.Equal) {
		t.Error("the ranks' batch-norm running statistics differ")
	}
	if !slices.Equal(weights(games[0].G()), weights(games[1].G())) {
		t.Error("the ranks' weights differ")
	}
}

// A batch smaller than the group is refused with the sizes.
func TestDistributeRefusesTinyBatch(t *testing.T) {
	comms := cluster.Local(1)
	g := toyGame(t, 1, 2)
	if err := g.Distribute(comms[0], false); err != nil {
		t.Fatalf("a group of one: %v", err)
	}
	errs := make([]error, 3)
	comms = cluster.Local(3)
	var wg sync.WaitGroup
	for r := range 3 {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			errs[r] = toyGame(t, 1, 2).Distribute(comms[r], false)
		}(r)
	}
	wg.Wait()
	for r, err := range errs {
		if err == nil {
			t.Errorf("rank %d: a batch of 2 over 3 ranks was accepted", r)
		}
	}
}

// randomImageGame is a DCGAN (width 8, batch 32, minimax) on 256 random
// images, the game of the command's MPI test, whose gradients include
// near-zero elements.
func randomImageGame(t *testing.T, seed uint64) *Game {
	t.Helper()
	spec, _ := arch.Lookup("dcgan")
	rng := tensor.NewRNG(seed)
	data := arch.ImageData(28, 28, 1, nil)
	o := spec.Defaults().(*arch.DCGANOptions)
	o.Width = 8
	g, d, err := spec.Build(o, 100, data, rng)
	if err != nil {
		t.Fatal(err)
	}
	pix := tensor.NewRNG(9)
	set := &imgdata.Set{N: 256, C: 1, H: 28, W: 28, Pix: make([]uint8, 256*784)}
	for i := range set.Pix {
		set.Pix[i] = uint8(pix.IntN(256))
	}
	s, err := NewImageSampler(set)
	if err != nil {
		t.Fatal(err)
	}
	adam := Adam{LR: 2e-4, Beta1: 0.5, Beta2: 0.999}
	game, err := NewGame(Config{Loss: Losses["minimax"], Batch: 32, Latent: 100, DSteps: 1, G: adam, D: adam, Steps: 1000}, g, d, s, rng)
	if err != nil {
		t.Fatal(err)
	}
	return game
}

// nudgeComm is a "group" of one process whose all-reduce adds to every
// summed gradient a rounding error of the size summing in another order
// makes: ±2⁻²⁴ (half a unit in the last place of 1) times the largest
// gradient of the player, at random. (The error of a sum is relative to
// its terms, not to the sum: a weight whose gradient cancels to nearly
// zero gets an error as large as a big gradient's.)
type nudgeComm struct {
	cluster.Single
	coin *tensor.RNG
}

// nudge makes g a one-process "group" over a nudgeComm.
func nudge(g *Game) *Game {
	s := &shard{comm: nudgeComm{coin: tensor.NewRNG(5)}, weight: 1}
	s.sum = s.reduce
	g.shard = s
	return g
}

func (c nudgeComm) AllReduceFloat32(buf []float32) error {
	grads := buf // the gradients, then the loss and the figures: all nudged
	var top float32
	for _, v := range grads {
		top = max(top, v, -v)
	}
	step := top * 0x1p-24
	for i := range grads {
		if c.coin.IntN(2) == 0 {
			grads[i] += step
		} else {
			grads[i] -= step
		}
	}
	return nil
}

// The drift of a data-parallel run from one process's, over the steps:
// the first step agrees to rounding; later the runs part, as one process's
// run parts from itself when every summed gradient gets a rounding error
// of its player's scale (Adam turns rounding in near-zero gradients into
// moves of up to the learning rate, and the game amplifies them). (go test ./gan
// -run Drift -v prints both; docs/distributed.md quotes them.)
func TestDistributedDriftIsRoundingDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	defer parallel.SetThreads(parallel.Default().Threads())
	parallel.SetThreads(1)
	const steps = 30
	mk := func(seed uint64) *Game { return randomImageGame(t, seed) }
	base := playSingle(t, mk(1), steps)
	ulp := playSingle(t, nudge(mk(1)), steps)
	stats, _ := playGroup(t, 2, true, mk, steps)
	drift := func(run []Stats, upTo int) (loss, grad float64) {
		for i := range upTo {
			a, b := run[i], base[i]
			loss = max(loss, relDiff(a.LossD, b.LossD), relDiff(a.LossG, b.LossG), relDiff(a.DReal, b.DReal), relDiff(a.DFake, b.DFake))
			grad = max(grad, relDiff(a.GradD, b.GradD), relDiff(a.GradG, b.GradG))
		}
		return loss, grad
	}
	if l, g := drift(stats[0], 1); l > 1e-6 || g > 1e-6 {
		t.Errorf("step 1 over 2 ranks differs from one process by %.3g (losses), %.3g (gradient norms): more than rounding", l, g)
	}
	for _, upTo := range []int{1, 10, steps} {
		l, g := drift(stats[0], upTo)
		lu, gu := drift(ulp, upTo)
		t.Logf("steps 1-%d: 2 ranks (--sync-bn) vs one process: losses %.2g, gradient norms %.2g; gradients with rounding-sized errors vs not: %.2g, %.2g", upTo, l, g, lu, gu)
		if upTo > 1 && (lu == 0 || gu == 0) {
			t.Errorf("steps 1-%d: the rounding-sized errors changed nothing: the nudge is not applied", upTo)
		}
		if upTo > 1 && (l > 10*lu || g > 10*gu) {
			t.Errorf("steps 1-%d: 2 ranks drift from one process more than 10 times as far as rounding-sized gradient errors do", upTo)
		}
	}
}
