package run

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/checkpoint"
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/evaluator"
	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/generator"
	"github.com/minmaxgan/minmax/internal/version"
	"github.com/minmaxgan/minmax/metrics"
	"github.com/minmaxgan/minmax/recipe"
	"github.com/minmaxgan/minmax/tensor"
)

// checkpointFormat tags a run's checkpoint. The formats of minmax 0.1
// ("minmax-run-1", and "minmax-toy-run-1" before image runs) name their
// tensors the same way and are read too.
const checkpointFormat = "minmax-run-2"

var readableFormats = map[string]bool{checkpointFormat: true, "minmax-run-1": true, "minmax-toy-run-1": true}

// Files of a run directory.
const (
	ConfigFile     = "config.yaml"
	MetricsFile    = "metrics.jsonl"
	CheckpointFile = "checkpoint.safetensors"
	EvalFile       = "eval.json"
	GeneratorFile  = generator.File
)

// Eval is one evaluation of the generator.
type Eval struct {
	Step int `json:"step"`
	// Mode coverage by the VEEGAN/PacGAN protocol (2,500 samples), when
	// the data's modes are known.
	Coverage *metrics.Coverage `json:"coverage,omitempty"`
	// JSD(P || Q_G) estimated by a discriminator trained afresh against G
	// (log 2 - V_D/2, eq. 7), with its standard error.
	JSDEstimate *float64 `json:"jsd_estimate,omitempty"`
	JSDSE       *float64 `json:"jsd_se,omitempty"`
	// Image metrics from the run's evaluator network, on a small sample.
	Images *evaluator.Scores `json:"images,omitempty"`
	// SpectralNorms are the estimates σ of the spectrally normalised
	// weights of G and D ("G.blocks.0.conv1.weight") at their last pass.
	SpectralNorms map[string]float64 `json:"spectral_norms,omitempty"`
}

// Progress receives the run's progress: every step, and each evaluation.
type Progress interface {
	// Step reports a finished step; first is the step the run (re)started
	// from, elapsed the time since then.
	Step(st gan.Stats, total, first int, elapsed time.Duration)
	Eval(e Eval)
}

// Options control a run beyond its recipe.
type Options struct {
	Progress Progress
	// NoPictures skips the pictures at the end (tests, benchmarks).
	NoPictures bool
	// JSDSteps overrides the training steps of the discriminators that
	// estimate the JSD (default 600 during the run and 2000 at the end);
	// negative turns the estimate off.
	JSDSteps int
}

// Run is a training run in a directory: the game (built from the recipe
// by package recipe) and the files around it. It does files and pictures,
// not wiring.
type Run struct {
	Dir string
	// Recipe is the run's recipe as built (optim.steps set from
	// optim.epochs for images).
	Recipe recipe.Recipe
	Game   *gan.Game
	// Data is the shape of the samples; P the distribution of a toy run
	// (nil for images); Images the image sampler (nil for points).
	Data   arch.Data
	P      dist.Dist
	Images *gan.ImageSampler

	metrics *os.File
	mw      *bufio.Writer
	enc     *json.Encoder
	snapZ   *tensor.Tensor // fixed latent codes for snapshots and evaluation
	hist    history
	opt     Options

	judge *evaluator.Judge // image runs: scores each evaluation, when available
}

// history is what the pictures are made from.
type history struct {
	stats []gan.Stats
	evals []Eval
	snaps []snapshot
}

type snapshot struct {
	step int
	fake []float32 // generated at the fixed codes
	d    []float32 // 1-D only: D on the plotting grid
}

// evalSamples is the number of samples of a toy evaluation (the
// VEEGAN/PacGAN protocol).
const evalSamples = 2500

// gridImages is the number of images in an image run's sample grids (8×8).
const gridImages = 64

// New starts a fresh run of rec in dir (created if needed; an existing
// checkpoint there is an error: resume it or choose another directory).
func New(rec recipe.Recipe, dir string, opt Options) (*Run, error) {
	if _, err := os.Stat(filepath.Join(dir, CheckpointFile)); err == nil {
		return nil, fmt.Errorf("%s already holds a run (%s); resume it with --resume %s, or choose another --run directory", dir, CheckpointFile, dir)
	}
	b, err := rec.Build()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "samples"), 0o755); err != nil {
		return nil, err
	}
	r := newRun(dir, b, opt)
	if err := writeConfig(filepath.Join(dir, ConfigFile), r.Recipe); err != nil {
		return nil, err
	}
	if err := r.loadJudge(); err != nil {
		return nil, err
	}
	if err := r.openMetrics(0); err != nil {
		return nil, err
	}
	return r, nil
}

func newRun(dir string, b *recipe.Built, opt Options) *Run {
	r := &Run{Dir: dir, Recipe: b.Recipe, Game: b.Game, Data: b.Data, P: b.P, Images: b.Images, opt: opt}
	r.makeSnapZ()
	return r
}

