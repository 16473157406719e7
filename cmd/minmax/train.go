package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/internal/gemm"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/recipe"
	"github.com/minmaxgan/minmax/run"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// recipeFlags are the flags that set one recipe key each, in the order
// --help lists them.
var recipeFlags = []struct {
	flag, key, typ, usage string
}{
	{"data", "data.source", "string", "a preset name, a data set name, a path (IDX files, CIFAR-10 batches, a folder of images) or a distribution spec, e.g. 'ring(12, r=3, sd=0.05)'"},
	{"image-size", "data.image_size", "int", "image size of a folder of images (0: as stored)"},
	{"channels", "data.channels", "int", "image channels: 1 or 3 (0: as stored)"},
	{"model", "model.arch", "string", "architecture: " + strings.Join(arch.Names(), ", ") + " (see below)"},
	{"latent", "model.latent", "int", "latent dimension"},
	{"width", "model.width", "int", "the width option of the architecture (dcgan, resnet, biggan)"},
	{"g-batchnorm", "model.g_batchnorm", "bool", "batch normalisation in G's hidden layers (mlp)"},
	{"loss", "loss.name", "string", "minimax (the seed's), nonsaturating, hinge, wasserstein, leastsquares"},
	{"r1", "loss.r1_gamma", "float", "R1 penalty γ on real data (0: off)"},
	{"gp", "loss.gp_lambda", "float", "gradient penalty λ (needed by wasserstein)"},
	{"batch", "optim.batch", "int", "batch size"},
	{"steps", "optim.steps", "int", "generator steps (overrides --epochs)"},
	{"epochs", "optim.epochs", "float", "image runs: passes over the data set (sets the steps)"},
	{"d-steps", "optim.d_steps", "int", "discriminator steps per generator step"},
	{"lr-g", "optim.g.lr", "float", "generator learning rate (Adam)"},
	{"lr-d", "optim.d.lr", "float", "discriminator learning rate (Adam)"},
	{"lr-decay", "optim.lr_decay", "string", "learning-rate schedule: none, linear, cosine"},
	{"g-ema", "optim.g_ema", "float", "decay of a moving average of G's weights that generates the samples and evaluations (0: off)"},
	{"precision", "optim.precision", "string", "arithmetic of the training step's matrix products: fp32, or bf16 (bfloat16 operands, float32 sums; CPUs with AVX-512 BF16, on AMX tiles where the CPU has AMX)"},
	{"sync-bn", "optim.sync_bn", "bool", "under mpirun: batch norm over the whole global batch, every rank's rows (PyTorch's SyncBatchNorm), rather than each rank's own"},
	{"seed", "run.seed", "uint", "random seed (same seed and threads give identical results)"},
	{"eval-every", "run.eval_every", "int", "evaluate and snapshot every N steps"},
	{"jsd-every", "run.jsd_every", "int", "estimate JSD(P || Q_G) every N steps (0: at the end only)"},
	{"checkpoint-every", "run.checkpoint_every", "int", "checkpoint every N steps (and at the end, and on Ctrl-C)"},
}

