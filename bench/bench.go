// Package bench times minmax's workloads for `minmax bench`, following
// the contract in ../shared/bench/README.md: a warm-up, then several timed
// windows (at least ~3 s of timing in all), and the median rate. The
// workloads drive the real trainer (gan.Game built by package recipe), so
// what is timed is what `minmax train` runs.
package bench

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/cluster"
	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/nn"

	"github.com/minmaxgan/minmax/internal/gemm"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/recipe"
	"github.com/minmaxgan/minmax/tensor"
)

// Result is one line of `minmax bench --json`.
type Result struct {
	Workload string `json:"workload"`
	// Kind is the loop of a peak line ("fp32-fma-avx512", see Peak); empty
	// for the other workloads.
	Kind string `json:"kind,omitempty"`
	// Precision is "bf16" for a run whose matrix products were computed
	// in bfloat16 (Options.Precision); empty for float32.
	Precision string `json:"precision,omitempty"`
	// BF16Kernel names the kernel of a bfloat16 run's products
	// (gemm.BF16Kernel: "amx" or "avx512-bf16").
	BF16Kernel string  `json:"bf16_kernel,omitempty"`
	Threads    int     `json:"threads"`
	Rate       float64 `json:"rate"`
	Unit       string  `json:"unit"`
	// GFLOPS is Rate times the workload's FLOPs per unit (see flops.go):
	// the GFLOP/s of its matrix products.
	GFLOPS float64 `json:"gflops,omitempty"`
	// PeakFraction is GFLOPS over the machine's float32 peak at the same
	// thread count (PeakGFLOPS, measured in the same process; see
	// FP32Peak), or in bfloat16 over the peak of its kernel (BF16Peak).
	// Of the peak workload's lines only the kernel's ceiling has one: its
	// rate over the float32 line's, measured just before it (Peak).
	PeakFraction float64 `json:"peak_fraction,omitempty"`
	PeakGFLOPS   float64 `json:"peak_gflops,omitempty"`
	Windows      int     `json:"windows"`
	Seconds      float64 `json:"seconds"`
	// CPUShare (peak lines, Linux) is the CPU time the peak's threads ran
	// over their elapsed time: under 1 when other processes shared the
	// cores, so that the rate is the share of the machine this process
	// got rather than its limit.
	CPUShare float64 `json:"cpu_share,omitempty"`
	// Ranks is the number of MPI processes of a data-parallel run
	// (mpirun -np N minmax bench), each with Threads threads; the rate is
	// of global steps (the whole batch). AllReduceShare is the share of
	// the timed windows rank 0 spent in collectives (the gradients'
	// all-reduce, and waiting there for the slower rank).
	Ranks int `json:"ranks,omitempty"`
	// ParamsG and ParamsD are the trained parameters of a training
	// workload's players; AllReduceBytes the gradient bytes a data-parallel
	// step sums across the ranks (D's at each D step, then G's, float32).
	ParamsG        int `json:"params_g,omitempty"`
	ParamsD        int `json:"params_d,omitempty"`
	AllReduceBytes int `json:"allreduce_bytes,omitempty"`
	// Batch is the batch a training workload was run with when it is not
	// its own (--batch).
	Batch          int     `json:"batch,omitempty"`
	AllReduceShare float64 `json:"allreduce_share,omitempty"`
	// Caches (peak lines) are the core's L1 data cache and L2 as the
	// matrix products read them at start-up, and Blocking the block sizes
	// they chose from them (see internal/gemm's Blocking), e.g.
	// "L1d 48 KiB, L2 1024 KiB (cpuid leaf 0x8000001d)" and
	// "KC 256, MC 192, NC 1024".
	Caches   string `json:"caches,omitempty"`
	Blocking string `json:"blocking,omitempty"`
}

// Workload is something that can be timed: one call of Step is one unit.
type Workload struct {
	Name string
	Unit string // "call/s" or "step/s"
	// Flops is the floating-point operations of one unit, 0 if unknown:
	// the matrix products' multiply-adds at 2 FLOP each, forward and
	// backward (flops.go says what is counted and gives each workload's
	// count).
	Flops float64
	// Setup prepares the workload and returns its step function.
	Setup func(seed uint64) (step func() error, err error)
	// Game, for the training workloads, builds the game whose Step is
	// the unit (Setup then is its Step); a data-parallel run distributes
	// it.
	Game func(seed uint64, batch int) (*gan.Game, error)
	// Batch is the training workloads' batch (0 otherwise).
	Batch int
}