// LoadRecipe reads a run's config.yaml (the sectioned recipe, or the flat
// config of minmax 0.1).
func LoadRecipe(dir string) (recipe.Recipe, error) {
	path := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return recipe.Recipe{}, fmt.Errorf("%s is not a run directory: it has no %s", dir, ConfigFile)
		}
		return recipe.Recipe{}, err
	}
	r, err := recipe.Parse(b, recipe.Recipe{})
	if err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Resume reopens the run in dir at its checkpoint. steps, if > 0, replaces
// the configured number of steps (to train longer).
func Resume(dir string, steps int, opt Options) (*Run, error) {
	rec, err := LoadRecipe(dir)
	if err != nil {
		return nil, err
	}
	if steps > 0 {
		rec.Optim.Steps, rec.Optim.Epochs = steps, 0
	}
	b, err := rec.Build()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "samples"), 0o755); err != nil {
		return nil, err
	}
	r := newRun(dir, b, opt)
	step, err := r.loadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		return nil, err
	}
	if steps > 0 {
		if err := writeConfig(filepath.Join(dir, ConfigFile), r.Recipe); err != nil {
			return nil, err
		}
	}
	if err := r.loadJudge(); err != nil {
		return nil, err
	}
	if err := r.openMetrics(step); err != nil {
		return nil, err
	}
	return r, nil
}

// Steps is the length of the run.
func (r *Run) Steps() int { return r.Recipe.Optim.Steps }

// IsImage reports whether the run trains on images.
func (r *Run) IsImage() bool { return r.Data.Kind == arch.Images }

// evalSamples is how many images an image run scores at each evaluation.
func (r *Run) evalImages() int {
	if n := r.Recipe.Run.EvalSamples; n > 0 {
		return n
	}
	return 1000
}

// loadJudge finds the run's evaluator: the configured one (which must
// load), or the default one for its data if that file exists.
func (r *Run) loadJudge() error {
	if !r.IsImage() {
		return nil
	}
	j, err := evaluator.NewJudge(r.Recipe.Data.Source, r.Recipe.Run.Evaluator, r.evalImages(), r.Recipe.Run.Seed)
	if errors.Is(err, evaluator.ErrNoEvaluator) && r.Recipe.Run.Evaluator == "" {
		return nil // no evaluator: the run has grids, not scores
	}
	if err != nil {
		return &recipe.Error{Key: "run.evaluator", Msg: err.Error()}
	}
	r.judge = j
	return nil
}

func (r *Run) makeSnapZ() {
	n := evalSamples
	if r.IsImage() {
		n = gridImages
	}
	r.snapZ = tensor.New(n, r.Recipe.Model.Latent)
	tensor.NewRNG(r.Recipe.Run.Seed^0x5eed5eed).Normal(r.snapZ.Data, 0, 1)
}

func writeConfig(path string, rec recipe.Recipe) error {
	b, err := rec.Marshal()
	if err != nil {
		return err
	}
	return writeAtomic(path, b)
}

// openMetrics opens metrics.jsonl for appending, first dropping any lines
// past step (written after the checkpoint a resumed run restarts from) and
// reloading the history the pictures need.
func (r *Run) openMetrics(step int) error {
	path := filepath.Join(r.Dir, MetricsFile)
	var kept []byte
	if step > 0 {
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		sc := bufio.NewScanner(bytesReader(b))
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			line := sc.Bytes()
			var probe struct {
				Step int             `json:"step"`
				Eval json.RawMessage `json:"eval"`
			}
			if json.Unmarshal(line, &probe) != nil || probe.Step > step {
				continue
			}
			kept = append(append(kept, line...), '\n')
			if probe.Eval != nil {
				var e Eval
				if json.Unmarshal(probe.Eval, &e) == nil {
					r.hist.evals = append(r.hist.evals, e)
				}
			} else {
				var st gan.Stats
				if json.Unmarshal(line, &st) == nil {
					r.hist.stats = append(r.hist.stats, st)
				}
			}
		}
	}
	if err := writeAtomic(path, kept); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	r.metrics, r.mw = f, bufio.NewWriter(f)
	r.enc = json.NewEncoder(r.mw)
	return nil
}

// Close flushes and closes the metrics file.
func (r *Run) Close() error {
	if r.metrics == nil {
		return nil
	}
	err := r.mw.Flush()
	if e := r.metrics.Close(); err == nil {
		err = e
	}
	r.metrics = nil
	return err
}