func newTrainCmd() *cobra.Command {
	var (
		preset, configFile, runDir, resume string
		threads                            int
		noPictures                         bool
		profile                            string
		opts                               []string
	)
	c := &cobra.Command{
		Use:   "train",
		Short: "Train a GAN (default: the seed's minimax game on 8 Gaussians in a ring)",
		Long: `Train a GAN, alternating (1) a discriminator step and (2) a generator step.
With the default loss, minimax, these are the seed's: D minimises
V_D = E_P softplus(-D(x)) + E_Q softplus(D(G(z)))   (eq. 1)
and G minimises V_G = -V_D                          (eq. 2).

The recipe comes from a preset (--preset), then a YAML file (--config, keys
as in a run's config.yaml), then flags; the effective recipe is saved in the
run directory with the metrics, samples, pictures, a checkpoint and the
generator file (generator.safetensors: all that minmax sample needs). Without
--preset, --data chooses the tuned recipe of its kind: ring8's for 2-D
distribution specs, mix1d's for 1-D ones, dcgan-NAME for a data set name,
dcgan-folder for a folder of images, dcgan-fashion-mnist's for IDX files and
dcgan-cifar10's for CIFAR-10 batches; with no --data either, ring8.

Ctrl-C (SIGINT) or SIGTERM saves a checkpoint and exits with 130 or 143;
--resume DIR continues it exactly. One process at a time uses a run
directory; a folder of other files is not used.

Under mpirun (a minmax built with -tags mpi), the ranks train one run
data-parallel: --batch is the global batch, each rank computes its share
with --threads threads (default: the host's cores shared among its ranks),
the gradients are summed across ranks, --sync-bn takes batch-norm
statistics over the whole batch, and rank 0 writes the run directory
(docs/distributed.md):
  mpirun -np 2 minmax train --preset dcgan-fashion-mnist --sync-bn

Presets: ` + strings.Join(recipe.PresetNames(), ", ") + `

Architectures (--model NAME; their options with --opt KEY=VALUE):
` + archHelp(),
		Example: `  minmax train
  minmax train --preset grid25 --loss nonsaturating --seed 3
  minmax train --data 'ring(12, r=3, sd=0.05)' --steps 5000 --run runs/ring12
  minmax train --config my.yaml --lr-d 2e-3
  minmax train --resume runs/ring12 --steps 8000
  minmax train --preset dcgan-fashion-mnist
  minmax train --data fashion-mnist --model resnet --opt width=32
  minmax train --data ~/photos --image-size 64 --epochs 50`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) (err error) {
			// Under mpirun, this process is one rank of a data-parallel
			// run (distributed.go).
			w, err := startWorld()
			if err != nil {
				return err
			}
			defer func() { err = w.end(err) }()
			if w.comm != nil && !c.Flags().Changed("threads") {
				threads = threadsPerRank(threads)
			}
			if err := useThreads("train", threads); err != nil {
				return err
			}
			if err := w.agree(os.Args[1:]); err != nil {
				return gatheredError{err}
			}
			if profile != "" && w.rank() > 0 {
				profile = fmt.Sprintf("%s.rank%d", profile, w.rank())
			}
			if profile != "" {
				stopProfile, err := startProfile(profile)
				if err != nil {
					return fmt.Errorf("train: --cpuprofile: %w", err)
				}
				defer stopProfile()
			}
			// SIGINT and SIGTERM stop the run after a checkpoint; the exit
			// status then says which (130, 143), so scripts can tell an
			// interrupted run from a finished one.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sigs)
			var got atomic.Value
			go func() {
				if s, ok := <-sigs; ok {
					got.Store(s)
					cancel()
				}
			}()
			errOut := c.ErrOrStderr()
			opt := run.Options{Progress: newProgress(errOut), NoPictures: noPictures,
				Warn: func(msg string) { fmt.Fprintf(errOut, "\nwarning: %s\n", msg) }, Comm: w.comm}
			lead := w.rank() == 0 // the rank that writes the run (every rank of a single process)
			var r *run.Run
			if resume != "" {
				// The recipe of a resumed run is its config.yaml: changing it
				// midway would not continue the same run.
				for _, name := range []string{"preset", "config", "run", "opt"} { // --no-pictures may be given
					if c.Flags().Changed(name) {
						return usageError{fmt.Errorf("train: --%s cannot be combined with --resume (the run's config.yaml is its recipe; only --steps, --threads and --no-pictures may be given)", name)}
					}
				}
				for _, f := range recipeFlags {
					if f.flag != "steps" && c.Flags().Changed(f.flag) {
						return usageError{fmt.Errorf("train: --%s cannot be combined with --resume (the run's config.yaml is its recipe; only --steps, --threads and --no-pictures may be given)", f.flag)}
					}
				}
				steps := 0
				if c.Flags().Changed("steps") {
					text := c.Flags().Lookup("steps").Value.String()
					n, err := strconv.Atoi(text)
					if err != nil || n < 1 {
						return usageError{fmt.Errorf("train: --steps %q: want a whole number of steps, at least 1", text)}
					}
					steps = n
				}
				var err error
				if lead {
					if r, err = run.Resume(resume, steps, opt); err != nil {
						err = fmt.Errorf("train --resume %s: %w", resume, err)
					}
				}
				if err := w.gather(err); err != nil {
					return err
				}
			} else {
				overrides, err := flagOverrides(c.Flags(), opts)
				if err != nil {
					return err
				}
				rec, err := recipe.Resolve(preset, configFile, overrides)
				if err != nil {
					err = recipeError(fmt.Errorf("train: %w", err))
				}
				if err := w.gather(err); err != nil {
					return err
				}
				if err := w.agreeRecipe(rec); err != nil {
					return gatheredError{err}
				}
				if runDir == "" {
					name := rec.Preset
					if name == "" {
						name = "custom"
					}
					runDir = filepath.Join("runs", name+"-"+time.Now().Format("20060102-150405"))
				}
				if lead {
					if r, err = run.New(rec, runDir, opt); err != nil {
						err = recipeError(fmt.Errorf("train: %w", recipe.WithFlags(err, overrides)))
					}
				}
				if err := w.gather(err); err != nil {
					return err
				}
			}
			if r, err = w.follow(r); err != nil {
				return err
			}
			defer r.Close()
			if lead && resume != "" {
				fmt.Fprintf(errOut, "resuming %s at step %d of %d%s\n", resume, r.Game.StepsDone(), r.Steps(), w.describe())
			} else if lead {
				rec := r.Recipe
				what := fmt.Sprintf("%d steps", r.Steps())
				if r.IsImage() {
					d := r.Data
					epochs := float64(r.Steps()) * float64(r.Recipe.Optim.Batch) / float64(r.Images.Set.N)
					what = fmt.Sprintf("%d steps (%.3g epochs of %d images of %dx%dx%d)", r.Steps(), epochs, r.Images.Set.N, d.Height, d.Width, d.Channels)
				}
				each := ""
				if w.comm != nil {
					each = " each,"
				}
				fmt.Fprintf(errOut, "training %s with the %s architecture and the %s loss for %s (seed %d, %d threads%s%s%s) into %s\n",
					rec.Data.Source, rec.Model.Arch, rec.Loss.Name, what, rec.Run.Seed, threads, each, precisionNote(rec.Optim.Precision), w.describe(), r.Dir)
			}
			final, err := r.Train(ctx)
			if errors.Is(err, context.Canceled) || errors.Is(err, run.ErrStopped) {
				if lead {
					fmt.Fprintf(errOut, "\ninterrupted at step %d: checkpoint saved; continue with: %sminmax train --resume %s\n", r.Game.StepsDone(), w.launcher(), r.Dir)
				}
				code := 130
				if s, _ := got.Load().(os.Signal); s == syscall.SIGTERM || s == nil {
					code = 143
				}
				return exitError{code}
			}
			if err != nil {
				return fmt.Errorf("train: %w", err)
			}
			if lead {
				printFinal(c.OutOrStdout(), r, final, !noPictures)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&preset, "preset", "", "recipe to start from: "+strings.Join(recipe.PresetNames(), ", ")+" (default: chosen by --data, else ring8)")
	f.StringVar(&configFile, "config", "", "YAML file of recipe settings (keys as in a run's config.yaml)")
	// The recipe flags are read through recipe.Set, by key; their Go
	// variables only carry the defaults shown in --help.
	def := recipe.Default()
	for _, rf := range recipeFlags {
		v := &flagValue{typ: rf.typ, text: defaultText(&def, rf.key)}
		f.Var(v, rf.flag, rf.usage)
		if rf.typ == "bool" {
			f.Lookup(rf.flag).NoOptDefVal = "true"
		}
	}
	f.StringArrayVar(&opts, "opt", nil, "an option of the architecture, KEY=VALUE (repeatable), e.g. --opt width=32 --opt g_hidden=[64,64]")
	f.IntVar(&threads, "threads", defaultThreads(), "worker threads for compute")
	f.StringVar(&runDir, "run", "", "run directory (default runs/PRESET-TIMESTAMP)")
	f.StringVar(&resume, "resume", "", "continue the run in this directory from its checkpoint")
	f.BoolVar(&noPictures, "no-pictures", false, "skip the pictures")
	f.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	return c
}

// defaultText is the default recipe's value of key as --help shows it
// ("" where the default depends on the preset or architecture chosen).
func defaultText(r *recipe.Recipe, key string) string {
	switch key {
	case "data.source", "model.width", "model.g_batchnorm":
		return ""
	}
	v, err := r.Value(key)
	if err != nil {
		return ""
	}
	return v
}

// flagValue is a recipe flag: it keeps the text typed, which recipe.Set
// then reads by the key's type (so an error names the flag and the key).
type flagValue struct{ typ, text string }

func (v *flagValue) String() string     { return v.text }
func (v *flagValue) Set(s string) error { v.text = s; return nil }
func (v *flagValue) Type() string       { return v.typ }

// flagOverrides turns the recipe flags the user set, and each --opt, into
// recipe overrides in a fixed order: the architecture first (so that its
// options apply to it), the others as listed.
func flagOverrides(fs *pflag.FlagSet, opts []string) ([]recipe.Override, error) {
	var out []recipe.Override
	for _, rf := range recipeFlags {
		if fs.Changed(rf.flag) {
			o := recipe.Override{Key: rf.key, Value: fs.Lookup(rf.flag).Value.String(), Flag: "--" + rf.flag}
			if rf.key == "model.arch" {
				out = append([]recipe.Override{o}, out...)
				continue
			}
			out = append(out, o)
		}
	}
	for _, kv := range opts {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageError{fmt.Errorf("train: --opt %q: want KEY=VALUE, e.g. --opt width=32", kv)}
		}
		out = append(out, recipe.Override{Key: "model." + k, Value: v, Flag: "--opt " + k})
	}
	return out, nil
}

