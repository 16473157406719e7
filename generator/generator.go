// Package generator is a trained generator on its own: the file
// generator.safetensors that every run writes, and the sampler that reads
// it. The file holds G's weights (the moving average's when the run kept
// one) and buffers, and in its metadata everything needed to rebuild and
// use G without the run, its discriminator, its optimisers or its data:
// the architecture and its options, the latent size, the shape and value
// range of the samples, the class names, and the minmax version that wrote
// it. `minmax sample`, `minmax eval` and every later consumer (a server, an
// exporter) load only this file.
package generator

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/checkpoint"
	"github.com/minmaxgan/minmax/internal/version"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

// File is the generator file's name in a run directory.
const File = "generator.safetensors"

// Format tags generator files.
const Format = "minmax-generator-1"

// Info describes a generator: what it is (architecture, options, latent
// size, data shape) and where it comes from.
type Info struct {
	// Arch is the registered architecture, Options its options (a pointer
	// to the architecture's options struct).
	Arch    string
	Options any
	Latent  int
	// Data is the shape of a sample and the class names.
	Data arch.Data
	// Range is the interval the samples lie in, [-1, 1] for images (G ends
	// in tanh); nil for points, which are unbounded.
	Range *[2]float64
	// Provenance: the data set or spec G learnt, its run's preset, loss
	// and seed, the step of the weights, whether they are a moving
	// average, and the minmax version that wrote the file (set by Save).
	Source  string
	Preset  string
	Loss    string
	Seed    uint64
	Step    int
	EMA     bool
	Version string
}

// Conditional reports whether G takes class labels.
func (i *Info) Conditional() bool {
	s, err := arch.Lookup(i.Arch)
	return err == nil && s.IsConditional(i.Options, i.Data)
}

// Save writes G's state (named as nn.StateMap(G, "G"): the weights to
// sample with and the buffers) and info to path, atomically.
func Save(path string, state map[string]*tensor.Tensor, info Info) error {
	spec, err := arch.Lookup(info.Arch)
	if err != nil {
		return err
	}
	opts, err := spec.OptionsJSON(info.Options)
	if err != nil {
		return err
	}
	data, err := json.Marshal(info.Data)
	if err != nil {
		return err
	}
	meta := map[string]string{
		"format":         Format,
		"arch":           info.Arch,
		"options":        opts,
		"latent":         strconv.Itoa(info.Latent),
		"data":           string(data),
		"value_range":    "unbounded",
		"source":         info.Source,
		"preset":         info.Preset,
		"loss":           info.Loss,
		"seed":           strconv.FormatUint(info.Seed, 10),
		"step":           strconv.Itoa(info.Step),
		"ema":            strconv.FormatBool(info.EMA),
		"minmax_version": version.Version,
	}
	if r := info.Range; r != nil {
		b, _ := json.Marshal(r)
		meta["value_range"] = string(b)
	}
	return checkpoint.SaveChecked(path, state, meta)
}

// Generator is a generator loaded from its file, ready to sample. Its
// methods may be called from several goroutines; they take turns.
type Generator struct {
	Info Info
	G    nn.Module

	mu sync.Mutex
	tp *autograd.Tape
}

// ErrNotGenerator is matched (errors.Is) by Load's error for a file that is
// a safetensors file but not a generator file.
var ErrNotGenerator = errors.New("not a minmax generator file")