// Train runs to the configured number of steps, evaluating, snapshotting
// and checkpointing on the way. When ctx is cancelled (Ctrl-C) it saves a
// checkpoint and returns ctx's error.
func (r *Run) Train(ctx context.Context) (*Eval, error) {
	game := r.Game
	start := time.Now()
	first := game.StepsDone()
	run := r.Recipe.Run
	if first == 0 {
		if err := r.evaluate(0, run.JSDEvery > 0); err != nil {
			return nil, err
		}
	}
	for game.StepsDone() < r.Steps() {
		if err := ctx.Err(); err != nil {
			if cerr := r.Checkpoint(); cerr != nil {
				return nil, fmt.Errorf("interrupted, and the checkpoint failed: %w", cerr)
			}
			return nil, err
		}
		st, err := game.Step()
		if err != nil {
			r.mw.Flush()
			return nil, err
		}
		if err := r.enc.Encode(st); err != nil {
			return nil, fmt.Errorf("writing %s: %w", MetricsFile, err)
		}
		r.hist.stats = append(r.hist.stats, st)
		if r.opt.Progress != nil {
			r.opt.Progress.Step(st, r.Steps(), first, time.Since(start))
		}
		n := st.Step
		last := n == r.Steps()
		if run.EvalEvery > 0 && n%run.EvalEvery == 0 || last {
			jsd := last || run.JSDEvery > 0 && n%run.JSDEvery == 0
			if err := r.evaluate(n, jsd); err != nil {
				return nil, err
			}
		}
		if run.CheckpointEvery > 0 && n%run.CheckpointEvery == 0 && !last {
			if err := r.Checkpoint(); err != nil {
				return nil, err
			}
		}
	}
	if err := r.Checkpoint(); err != nil {
		return nil, err
	}
	if err := r.mw.Flush(); err != nil {
		return nil, err
	}
	var final *Eval
	if len(r.hist.evals) > 0 {
		final = &r.hist.evals[len(r.hist.evals)-1]
		b, _ := json.MarshalIndent(Summary(final, r.Recipe.Data.Source, r.Recipe.Loss.Name, r.Recipe.Run.Seed), "", "  ")
		if err := writeAtomic(filepath.Join(r.Dir, EvalFile), append(b, '\n')); err != nil {
			return nil, err
		}
	}
	if !r.opt.NoPictures {
		if err := r.Pictures(); err != nil {
			return final, err
		}
	}
	return final, nil
}

// Generate draws n samples from G (its moving average when the run keeps
// one) with latent codes from seed, in batches of at most 256 (G is in
// evaluation mode, so the batching does not change the samples). Images
// come out channel-last, h×w×c per row.
func (r *Run) Generate(n int, seed uint64) ([]float32, error) {
	lat := r.Recipe.Model.Latent
	z := generator.Codes(n, lat, seed)
	dim := r.Data.Dim
	out := make([]float32, n*dim)
	labels := r.labels(n)
	const chunk = 256
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		zc, err := tensor.FromData(z[lo*lat:hi*lat], hi-lo, lat)
		if err != nil {
			return nil, err
		}
		var lc []int
		if labels != nil {
			lc = labels[lo:hi]
		}
		if err := r.Game.Generate(zc, lc, out[lo*dim:hi*dim]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// labels are the classes of n samples of a conditional run (cycling
// through the classes), nil for an unconditional one.
func (r *Run) labels(n int) []int {
	if k := r.Game.Config().Classes; k > 0 {
		return generator.CycleLabels(n, k)
	}
	return nil
}

// generatorInfo describes the run's generator for its file.
func (r *Run) generatorInfo() generator.Info {
	info := generator.Info{
		Arch: r.Recipe.Model.Arch, Options: r.Recipe.Model.Options, Latent: r.Recipe.Model.Latent, Data: r.Data,
		Source: r.Recipe.Data.Source, Preset: r.Recipe.Preset, Loss: r.Recipe.Loss.Name, Seed: r.Recipe.Run.Seed,
		Step: r.Game.StepsDone(), EMA: r.Recipe.Optim.GEMA > 0,
	}
	if r.IsImage() {
		info.Range = &[2]float64{-1, 1}
	}
	return info
}

// Checkpoint saves the game's whole state (gan.Game.State: G, D, both
// optimisers, the EMA, the step, the RNG, the data position) with the
// recipe, then the generator file, both atomically.
func (r *Run) Checkpoint() error {
	if r.mw != nil {
		if err := r.mw.Flush(); err != nil {
			return err
		}
	}
	st, err := r.Game.State()
	if err != nil {
		return err
	}
	cfg, err := r.Recipe.Marshal()
	if err != nil {
		return err
	}
	st.Meta["format"] = checkpointFormat
	st.Meta["config.yaml"] = string(cfg)
	st.Meta["minmax_version"] = version.Version
	if err := checkpoint.Save(filepath.Join(r.Dir, CheckpointFile), st.Tensors, st.Meta); err != nil {
		return err
	}
	return generator.Save(filepath.Join(r.Dir, GeneratorFile), r.Game.GeneratorState(), r.generatorInfo())
}

// loadCheckpoint restores everything Checkpoint saved and returns the step.
func (r *Run) loadCheckpoint(path string) (int, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return 0, err
	}
	if !readableFormats[f.Meta["format"]] {
		return 0, fmt.Errorf("%s: not a minmax run checkpoint (format %q, want %q)", path, f.Meta["format"], checkpointFormat)
	}
	st, err := r.Game.State()
	if err != nil {
		return 0, err
	}
	if err := f.Restore(st.Tensors, false); err != nil {
		return 0, fmt.Errorf("%s does not match this run's models: %w", path, err)
	}
	if err := r.Game.Restore(f.Meta); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return r.Game.StepsDone(), nil
}
