package run

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/generator"
	"github.com/minmaxgan/minmax/lab"
	"github.com/minmaxgan/minmax/metrics"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/recipe"
	"github.com/minmaxgan/minmax/tensor"
)

// genFunc maps the codes z (n×latent) to samples in out: the game in
// training (with G's moving average) or a generator file.
type genFunc func(z *tensor.Tensor, out []float32) error

// Evaluate scores the generator now: mode coverage on 2,500 samples, and,
// if jsdSteps > 0, a JSD estimate from a discriminator trained afresh for
// that many steps.
func (r *Run) Evaluate(jsdSteps int, seed uint64) (Eval, error) {
	e, _, err := r.evaluateSamples(jsdSteps, seed)
	return e, err
}

func (r *Run) gen() genFunc {
	return func(z *tensor.Tensor, out []float32) error { return r.Game.Generate(z, r.labels(z.Dim(0)), out) }
}

// evaluateSamples is Evaluate that also returns the samples it generated
// at the fixed codes (the run's snapshot reuses them).
func (r *Run) evaluateSamples(jsdSteps int, seed uint64) (Eval, []float32, error) {
	e := Eval{Step: r.Game.StepsDone()}
	fake := make([]float32, r.snapZ.Dim(0)*r.Data.Dim)
	if err := r.Game.Generate(r.snapZ, r.labels(r.snapZ.Dim(0)), fake); err != nil {
		return e, nil, err
	}
	if r.IsImage() { // the grid, and the evaluator's scores
		if r.judge != nil {
			n := r.evalImages()
			x, err := r.Generate(n, r.Recipe.Run.Seed^0xe7a1)
			if err != nil {
				return e, nil, err
			}
			s, err := r.judge.Score(x, r.labels(n), n, seed)
			if err != nil {
				return e, nil, fmt.Errorf("scoring with the evaluator: %w", err)
			}
			e.Images = &s
		}
		return e, fake, nil
	}
	err := pointScores(&e, r.P, fake, r.gen(), r.Recipe.Model.Latent, jsdSteps, seed)
	return e, fake, err
}

// pointScores adds the toy figures to e: mode coverage of fake (samples
// at the fixed codes) when P's modes are known, and the JSD estimate of a
// discriminator trained for jsdSteps against samples of gen.
func pointScores(e *Eval, p dist.Dist, fake []float32, gen genFunc, latent, jsdSteps int, seed uint64) error {
	if modes, ok := dist.Modes(p); ok {
		c, err := metrics.ModeCoverage(fake, p.Dim(), modes)
		if err != nil {
			return err
		}
		e.Coverage = &c
	}
	if jsdSteps > 0 {
		q := &generatorSampler{gen: gen, dim: p.Dim(), latent: latent, seed: seed}
		jsd, se, err := lab.EstimateJSD(p, q, lab.Options{Steps: jsdSteps, Batch: 256, Hidden: []int{64, 64}, EvalN: 20000, Seed: seed})
		if err != nil {
			return fmt.Errorf("JSD estimate: %w", err)
		}
		e.JSDEstimate, e.JSDSE = &jsd, &se
	}
	return nil
}

// EvaluatePoints scores a toy generator loaded from its file as the run
// that trained it did: mode coverage on the 2,500 samples at the run's
// fixed codes and, if jsdSteps > 0, the JSD estimate of a discriminator
// trained afresh for that many steps with seed.
func EvaluatePoints(g *generator.Generator, jsdSteps int, seed uint64) (Eval, error) {
	e := Eval{Step: g.Info.Step}
	if g.Info.Data.Kind != arch.Points {
		return e, fmt.Errorf("the generator makes %s, not points", g.Info.Data)
	}
	p, err := dist.Parse(g.Info.Source)
	if err != nil {
		return e, fmt.Errorf("the generator's data %q: %w", g.Info.Source, err)
	}
	lat := g.Info.Latent
	gen := func(z *tensor.Tensor, out []float32) error { return g.Generate(z.Data, nil, z.Dim(0), out) }
	z := tensor.New(evalSamples, lat)
	tensor.NewRNG(g.Info.Seed^0x5eed5eed).Normal(z.Data, 0, 1)
	fake := make([]float32, evalSamples*g.Info.Data.Dim)
	if err := gen(z, fake); err != nil {
		return e, err
	}
	err = pointScores(&e, p, fake, gen, lat, jsdSteps, seed)
	return e, err
}

