package run

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/nn"
)

func smallConfig() gan.Config {
	c, _ := gan.Preset("ring8")
	c.Steps, c.Batch, c.EvalEvery, c.CheckpointEvery, c.JSDEvery = 40, 64, 10, 15, 20
	c.GHidden, c.DHidden = []int{32, 32}, []int{32, 32}
	c.LRDecay = "linear"
	c.R1Gamma = 0.1
	c.GBatchNorm = true
	c.GEMA = 0.9
	return c
}

func weights(ms ...nn.Module) []float32 {
	var w []float32
	for _, m := range ms {
		for _, p := range m.Params() {
			w = append(w, p.Value.Data...)
		}
	}
	return w
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
	if got := resumed.Game.Trainer.StepsDone(); got != 23 {
		t.Fatalf("resumed at step %d, want 23 (the checkpoint written on interruption)", got)
	}
	if _, err := resumed.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	resumed.Close()

	a := weights(whole.Game.G, whole.Game.D)
	b := weights(resumed.Game.G, resumed.Game.D)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("weight %d differs after resume: %v vs %v", i, a[i], b[i])
		}
	}
	for k, v := range whole.Game.G.Buffers() {
		w := resumed.Game.G.Buffers()[k]
		for i := range v.Data {
			if v.Data[i] != w.Data[i] {
				t.Fatalf("buffer %s differs after resume", k)
			}
		}
	}
	// So does the moving average of G's weights.
	for k, v := range whole.Game.EMA.Shadow() {
		w := resumed.Game.EMA.Shadow()[k]
		for i := range v.Data {
			if v.Data[i] != w.Data[i] {
				t.Fatalf("EMA of %s differs after resume", k)
			}
		}
	}
	// The metrics file of the resumed run has every step exactly once.
	b2, _ := os.ReadFile(filepath.Join(dir, MetricsFile))
	if n := strings.Count(string(b2), `"loss_d"`); n != cfg.Steps {
		t.Fatalf("metrics.jsonl has %d step lines, want %d", n, cfg.Steps)
	}
}

func TestCorruptCheckpointIsRefused(t *testing.T) {
	cfg := smallConfig()
	cfg.Steps = 5
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
	// A checkpoint of a different model is refused by name and shape.
	os.WriteFile(path, b, 0o644)
	cfg2 := cfg
	cfg2.GHidden = []int{16, 32}
	if err := writeConfig(filepath.Join(dir, ConfigFile), cfg2); err != nil {
		t.Fatal(err)
	}
	_, err = Resume(dir, 0, Options{})
	if err == nil || !strings.Contains(err.Error(), "G.fc1.weight") {
		t.Fatalf("mismatched checkpoint: err = %v", err)
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
