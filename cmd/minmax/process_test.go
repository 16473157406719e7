package main

import (
	"bytes"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minmaxgan/minmax/checkpoint"
	"github.com/minmaxgan/minmax/tensor"
)

// TestMain lets the test binary act as the minmax command, so that tests
// can run it as a separate process (and kill it): with MINMAX_TEST_MAIN
// set, it runs main with the arguments after "--".
func TestMain(m *testing.M) {
	if os.Getenv("MINMAX_TEST_MAIN") == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{"minmax"}, os.Args[i+1:]...)
				break
			}
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// minmaxCmd is the minmax command as a child process.
func minmaxCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "MINMAX_TEST_MAIN=1", "GOMAXPROCS=1")
	return cmd
}

// smallToy are the flags of a short toy run that checkpoints every step.
func smallToy(dir string, steps string) []string {
	return []string{"train", "--run", dir, "--steps", steps, "--batch", "32", "--opt", "g_hidden=[16]", "--opt", "d_hidden=[16]",
		"--eval-every", "1000", "--jsd-every", "0", "--checkpoint-every", "1", "--threads", "1", "--no-pictures", "--seed", "4"}
}

// Killed with SIGKILL at random moments while it writes a checkpoint every
// step, a run always resumes, and finishes with the state of a run that was
// never interrupted, bit for bit.
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	root := t.TempDir()
	whole := filepath.Join(root, "whole")
	if out, err := minmaxCmd(smallToy(whole, "150")...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	cut := filepath.Join(root, "cut")
	rng := tensor.NewRNG(11)
	kills, resumes := killLoop(t, cut, "150", 12, rng)
	if kills == 0 || resumes == 0 {
		t.Fatalf("%d kills, %d resumes", kills, resumes)
	}
	a, err := checkpoint.Load(filepath.Join(whole, "checkpoint.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := checkpoint.Load(filepath.Join(cut, "checkpoint.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Meta["step"] != "150" || b.Meta["step"] != "150" {
		t.Fatalf("final steps %s and %s", a.Meta["step"], b.Meta["step"])
	}
	for k, v := range a.Tensors {
		w := b.Tensors[k]
		for i := range v.Data {
			if math.Float32bits(v.Data[i]) != math.Float32bits(w.Data[i]) {
				t.Fatalf("after %d kills: %s[%d] = %v, uninterrupted %v", kills, k, i, w.Data[i], v.Data[i])
			}
		}
	}
	t.Logf("%d kills, %d resumes, final checkpoint identical", kills, resumes)
}

// killLoop trains dir to steps, killing the process with SIGKILL after a
// random delay up to kills times and resuming it after each kill; it
// returns the kills and the resumes that reached training.
func killLoop(t *testing.T, dir, steps string, kills int, rng *tensor.RNG) (int, int) {
	t.Helper()
	killed, resumed := 0, 0
	args := smallToy(dir, steps)
	for {
		cmd := minmaxCmd(args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		if killed < kills {
			select {
			case err = <-done:
			case <-time.After(time.Duration(200+rng.IntN(400)) * time.Millisecond):
				cmd.Process.Signal(syscall.SIGKILL)
				err = <-done
				killed++
			}
		} else {
			err = <-done
		}
		var ee *exec.ExitError
		if err == nil {
			return killed, resumed
		}
		if !errors.As(err, &ee) || !strings.Contains(err.Error(), "killed") {
			if strings.Contains(out.String(), "holds no checkpoint yet") {
				args = smallToy(dir, steps) // killed before the first checkpoint: start again
				continue
			}
			if resumed > 0 && strings.Contains(out.String(), "the run has finished") {
				// The last kill came after the final checkpoint (while the
				// pictures were drawn): the training is complete.
				return killed, resumed
			}
			t.Fatalf("run ended with %v:\n%s", err, out.String())
		}
		if _, serr := os.Stat(filepath.Join(dir, "checkpoint.safetensors")); serr == nil {
			args = []string{"train", "--resume", dir, "--threads", "1"}
			resumed++
		}
	}
}

// SIGTERM and SIGINT stop a run after a checkpoint, with exit status 143
// and 130.
func TestSignalsExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 143}, {syscall.SIGINT, 130}} {
		dir := filepath.Join(t.TempDir(), "r")
		cmd := minmaxCmd(smallToy(dir, "100000")...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := os.Stat(filepath.Join(dir, "checkpoint.safetensors")); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		cmd.Process.Signal(c.sig)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != c.code {
			t.Fatalf("%v: %v, want exit status %d\n%s", c.sig, err, c.code, out.String())
		}
		if !strings.Contains(out.String(), "checkpoint saved") {
			t.Errorf("%v: %s", c.sig, out.String())
		}
	}
}

// A second process on a run directory in use is refused, naming the
// first; when the first ends, however it ends, the directory is free.
func TestRunDirectoryLock(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	dir := filepath.Join(t.TempDir(), "r")
	first := minmaxCmd(smallToy(dir, "100000")...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(dir, "config.yaml")); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, err := minmaxCmd(smallToy(dir, "10")...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by process") {
		t.Fatalf("a second run in the same directory: %v\n%s", err, out)
	}
	out, err = minmaxCmd("train", "--resume", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by process") {
		t.Fatalf("a resume of a directory in use: %v\n%s", err, out)
	}
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	// Free again: a resume gets past the lock (and is refused for its
	// --steps, which asks for no more training).
	out, err = minmaxCmd("train", "--resume", dir, "--steps", "1").CombinedOutput()
	if err == nil || strings.Contains(string(out), "in use") || !strings.Contains(string(out), "must be more than that") {
		t.Fatalf("a resume after the first process was killed: %v\n%s", err, out)
	}
}