func (r *Run) evaluate(step int, withJSD bool) error {
	if r.evalFault != nil {
		if err := r.evalFault(step); err != nil {
			return err
		}
	}
	jsdSteps := 0
	if withJSD {
		jsdSteps = 600
		if step == r.Steps() {
			jsdSteps = 2000
		}
		if r.opt.JSDSteps != 0 {
			jsdSteps = max(r.opt.JSDSteps, 0)
		}
	}
	e, fake, err := r.evaluateSamples(jsdSteps, r.Recipe.Run.Seed*1000003+uint64(step))
	if err != nil {
		return err
	}
	for _, m := range []struct {
		prefix string
		m      nn.Module
	}{{"G.", r.Game.G()}, {"D.", r.Game.D()}} {
		for _, s := range nn.Sigmas(m.m) {
			if e.SpectralNorms == nil {
				e.SpectralNorms = map[string]float64{}
			}
			e.SpectralNorms[m.prefix+s.Name] = s.Value
		}
	}
	r.hist.evals = append(r.hist.evals, e)
	if err := r.record(step, struct {
		Step int  `json:"step"`
		Eval Eval `json:"eval"`
	}{step, e}); err != nil {
		return err
	}
	if r.opt.Progress != nil {
		r.opt.Progress.Eval(e)
	}
	if r.IsImage() {
		// The grid at the fixed codes: samples/step_NNNNNN.png.
		grid := filepath.Join(r.Dir, "samples", fmt.Sprintf("step_%06d.png", step))
		if err := r.saveGrid(grid, fake, gridImages); err != nil {
			return err
		}
		return r.tbImage(step, grid)
	}
	// Snapshot for the pictures and samples/step_NNNNNN.csv.
	dim := r.Data.Dim
	const shown = 1000
	s := snapshot{step: step, fake: fake[:shown*dim]}
	if dim == 1 {
		s.d, err = r.dOnGrid()
		if err != nil {
			return err
		}
	}
	r.hist.snaps = append(r.hist.snaps, s)
	if err := r.saveField(step, fake[:shown*dim], s.d); err != nil {
		return err
	}
	return WriteCSV(filepath.Join(r.Dir, "samples", fmt.Sprintf("step_%06d.csv", step)), fake[:shown*dim], dim)
}

// generatorSampler presents G as a sampler of Q_G for the JSD estimate.
// It draws codes from its own RNG, never the training one, 4,096 at a
// time.
type generatorSampler struct {
	gen         genFunc
	dim, latent int
	seed        uint64
	rng         *tensor.RNG
	buf         []float32
	pos         int
}

func (g *generatorSampler) Dim() int { return g.dim }

