package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/checkpoint"
)

// These tests reproduce, through the command line, the ways a run used to
// report a wrong or stale result while exiting 0 or lose its work, and
// check what minmax does instead.

// toyRun trains a small toy run into dir with a checkpoint every step.
func toyRun(t *testing.T, dir string, steps string, extra ...string) {
	t.Helper()
	if _, err := runCLI(t, append(smallToy(dir, steps), extra...)...); err != nil {
		t.Fatalf("train %s: %v", dir, err)
	}
}

// wantErr fails unless err is an error whose message holds every part.
func wantErr(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want one mentioning %q", what, parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("%s: error %q does not mention %q", what, err, p)
		}
	}
}

// Editing a finished run's config.yaml made sample use the edited network
// on the old weights (points around 12 instead of 2, exit 0). sample, eval
// and --resume now refuse it and name the key.
func TestEditedConfigIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	toyRun(t, dir, "5")
	path := filepath.Join(dir, "config.yaml")
	y, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(y), "g_activation: relu", "g_activation: tanh", 1)
	if edited == string(y) {
		t.Fatalf("config.yaml has no g_activation: relu:\n%s", y)
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "s.csv")
	_, err = runCLI(t, "sample", "--run", dir, "--n", "10", "--out", out)
	wantErr(t, "sample", err, "model.g_activation", "relu", "tanh")
	if _, serr := os.Stat(out); serr == nil {
		t.Fatal("sample wrote samples from a mismatched run")
	}
	_, err = runCLI(t, "eval", "--run", dir, "--jsd-steps", "0")
	wantErr(t, "eval", err, "model.g_activation")
	_, err = runCLI(t, "train", "--resume", dir, "--steps", "8")
	wantErr(t, "resume", err, "model.g_activation", "does not match")
}

// A flipped bit in the tensor data of a checkpoint or a generator file is
// refused by its checksum; a file with NaN weights (and a valid checksum)
// is refused naming the tensor, where it used to sample NaN,NaN.
func TestCorruptAndNonFiniteWeightsAreRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	toyRun(t, dir, "3")
	for _, name := range []string{"checkpoint.safetensors", "generator.safetensors"} {
		path := filepath.Join(dir, name)
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b := append([]byte(nil), orig...)
		b[len(b)-3] ^= 0x10
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "a corrupt "+name, useRunFile(t, dir, name), name, "checksum")
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	for _, name := range []string{"checkpoint.safetensors", "generator.safetensors"} {
		path := filepath.Join(dir, name)
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := checkpoint.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		var poisoned string
		for k := range f.Tensors {
			if strings.Contains(k, "G.") && strings.HasSuffix(k, "weight") && (poisoned == "" || k < poisoned) {
				poisoned = k
			}
		}
		if poisoned == "" {
			t.Fatalf("%s has no weight of G", name)
		}
		f.Tensors[poisoned].Data[1] = float32(math.NaN())
		delete(f.Meta, checkpoint.ChecksumKey)
		if err := checkpoint.SaveChecked(path, f.Tensors, f.Meta); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "NaN in "+name, useRunFile(t, dir, name), poisoned, "NaN")
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Restored, the run reads again.
	if _, err := runCLI(t, "sample", "--run", dir, "--n", "4", "--out", filepath.Join(t.TempDir(), "s.csv")); err != nil {
		t.Fatal(err)
	}
}

// A folder of other files is not overwritten by --run; an empty folder is
// used.
func TestFolderOfOtherFilesIsNotOverwritten(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "thesis.tex")
	if err := os.WriteFile(keep, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runCLI(t, smallToy(dir, "3")...)
	wantErr(t, "train into a folder of other files", err, dir, "thesis.tex")
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("the folder holds %d entries after the refusal, want only thesis.tex", len(entries))
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	toyRun(t, empty, "2")
	// A run is not started over either: it is resumed.
	_, err = runCLI(t, smallToy(empty, "3")...)
	wantErr(t, "train into a run", err, "already holds a run", "--resume")
}

// --data 'N(1e10,1)' used to end after all its steps with "json:
// unsupported value: NaN", saving nothing. The run now finishes: the
// infinite metric is named once with its step, written as null, and the
// checkpoint and eval.json are saved.
func TestNonFiniteMetricsKeepTheRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	var warnings strings.Builder
	root := newRoot()
	root.SetOut(&warnings)
	root.SetErr(&warnings)
	root.SetArgs([]string{"train", "--data", "N(1e10,1)", "--steps", "12", "--batch", "32", "--eval-every", "4", "--jsd-every", "0",
		"--threads", "1", "--no-pictures", "--run", dir})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(warnings.String(), "is not finite"); n != 1 {
		t.Fatalf("%d warnings of a non-finite metric, want 1:\n%s", n, warnings.String())
	}
	if !strings.Contains(warnings.String(), "step 0: eval.coverage.reverse_kl is not finite") {
		t.Fatalf("the warning does not name the metric and the step:\n%s", warnings.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e map[string]any
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("eval.json: %v", err)
	}
	if v, ok := e["reverse_kl"]; !ok || v != nil {
		t.Fatalf("eval.json reverse_kl = %v (present %v), want null", v, ok)
	}
	if e["step"] != float64(12) {
		t.Fatalf("eval.json is of step %v, want 12", e["step"])
	}
	m, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(m)), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("metrics.jsonl line %d: %v", i+1, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoint.safetensors")); err != nil {
		t.Fatal(err)
	}
}