// Load reads a generator file, rebuilds G from its metadata and restores
// its weights, refusing a file whose tensors do not match the architecture
// exactly or hold values that are not finite.
func Load(path string) (*Generator, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: "+format, append([]any{path}, args...)...)
	}
	if f.Meta["format"] != Format {
		return nil, fmt.Errorf("%s: %w (format %q, want %q)", path, ErrNotGenerator, f.Meta["format"], Format)
	}
	info := Info{Arch: f.Meta["arch"], Source: f.Meta["source"], Preset: f.Meta["preset"], Loss: f.Meta["loss"],
		Version: f.Meta["minmax_version"], EMA: f.Meta["ema"] == "true"}
	spec, err := arch.Lookup(info.Arch)
	if err != nil {
		return nil, fail("written by minmax %s: %v; this minmax (%s) cannot rebuild it", info.Version, err, version.Version)
	}
	if info.Options, err = spec.OptionsFromJSON(f.Meta["options"]); err != nil {
		return nil, fail("%v", err)
	}
	if info.Latent, err = strconv.Atoi(f.Meta["latent"]); err != nil || info.Latent < 1 {
		return nil, fail("metadata latent is %q, want a positive size", f.Meta["latent"])
	}
	if err := json.Unmarshal([]byte(f.Meta["data"]), &info.Data); err != nil {
		return nil, fail("metadata data: %v", err)
	}
	if r := f.Meta["value_range"]; r != "" && r != "unbounded" {
		// Into a slice: a JSON array decoded into [2]float64 would take
		// "[-1]" as [-1, 0] and drop a third number.
		var v []float64
		if err := json.Unmarshal([]byte(r), &v); err != nil || len(v) != 2 || !(v[0] < v[1]) || math.IsInf(v[0], 0) || math.IsInf(v[1], 0) {
			return nil, fail("metadata value_range is %q, want [lo, hi] with lo < hi, both finite", r)
		}
		info.Range = &[2]float64{v[0], v[1]}
	}
	// The range is a claim about G's output, which the file cannot change:
	// image generators end in tanh, point generators are unbounded.
	switch {
	case info.Data.Kind == arch.Images && (info.Range == nil || *info.Range != [2]float64{-1, 1}):
		return nil, fail("metadata value_range is %q, but an image generator's samples lie in [-1, 1] (G ends in tanh)", f.Meta["value_range"])
	case info.Data.Kind != arch.Images && info.Range != nil:
		return nil, fail("metadata value_range is %q, but a %s generator's samples are unbounded", f.Meta["value_range"], info.Data.Kind)
	}
	info.Seed, _ = strconv.ParseUint(f.Meta["seed"], 10, 64)
	info.Step, _ = strconv.Atoi(f.Meta["step"])
	g, err := spec.BuildG(info.Options, info.Latent, info.Data, tensor.NewRNG(0))
	if err != nil {
		return nil, fail("%v", err)
	}
	for name, t := range f.Tensors {
		if i := firstNonFinite(t.Data); i >= 0 {
			return nil, fail("tensor %s holds %v at index %d: the weights are not usable", name, t.Data[i], i)
		}
	}
	if err := f.Restore(nn.StateMap(g, "G"), false); err != nil {
		return nil, fail("the weights do not match the %s architecture with these options: %w", info.Arch, err)
	}
	return &Generator{Info: info, G: g}, nil
}

func firstNonFinite(x []float32) int {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i
		}
	}
	return -1
}

// Chunk is how many samples Generate runs through G at a time. G runs in
// evaluation mode, where each sample depends only on its own code, so the
// chunking does not change the samples.
const Chunk = 256

