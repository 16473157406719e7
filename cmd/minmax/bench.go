package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/minmaxgan/minmax/internal/benchmark"
	"github.com/spf13/cobra"
)

func newBenchCmd() *cobra.Command {
	var (
		workload string
		threads  int
		asJSON   bool
		windows  int
	)
	workloads := map[string]func() benchmark.Workload{
		"mm1024": benchmark.MM1024,
	}
	c := &cobra.Command{
		Use:   "bench",
		Short: "Time a workload (mm1024) as ../shared/bench/README.md specifies",
		Long: `Time one workload: a warm-up, then several timed windows (about 3 s in
all); the rate reported is the median over the windows.

Workloads:
  mm1024   one float32 1024x1024 @ 1024x1024 matrix product (call/s)
  toy      a GAN step on 8 Gaussians (arrives with issue #4)
  dcgan28  a DCGAN step on 28x28 images (arrives with issue #5)

With --json it prints one JSON line per result on stdout, e.g.
  {"workload":"mm1024","threads":1,"rate":45.1,"unit":"call/s","gflops":96.8}`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			out := c.OutOrStdout()
			mk, ok := workloads[workload]
			if !ok {
				switch workload {
				case "toy", "dcgan28":
					return fmt.Errorf("bench: workload %q is not built yet (toy arrives with issue #4, dcgan28 with #5)", workload)
				}
				return usageError{fmt.Errorf("bench: unknown --workload %q; want one of mm1024, toy, dcgan28", workload)}
			}
			if threads < 1 {
				return usageError{fmt.Errorf("bench: --threads must be at least 1, got %d", threads)}
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
	return c
}
