package run

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/checkpoint"
	"github.com/minmaxgan/minmax/cluster"
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/evaluator"
	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/generator"
	"github.com/minmaxgan/minmax/internal/atomicfile"
	"github.com/minmaxgan/minmax/internal/version"
	"github.com/minmaxgan/minmax/metrics"
	"github.com/minmaxgan/minmax/recipe"
	"github.com/minmaxgan/minmax/tboard"
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
	// LockFile holds the lock of a run directory while a process trains
	// in it (and that process's id).
	LockFile = ".lock"
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
	// Warn, when set, hears what the run reports without stopping: a
	// metric that is not finite (written as null), temporary files of a
	// killed save removed.
	Warn func(msg string)
	// Comm is the group of a data-parallel run (mpirun), of which this is
	// rank 0 for New and Resume (Follow makes the others' runs); nil for a
	// single process. config.yaml records its size (run.ranks).
	Comm cluster.Comm
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
	tb      *tboard.Writer // tb/events.out.tfevents.* (tensorboard.go)
	snapZ   *tensor.Tensor // fixed latent codes for snapshots and evaluation
	hist    history
	opt     Options
	lock    *dirLock
	warned  map[string]bool // non-finite metrics already reported

	judge *evaluator.Judge // image runs: scores each evaluation, when available
	// evalFault, set by tests, makes the evaluation at a step fail.
	evalFault func(step int) error

	follower bool // a data-parallel run's rank other than 0: no directory, no files (distributed.go)
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

// New starts a fresh run of rec in dir, created if needed. dir must not
// hold a run already (resume it, or choose another directory) nor be a
// folder of other files; while the run is open no other process can use
// it (the directory is locked until Close).
func New(rec recipe.Recipe, dir string, opt Options) (r *Run, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	_, statErr := os.Stat(filepath.Join(dir, LockFile))
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.unlock()
		}
	}()
	if err := checkFreshDir(dir); err != nil {
		if errors.Is(statErr, os.ErrNotExist) {
			os.Remove(filepath.Join(dir, LockFile)) // leave a refused folder as it was
		}
		return nil, err
	}
	if opt.NoPictures {
		rec.Run.NoPictures = true
	}
	rec.Run.Ranks = 0
	if n := opt.ranks(); n > 1 {
		rec.Run.Ranks = n
	}
	b, err := rec.Build()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "samples"), 0o755); err != nil {
		return nil, err
	}
	r = newRun(dir, b, opt)
	r.lock = lock
	r.removeTemps()
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

