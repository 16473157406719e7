package gan

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/minmaxgan/minmax/cluster"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/nn"
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
	t.Logf("%s: %d ranks against one process, %d steps: largest relative difference %.3g", name, len(stats), len(single), worst)
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
// synchronised batch norm over 3 ranks of an uneven batch of 8.
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
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%d", c.name, c.ranks), func(t *testing.T) {
			if testing.Short() && c.name != "toy" {
				t.Skip("-short: the image games take a while under the race detector")
			}
			one := c.mk(1)
			single := playSingle(t, one, c.steps)
			stats, games := playGroup(t, c.ranks, c.syncBN, c.mk, c.steps)
			// float32 sums in another order (the batch's products and
			// means split at the shards), carried through the steps.
			checkSameAsSingle(t, c.name, single, one, stats, games, 1e-4)
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