// Options controls the timing.
type Options struct {
	Threads   int
	Windows   int           // timed windows (default 5)
	MinWindow time.Duration // minimum length of each window (default 650 ms)
	Warmup    time.Duration // warm-up before timing (default 500 ms), and at least warmupSteps units

	// The float32 peak that PeakFraction divides by is measured after the
	// timed windows, once per thread count in a process (see FP32Peak),
	// in PeakWindows windows of PeakWindow (default 4 of 250 ms, about
	// 1 s); NoPeak skips it.
	PeakWindows int
	PeakWindow  time.Duration
	NoPeak      bool
	// Precision "bf16" computes every matrix product of the workload in
	// bfloat16 (internal/gemm's BFloat16: the training step of
	// --precision bf16); PeakFraction then divides by the bfloat16 peak.
	// "" or "fp32": float32.
	Precision string
	// Comm runs a training workload as one rank of a data-parallel group
	// (gan.Game.Distribute, per-rank batch norm unless SyncBN): every rank
	// calls Run, rank 0 decides when each window ends, and the peak is not
	// measured (it would be one rank's). nil: a single process.
	Comm   cluster.Comm
	SyncBN bool
	// Batch, when > 0, replaces a training workload's batch (the global
	// batch of a data-parallel run): how the step's cost depends on the
	// batch, for scaling models. Its FLOPs are scaled by the ratio (every
	// product of these networks is linear in the batch).
	Batch int
}

// warmupSteps is the fewest units the warm-up runs, however long they
// take, as the peer's does (../shared/bench/peer/torch_gan_bench.py): a
// biggan32 step takes longer than the warm-up's 500 ms, and its first
// steps fault in its 1.7 GB of memory and grow the buffers the later ones
// reuse (the second and third took 18% and 5% longer than the rest).
const warmupSteps = 3

// Run times w: it sets the thread count, warms up (Warmup and at least
// warmupSteps units), then measures Windows windows of at least MinWindow
// each and reports the median rate.
func Run(w Workload, o Options) (Result, error) {
	if o.Threads < 1 {
		return Result{}, fmt.Errorf("benchmark: --threads must be at least 1, got %d", o.Threads)
	}
	if o.Windows <= 0 {
		o.Windows = 5
	}
	if o.MinWindow <= 0 {
		o.MinWindow = 650 * time.Millisecond
	}
	if o.Warmup <= 0 {
		o.Warmup = 500 * time.Millisecond
	}
	parallel.SetThreads(o.Threads)
	bf16 := false
	switch o.Precision {
	case "", "fp32":
	case "bf16":
		if err := gemm.SetPrecision(gemm.BFloat16); err != nil {
			return Result{}, fmt.Errorf("benchmark: --precision bf16: %w", err)
		}
		defer gemm.SetPrecision(gemm.Float32)
		bf16 = true
	default:
		return Result{}, fmt.Errorf("benchmark: --precision %q: want fp32 or bf16", o.Precision)
	}
	if o.Batch < 0 || o.Batch > 0 && w.Game == nil {
		return Result{}, fmt.Errorf("benchmark: a batch applies to the training workloads (toy, dcgan28, biggan32), not %s", w.Name)
	}
	if o.Batch > 0 && o.Batch != w.Batch {
		w.Flops *= float64(o.Batch) / float64(w.Batch)
		w.Batch = o.Batch
	}
	step, timed, game, err := setup(w, o)
	if err != nil {
		return Result{}, err
	}
	// more says whether to take another step: rank 0's clock decides for
	// every rank of a data-parallel run (its steps are collective).
	// window steps for at least d and returns the steps and the seconds;
	// in a data-parallel run rank 0's clock decides for every rank (each
	// step is collective), through a one-number all-reduce per step.
	window := func(d time.Duration, minSteps int) (steps int, seconds float64, err error) {
		t0 := time.Now()
		for {
			more := time.Since(t0) < d || steps < minSteps
			if o.Comm != nil {
				var flag [1]float64
				if more && o.Comm.Rank() == 0 {
					flag[0] = 1
				}
				if err := timed.AllReduceFloat64(flag[:]); err != nil {
					return 0, 0, err
				}
				more = flag[0] > 0
			}
			if !more {
				return steps, time.Since(t0).Seconds(), nil
			}
			if err := step(); err != nil {
				return 0, 0, err
			}
			steps++
		}
	}
	if _, _, err := window(o.Warmup, warmupSteps); err != nil {
		return Result{}, err
	}
	rates := make([]float64, 0, o.Windows)
	total := 0.0
	var inComm time.Duration
	for i := 0; i < o.Windows; i++ {
		if timed != nil {
			timed.Reset()
		}
		n, el, err := window(o.MinWindow, 0)
		if err != nil {
			return Result{}, err
		}
		total += el
		rates = append(rates, float64(n)/el)
		if timed != nil {
			inComm += timed.Elapsed()
		}
	}
	slices.Sort(rates)
	med := rates[len(rates)/2]
	r := Result{Workload: w.Name, Threads: o.Threads, Rate: med, Unit: w.Unit, Windows: o.Windows, Seconds: total, Batch: o.Batch}
	if o.Comm != nil {
		r.Ranks, r.AllReduceShare = o.Comm.Size(), inComm.Seconds()/total
		o.NoPeak = true
	}
	if game != nil {
		r.ParamsG, r.ParamsD = nn.NumParams(game.G()), nn.NumParams(game.D())
		r.AllReduceBytes = 4 * (game.Config().DSteps*r.ParamsD + r.ParamsG)
	}
	if w.Flops > 0 {
		r.GFLOPS = med * w.Flops / 1e9
		if bf16 {
			r.Precision, r.BF16Kernel = "bf16", gemm.BF16Kernel()
		}
		if !o.NoPeak {
			p, err := FP32Peak(o.Threads, o.PeakWindows, o.PeakWindow)
			if bf16 {
				p, err = BF16Peak(o.Threads, o.PeakWindows, o.PeakWindow)
			}
			if err != nil {
				return Result{}, err
			}
			r.PeakGFLOPS, r.PeakFraction = p, r.GFLOPS/p
		}
	}
	return r, nil
}