// checkFreshDir refuses a directory that holds a run (which should be
// resumed) or files that are not a run's.
func checkFreshDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, CheckpointFile)); err == nil {
		return fmt.Errorf("%s already holds a run (%s); resume it with --resume %s, or choose another --run directory", dir, CheckpointFile, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err == nil {
		return nil // a run that stopped before its first checkpoint: started afresh
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var others []string
	for _, e := range entries {
		switch name := e.Name(); {
		case name == LockFile || atomicfile.IsTemp(name):
		case (name == "samples" || name == TBDir) && e.IsDir():
			if inner, _ := os.ReadDir(filepath.Join(dir, name)); len(inner) == 0 {
				continue
			}
			fallthrough
		default:
			others = append(others, name)
		}
	}
	if len(others) > 0 {
		list := strings.Join(others[:min(3, len(others))], ", ")
		if len(others) > 3 {
			list += fmt.Sprintf(" and %d more", len(others)-3)
		}
		return fmt.Errorf("%s is not empty (%s) and holds no minmax run (no %s): choose a new or empty --run directory", dir, list, ConfigFile)
	}
	return nil
}

// removeTemps deletes the temporary files that a process killed while
// saving left in the run's folders.
func (r *Run) removeTemps() {
	for _, d := range []string{r.Dir, filepath.Join(r.Dir, "samples"), filepath.Join(r.Dir, TBDir)} {
		if n, err := atomicfile.RemoveTemps(d); err == nil && n > 0 {
			r.warn(fmt.Sprintf("removed %d temporary file(s) left in %s by a save that did not finish", n, d))
		}
	}
}

func (r *Run) warn(msg string) {
	if r.opt.Warn != nil {
		r.opt.Warn(msg)
	}
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

// ErrFinished is matched (errors.Is) by Resume's error for a run that has
// already trained all its steps.
var ErrFinished = errors.New("the run has finished")

// Resume reopens the run in dir at its checkpoint to train on. steps, if
// > 0, replaces the configured number of steps (to train longer) and must
// be more than the checkpoint's step; a run at its last step is refused
// (ErrFinished) unless steps says how much longer to train. A config.yaml
// that no longer matches the checkpoint's recipe is refused, naming the
// keys that differ.
func Resume(dir string, steps int, opt Options) (*Run, error) {
	return open(dir, steps, opt, true)
}

// open reopens a run at its checkpoint; train says it is to be trained
// (Resume's checks) rather than only read.
func open(dir string, steps int, opt Options, train bool) (r *Run, err error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("no run directory %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.unlock()
		}
	}()
	rec, err := LoadRecipe(dir)
	if err != nil {
		return nil, err
	}
	ck, err := checkpoint.Load(filepath.Join(dir, CheckpointFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s holds no checkpoint yet (%s): there is nothing to resume; start it afresh with --run %s", dir, CheckpointFile, dir)
		}
		return nil, err
	}
	if err := sameRecipe(dir, rec, ck.Meta); err != nil {
		return nil, err
	}
	if opt.NoPictures {
		rec.Run.NoPictures = true
	}
	if steps > 0 {
		rec.Optim.Steps, rec.Optim.Epochs = steps, 0
	}
	ranksBefore := rec.Run.Ranks
	if train {
		rec.Run.Ranks = 0
		if n := opt.ranks(); n > 1 {
			rec.Run.Ranks = n
		}
	}
	b, err := rec.Build()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "samples"), 0o755); err != nil {
		return nil, err
	}
	r = newRun(dir, b, opt)
	r.lock = lock
	step, err := r.restore(ck)
	if err != nil {
		return nil, err
	}
	if train {
		switch {
		case steps > 0 && steps <= step:
			return nil, fmt.Errorf("%s is at step %d: --steps %d must be more than that to train on", dir, step, steps)
		case steps == 0 && step >= r.Steps():
			return nil, fmt.Errorf("%s is at step %d of %d: %w; give --steps N (more than %d) to train longer", dir, step, r.Steps(), ErrFinished, step)
		}
		r.removeTemps()
		if steps > 0 || opt.NoPictures || r.Recipe.Run.Ranks != ranksBefore {
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
	}
	return r, nil
}

// sameRecipe refuses a config.yaml that differs from the recipe the
// checkpoint was written with (the length of the run and whether it draws
// pictures aside: those change with --resume --steps and --no-pictures).
func sameRecipe(dir string, rec recipe.Recipe, meta map[string]string) error {
	y, ok := meta["config.yaml"]
	if !ok {
		return nil
	}
	saved, err := recipe.Parse([]byte(y), recipe.Recipe{})
	if err != nil {
		return fmt.Errorf("%s: the recipe saved in %s does not read: %w", dir, CheckpointFile, err)
	}
	keys, err := recipe.Diff(saved, rec)
	if err != nil {
		return err
	}
	var differ []string
	for _, k := range keys {
		switch k {
		case "optim.steps", "optim.epochs", "run.no_pictures", "run.ranks":
		default:
			a, _ := saved.Value(k)
			b, _ := rec.Value(k)
			differ = append(differ, fmt.Sprintf("%s (checkpoint: %s, config.yaml: %s)", k, a, b))
		}
	}
	if len(differ) > 0 {
		return fmt.Errorf("%s: config.yaml does not match the recipe its checkpoint was trained with: %s; restore config.yaml (the checkpoint's recipe is in its metadata) or start a new run", dir, strings.Join(differ, ", "))
	}
	return nil
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
	return r.openTB(step)
}

// record writes one line of metrics.jsonl. A value that is not finite is
// written as null, and the run warns naming the metric and the step.
func (r *Run) record(step int, v any) error {
	b, bad, err := finiteJSON(v)
	if err != nil {
		return fmt.Errorf("writing %s: %w", MetricsFile, err)
	}
	for _, p := range bad {
		if r.warned[p] {
			continue
		}
		if r.warned == nil {
			r.warned = map[string]bool{}
		}
		r.warned[p] = true
		r.warn(fmt.Sprintf("step %d: %s is not finite (written as null in %s; later steps where it is not are not reported)", step, p, MetricsFile))
	}
	if _, err := r.mw.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", MetricsFile, err)
	}
	return r.tbScalars(step, b)
}

// Close flushes and closes the metrics file and releases the run
// directory.
func (r *Run) Close() error {
	if r.follower {
		return nil
	}
	defer func() {
		r.lock.unlock()
		r.lock = nil
	}()
	if r.metrics == nil {
		return nil
	}
	err := r.mw.Flush()
	if e := r.metrics.Close(); err == nil {
		err = e
	}
	if e := r.closeTB(); err == nil {
		err = e
	}
	r.metrics = nil
	return err
}

