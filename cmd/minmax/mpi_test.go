//go:build mpi

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/run"
	"github.com/minmaxgan/minmax/tensor"
)

// The tests of data-parallel training run the minmax command (this test
// binary, see TestMain) under mpirun, as a user does:
// go test -tags mpi ./cmd/minmax -run MPI.

// mpirun returns the path of mpirun and the flags every test gives it
// (several ranks on a machine of fewer cores; root allowed), skipping the
// test without Open MPI unless MINMAX_REQUIRE_MPI=1.
func mpirun(t *testing.T) (path string, flags []string) {
	t.Helper()
	path, err := exec.LookPath("mpirun")
	if err != nil {
		msg := "mpirun not found: the MPI tests need Open MPI (apt-get install -y openmpi-bin libopenmpi-dev)"
		if os.Getenv("MINMAX_REQUIRE_MPI") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	flags = []string{"--oversubscribe"}
	if os.Geteuid() == 0 {
		flags = append(flags, "--allow-run-as-root")
	}
	return path, flags
}

// asMinmax are the arguments that make this test binary the minmax
// command (TestMain), with args after them.
func asMinmax(args ...string) []string {
	return append([]string{os.Args[0], "-test.run=^$", "--"}, args...)
}

// mpirunMinmax is `mpirun -np n minmax ARGS...` in dir.
func mpirunMinmax(t *testing.T, dir string, n int, args ...string) *exec.Cmd {
	t.Helper()
	path, flags := mpirun(t)
	cmd := exec.Command(path, append(append(flags, "-np", fmt.Sprint(n)), asMinmax(args...)...)...)
	cmd.Env = append(os.Environ(), "MINMAX_TEST_MAIN=1", "GOMAXPROCS=1")
	cmd.Dir = dir
	return cmd
}

// stepLines reads the training-step records of a run's metrics.jsonl.
func stepLines(t *testing.T, dir string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, run.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["eval"]; !ok {
			out = append(out, m)
		}
	}
	return out
}

// stepFigures are the figures of a training step that sameSteps
// compares: the losses and D's mean outputs, then the gradient norms.
var (
	lossFigures = []string{"loss_d", "loss_g", "d_real", "d_fake", "penalty"}
	gradFigures = []string{"grad_norm_d", "grad_norm_g"}
)

// sameSteps compares every training step of two runs' metrics: the first
// step's figures, all of them, within first (the rounding of sums taken in
// another order); every step's losses and D's means within tol, and the
// gradient norms within gradTol. It returns the largest relative
// differences of the losses and of the gradient norms.
func sameSteps(t *testing.T, ranks, single string, steps int, first, tol, gradTol float64) (worstLoss, worstGrad float64) {
	t.Helper()
	a, b := stepLines(t, ranks), stepLines(t, single)
	if len(a) != steps || len(b) != steps {
		t.Fatalf("%d and %d steps recorded, want %d", len(a), len(b), steps)
	}
	for i := range a {
		if a[i]["ranks"] != 2.0 {
			t.Fatalf("step %d of the MPI run records ranks %v, want 2", i+1, a[i]["ranks"])
		}
		for _, set := range []struct {
			keys  []string
			tol   float64
			worst *float64
		}{{lossFigures, tol, &worstLoss}, {gradFigures, gradTol, &worstGrad}} {
			for _, k := range set.keys {
				x, _ := a[i][k].(float64)
				y, _ := b[i][k].(float64)
				d := math.Abs(x-y) / (1 + math.Abs(y))
				*set.worst = max(*set.worst, d)
				if limit := set.tol; d > limit || i == 0 && d > first {
					if i == 0 {
						limit = first
					}
					t.Errorf("step %d: %s %.9g over 2 ranks, %.9g in one process (relative difference %.3g > %.3g)", i+1, k, x, y, d, limit)
				}
			}
		}
	}
	return worstLoss, worstGrad
}