// setup prepares w's step, distributed over o.Comm (timed) when set.
func setup(w Workload, o Options) (step func() error, timed *cluster.Timed, game *gan.Game, err error) {
	if w.Game == nil {
		if o.Comm != nil {
			return nil, nil, nil, fmt.Errorf("benchmark: %s is not a training step: only toy, dcgan28 and biggan32 run over MPI ranks", w.Name)
		}
		step, err := w.Setup(1)
		return step, nil, nil, err
	}
	if game, err = w.Game(1, w.Batch); err != nil {
		return nil, nil, nil, err
	}
	if o.Comm != nil {
		timed = cluster.NewTimed(o.Comm)
		if err := game.Distribute(timed, o.SyncBN); err != nil {
			return nil, nil, nil, err
		}
	}
	return func() error {
		_, err := game.Step()
		return err
	}, timed, game, nil
}

// training makes a training workload of a game builder.
func training(name string, flops float64, batch int, game func(seed uint64, batch int) (*gan.Game, error)) Workload {
	return Workload{Name: name, Unit: "step/s", Flops: flops, Game: game, Batch: batch,
		Setup: func(seed uint64) (func() error, error) {
			g, err := game(seed, batch)
			if err != nil {
				return nil, err
			}
			return func() error {
				_, err := g.Step()
				return err
			}, nil
		}}
}

// MM1024 is the `mm1024` workload: one float32 1024×1024 @ 1024×1024
// product per call, 2·1024³ = 2,147,483,648 FLOP.
func MM1024() Workload {
	const n = 1024
	return Workload{
		Name: "mm1024", Unit: "call/s", Flops: mm1024Flops,
		Setup: func(seed uint64) (func() error, error) {
			rng := tensor.NewRNG(seed)
			a, b, c := tensor.New(n, n), tensor.New(n, n), tensor.New(n, n)
			rng.Normal(a.Data, 0, 1)
			rng.Normal(b.Data, 0, 1)
			return func() error {
				tensor.MatMul(c.Data, a.Data, b.Data, n, n, n, false, false, false)
				return nil
			}, nil
		},
	}
}

// Workloads are the workloads by name.
var Workloads = map[string]func() Workload{
	"mm1024":   MM1024,
	"toy":      Toy,
	"dcgan28":  DCGAN28,
	"biggan32": BigGAN32,
}

// Names lists the workloads, sorted, with PeakName (see Peak).
func Names() []string {
	out := make([]string, 0, len(Workloads)+1)
	for k := range Workloads {
		out = append(out, k)
	}
	out = append(out, PeakName)
	slices.Sort(out)
	return out
}

// Toy is the `toy` workload of ../shared/bench/README.md, driving the real
// trainer with the peer's recipe: batch 512, G z(256)-128-128-2, D
// 2-128-128-1, ReLU, Adam 1e-3 (0.5, 0.999), D on eq. (1), G on the
// non-saturating loss. 255,066,112 FLOP (0.255 GFLOP) per step (flops.go).
func Toy() Workload {
	return training("toy", toyFlops, 512, func(seed uint64, batch int) (*gan.Game, error) {
		r := toyRecipe(seed)
		r.Optim.Batch = batch
		return build(r)
	})
}