func (g *generatorSampler) Sample(_ *rand.Rand, out []float64) {
	dim := g.dim
	if g.pos+dim > len(g.buf) {
		if g.rng == nil {
			g.rng = tensor.NewRNG(g.seed ^ 0x9e37)
		}
		const chunk = 4096
		z := tensor.New(chunk, g.latent)
		g.rng.Normal(z.Data, 0, 1)
		g.buf = make([]float32, chunk*dim)
		if err := g.gen(z, g.buf); err != nil {
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

// Summary is the JSON object of a final evaluation (eval.json, and `minmax
// eval --json` for toy runs): the step, the data, the loss and the seed,
// then the figures.
func Summary(e *Eval, data, loss string, seed uint64) map[string]any {
	m := map[string]any{"step": e.Step, "data": data, "loss": loss, "seed": seed}
	if c := e.Coverage; c != nil {
		m["modes_covered"], m["modes_total"], m["hq_fraction"] = c.ModesCovered, c.ModesTotal, c.HQFraction
		m["reverse_kl"] = c.ReverseKL
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

// OpenGenerator loads the generator of the run in dir from its generator
// file, which is all sampling needs, after checking that the run's
// config.yaml (when there is one) still describes it. A run written by
// minmax 0.1 has no generator file; its checkpoint is then read with its
// recipe (which needs its data, as training did) and the generator file is
// written into the run, once, saying so on notice.
func OpenGenerator(dir string, notice func(msg string)) (*generator.Generator, error) {
	path := filepath.Join(dir, GeneratorFile)
	g, err := generator.Load(path)
	if errors.Is(err, os.ErrNotExist) {
		if g, err = upgrade(dir, notice); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	if err := matchesConfig(dir, g); err != nil {
		return nil, err
	}
	return g, nil
}

// LoadGenerator reads the generator file of the run in dir and checks it
// against the run's config.yaml, as OpenGenerator does, but never writes
// into the run: a run of minmax 0.1 that has no generator file yet is an
// error here, not upgraded. Readers that must leave runs untouched (minmax
// serve) use it.
func LoadGenerator(dir string) (*generator.Generator, error) {
	g, err := generator.Load(filepath.Join(dir, GeneratorFile))
	if err != nil {
		return nil, err
	}
	if err := matchesConfig(dir, g); err != nil {
		return nil, err
	}
	return g, nil
}

// upgrade writes the generator file of a run of minmax 0.1 from its
// checkpoint.
func upgrade(dir string, notice func(msg string)) (*generator.Generator, error) {
	if _, serr := os.Stat(filepath.Join(dir, CheckpointFile)); serr != nil {
		if _, cerr := os.Stat(filepath.Join(dir, ConfigFile)); cerr != nil {
			return nil, fmt.Errorf("%s is not a run directory: it has no %s", dir, GeneratorFile)
		}
		return nil, fmt.Errorf("the run in %s has no %s nor %s: it has not saved a checkpoint yet", dir, GeneratorFile, CheckpointFile)
	}
	r, err := open(dir, 0, Options{}, false)
	if err != nil {
		return nil, fmt.Errorf("the run in %s was written by an earlier minmax (0.1, without %s); making one from its checkpoint needs its recipe and data, and failed: %w; resume it with a minmax that has its data, or train it again", dir, GeneratorFile, err)
	}
	err = r.Checkpoint()
	r.Close()
	if err != nil {
		return nil, err
	}
	if notice != nil {
		notice(fmt.Sprintf("the run in %s was written by minmax 0.1: wrote its %s from the checkpoint", dir, GeneratorFile))
	}
	return generator.Load(filepath.Join(dir, GeneratorFile))
}

// matchesConfig refuses a generator whose run directory's config.yaml
// says otherwise about the model or the data: an edited config.yaml would
// otherwise describe a generator it did not make.
func matchesConfig(dir string, g *generator.Generator) error {
	rec, err := LoadRecipe(dir)
	if err != nil {
		if _, serr := os.Stat(filepath.Join(dir, ConfigFile)); errors.Is(serr, os.ErrNotExist) {
			return nil // a generator file on its own
		}
		return err
	}
	var differ []string
	add := func(key, cfg, gen string) {
		if cfg != gen {
			differ = append(differ, fmt.Sprintf("%s (config.yaml: %s, %s: %s)", key, cfg, GeneratorFile, gen))
		}
	}
	add("model.arch", rec.Model.Arch, g.Info.Arch)
	add("model.latent", fmt.Sprint(rec.Model.Latent), fmt.Sprint(g.Info.Latent))
	add("data.source", rec.Data.Source, g.Info.Source)
	if rec.Model.Arch == g.Info.Arch {
		probe := rec.Clone()
		probe.Model.Options = g.Info.Options
		keys, err := recipe.Diff(rec, probe)
		if err != nil {
			return err
		}
		for _, k := range keys {
			a, _ := rec.Value(k)
			b, _ := probe.Value(k)
			add(k, a, b)
		}
	}
	if len(differ) > 0 {
		return fmt.Errorf("%s: config.yaml does not describe its %s: %s; restore config.yaml (the generator's settings are in its metadata)", dir, GeneratorFile, strings.Join(differ, ", "))
	}
	return nil
}
