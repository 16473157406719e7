package run

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/checkpoint"
	"github.com/minmaxgan/minmax/generator"
)

// copyDir copies the files of a test fixture's folder into a fresh one.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	es, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// A run written by minmax 0.1 (testdata/legacy-0.1/toy: a flat
// config.yaml and a "minmax-run-1" checkpoint, no generator file) is read:
// sampling writes its generator file once and draws exactly what 0.1's
// `minmax sample --run toy --n 5 --seed 1` drew, and resuming it to step
// 30 gives exactly the checkpoint 0.1's own resume gave.
func TestRunsOfMinmax01AreRead(t *testing.T) {
	dir := copyDir(t, "testdata/legacy-0.1/toy")
	var notes []string
	g, err := OpenGenerator(dir, func(m string) { notes = append(notes, m) })
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "0.1") {
		t.Errorf("notices %q", notes)
	}
	if _, err := os.Stat(filepath.Join(dir, GeneratorFile)); err != nil {
		t.Fatalf("no generator file written: %v", err)
	}
	pts, _, err := g.Sample(5, generator.Options{Seed: 1, Class: -1})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("testdata/legacy-0.1/toy-samples.csv")
	got := filepath.Join(t.TempDir(), "s.csv")
	if err := WriteCSV(got, pts, 2); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(got); string(b) != string(want) {
		t.Errorf("samples of the upgraded run:\n%s\nminmax 0.1 drew:\n%s", b, want)
	}
	// A second open reads the generator file, with no notice.
	notes = nil
	if _, err := OpenGenerator(dir, func(m string) { notes = append(notes, m) }); err != nil || len(notes) != 0 {
		t.Fatalf("second open: %v, notices %q", err, notes)
	}

	dir = copyDir(t, "testdata/legacy-0.1/toy")
	r, err := Resume(dir, 30, Options{NoPictures: true, JSDSteps: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.Close()
	old, err := checkpoint.Load("testdata/legacy-0.1/toy-step30.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	st := state(t, r)
	if len(st) != len(old.Tensors) {
		t.Fatalf("%d tensors, 0.1 saved %d", len(st), len(old.Tensors))
	}
	for k, v := range old.Tensors {
		w := st[k]
		if w == nil {
			t.Fatalf("%s is not in the state", k)
		}
		for i := range v.Data {
			if math.Float32bits(v.Data[i]) != math.Float32bits(w.Data[i]) {
				t.Fatalf("%s[%d] = %v after resuming, 0.1 gave %v", k, i, w.Data[i], v.Data[i])
			}
		}
	}
}

// A run of 0.1 whose data are gone cannot be upgraded: the error says
// which version wrote it and what to do.
func TestOldRunWithoutDataSaysWhatToDo(t *testing.T) {
	dir := copyDir(t, "testdata/legacy-0.1/toy")
	cfg, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	cfg = []byte(strings.Replace(string(cfg), "data: ring(8, r=2, sd=0.02)", "data: /nonexistent/fashion", 1))
	cfg = []byte(strings.Replace(string(cfg), "preset: ring8", "preset: dcgan-fashion-mnist\nmodel: dcgan\nwidth: 4", 1))
	os.WriteFile(filepath.Join(dir, ConfigFile), cfg, 0o644)
	_, err := OpenGenerator(dir, nil)
	if err == nil || !strings.Contains(err.Error(), "earlier minmax (0.1") || !strings.Contains(err.Error(), "/nonexistent/fashion") {
		t.Fatalf("err = %v", err)
	}
}
