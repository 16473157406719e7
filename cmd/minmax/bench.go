package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/internal/benchmark"
	"github.com/spf13/cobra"
)

func newBenchCmd() *cobra.Command {
	var (
		workload string
		threads  int
		asJSON   bool
		windows  int
		profile  string
	)
	workloads := map[string]func() benchmark.Workload{
		"mm1024":  benchmark.MM1024,
		"toy":     toyWorkload,
		"dcgan28": dcgan28Workload,
	}
	c := &cobra.Command{
		Use:   "bench",
		Short: "Time a workload (mm1024, toy, dcgan28) as ../shared/bench/README.md specifies",
		Long: `Time one workload: a warm-up, then several timed windows (about 3 s in
all); the rate reported is the median over the windows.

Workloads:
  mm1024   one float32 1024x1024 @ 1024x1024 matrix product (call/s)
  toy      one GAN training step on 8 Gaussians (step/s), by the real trainer:
           batch 512, G z(256)-128-128-2, D 2-128-128-1, ReLU, Adam 1e-3 (0.5, 0.999),
           D on eq. (1), G on the non-saturating loss, as the PyTorch peer
  dcgan28  one DCGAN step on Fashion-MNIST 28x28 (step/s), by the real trainer:
           batch 64, latent 100, the preset dcgan-fashion-mnist's models, Adam 2e-4
           (0.5, 0.999), D on eq. (1), G on the non-saturating loss, as the peer;
           needs the data set (apt-get install dataset-fashion-mnist)

With --json it prints one JSON line per result on stdout, e.g.
  {"workload":"mm1024","threads":1,"rate":45.1,"unit":"call/s","gflops":96.8}`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			out := c.OutOrStdout()
			mk, ok := workloads[workload]
			if !ok {
				return usageError{fmt.Errorf("bench: unknown --workload %q; want one of mm1024, toy, dcgan28", workload)}
			}
			if threads < 1 {
				return usageError{fmt.Errorf("bench: --threads must be at least 1, got %d", threads)}
			}
			if profile != "" {
				stopProfile, err := startProfile(profile)
				if err != nil {
					return fmt.Errorf("bench: --cpuprofile: %w", err)
				}
				defer stopProfile()
			}
			r, err := benchmark.Run(mk(), benchmark.Options{Threads: threads, Windows: windows})
			if err != nil {
				return err
			}
			if asJSON {
				b, _ := json.Marshal(r)
				fmt.Fprintln(out, string(b))
				return nil
			}
			fmt.Fprintf(out, "%-8s threads=%d  %.3f %s", r.Workload, r.Threads, r.Rate, r.Unit)
			if r.GFLOPS > 0 {
				fmt.Fprintf(out, "  (%.1f GFLOP/s)", r.GFLOPS)
			}
			fmt.Fprintf(out, "  median of %d windows, %.1f s timed\n", r.Windows, r.Seconds)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&workload, "workload", "mm1024", "workload to time: "+strings.Join([]string{"mm1024", "toy", "dcgan28"}, ", "))
	f.IntVar(&threads, "threads", 1, "worker threads for compute (also sets GOMAXPROCS)")
	f.BoolVar(&asJSON, "json", false, "print one JSON line per result")
	f.IntVar(&windows, "windows", 5, "timed windows (the median is reported)")
	f.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the whole run to this file (read it with go tool pprof)")
	return c
}

// toyWorkload is the `toy` workload of ../shared/bench/README.md, driving
// the real trainer (gan.Game) with the peer's recipe.
func toyWorkload() benchmark.Workload {
	return benchmark.Workload{
		Name: "toy", Unit: "step/s",
		Setup: func(seed uint64) (func() error, error) {
			c, _ := gan.Preset("ring8")
			c.Data = "ring(8, r=2, sd=0.02)"
			c.Loss = "nonsaturating"
			c.Batch, c.Latent = 512, 256
			c.GHidden, c.DHidden = []int{128, 128}, []int{128, 128}
			c.GActivation, c.DActivation = "relu", "relu"
			c.GBatchNorm = false
			c.LRG, c.LRD, c.Beta1, c.Beta2 = 1e-3, 1e-3, 0.5, 0.999
			c.DSteps, c.R1Gamma, c.GPLambda, c.LRDecay, c.GEMA = 1, 0, 0, "none", 0
			c.Steps, c.Seed = 1<<30, seed
			g, err := gan.NewGame(c)
			if err != nil {
				return nil, err
			}
			return func() error {
				_, err := g.Step()
				return err
			}, nil
		},
	}
}

// dcgan28Workload is the `dcgan28` workload of ../shared/bench/README.md:
// the dcgan-fashion-mnist preset's game (the same models, data sampler and
// trainer as `minmax train`) with the peer's non-saturating G loss.
func dcgan28Workload() benchmark.Workload {
	return benchmark.Workload{
		Name: "dcgan28", Unit: "step/s",
		Setup: func(seed uint64) (func() error, error) {
			c, _ := gan.Preset("dcgan-fashion-mnist")
			c.Loss = "nonsaturating"
			c.Epochs, c.Steps, c.Seed = 0, 1<<30, seed
			g, err := gan.NewGame(c)
			if err != nil {
				return nil, fmt.Errorf("dcgan28: %w", err)
			}
			return func() error {
				_, err := g.Step()
				return err
			}, nil
		},
	}
}

// startProfile starts a CPU profile written to path; call the returned
// function to finish it.
func startProfile(path string) (func(), error) {
	pf, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		pf.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		pf.Close()
	}, nil
}