// --resume --steps N at or below the checkpoint's step is refused with the
// current step, as is a resume of a finished run; a run resumed to train
// longer reports the evaluation of its final weights, not the stale one.
func TestResumeRefusesNoWorkAndEvaluatesTheFinalWeights(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	toyRun(t, dir, "6")
	_, err := runCLI(t, "train", "--resume", dir, "--steps", "6")
	wantErr(t, "resume --steps 6 at step 6", err, "at step 6", "--steps 6 must be more")
	_, err = runCLI(t, "train", "--resume", dir, "--steps", "3")
	wantErr(t, "resume --steps 3 at step 6", err, "at step 6")
	_, err = runCLI(t, "train", "--resume", dir)
	wantErr(t, "resume of a finished run", err, "the run has finished", "--steps")

	if _, err := runCLI(t, "train", "--resume", dir, "--steps", "9", "--threads", "1"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Step int }
	if err := json.Unmarshal(b, &e); err != nil || e.Step != 9 {
		t.Fatalf("eval.json after training to step 9 is of step %d (%v)", e.Step, err)
	}
}

// Temporary files that a killed save left are removed at the next start,
// and --no-pictures is kept by --resume.
func TestResumeCleansUpAndKeepsSettings(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	toyRun(t, dir, "4")
	stale := []string{
		filepath.Join(dir, ".checkpoint.safetensors.tmp-123456"),
		filepath.Join(dir, "samples", ".step-000004.png.tmp-99"),
	}
	for _, p := range stale {
		if err := os.WriteFile(p, []byte("half a file"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := runCLI(t, "train", "--resume", dir, "--steps", "6", "--threads", "1"); err != nil {
		t.Fatal(err)
	}
	for _, p := range stale {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s is still there after the resume", p)
		}
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	more, _ := filepath.Glob(filepath.Join(dir, "samples", "*.png"))
	if len(pngs)+len(more) > 0 {
		t.Fatalf("a run started with --no-pictures drew %v %v after --resume", pngs, more)
	}
	y, _ := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if !strings.Contains(string(y), "no_pictures: true") {
		t.Fatalf("config.yaml lost no_pictures:\n%s", y)
	}
}

// Counts are checked before anything is allocated: sample --n 1e9 used to
// die with "fatal error: out of memory". Nonsense flag values are refused
// with the limits, and data errors say what the user gave.
func TestBoundedInputsAndPlainErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	toyRun(t, dir, "2")
	out := filepath.Join(t.TempDir(), "s.csv")
	_, err := runCLI(t, "sample", "--run", dir, "--n", "1000000000", "--out", out)
	wantErr(t, "sample --n 1e9", err, "--n", "at most 100000000")
	if _, serr := os.Stat(out); serr == nil {
		t.Fatal("the refused sample left a file")
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"bench", "--windows", "0"}, []string{"--windows", "1 to 1000", "got 0"}},
		{[]string{"eval", "--run", dir, "--jsd-steps", "-1"}, []string{"--jsd-steps", "got -1"}},
		{[]string{"train", "--data", "/no/such/place", "--run", filepath.Join(t.TempDir(), "x")}, []string{"no such file, folder or data set: /no/such/place", "fashion-mnist"}},
		{[]string{"train", "--data", "fashion-mnst", "--run", filepath.Join(t.TempDir(), "x")}, []string{"did you mean fashion-mnist?"}},
		{[]string{"train", "--steps", "abc"}, []string{"--steps", `want a whole number, got "abc"`}},
		{[]string{"train", "--steps", "1.5"}, []string{"--steps", "whole number"}},
		{[]string{"sample", "--run", dir, "--n", "many", "--out", out}, []string{"--n"}},
	} {
		_, err := runCLI(t, c.args...)
		wantErr(t, strings.Join(c.args, " "), err, c.want...)
		for _, bad := range []string{"strconv.", "gan.Config", "recipe.", "minmax: minmax:", "theory: theory:", ".tmp-", "ParseInt", "ParseFloat"} {
			if strings.Contains(err.Error(), bad) {
				t.Errorf("%v: the message %q shows %q", c.args, err, bad)
			}
		}
	}
}

// useRunFile runs the command that reads the run file name of dir:
// sample for the generator file, a resume for the checkpoint.
func useRunFile(t *testing.T, dir, name string) error {
	t.Helper()
	if name == "generator.safetensors" {
		_, err := runCLI(t, "sample", "--run", dir, "--n", "4", "--out", filepath.Join(t.TempDir(), "s.csv"))
		return err
	}
	_, err := runCLI(t, "train", "--resume", dir, "--steps", "5")
	return err
}
