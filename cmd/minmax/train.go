package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/run"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

func newTrainCmd() *cobra.Command {
	var (
		preset, configFile, runDir, resume string
		threads                            int
		noPictures                         bool
		profile                            string
		cfg                                = gan.Defaults()
	)
	c := &cobra.Command{
		Use:   "train",
		Short: "Train a GAN (default: the seed's minimax game on 8 Gaussians in a ring)",
		Long: `Train a GAN, alternating (1) a discriminator step and (2) a generator step.
With the default loss, minimax, these are the seed's: D minimises
V_D = E_P softplus(-D(x)) + E_Q softplus(D(G(z)))   (eq. 1)
and G minimises V_G = -V_D                          (eq. 2).

The recipe comes from a preset (--preset, default ring8), then a YAML file
(--config), then flags; the effective recipe is saved in the run directory
with the metrics, samples, pictures and a checkpoint. --data takes a preset
name or any distribution spec (docs/distributions.md). Ctrl-C saves a
checkpoint; --resume DIR continues it exactly.

Presets: ` + strings.Join(gan.PresetNames(), ", "),
		Example: `  minmax train
  minmax train --preset grid25 --loss nonsaturating --seed 3
  minmax train --data 'ring(12, r=3, sd=0.05)' --steps 5000 --run runs/ring12
  minmax train --config my.yaml --lr-d 2e-3
  minmax train --resume runs/ring12 --steps 8000
  minmax train --preset dcgan-fashion-mnist
  minmax train --data ~/photos --image-size 64 --epochs 50`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if threads < 1 {
				return usageError{fmt.Errorf("train: --threads must be at least 1, got %d", threads)}
			}
			parallel.SetThreads(threads)
			if profile != "" {
				stopProfile, err := startProfile(profile)
				if err != nil {
					return fmt.Errorf("train: --cpuprofile: %w", err)
				}
				defer stopProfile()
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			errOut := c.ErrOrStderr()
			opt := run.Options{Progress: newProgress(errOut), NoPictures: noPictures}
			var r *run.Run
			if resume != "" {
				// The recipe of a resumed run is its config.yaml: changing it
				// midway would not continue the same run.
				for _, name := range append([]string{"preset", "config", "run"}, keys(flagKeys)...) {
					if name != "steps" && c.Flags().Changed(name) {
						return usageError{fmt.Errorf("train: --%s cannot be combined with --resume (the run's config.yaml is its recipe; only --steps, --threads and --no-pictures may be given)", name)}
					}
				}
				steps := 0
				if c.Flags().Changed("steps") {
					steps = cfg.Steps
				}
				var err error
				if r, err = run.Resume(resume, steps, opt); err != nil {
					return fmt.Errorf("train --resume %s: %w", resume, err)
				}
				fmt.Fprintf(errOut, "resuming %s at step %d of %d\n", resume, r.Game.Trainer.StepsDone(), r.Cfg.Steps)
			} else {
				full, err := buildConfig(c, preset, configFile, cfg)
				if err != nil {
					return err
				}
				if runDir == "" {
					name := full.Preset
					if name == "" {
						name = "custom"
					}
					runDir = filepath.Join("runs", name+"-"+time.Now().Format("20060102-150405"))
				}
				if r, err = run.New(full, runDir, opt); err != nil {
					return fmt.Errorf("train: %w", err)
				}
				what := fmt.Sprintf("%d steps", r.Cfg.Steps)
				if r.Cfg.IsImage() {
					s := r.Game.Shape
					what = fmt.Sprintf("%d steps (%g epochs of %d images of %dx%dx%d)", r.Cfg.Steps, r.Cfg.Epochs, r.Game.Images.Set.N, s.Size, s.Size, s.Channels)
				}
				fmt.Fprintf(errOut, "training %s with the %s loss for %s (seed %d, %d threads) into %s\n",
					full.Data, full.Loss, what, full.Seed, threads, runDir)
			}
			defer r.Close()
			final, err := r.Train(ctx)
			if errors.Is(err, context.Canceled) {
				fmt.Fprintf(errOut, "\ninterrupted at step %d: checkpoint saved; continue with: minmax train --resume %s\n", r.Game.Trainer.StepsDone(), r.Dir)
				return nil
			}
			if err != nil {
				return fmt.Errorf("train: %w", err)
			}
			printFinal(c.OutOrStdout(), r, final, !noPictures)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&preset, "preset", "", "recipe to start from: "+strings.Join(gan.PresetNames(), ", ")+" (default ring8 unless --data is a spec)")
	f.StringVar(&configFile, "config", "", "YAML file of recipe settings (keys as in a run's config.yaml)")
	f.StringVar(&cfg.Data, "data", "", "a preset name or a distribution spec, e.g. 'ring(12, r=3, sd=0.05)'")
	f.StringVar(&cfg.Loss, "loss", cfg.Loss, "minimax (the seed's), nonsaturating, hinge, wasserstein, leastsquares")
	f.IntVar(&cfg.Steps, "steps", cfg.Steps, "generator steps (overrides --epochs)")
	f.Float64Var(&cfg.Epochs, "epochs", cfg.Epochs, "image runs: passes over the data set (sets the steps)")
	f.StringVar(&cfg.Model, "model", cfg.Model, "mlp (toy data) or dcgan (images)")
	f.IntVar(&cfg.Width, "width", cfg.Width, "DCGAN base width (channels of G's last and D's first hidden layer)")
	f.IntVar(&cfg.ImageSize, "image-size", cfg.ImageSize, "DCGAN image size: 28, 32 or 64 (0: as stored; image folders are resized to it)")
	f.IntVar(&cfg.Channels, "channels", cfg.Channels, "image channels: 1 or 3 (0: as stored)")
	f.IntVar(&cfg.Batch, "batch", cfg.Batch, "batch size")
	f.IntVar(&cfg.Latent, "latent", cfg.Latent, "latent dimension")
	f.Float64Var(&cfg.LRG, "lr-g", cfg.LRG, "generator learning rate (Adam)")
	f.Float64Var(&cfg.LRD, "lr-d", cfg.LRD, "discriminator learning rate (Adam)")
	f.StringVar(&cfg.LRDecay, "lr-decay", cfg.LRDecay, "learning-rate schedule: none, linear, cosine")
	f.IntVar(&cfg.DSteps, "d-steps", cfg.DSteps, "discriminator steps per generator step")
	f.Float64Var(&cfg.R1Gamma, "r1", cfg.R1Gamma, "R1 penalty γ on real data (0: off)")
	f.Float64Var(&cfg.GEMA, "g-ema", cfg.GEMA, "decay of a moving average of G's weights that generates the samples and evaluations (0: off)")
	f.Float64Var(&cfg.GPLambda, "gp", cfg.GPLambda, "gradient penalty λ (needed by wasserstein)")
	f.BoolVar(&cfg.GBatchNorm, "g-batchnorm", cfg.GBatchNorm, "batch normalisation in G's hidden layers")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed (same seed and threads give identical results)")
	f.IntVar(&cfg.EvalEvery, "eval-every", cfg.EvalEvery, "evaluate and snapshot every N steps")
	f.IntVar(&cfg.JSDEvery, "jsd-every", cfg.JSDEvery, "estimate JSD(P || Q_G) every N steps (0: at the end only)")
	f.IntVar(&cfg.CheckpointEvery, "checkpoint-every", cfg.CheckpointEvery, "checkpoint every N steps (and at the end, and on Ctrl-C)")
	f.IntVar(&threads, "threads", defaultThreads(), "worker threads for compute")
	f.StringVar(&runDir, "run", "", "run directory (default runs/PRESET-TIMESTAMP)")
	f.StringVar(&resume, "resume", "", "continue the run in this directory from its checkpoint")
	f.BoolVar(&noPictures, "no-pictures", false, "skip the pictures")
	f.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	return c
}

// flagKeys maps flags to config.yaml keys.
var flagKeys = map[string]string{
	"data": "data", "loss": "loss", "steps": "steps", "batch": "batch", "latent": "latent",
	"lr-g": "lr_g", "lr-d": "lr_d", "lr-decay": "lr_decay", "d-steps": "d_steps", "r1": "r1_gamma", "gp": "gp_lambda",
	"g-batchnorm": "g_batchnorm", "seed": "seed", "eval-every": "eval_every", "jsd-every": "jsd_every",
	"checkpoint-every": "checkpoint_every", "model": "model", "width": "width", "epochs": "epochs",
	"image-size": "image_size", "channels": "channels", "g-ema": "g_ema",
}

// buildConfig merges preset < file < flags.
func buildConfig(c *cobra.Command, preset, file string, flags gan.Config) (gan.Config, error) {
	fl := c.Flags()
	if fl.Changed("data") {
		flags.Data = imgdata.CanonicalName(flags.Data) // stacked_mnist, cifar-10, ...
	}
	if preset == "" {
		if fl.Changed("data") {
			if _, ok := gan.Presets[flags.Data]; ok {
				preset = flags.Data
			} else if _, ok := gan.Presets["dcgan-"+flags.Data]; ok {
				preset = "dcgan-" + flags.Data // --data fashion-mnist
			} else if _, err := os.Stat(flags.Data); err == nil {
				preset = "dcgan-folder" // --data PATH: images
			}
		} else {
			preset = "ring8"
		}
	}
	cfg := gan.Defaults()
	if preset != "" {
		p, err := gan.Preset(preset)
		if err != nil {
			return cfg, usageError{fmt.Errorf("--preset: %w", err)}
		}
		cfg = p
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return cfg, usageError{fmt.Errorf("--config: %w", err)}
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, usageError{fmt.Errorf("--config %s: %w", file, err)}
		}
	}
	// Flags the user set override; copy them by way of YAML keys.
	set := map[string]any{}
	fb, _ := yaml.Marshal(flags)
	var fm map[string]any
	yaml.Unmarshal(fb, &fm)
	for flag, key := range flagKeys {
		if !fl.Changed(flag) {
			continue
		}
		if v, ok := fm[key]; ok {
			set[key] = v
			continue
		}
		// A zero value under an omitempty key: take the flag's own text.
		var v any
		if err := yaml.Unmarshal([]byte(fl.Lookup(flag).Value.String()), &v); err == nil {
			set[key] = v
		}
	}
	if fl.Changed("data") {
		if _, ok := gan.Presets[flags.Data]; ok {
			delete(set, "data") // the preset's own data
		}
	}
	if fl.Changed("steps") && !fl.Changed("epochs") {
		set["epochs"] = 0 // --steps counts, not the preset's epochs
	}
	if len(set) > 0 {
		b, _ := yaml.Marshal(set)
		if err := yaml.Unmarshal(b, &cfg); err != nil {
			return cfg, err
		}
	}
	if err := cfg.Validate(); err != nil {
		var ce *gan.ConfigError
		if errors.As(err, &ce) {
			for flag, key := range flagKeys {
				if key == ce.Key {
					return cfg, usageError{fmt.Errorf("train: --%s (config key %s): %s", flag, key, ce.Msg)}
				}
			}
		}
		return cfg, usageError{fmt.Errorf("train: %w", err)}
	}
	return cfg, nil
}

func printFinal(w io.Writer, r *run.Run, e *run.Eval, pictures bool) {
	if e != nil {
		if c := e.Coverage; c != nil {
			fmt.Fprintf(w, "modes covered %d/%d, high-quality samples %.1f%%, reverse KL %.4f (2,500 samples)\n",
				c.ModesCovered, c.ModesTotal, 100*c.HQFraction, c.ReverseKL)
		}
		if e.JSDEstimate != nil {
			fmt.Fprintf(w, "JSD(P || Q_G) estimate %.4f ± %.4f nats (log 2 - V_D/2 of a discriminator trained afresh)\n", *e.JSDEstimate, *e.JSDSE)
		}
	}
	fmt.Fprintf(w, "results in %s: config.yaml, metrics.jsonl, eval.json, checkpoint.safetensors, samples/", r.Dir)
	if pictures {
		fmt.Fprint(w, ", pictures (*.png")
		if r.Cfg.IsImage() {
			fmt.Fprint(w, ", samples.png")
		} else if r.Game.Dim == 1 {
			fmt.Fprint(w, ", training.gif")
		}
		fmt.Fprint(w, ")")
	}
	fmt.Fprintln(w)
}

func defaultThreads() int { return parallel.Default().Threads() }

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
