package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/minmaxgan/minmax/bench"
	"github.com/spf13/cobra"
)

func newBenchCmd() *cobra.Command {
	var (
		workload string
		threads  int
		asJSON   bool
		windows  int
		prec     string
		profile  string
		syncBN   bool
		batch    int
	)
	c := &cobra.Command{
		Use:   "bench",
		Short: "Time a workload (mm1024, toy, dcgan28, biggan32) as ../shared/bench/README.md specifies, or the machine's peak",
		Long: `Time one workload: a warm-up (0.5 s and 3 units at least, as the peer's),
then several timed windows (about 3 s in all); the rate reported is the
median over the windows.

Workloads:
  mm1024   one float32 1024x1024 @ 1024x1024 matrix product (call/s)
  toy      one GAN training step on 8 Gaussians (step/s), by the real trainer:
           batch 512, G z(256)-128-128-2, D 2-128-128-1, ReLU, Adam 1e-3 (0.5, 0.999),
           D on eq. (1), G on the non-saturating loss, as the PyTorch peer
  dcgan28  one DCGAN step on Fashion-MNIST 28x28 (step/s), by the real trainer:
           batch 64, latent 100, the preset dcgan-fashion-mnist's models, Adam 2e-4
           (0.5, 0.999), D on eq. (1), G on the non-saturating loss, as the peer;
           needs the data set (apt-get install dataset-fashion-mnist)
  biggan32 one class-conditional BigGAN step at 32x32x3 (step/s), by the real trainer:
           the biggan architecture's defaults (width 64, latent 120, 10 classes,
           attention at 16x16, spectral norm), batch 64, hinge loss, Adam 2e-4
           (0, 0.999), D on generated and real images as one batch, EMA of G;
           random images, as the peer's G32 and D32
  peak     the machine's own limit (GFLOP/s): independent multiply-add chains on
           every thread at once, one line per kind: fp32-fma-avx512 (VFMADD231PS
           zmm; fp32-fma-avx2 on CPUs without AVX-512, fp32-scalar-go, plain Go,
           where neither AVX2 nor FMA); the ceiling of the float32 matrix
           products, their micro-kernel alone on panels in L1
           (fp32-kernel-avx512-12x32, say), with peak_fraction over the
           float32 peak: no product runs faster; and, where the CPU has AVX512_BF16,
           bf16-dot-avx512 (VDPBF16PS zmm), where it has AMX, bf16-amx (TDPBF16PS
           on 16x16 tiles); windows of 0.5 s; cpu_share is the
           CPU time the threads got over the time elapsed (under 1: other
           processes shared the cores, and the rate is what was left of the peak)

Every workload but peak also reports gflops, its rate times its FLOPs per
unit (matrix products at 2 FLOP per multiply-add, forward and backward:
mm1024 2.147 G, toy 0.255 G, dcgan28 9.44 G, biggan32 125 G), and
peak_fraction, gflops over the float32 peak at the same thread count,
measured in the same process after the workload (about 1 s; peak_gflops);
with --precision bf16, over the peak of the bfloat16 kernel in use (bf16-amx
where the CPU has AMX, else bf16-dot-avx512), and bf16_kernel names it.

Under mpirun (a minmax built with -tags mpi), toy, dcgan28 and biggan32
run data-parallel: each rank computes its share of the global batch with
--threads threads, the gradients are all-reduced at every step, and rank 0
prints the line, with ranks and allreduce_share (the share of the timed
windows it spent in collectives), e.g.
  mpirun -np 2 minmax bench --workload dcgan28 --threads 1 --json
No peak_fraction there: the peak would be one rank's.

With --json it prints one JSON line per result on stdout, e.g.
  {"workload":"mm1024","threads":1,"rate":45.1,"unit":"call/s","gflops":96.8,"peak_fraction":0.39,"peak_gflops":248,...}
  {"workload":"peak","kind":"fp32-fma-avx512","threads":1,"rate":248.3,"unit":"GFLOP/s","gflops":248.3,...}`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) (err error) {
			w, err := startWorld()
			if err != nil {
				return err
			}
			defer func() { err = w.end(err) }()
			if err := w.agree(os.Args[1:]); err != nil {
				return gatheredError{err}
			}
			out := c.OutOrStdout()
			mk, ok := bench.Workloads[workload]
			if !ok && workload != bench.PeakName {
				return usageError{fmt.Errorf("bench: unknown --workload %q; want one of %s", workload, strings.Join(bench.Names(), ", "))}
			}
			if threads < 1 {
				return usageError{fmt.Errorf("bench: --threads must be at least 1, got %d", threads)}
			}
			if prec != "fp32" && prec != "bf16" {
				return usageError{fmt.Errorf("bench: --precision %q: want fp32 or bf16", prec)}
			}
			if windows < 1 || windows > 1000 {
				return usageError{fmt.Errorf("bench: --windows must be 1 to 1000 (the median of that many timed windows is reported), got %d", windows)}
			}
			if profile != "" && w.rank() > 0 {
				profile = fmt.Sprintf("%s.rank%d", profile, w.rank())
			}
			if w.comm != nil && workload == bench.PeakName {
				return usageError{fmt.Errorf("bench: the peak is measured by one process, not under mpirun")}
			}
			if profile != "" {
				stopProfile, err := startProfile(profile)
				if err != nil {
					return fmt.Errorf("bench: --cpuprofile: %w", err)
				}
				defer stopProfile()
			}
			var rs []bench.Result
			if workload == bench.PeakName {
				var err error
				if rs, err = bench.Peak(bench.Options{Threads: threads, Windows: windows}); err != nil {
					return err
				}
			} else {
				r, err := bench.Run(mk(), bench.Options{Threads: threads, Windows: windows, Precision: prec, Comm: w.comm, SyncBN: syncBN, Batch: batch})
				if err != nil {
					return err
				}
				rs = append(rs, r)
			}
			if w.rank() > 0 {
				return nil
			}
			for _, r := range rs {
				printResult(out, r, asJSON)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&workload, "workload", "mm1024", "workload to time: "+strings.Join(bench.Names(), ", "))
	f.IntVar(&threads, "threads", 1, "worker threads for compute (also sets GOMAXPROCS)")
	f.BoolVar(&asJSON, "json", false, "print one JSON line per result")
	f.StringVar(&prec, "precision", "fp32", "arithmetic of the workload's matrix products: fp32, or bf16 (bfloat16 operands, float32 sums; CPUs with AVX-512 BF16; peak_fraction is then over the peak of the bfloat16 kernel in use: bf16-amx where the CPU has AMX, else bf16-dot-avx512)")
	f.IntVar(&windows, "windows", 5, "timed windows (the median is reported)")
	f.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the whole run to this file (read it with go tool pprof)")
	f.IntVar(&batch, "batch", 0, "a training workload's batch instead of its own (0: its own; the global batch under mpirun): how a step's cost depends on the batch, for scaling models; gflops are scaled by the ratio")
	f.BoolVar(&syncBN, "sync-bn", false, "under mpirun: batch norm over the whole global batch (every rank's rows) instead of each rank's")
	return c
}

// printResult writes r as a JSON line or as text.
func printResult(out io.Writer, r bench.Result, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintln(out, string(b))
		return
	}
	if r.Kind != "" {
		fmt.Fprintf(out, "%-8s %s threads=%d  %.1f %s", r.Workload, r.Kind, r.Threads, r.Rate, r.Unit)
		if r.PeakGFLOPS > 0 {
			fmt.Fprintf(out, " (%.1f%% of the float32 peak %.1f)", 100*r.PeakFraction, r.PeakGFLOPS)
		}
		if r.CPUShare > 0 && r.CPUShare < 0.95 {
			fmt.Fprintf(out, "  (the threads ran %.0f%% of the time: a busy machine)", 100*r.CPUShare)
		}
		if r.Blocking != "" {
			fmt.Fprintf(out, "  [%s; %s]", r.Caches, r.Blocking)
		}
	} else {
		fmt.Fprintf(out, "%-8s threads=%d  %.3f %s", r.Workload, r.Threads, r.Rate, r.Unit)
		if r.Ranks > 0 {
			fmt.Fprintf(out, " over %d ranks (%.1f%% of the time in all-reduce)", r.Ranks, 100*r.AllReduceShare)
		}
		if r.Precision != "" {
			fmt.Fprintf(out, " (%s)", r.Precision)
		}
		if r.GFLOPS > 0 {
			fmt.Fprintf(out, "  (%.1f GFLOP/s", r.GFLOPS)
			if r.PeakGFLOPS > 0 {
				which := "float32"
				if r.Precision == "bf16" {
					which = "bfloat16"
				}
				fmt.Fprintf(out, ", %.1f%% of the %s peak %.1f", 100*r.PeakFraction, which, r.PeakGFLOPS)
			}
			fmt.Fprint(out, ")")
		}
	}
	fmt.Fprintf(out, "  median of %d windows, %.1f s timed\n", r.Windows, r.Seconds)
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