// Generate maps n latent codes z (n×Latent) with classes labels (n, or nil
// when G is unconditional) to samples, written into out (n×Dim), in
// evaluation mode.
func (g *Generator) Generate(z []float32, labels []int, n int, out []float32) error {
	lat, dim := g.Info.Latent, g.Info.Data.Dim
	if len(z) != n*lat || len(out) != n*dim {
		return fmt.Errorf("%d codes and %d outputs for %d samples of latent size %d and dimension %d", len(z), len(out), n, lat, dim)
	}
	cond := g.Info.Conditional()
	switch {
	case cond && len(labels) != n:
		return fmt.Errorf("this generator is class-conditional and needs %d labels, got %d", n, len(labels))
	case !cond && labels != nil:
		return fmt.Errorf("this generator is not class-conditional; it takes no labels")
	}
	for i, l := range labels {
		if l < 0 || l >= len(g.Info.Data.Classes) {
			return fmt.Errorf("label %d of sample %d is not a class (0 to %d)", l, i, len(g.Info.Data.Classes)-1)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.tp == nil {
		g.tp = autograd.NewTape()
	}
	tp := g.tp
	defer tp.Reset()
	for lo := 0; lo < n; lo += Chunk {
		hi := min(lo+Chunk, n)
		tp.Reset()
		tp.SetRecording(false)
		zc, err := tensor.FromData(z[lo*lat:hi*lat], hi-lo, lat)
		if err != nil {
			return err
		}
		c := &nn.Ctx{Tape: tp}
		if labels != nil {
			c.Labels = labels[lo:hi]
		}
		y := g.G.Forward(c, tp.Leaf(zc))
		if err := tp.Err(); err != nil {
			return err
		}
		copy(out[lo*dim:hi*dim], y.Data())
	}
	return nil
}

// Codes returns n latent codes drawn from N(0, 1) by a generator seeded
// with seed: the codes `minmax sample --seed` uses.
func Codes(n, latent int, seed uint64) []float32 {
	z := make([]float32, n*latent)
	tensor.NewRNG(seed).Normal(z, 0, 1)
	return z
}

// TruncatedCodes is Codes with BigGAN's truncation trick: every value
// beyond ±t is drawn again (from the same source, after the first draw of
// all the codes) until it falls within, which trades variety for fidelity.
// t <= 0 means no truncation (Codes).
func TruncatedCodes(n, latent int, seed uint64, t float64) []float32 {
	z := make([]float32, n*latent)
	rng := tensor.NewRNG(seed)
	rng.Normal(z, 0, 1)
	if t <= 0 {
		return z
	}
	lim := float32(t)
	var one [1]float32
	for i, v := range z {
		for v > lim || v < -lim {
			rng.Normal(one[:], 0, 1)
			v = one[0]
		}
		z[i] = v
	}
	return z
}

// CycleLabels returns n labels cycling through k classes: 0, 1, ..., k-1,
// 0, 1, ...
func CycleLabels(n, k int) []int {
	l := make([]int, n)
	for i := range l {
		l[i] = i % k
	}
	return l
}

// Options choose the samples of Sample.
type Options struct {
	// Seed seeds the latent codes (Codes).
	Seed uint64
	// Truncation, when > 0, redraws latent values beyond ±Truncation.
	Truncation float64
	// Class is the class of every sample of a conditional generator; -1
	// cycles through the classes (0, 1, ..., 0, 1, ...).
	Class int
	// Z, when set, holds the latent codes of the samples (n×Latent values,
	// e.g. read back from a file DrawCodes's codes were written to)
	// instead of codes drawn from Seed; Truncation must then be 0.
	Z []float32
}

// Labels returns the classes a conditional generator's n samples are
// asked for under o (nil for an unconditional generator), or an error for
// a class it does not have.
func (g *Generator) Labels(n int, o Options) ([]int, error) {
	k := len(g.Info.Data.Classes)
	if !g.Info.Conditional() {
		if o.Class >= 0 {
			return nil, fmt.Errorf("this generator is not class-conditional; it takes no class")
		}
		return nil, nil
	}
	if o.Class < 0 {
		return CycleLabels(n, k), nil
	}
	if o.Class >= k {
		return nil, fmt.Errorf("class %d is not one of its %d classes (0 to %d)", o.Class, k, k-1)
	}
	l := make([]int, n)
	for i := range l {
		l[i] = o.Class
	}
	return l, nil
}

// ClassIndex reads a class given as its number or its name.
func (g *Generator) ClassIndex(s string) (int, error) {
	names := g.Info.Data.Classes
	for i, c := range names {
		if strings.EqualFold(c, s) {
			return i, nil
		}
	}
	if k, err := strconv.Atoi(s); err == nil && k >= 0 && k < len(names) {
		return k, nil
	}
	if len(names) == 0 {
		return 0, fmt.Errorf("the generator has no classes")
	}
	return 0, fmt.Errorf("%q is not a class of the generator: want 0 to %d or one of %s", s, len(names)-1, strings.Join(names, ", "))
}

// Sample draws n samples under o and returns them with their classes (nil
// for an unconditional generator).
func (g *Generator) Sample(n int, o Options) (x []float32, labels []int, err error) {
	st, err := g.Stream(n, o)
	if err != nil {
		return nil, nil, err
	}
	return st.Next(n)
}

// Stream is a draw of n samples made a chunk at a time (Next), so that any
// number of samples can be written with bounded memory; the samples are
// those of Sample(n, o).
type Stream struct {
	g    *Generator
	o    Options
	n    int
	pos  int
	z    tensor.NormalStream
	rng  *tensor.RNG
	zbuf []float32
}

// Stream starts a draw of n samples under o.
func (g *Generator) Stream(n int, o Options) (*Stream, error) {
	if n < 1 {
		return nil, fmt.Errorf("%d samples asked for, want at least 1", n)
	}
	if _, err := g.Labels(1, o); err != nil {
		return nil, err
	}
	if o.Z != nil {
		if len(o.Z) != n*g.Info.Latent {
			return nil, fmt.Errorf("%d latent values given for %d samples of latent size %d (want %d)", len(o.Z), n, g.Info.Latent, n*g.Info.Latent)
		}
		if o.Truncation > 0 {
			return nil, fmt.Errorf("truncation applies to codes drawn from a seed, not to codes given")
		}
	}
	rng := tensor.NewRNG(o.Seed)
	return &Stream{g: g, o: o, n: n, rng: rng, z: rng.NormalStream(0, 1)}, nil
}

// Left is the number of samples not drawn yet.
func (s *Stream) Left() int { return s.n - s.pos }

// Next draws the next min(max, Left()) samples and their classes (nil for
// an unconditional generator); at the end it returns no samples.
func (s *Stream) Next(max int) (x []float32, labels []int, err error) {
	k := min(max, s.Left())
	if k <= 0 {
		return nil, nil, nil
	}
	z := s.codes(k)
	if labels, err = s.g.Labels(k, s.o); err != nil {
		return nil, nil, err
	}
	if labels != nil && s.o.Class < 0 {
		for i := range labels {
			labels[i] = (s.pos + i) % len(s.g.Info.Data.Classes)
		}
	}
	x = make([]float32, k*s.g.Info.Data.Dim)
	if err := s.g.Generate(z, labels, k, x); err != nil {
		return nil, nil, err
	}
	s.pos += k
	return x, labels, nil
}

// codes returns the latent codes of the next k samples (valid until the
// next call).
func (s *Stream) codes(k int) []float32 {
	lat := s.g.Info.Latent
	if s.o.Z != nil {
		return s.o.Z[s.pos*lat : (s.pos+k)*lat]
	}
	if cap(s.zbuf) < k*lat {
		s.zbuf = make([]float32, k*lat)
	}
	z := s.zbuf[:k*lat]
	s.z.Fill(z, s.pos*lat)
	if t := s.o.Truncation; t > 0 { // as TruncatedCodes: redraws in order
		lim := float32(t)
		var one [1]float32
		for i, v := range z {
			for v > lim || v < -lim {
				s.rng.Normal(one[:], 0, 1)
				v = one[0]
			}
			z[i] = v
		}
	}
	return z
}

// DrawCodes returns the latent codes (n×Latent) of the n samples of
// Stream(n, o): with o.Z set to them, a stream draws the same samples.
// `minmax sample --z-out` writes them, so that the samples can be made
// again, by minmax or by an exported model.
func (g *Generator) DrawCodes(n int, o Options) ([]float32, error) {
	st, err := g.Stream(n, o)
	if err != nil {
		return nil, err
	}
	return append([]float32(nil), st.codes(n)...), nil
}

// Interpolate draws steps samples along the straight line from the code of
// seed a to the code of seed b (each Codes(1, latent, seed), truncated
// under o.Truncation), at o.Class for a conditional generator (-1: class
// 0): BigGAN's interpolations at a fixed class.
func (g *Generator) Interpolate(a, b uint64, steps int, o Options) ([]float32, error) {
	z, err := g.InterpolationCodes(a, b, steps, o)
	if err != nil {
		return nil, err
	}
	var labels []int
	if g.Info.Conditional() {
		o.Class = max(o.Class, 0)
		var err error
		if labels, err = g.Labels(steps, o); err != nil {
			return nil, err
		}
	}
	out := make([]float32, steps*g.Info.Data.Dim)
	return out, g.Generate(z, labels, steps, out)
}

// InterpolationCodes returns the latent codes (steps×Latent) of
// Interpolate(a, b, steps, o).
func (g *Generator) InterpolationCodes(a, b uint64, steps int, o Options) ([]float32, error) {
	if steps < 2 {
		return nil, fmt.Errorf("an interpolation needs at least 2 steps, got %d", steps)
	}
	lat := g.Info.Latent
	za, zb := TruncatedCodes(1, lat, a, o.Truncation), TruncatedCodes(1, lat, b, o.Truncation)
	z := make([]float32, steps*lat)
	for i := range steps {
		f := float32(i) / float32(steps-1)
		for j := range lat {
			z[i*lat+j] = (1-f)*za[j] + f*zb[j]
		}
	}
	return z, nil
}