// mpi2AndSingle runs args (a run into dir "runs/x" appended) with
// mpirun -np 2 and as one process with two threads, in one folder.
func mpi2AndSingle(t *testing.T, root string, args ...string) (ranks, single string) {
	t.Helper()
	ranks, single = filepath.Join(root, "ranks"), filepath.Join(root, "single")
	if out, err := mpirunMinmax(t, root, 2, append(args, "--run", ranks, "--threads", "1")...).CombinedOutput(); err != nil {
		t.Fatalf("mpirun -np 2: %v\n%s", err, out)
	}
	cmd := minmaxCmd(append(args, "--run", single, "--threads", "2")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("one process: %v\n%s", err, out)
	}
	return ranks, single
}

// Equivalence, toy MLP: mpirun -np 2 with global batch B and one process
// with batch B give the same losses at every step of a 200-step run (to
// float32 rounding in another order) and the same evaluation; the run
// records its 2 ranks; rank 1 writes nothing.
func TestMPITrainMatchesOneProcess(t *testing.T) {
	root := t.TempDir()
	ranks, single := mpi2AndSingle(t, root, "train", "--steps", "200", "--batch", "64", "--eval-every", "100", "--jsd-every", "0",
		"--no-pictures", "--seed", "5", "--checkpoint-every", "1000")
	// No batch norm here, and no near-zero gradient for Adam to amplify
	// (see the DCGAN test): the runs stay within rounding.
	loss, grad := sameSteps(t, ranks, single, 200, 1e-6, 1e-5, 1e-5)
	t.Logf("toy, 200 steps: largest relative difference of the losses %.3g, of the gradient norms %.3g", loss, grad)
	cfg, _ := os.ReadFile(filepath.Join(ranks, run.ConfigFile))
	if !strings.Contains(string(cfg), "ranks: 2") {
		t.Errorf("config.yaml does not record the 2 ranks:\n%s", cfg)
	}
	var ea, eb struct {
		ModesCovered int     `json:"modes_covered"`
		HQ           float64 `json:"hq_fraction"`
	}
	for _, x := range []struct {
		dir string
		e   any
	}{{ranks, &ea}, {single, &eb}} {
		b, err := os.ReadFile(filepath.Join(x.dir, run.EvalFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, x.e); err != nil {
			t.Fatal(err)
		}
	}
	if ea.ModesCovered != eb.ModesCovered || math.Abs(ea.HQ-eb.HQ) > 0.004 {
		t.Errorf("final evaluation: %+v over 2 ranks, %+v in one process", ea, eb)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 2 {
		t.Errorf("the folder holds %d entries, want the two runs only (rank 1 writes nothing)", len(entries))
	}
}

// randomDigits writes an IDX image file of n random 28×28 images (and
// labels) into dir and returns its path.
func randomDigits(t *testing.T, dir string, n int) string {
	t.Helper()
	rng := tensor.NewRNG(9)
	pix := make([]uint8, n*784)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	path := filepath.Join(dir, "train-images-idx3-ubyte")
	if err := imgdata.WriteIDX(path, []int{n, 28, 28}, pix); err != nil {
		t.Fatal(err)
	}
	return path
}

// Equivalence, DCGAN with --sync-bn: batch norm over the whole global
// batch makes the 2-rank step the one-process step. The first step agrees
// to rounding (1e-7 here). Later steps drift further, as any change of
// summation order makes them: Adam's first updates are lr·g/(|g| + 1e-8),
// so for the weights whose gradient is near zero, a sum of cancelling
// terms (a bias followed by batch norm has exactly zero), rounding decides
// a move of up to lr, and the game amplifies it. One process drifts as far
// from itself when its summed gradients get rounding-sized errors
// (gan's TestDistributedDriftIsRoundingDrift: 7e-4 in the losses, 1e-2 in
// the gradient norms after 30 steps). The losses stay within 1e-3 here.
func TestMPISyncBNMatchesOneProcess(t *testing.T) {
	root := t.TempDir()
	data := randomDigits(t, root, 256)
	ranks, single := mpi2AndSingle(t, root, "train", "--data", data, "--model", "dcgan", "--width", "8", "--batch", "32",
		"--steps", "30", "--eval-every", "1000", "--no-pictures", "--sync-bn", "--precision", "fp32", "--seed", "2")
	loss, grad := sameSteps(t, ranks, single, 30, 1e-6, 1e-3, 5e-2)
	t.Logf("DCGAN --sync-bn, 30 steps: largest relative difference of the losses %.3g, of the gradient norms %.3g", loss, grad)
}

// SIGTERM to mpirun stops every rank at one step; rank 0 saves the
// checkpoint; the run resumes as a single process.
func TestMPIInterruptSavesAndResumes(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "r")
	cmd := mpirunMinmax(t, root, 2, smallToy(dir, "100000")...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, _ := os.ReadFile(filepath.Join(dir, run.CheckpointFile)); len(b) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint after 60 s:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("mpirun did not stop within 60 s of SIGTERM:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "checkpoint saved; continue with: mpirun -np 2 minmax train --resume") {
		t.Fatalf("no interruption message:\n%s", out.String())
	}
	st, err := run.ReadStatus(dir)
	if err != nil || st.State != run.StateInterrupted {
		t.Fatalf("status %+v (%v)", st, err)
	}
	// The checkpoint is the last recorded step, and a single process
	// carries the run on from it.
	res := minmaxCmd("train", "--resume", dir, "--steps", fmt.Sprint(st.Step+5), "--threads", "1")
	if b, err := res.CombinedOutput(); err != nil {
		t.Fatalf("resume as one process: %v\n%s", err, b)
	}
	if lines := stepLines(t, dir); len(lines) != st.Step+5 {
		t.Fatalf("%d steps recorded after resuming at %d for 5", len(lines), st.Step)
	}
}

// A rank that dies takes the job down, and mpirun names it: no hang.
func TestMPIRankDeathEndsTheJob(t *testing.T) {
	root := t.TempDir()
	cmd := mpirunMinmax(t, root, 2, smallToy(filepath.Join(root, "r"), "100000")...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// mpirun's children are the two ranks; rank 1 is the second started
	// (Open MPI numbers them in launch order on one node).
	var victim int
	for deadline := time.Now().Add(30 * time.Second); victim == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		if f := strings.Fields(string(b)); len(f) == 2 {
			fmt.Sscan(f[1], &victim)
		}
	}
	if victim == 0 {
		cmd.Process.Kill()
		t.Fatal("could not find the ranks' processes")
	}
	time.Sleep(time.Second)
	syscall.Kill(victim, syscall.SIGKILL)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("mpirun succeeded after a rank was killed")
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the job hung after a rank was killed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "rank 1") {
		t.Errorf("the job's output does not name rank 1:\n%s", out.String())
	}
}

// Ranks started with different command lines (mpirun's colon syntax)
// refuse to start, naming the rank and both command lines.
func TestMPIRanksThatDisagreeRefuse(t *testing.T) {
	root := t.TempDir()
	path, flags := mpirun(t)
	// mpirun's colon syntax: one rank with each command line.
	args := append(append(flags, "-np", "1"), asMinmax(smallToy(filepath.Join(root, "r"), "10")...)...)
	args = append(append(args, ":", "-np", "1"), asMinmax(smallToy(filepath.Join(root, "r"), "20")...)...)
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "MINMAX_TEST_MAIN=1", "GOMAXPROCS=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("ranks with different --steps trained:\n%s", out)
	}
	if !strings.Contains(string(out), "disagree about the command line") || !strings.Contains(string(out), "rank 1") || !strings.Contains(string(out), "--steps 20") {
		t.Errorf("the refusal does not say which rank and how:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(root, "r", run.MetricsFile)); err == nil {
		t.Error("a run was started")
	}
}