// toyRecipe is the toy workload's recipe.
func toyRecipe(seed uint64) recipe.Recipe {
	r, _ := recipe.Preset("ring8")
	r.Data.Source = "ring(8, r=2, sd=0.02)"
	r.Loss = recipe.Loss{Name: "nonsaturating"}
	r.Model = recipe.Model{Latent: 256}
	if err := r.Model.SetArch("mlp"); err != nil {
		panic(err) // mlp is always registered
	}
	adam := recipe.Adam{LR: 1e-3, Beta1: 0.5, Beta2: 0.999}
	r.Optim = recipe.Optim{Batch: 512, Steps: 1 << 30, DSteps: 1, G: adam, D: adam, Schedule: "none"}
	r.Run.Seed = seed
	return r
}

// DCGAN28 is the `dcgan28` workload of ../shared/bench/README.md: the
// dcgan-fashion-mnist preset's game (the same models, data sampler and
// trainer as `minmax train`) with the peer's non-saturating G loss. It
// needs the data set (apt-get install dataset-fashion-mnist).
// 9,441,116,160 FLOP (9.44 GFLOP) per step, the peer's "precise" count
// (flops.go).
func DCGAN28() Workload {
	return training("dcgan28", dcgan28Flops, 64, func(seed uint64, batch int) (*gan.Game, error) {
		r := dcgan28Recipe(seed)
		r.Optim.Batch = batch
		g, err := build(r)
		if err != nil {
			return nil, fmt.Errorf("dcgan28: %w", err)
		}
		return g, nil
	})
}

// dcgan28Recipe is the dcgan28 workload's recipe.
func dcgan28Recipe(seed uint64) recipe.Recipe {
	r, _ := recipe.Preset("dcgan-fashion-mnist")
	r.Loss.Name = "nonsaturating"
	r.Optim.Epochs, r.Optim.Steps, r.Run.Seed = 0, 1<<30, seed
	// The workload is the peer's float32 step; --precision bf16 (Options)
	// sets bfloat16 for the whole run instead of the preset's default.
	r.Optim.Precision = ""
	return r
}

// build builds the recipe's game.
func build(r recipe.Recipe) (*gan.Game, error) {
	b, err := r.Build()
	if err != nil {
		return nil, err
	}
	return b.Game, nil
}

// BigGAN32 is the `biggan32` workload of ../shared/bench/README.md: the
// class-conditional BigGAN of ../shared/bench/peer/torch_gan_bench.py (G32
// and D32: the biggan architecture's defaults at 32×32×3 with 10 classes,
// latent 120), batch 64, hinge loss, Adam 2e-4 (0, 0.999) for both players,
// BigGAN-PyTorch's step (an unrecorded G pass for D's batch, D on generated
// and real images as one batch, a fresh batch for G's move) and an EMA of G
// (0.9999) after each step, by the real trainer. The data are 50,000 fixed
// random images with random labels, as the peer's. 124,840,185,344 FLOP
// (125 GFLOP) per step (flops.go; the peer's network, with G's shortcut
// computed after the upsampling, is 127 GFLOP).
func BigGAN32() Workload {
	return training("biggan32", biggan32Flops, 64, func(seed uint64, batch int) (*gan.Game, error) {
		const n, classes, latent = 50000, 10, 120
		rng := tensor.NewRNG(seed)
		names := make([]string, classes)
		for i := range names {
			names[i] = strconv.Itoa(i)
		}
		set := &imgdata.Set{N: n, C: 3, H: 32, W: 32, Pix: make([]uint8, n*3*32*32), Labels: make([]int, n), Classes: names, Source: "random images"}
		for i := range set.Pix {
			set.Pix[i] = uint8(rng.IntN(256))
		}
		for i := range set.Labels {
			set.Labels[i] = rng.IntN(classes)
		}
		sampler, err := gan.NewImageSampler(set)
		if err != nil {
			return nil, err
		}
		spec, err := arch.Lookup("biggan")
		if err != nil {
			return nil, err
		}
		g, d, err := spec.Build(spec.Defaults(), latent, arch.ImageData(32, 32, 3, names), rng)
		if err != nil {
			return nil, err
		}
		adam := gan.Adam{LR: 2e-4, Beta1: 0, Beta2: 0.999}
		return gan.NewGame(gan.Config{Loss: gan.Losses["hinge"], Batch: batch, Latent: latent, DSteps: 1,
			G: adam, D: adam, Steps: 1 << 30, EMA: 0.9999, Classes: classes, Joint: true}, g, d, sampler, rng)
	})
}
