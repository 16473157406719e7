package run

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/minmaxgan/minmax/checkpoint"
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/evaluator"
	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/lab"
	"github.com/minmaxgan/minmax/metrics"
	"github.com/minmaxgan/minmax/tensor"
	"go.yaml.in/yaml/v3"
)

// checkpointFormat tags a run's checkpoint ("minmax-toy-run-1", the format
// before image runs, is read too: it is this one without image data).
const checkpointFormat = "minmax-run-1"

// Files of a run directory.
const (
	ConfigFile     = "config.yaml"
	MetricsFile    = "metrics.jsonl"
	CheckpointFile = "checkpoint.safetensors"
	EvalFile       = "eval.json"
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

// Run is a training run in a directory.
type Run struct {
	Dir  string
	Cfg  gan.Config
	Game *gan.Game

	metrics *os.File
	mw      *bufio.Writer
	enc     *json.Encoder
	snapZ   *tensor.Tensor // fixed latent codes for snapshots and evaluation
	hist    history
	opt     Options

	ev   evaluator.Scorer // image runs: scores each evaluation, when available
	real *evaluator.Real  // its features of real test images
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

const evalSamples = 2500

// New starts a fresh run of cfg in dir (created if needed; an existing
// checkpoint there is an error: resume it or choose another directory).
func New(cfg gan.Config, dir string, opt Options) (*Run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, CheckpointFile)); err == nil {
		return nil, fmt.Errorf("%s already holds a run (%s); resume it with --resume %s, or choose another --run directory", dir, CheckpointFile, dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "samples"), 0o755); err != nil {
		return nil, err
	}
	g, err := gan.NewGame(cfg)
	if err != nil {
		return nil, err
	}
	cfg = g.Cfg // with the steps an image recipe's epochs come to
	r := &Run{Dir: dir, Cfg: cfg, Game: g, opt: opt}
	if err := writeConfig(filepath.Join(dir, ConfigFile), cfg); err != nil {
		return nil, err
	}
	if err := r.loadEvaluator(); err != nil {
		return nil, err
	}
	if err := r.openMetrics(0); err != nil {
		return nil, err
	}
	r.makeSnapZ()
	return r, nil
}

// LoadConfig reads a run's config.yaml.
func LoadConfig(dir string) (gan.Config, error) {
	path := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return gan.Config{}, fmt.Errorf("not a run directory: %w", err)
	}
	var c gan.Config
	if err := yaml.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Resume reopens the run in dir at its checkpoint. steps, if > 0, replaces
// the configured number of steps (to train longer).
func Resume(dir string, steps int, opt Options) (*Run, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	if steps > 0 {
		cfg.Steps, cfg.Epochs = steps, 0
	}
	g, err := gan.NewGame(cfg)
	if err != nil {
		return nil, err
	}
	cfg = g.Cfg
	r := &Run{Dir: dir, Cfg: cfg, Game: g, opt: opt}
	step, err := r.loadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		return nil, err
	}
	if steps > 0 {
		if err := writeConfig(filepath.Join(dir, ConfigFile), cfg); err != nil {
			return nil, err
		}
	}
	if err := r.loadEvaluator(); err != nil {
		return nil, err
	}
	if err := r.openMetrics(step); err != nil {
		return nil, err
	}
	r.makeSnapZ()
	return r, nil
}

// gridImages is the number of images in an image run's sample grids (8×8).
const gridImages = 64

// evalSamples is how many images an image run scores at each evaluation.
func (r *Run) evalSamples() int {
	if r.Cfg.EvalSamples > 0 {
		return r.Cfg.EvalSamples
	}
	return 1000
}

// loadEvaluator finds the run's evaluator: the configured one (which must
// load), or the default one for its data if that file exists.
func (r *Run) loadEvaluator() error {
	if !r.Cfg.IsImage() {
		return nil
	}
	path := r.Cfg.Evaluator
	if path == "" {
		path, _ = evaluator.DefaultFor(r.Cfg.Data)
		if _, err := os.Stat(path); err != nil {
			return nil // no evaluator: the run has grids, not scores
		}
	}
	e, err := evaluator.ForData(r.Cfg.Data, path)
	if err != nil {
		return &gan.ConfigError{Key: "evaluator", Msg: err.Error()}
	}
	size, channels := e.Shape()
	set, name, err := evaluator.RealSet(r.Cfg.Data, size, channels)
	if err != nil {
		return &gan.ConfigError{Key: "evaluator", Msg: fmt.Sprintf("the real images for the evaluator: %v", err)}
	}
	real, err := e.RealFeatures(set, name, r.evalSamples(), r.Cfg.Seed)
	if err != nil {
		return err
	}
	r.ev, r.real = e, real
	return nil
}