// recipeError marks errors in the recipe as usage errors (exit status 2).
func recipeError(err error) error {
	var re *recipe.Error
	if errors.As(err, &re) {
		return usageError{err}
	}
	return err
}

// archHelp lists the architectures and their options for --help.
func archHelp() string {
	var b strings.Builder
	for _, name := range arch.Names() {
		s, _ := arch.Lookup(name)
		fmt.Fprintf(&b, "  %-8s %s\n", name, s.Doc)
		for _, o := range s.Options() {
			fmt.Fprintf(&b, "             %s (%s, default %s): %s\n", o.Key, o.Type, o.Default, o.Help)
		}
	}
	return strings.TrimRight(b.String(), "\n")
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
	fmt.Fprintf(w, "results in %s: config.yaml, metrics.jsonl, eval.json, checkpoint.safetensors, generator.safetensors, samples/", r.Dir)
	if pictures {
		fmt.Fprint(w, ", pictures (*.png")
		if r.IsImage() {
			fmt.Fprint(w, ", samples.png")
		} else if r.Data.Dim == 1 {
			fmt.Fprint(w, ", training.gif")
		}
		fmt.Fprint(w, ")")
	}
	fmt.Fprintln(w)
}

func defaultThreads() int { return parallel.Default().Threads() }

// useThreads makes n the number of compute threads (--threads) of the
// command named, refusing n < 1.
func useThreads(command string, n int) error {
	if n < 1 {
		return usageError{fmt.Errorf("%s: --threads must be at least 1, got %d", command, n)}
	}
	parallel.SetThreads(n)
	return nil
}

// precisionNote is the start line's word on a bfloat16 run: which kernel
// its products run on (AMX's tiles or AVX-512 BF16's VDPBF16PS).
func precisionNote(p string) string {
	if p != "bf16" {
		return ""
	}
	switch gemm.BF16Kernel() {
	case "amx":
		return ", bfloat16 products on AMX"
	case "avx512-bf16":
		return ", bfloat16 products on AVX-512 BF16"
	}
	return ", bfloat16 products"
}
