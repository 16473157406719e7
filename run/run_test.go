package run

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/recipe"
	"github.com/minmaxgan/minmax/tensor"
)

func smallConfig() recipe.Recipe {
	c, _ := recipe.Preset("ring8")
	c.Optim.Steps, c.Optim.Batch, c.Run.EvalEvery, c.Run.CheckpointEvery, c.Run.JSDEvery = 40, 64, 10, 15, 20
	c.Model.Options = &arch.MLPOptions{GHidden: []int{32, 32}, DHidden: []int{32, 32}, GActivation: "relu", DActivation: "relu", GBatchNorm: true}
	c.Optim.Schedule = "linear"
	c.Loss.R1Gamma = 0.1
	c.Optim.GEMA = 0.9
	return c
}

// state returns every tensor of the game's state (weights, buffers,
// optimiser moments, EMA), by name.
func state(t *testing.T, r *Run) map[string]*tensor.Tensor {
	t.Helper()
	st, err := r.Game.State()
	if err != nil {
		t.Fatal(err)
	}
	return st.Tensors
}

// sameState fails unless two runs' states are bit-identical.
func sameState(t *testing.T, a, b *Run) {
	t.Helper()
	sa, sb := state(t, a), state(t, b)
	if len(sa) != len(sb) {
		t.Fatalf("states of %d and %d tensors", len(sa), len(sb))
	}
	for k, v := range sa {
		w := sb[k]
		if w == nil {
			t.Fatalf("%s is missing from the second state", k)
		}
		for i := range v.Data {
			if math.Float32bits(v.Data[i]) != math.Float32bits(w.Data[i]) {
				t.Fatalf("%s[%d] differs: %v vs %v", k, i, v.Data[i], w.Data[i])
			}
		}
	}
}

// cancelAt interrupts a run after a given step, like Ctrl-C would.
type cancelAt struct {
	step   int
	cancel context.CancelFunc
}

func (c *cancelAt) Step(st gan.Stats, total, first int, _ time.Duration) {
	if st.Step == c.step {
		c.cancel()
	}
}
func (c *cancelAt) Eval(Eval) {}

func TestResumeIsBitIdentical(t *testing.T) {
	cfg := smallConfig()
	opt := Options{NoPictures: true, JSDSteps: 30}

	whole, err := New(cfg, filepath.Join(t.TempDir(), "whole"), opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := whole.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	whole.Close()

	dir := filepath.Join(t.TempDir(), "cut")
	ctx, cancel := context.WithCancel(context.Background())
	o2 := opt
	o2.Progress = &cancelAt{step: 23, cancel: cancel}
	cut, err := New(cfg, dir, o2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cut.Train(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v", err)
	}
	cut.Close()
	resumed, err := Resume(dir, 0, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := resumed.Game.StepsDone(); got != 23 {
		t.Fatalf("resumed at step %d, want 23 (the checkpoint written on interruption)", got)
	}
	if _, err := resumed.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	resumed.Close()

	// Weights, batch-norm statistics, Adam's moments and the moving
	// average of G all agree.
	sameState(t, whole, resumed)
	// The metrics file of the resumed run has every step exactly once.
	b2, _ := os.ReadFile(filepath.Join(dir, MetricsFile))
	if n := strings.Count(string(b2), `"loss_d"`); n != cfg.Optim.Steps {
		t.Fatalf("metrics.jsonl has %d step lines, want %d", n, cfg.Optim.Steps)
	}
}

func TestCorruptCheckpointIsRefused(t *testing.T) {
	cfg := smallConfig()
	cfg.Optim.Steps = 5
	dir := filepath.Join(t.TempDir(), "r")
	r, err := New(cfg, dir, Options{NoPictures: true, JSDSteps: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.Close()
	path := filepath.Join(dir, CheckpointFile)
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, b[:len(b)-100], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Resume(dir, 0, Options{})
	if err == nil || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), CheckpointFile) {
		t.Fatalf("truncated checkpoint: err = %v", err)
	}
	// A config.yaml edited after the checkpoint is refused, naming the key.
	os.WriteFile(path, b, 0o644)
	cfg2 := cfg.Clone()
	cfg2.Model.Options.(*arch.MLPOptions).GHidden = []int{16, 32}
	if err := writeConfig(filepath.Join(dir, ConfigFile), cfg2); err != nil {
		t.Fatal(err)
	}
	_, err = Resume(dir, 10, Options{})
	if err == nil || !strings.Contains(err.Error(), "model.g_hidden (checkpoint: [32, 32], config.yaml: [16, 32])") {
		t.Fatalf("edited config.yaml: err = %v", err)
	}
	// New refuses to overwrite a run.
	if _, err := New(cfg, dir, Options{}); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("New over an existing run: err = %v", err)
	}
}

// The .npy header is what NumPy writes: magic, version 1.0, a 64-byte
// aligned dict with '<f4', C order and the shape, then the data.
func TestWriteNPY(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npy")
	if err := WriteNPY(path, []float32{1, 2, 3, 4, 5, 6}, 3, 2); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if string(b[:8]) != "\x93NUMPY\x01\x00" {
		t.Fatalf("magic %q", b[:8])
	}
	hl := int(b[8]) | int(b[9])<<8
	if (10+hl)%64 != 0 {
		t.Fatalf("header end %d not 64-aligned", 10+hl)
	}
	h := string(b[10 : 10+hl])
	if !strings.Contains(h, "'descr': '<f4'") || !strings.Contains(h, "'shape': (3, 2)") || !strings.Contains(h, "'fortran_order': False") || h[len(h)-1] != '\n' {
		t.Fatalf("header %q", h)
	}
	if len(b) != 10+hl+24 || b[10+hl+4] != 0 || b[10+hl+7] != 0x40 { // 2.0f = 0x40000000
		t.Fatalf("data section: %d bytes, % x", len(b)-10-hl, b[10+hl:])
	}
}

// An evaluation that fails before the last step is reported and the
// training goes on; one that fails at the last step ends the run with
// the error, after saving the checkpoint.
func TestEvaluationFailure(t *testing.T) {
	cfg := smallConfig()
	var warned []string
	opt := Options{NoPictures: true, JSDSteps: 30, Warn: func(m string) { warned = append(warned, m) }}
	dir := filepath.Join(t.TempDir(), "r")
	r, err := New(cfg, dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("the evaluator broke")
	r.evalFault = func(step int) error {
		if step == 20 || step == 40 {
			return boom
		}
		return nil
	}
	_, err = r.Train(context.Background())
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "the evaluation at step 40") {
		t.Fatalf("Train returned %v, want the last step's evaluation error", err)
	}
	if r.Game.StepsDone() != 40 {
		t.Fatalf("the run stopped at step %d, want 40", r.Game.StepsDone())
	}
	if !strings.Contains(strings.Join(warned, "\n"), "the evaluation at step 20: the evaluator broke; training goes on") {
		t.Fatalf("warnings %q, want step 20's evaluation failure", warned)
	}
	r.Close()
	resumed, err := open(dir, 0, opt, false)
	if err != nil {
		t.Fatal(err)
	}
	defer resumed.Close()
	if got := resumed.Game.StepsDone(); got != 40 {
		t.Fatalf("the checkpoint holds step %d, want 40", got)
	}
}
