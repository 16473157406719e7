package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/nn"
	"github.com/spf13/cobra"
)

func newTrainCmd() *cobra.Command {
	var (
		steps, threads, batch, logEvery int
		seed                            uint64
		runDir                          string
	)
	c := &cobra.Command{
		Use:   "train",
		Short: "Train a GAN (default: the seed's minimax game on 8 Gaussians in a ring)",
		Long: `Train a GAN with the seed's minimax losses: D minimises
V_D = E_P softplus(-D(x)) + E_Q softplus(D(G(z)))   (eq. 1)
and G minimises V_G = -V_D                          (eq. 2), alternately.

This is the foundation's version: MLP G and D on 8 Gaussians on a circle of
radius 2 (sd 0.02), with losses logged to RUN/metrics.jsonl and the final
samples in RUN/samples.csv. Presets, pictures, evaluation and checkpoints
arrive with issue #4.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if steps < 1 {
				return usageError{fmt.Errorf("train: --steps must be at least 1, got %d", steps)}
			}
			if threads < 1 {
				return usageError{fmt.Errorf("train: --threads must be at least 1, got %d", threads)}
			}
			parallel.SetThreads(threads)
			if runDir == "" {
				runDir = filepath.Join("runs", "train-"+time.Now().Format("20060102-150405"))
			}
			if err := os.MkdirAll(runDir, 0o755); err != nil {
				return fmt.Errorf("train: cannot create run directory: %w", err)
			}
			cfg := gan.Config{
				Batch: batch, Latent: 256, Hidden: []int{128, 128},
				LRG: 1e-3, LRD: 1e-3, Beta1: 0.5, Beta2: 0.999, DSteps: 1, Seed: seed,
				HiddenActivation: nn.Activation{Kind: "relu"},
			}
			tr, err := gan.NewTrainer(cfg, gan.Ring{K: 8, R: 2, SD: 0.02})
			if err != nil {
				return fmt.Errorf("train: %w", err)
			}
			mf, err := os.Create(filepath.Join(runDir, "metrics.jsonl"))
			if err != nil {
				return fmt.Errorf("train: %w", err)
			}
			defer mf.Close()
			mw := bufio.NewWriter(mf)
			enc := json.NewEncoder(mw)
			start := time.Now()
			for i := 0; i < steps; i++ {
				st, err := tr.Step()
				if err != nil {
					return fmt.Errorf("train: %w", err)
				}
				if err := enc.Encode(st); err != nil {
					return fmt.Errorf("train: writing metrics: %w", err)
				}
				if st.Step%logEvery == 0 || st.Step == steps {
					fmt.Fprintf(os.Stderr, "step %6d/%d  V_D %.4f  V_G %.4f  D(real) %+.3f  D(fake) %+.3f  %.0f step/s\n",
						st.Step, steps, st.LossD, st.LossG, st.DReal, st.DFake, float64(st.Step)/time.Since(start).Seconds())
				}
			}
			if err := mw.Flush(); err != nil {
				return fmt.Errorf("train: writing metrics: %w", err)
			}
			n := 2500
			pts := make([]float32, 2*n)
			if err := tr.Generate(n, pts); err != nil {
				return fmt.Errorf("train: %w", err)
			}
			if err := writeCSV(filepath.Join(runDir, "samples.csv"), pts, 2); err != nil {
				return fmt.Errorf("train: %w", err)
			}
			fmt.Fprintf(os.Stderr, "done in %.1f s; results in %s (metrics.jsonl, samples.csv)\n", time.Since(start).Seconds(), runDir)
			return nil
		},
	}
	f := c.Flags()
	f.IntVar(&steps, "steps", 3000, "generator steps to train")
	f.IntVar(&batch, "batch", 256, "batch size")
	f.IntVar(&threads, "threads", defaultThreads(), "worker threads for compute")
	f.Uint64Var(&seed, "seed", 1, "random seed (same seed and threads give identical results)")
	f.StringVar(&runDir, "run", "", "run directory (default runs/train-TIMESTAMP)")
	f.IntVar(&logEvery, "log-every", 500, "print a progress line every this many steps")
	return c
}

func defaultThreads() int { return parallel.Default().Threads() }

// writeCSV writes rows of dim columns atomically (temp file, fsync, rename).
func writeCSV(path string, data []float32, dim int) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	for i := 0; i < len(data); i += dim {
		for j := 0; j < dim; j++ {
			if j > 0 {
				w.WriteByte(',')
			}
			fmt.Fprintf(w, "%g", data[i+j])
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