// Train runs to the configured number of steps, evaluating, snapshotting
// and checkpointing on the way. When ctx is cancelled (Ctrl-C) it saves a
// checkpoint and returns ctx's error. status.json says the run is running
// while it trains, and how it ended when Train returns.
func (r *Run) Train(ctx context.Context) (*Eval, error) {
	if r.follower {
		return nil, r.follow(ctx)
	}
	start := time.Now()
	if err := r.writeStatus(StateRunning, start, nil); err != nil {
		return nil, err
	}
	final, err := r.train(ctx, start)
	state := StateFinished
	switch {
	case err != nil && (ctx.Err() != nil || errors.Is(err, ErrStopped)):
		state = StateInterrupted
	case err != nil:
		state = StateFailed
	}
	if serr := r.writeStatus(state, start, err); err == nil {
		err = serr
	}
	return final, err
}

func (r *Run) train(ctx context.Context, start time.Time) (*Eval, error) {
	game := r.Game
	first := game.StepsDone()
	run := r.Recipe.Run
	if first == 0 {
		if err := r.evaluate(0, run.JSDEvery > 0); err != nil {
			return nil, err
		}
	}
	for game.StepsDone() < r.Steps() {
		if err := r.stop(ctx); err != nil {
			if cerr := r.Checkpoint(); cerr != nil {
				return nil, fmt.Errorf("interrupted, and the checkpoint failed: %w", cerr)
			}
			return nil, err
		}
		st, err := game.Step()
		if err != nil {
			// Keep the work: the last good evaluation and a checkpoint of
			// the state the failure left, then say what failed.
			return nil, r.fail(err)
		}
		if err := r.record(st.Step, st); err != nil {
			return nil, err
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
				// An evaluation measures the run; its failure does not
				// stop the training before the last step, and at the
				// last step the checkpoint is saved before the error.
				err = fmt.Errorf("the evaluation at step %d: %w", n, err)
				if last {
					return nil, r.fail(err)
				}
				r.warn(fmt.Sprintf("%v; training goes on", err))
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
	final, err := r.writeEval()
	if err != nil {
		return nil, err
	}
	if !r.opt.NoPictures && !r.Recipe.Run.NoPictures {
		if err := r.Pictures(); err != nil {
			return final, err
		}
	}
	return final, nil
}

// writeEval writes eval.json from the last evaluation (if any) and
// returns it.
func (r *Run) writeEval() (*Eval, error) {
	if len(r.hist.evals) == 0 {
		return nil, nil
	}
	final := &r.hist.evals[len(r.hist.evals)-1]
	b, _, err := finiteJSON(Summary(final, r.Recipe.Data.Source, r.Recipe.Loss.Name, r.Recipe.Run.Seed))
	if err != nil {
		return nil, err
	}
	var ind bytes.Buffer
	json.Indent(&ind, b, "", "  ")
	ind.WriteByte('\n')
	return final, writeAtomic(filepath.Join(r.Dir, EvalFile), ind.Bytes())
}

// fail saves what a failed step leaves (the metrics so far, eval.json
// from the last evaluation, a checkpoint) and returns the step's error,
// with what could not be saved.
func (r *Run) fail(stepErr error) error {
	errs := []error{stepErr}
	if err := r.mw.Flush(); err != nil {
		errs = append(errs, err)
	}
	if _, err := r.writeEval(); err != nil {
		errs = append(errs, fmt.Errorf("writing %s: %w", EvalFile, err))
	}
	if err := r.Checkpoint(); err != nil {
		errs = append(errs, fmt.Errorf("the checkpoint after the failure: %w", err))
	} else {
		r.warn(fmt.Sprintf("saved the checkpoint (step %d) and %s after the failure", r.Game.StepsDone(), EvalFile))
	}
	return errors.Join(errs...)
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
	if err := checkpoint.SaveChecked(filepath.Join(r.Dir, CheckpointFile), st.Tensors, st.Meta); err != nil {
		return err
	}
	state, err := r.Game.GeneratorState()
	if err != nil {
		return err
	}
	return generator.Save(filepath.Join(r.Dir, GeneratorFile), state, r.generatorInfo())
}

// restore sets the game to the checkpoint f (everything Checkpoint saved)
// and returns the step.
func (r *Run) restore(f *checkpoint.File) (int, error) {
	path := filepath.Join(r.Dir, CheckpointFile)
	if !readableFormats[f.Meta["format"]] {
		return 0, fmt.Errorf("%s: not a minmax run checkpoint (format %q, want %q)", path, f.Meta["format"], checkpointFormat)
	}
	st, err := r.Game.State()
	if err != nil {
		return 0, err
	}
	for name, t := range f.Tensors {
		for i, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return 0, fmt.Errorf("%s: tensor %s holds %v at index %d: the state is not usable (the run diverged before this checkpoint)", path, name, v, i)
			}
		}
	}
	if err := f.Restore(st.Tensors, false); err != nil {
		return 0, fmt.Errorf("%s does not match this run's models: %w", path, err)
	}
	if err := r.Game.Restore(f.Meta); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return r.Game.StepsDone(), nil
}