func (r *Run) makeSnapZ() {
	n := evalSamples
	if r.Cfg.IsImage() {
		n = gridImages
	}
	r.snapZ = tensor.New(n, r.Cfg.Latent)
	tensor.NewRNG(r.Cfg.Seed^0x5eed5eed).Normal(r.snapZ.Data, 0, 1)
}

func writeConfig(path string, c gan.Config) error {
	b, err := yaml.Marshal(c)
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
	tr := r.Game.Trainer
	start := time.Now()
	first := tr.StepsDone()
	if first == 0 {
		if err := r.evaluate(0, r.Cfg.JSDEvery > 0); err != nil {
			return nil, err
		}
	}
	for tr.StepsDone() < r.Cfg.Steps {
		if err := ctx.Err(); err != nil {
			if cerr := r.Checkpoint(); cerr != nil {
				return nil, fmt.Errorf("interrupted, and the checkpoint failed: %w", cerr)
			}
			return nil, err
		}
		st, err := r.Game.Step()
		if err != nil {
			r.mw.Flush()
			return nil, err
		}
		if err := r.enc.Encode(st); err != nil {
			return nil, fmt.Errorf("writing %s: %w", MetricsFile, err)
		}
		r.hist.stats = append(r.hist.stats, st)
		if r.opt.Progress != nil {
			r.opt.Progress.Step(st, r.Cfg.Steps, first, time.Since(start))
		}
		n := st.Step
		last := n == r.Cfg.Steps
		if r.Cfg.EvalEvery > 0 && n%r.Cfg.EvalEvery == 0 || last {
			jsd := last || r.Cfg.JSDEvery > 0 && n%r.Cfg.JSDEvery == 0
			if err := r.evaluate(n, jsd); err != nil {
				return nil, err
			}
		}
		if r.Cfg.CheckpointEvery > 0 && n%r.Cfg.CheckpointEvery == 0 && !last {
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
		b, _ := json.MarshalIndent(finalSummary(r, final), "", "  ")
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

func finalSummary(r *Run, e *Eval) map[string]any {
	m := map[string]any{"step": e.Step, "data": r.Cfg.Data, "loss": r.Cfg.Loss, "seed": r.Cfg.Seed}
	if c := e.Coverage; c != nil {
		m["modes_covered"], m["modes_total"], m["hq_fraction"] = c.ModesCovered, c.ModesTotal, c.HQFraction
		m["reverse_kl"] = finite(c.ReverseKL)
		m["samples"] = c.Samples
	}
	if e.JSDEstimate != nil {
		m["jsd_estimate"], m["jsd_se"] = *e.JSDEstimate, *e.JSDSE
	}
	if e.Images != nil {
		m["images"] = e.Images
	}
	return m
}

func finite(v float64) any {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return v
}

// Generate draws n samples from G with latent codes from seed, in
// batches of at most 256 (G is in evaluation mode, so the batching does not
// change the samples). Images come out channel-last, h×w×c per row.
func (r *Run) Generate(n int, seed uint64) ([]float32, error) {
	z := tensor.New(n, r.Cfg.Latent)
	tensor.NewRNG(seed).Normal(z.Data, 0, 1)
	out := make([]float32, n*r.Game.Dim)
	const chunk = 256
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		zc, err := tensor.FromData(z.Data[lo*r.Cfg.Latent:hi*r.Cfg.Latent], hi-lo, r.Cfg.Latent)
		if err != nil {
			return nil, err
		}
		if err := r.Game.Generate(zc, out[lo*r.Game.Dim:hi*r.Game.Dim]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Evaluate scores the generator now: mode coverage on 2,500 samples, and,
// if jsdSteps > 0, a JSD estimate from a discriminator trained afresh for
// that many steps.
func (r *Run) Evaluate(jsdSteps int, seed uint64) (Eval, error) {
	e, _, err := r.evaluateSamples(jsdSteps, seed)
	return e, err
}

// evaluateSamples is Evaluate that also returns the 2,500 samples it
// generated at the fixed codes (the run's snapshot reuses them).
func (r *Run) evaluateSamples(jsdSteps int, seed uint64) (Eval, []float32, error) {
	e := Eval{Step: r.Game.Trainer.StepsDone()}
	fake := make([]float32, r.snapZ.Dim(0)*r.Game.Dim)
	if err := r.Game.Generate(r.snapZ, fake); err != nil {
		return e, nil, err
	}
	if r.Game.P == nil { // images: the grid, and the evaluator's scores
		if r.ev != nil {
			n := r.evalSamples()
			x, err := r.Generate(n, r.Cfg.Seed^0xe7a1)
			if err != nil {
				return e, nil, err
			}
			s, err := r.ev.Score(r.real, x, n, seed)
			if err != nil {
				return e, nil, fmt.Errorf("scoring with the evaluator: %w", err)
			}
			e.Images = &s
		}
		return e, fake, nil
	}
	if modes, ok := dist.Modes(r.Game.P); ok {
		c, err := metrics.ModeCoverage(fake, r.Game.Dim, modes)
		if err != nil {
			return e, nil, err
		}
		e.Coverage = &c
	}
	if jsdSteps > 0 {
		q := &generatorSampler{run: r, seed: seed}
		jsd, se, err := lab.EstimateJSD(r.Game.P, q, lab.Options{Steps: jsdSteps, Batch: 256, Hidden: []int{64, 64}, EvalN: 20000, Seed: seed})
		if err != nil {
			return e, nil, fmt.Errorf("JSD estimate: %w", err)
		}
		e.JSDEstimate, e.JSDSE = &jsd, &se
	}
	return e, fake, nil
}

func (r *Run) evaluate(step int, withJSD bool) error {
	jsdSteps := 0
	if withJSD {
		jsdSteps = 600
		if step == r.Cfg.Steps {
			jsdSteps = 2000
		}
		if r.opt.JSDSteps != 0 {
			jsdSteps = max(r.opt.JSDSteps, 0)
		}
	}
	e, fake, err := r.evaluateSamples(jsdSteps, r.Cfg.Seed*1000003+uint64(step))
	if err != nil {
		return err
	}
	r.hist.evals = append(r.hist.evals, e)
	if err := r.enc.Encode(struct {
		Step int  `json:"step"`
		Eval Eval `json:"eval"`
	}{step, e}); err != nil {
		return err
	}
	if r.opt.Progress != nil {
		r.opt.Progress.Eval(e)
	}
	if r.Cfg.IsImage() {
		// The grid at the fixed codes: samples/step_NNNNNN.png.
		return r.saveGrid(filepath.Join(r.Dir, "samples", fmt.Sprintf("step_%06d.png", step)), fake, gridImages)
	}
	// Snapshot for the pictures and samples/step_NNNNNN.csv.
	dim := r.Game.Dim
	const shown = 1000
	s := snapshot{step: step, fake: fake[:shown*dim]}
	if dim == 1 {
		s.d, err = r.dOnGrid()
		if err != nil {
			return err
		}
	}
	r.hist.snaps = append(r.hist.snaps, s)
	return WriteCSV(filepath.Join(r.Dir, "samples", fmt.Sprintf("step_%06d.csv", step)), fake[:shown*dim], dim)
}

// generatorSampler presents G as a sampler of Q_G for the JSD estimate.
// It draws codes from its own RNG, never the training one.
type generatorSampler struct {
	run  *Run
	seed uint64
	rng  *tensor.RNG
	buf  []float32
	pos  int
}

func (g *generatorSampler) Dim() int { return g.run.Game.Dim }

func (g *generatorSampler) Sample(_ *rand.Rand, out []float64) {
	dim := g.Dim()
	if g.pos+dim > len(g.buf) {
		if g.rng == nil {
			g.rng = tensor.NewRNG(g.seed ^ 0x9e37)
		}
		const chunk = 4096
		z := tensor.New(chunk, g.run.Cfg.Latent)
		g.rng.Normal(z.Data, 0, 1)
		g.buf = make([]float32, chunk*dim)
		if err := g.run.Game.Generate(z, g.buf); err != nil {
			for i := range g.buf {
				g.buf[i] = float32(math.NaN())
			}
		}
		g.pos = 0
	}
	for i := range out {
		out[i] = float64(g.buf[g.pos+i])
	}
	g.pos += dim
}

// stateTensors names every tensor a checkpoint holds: G's and D's
// parameters, G's buffers (batch-norm statistics) and both Adam states. The
// tensors alias the live ones, so restoring into them restores the run.
func (r *Run) stateTensors() map[string]*tensor.Tensor {
	g := r.Game
	ts := map[string]*tensor.Tensor{}
	for _, p := range append(g.G.Params(), g.D.Params()...) {
		ts[p.Name] = p.Value
	}
	for k, v := range g.G.Buffers() {
		ts[k] = v
	}
	for k, v := range g.D.Buffers() {
		ts[k] = v
	}
	for k, v := range g.OptG.State() {
		ts["optG."+k] = v
	}
	for k, v := range g.OptD.State() {
		ts["optD."+k] = v
	}
	if g.EMA != nil {
		for k, v := range g.EMA.Shadow() {
			ts["G_ema."+k] = v
		}
	}
	return ts
}

// Checkpoint saves G, D, both optimizer states, the step, the training
// RNG's state and the config, atomically.
func (r *Run) Checkpoint() error {
	if r.mw != nil {
		if err := r.mw.Flush(); err != nil {
			return err
		}
	}
	g := r.Game
	tensors := r.stateTensors()
	rngState, err := g.Trainer.RNG.MarshalBinary()
	if err != nil {
		return err
	}
	cfg, err := yaml.Marshal(r.Cfg)
	if err != nil {
		return err
	}
	meta := map[string]string{
		"format":      checkpointFormat,
		"step":        strconv.Itoa(g.Trainer.StepsDone()),
		"optG.steps":  strconv.Itoa(g.OptG.Steps()),
		"optD.steps":  strconv.Itoa(g.OptD.Steps()),
		"rng":         base64.StdEncoding.EncodeToString(rngState),
		"config.yaml": string(cfg),
	}
	if s := g.Images; s != nil {
		meta["data.epoch"], meta["data.pos"] = strconv.Itoa(s.Epoch), strconv.Itoa(s.Pos)
		meta["data.seed"] = strconv.FormatUint(s.Seed, 10)
	}
	return checkpoint.Save(filepath.Join(r.Dir, CheckpointFile), tensors, meta)
}

// loadCheckpoint restores everything Checkpoint saved and returns the step.
func (r *Run) loadCheckpoint(path string) (int, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return 0, err
	}
	if f.Meta["format"] != checkpointFormat && f.Meta["format"] != "minmax-toy-run-1" {
		return 0, fmt.Errorf("%s: not a minmax run checkpoint (format %q, want %q)", path, f.Meta["format"], checkpointFormat)
	}
	g := r.Game
	if err := f.Restore(r.stateTensors(), false); err != nil {
		return 0, fmt.Errorf("%s does not match this run's models: %w", path, err)
	}
	ints := map[string]int{}
	for _, k := range []string{"step", "optG.steps", "optD.steps"} {
		v, err := strconv.Atoi(f.Meta[k])
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%s: metadata %q is %q, want a step count", path, k, f.Meta[k])
		}
		ints[k] = v
	}
	rs, err := base64.StdEncoding.DecodeString(f.Meta["rng"])
	if err != nil {
		return 0, fmt.Errorf("%s: metadata \"rng\" is not base64: %w", path, err)
	}
	if err := g.Trainer.RNG.UnmarshalBinary(rs); err != nil {
		return 0, fmt.Errorf("%s: bad RNG state: %w", path, err)
	}
	if s := g.Images; s != nil {
		epoch, err1 := strconv.Atoi(f.Meta["data.epoch"])
		pos, err2 := strconv.Atoi(f.Meta["data.pos"])
		seed, err3 := strconv.ParseUint(f.Meta["data.seed"], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return 0, fmt.Errorf("%s: metadata data.epoch, data.pos, data.seed (%q, %q, %q) do not give the data sampler's position", path, f.Meta["data.epoch"], f.Meta["data.pos"], f.Meta["data.seed"])
		}
		if err := s.Restore(epoch, pos, seed); err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
	}
	g.OptG.SetSteps(ints["optG.steps"])
	g.OptD.SetSteps(ints["optD.steps"])
	g.Trainer.SetStepsDone(ints["step"])
	return ints["step"], nil
}

// LoadForSampling opens a finished (or interrupted) run's generator.
func LoadForSampling(dir string) (*Run, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	g, err := gan.NewGame(cfg)
	if err != nil {
		return nil, err
	}
	r := &Run{Dir: dir, Cfg: cfg, Game: g}
	if _, err := r.loadCheckpoint(filepath.Join(dir, CheckpointFile)); err != nil {
		return nil, err
	}
	r.makeSnapZ()
	return r, nil
}
