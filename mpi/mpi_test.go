//go:build mpi

package mpi_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/mpi"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

var world *mpi.World

// TestMain runs the tests on every rank of an MPI job: started by go test
// (not by mpirun), the test binary starts itself again under
// mpirun -np 2 (MINMAX_TEST_RANKS=N: N) and returns its status. Rank 1's output is shown only when
// it fails.
func TestMain(m *testing.M) {
	if _, _, ok := mpi.Launched(); !ok {
		os.Exit(underMPIRun())
	}
	w, err := mpi.Init()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	world = w
	var quiet *os.File
	if w.Rank() > 0 {
		quiet, _ = os.CreateTemp("", "mpi-test-rank-*.log")
		if quiet != nil {
			os.Stdout = quiet
		}
	}
	code := m.Run()
	if quiet != nil {
		if code != 0 {
			b, _ := os.ReadFile(quiet.Name())
			fmt.Fprintf(os.Stderr, "--- rank %d's output:\n%s", w.Rank(), b)
		}
		quiet.Close()
		os.Remove(quiet.Name())
	}
	w.Finalize()
	os.Exit(code)
}

// MPIRunArgs are the arguments of mpirun that start n processes on this
// machine, whatever its cores and user.
func mpirunArgs(n int) []string {
	args := []string{"-np", fmt.Sprint(n), "--oversubscribe"}
	if os.Geteuid() == 0 {
		args = append(args, "--allow-run-as-root")
	}
	return args
}

func underMPIRun() int {
	path, err := exec.LookPath("mpirun")
	if err != nil {
		msg := "mpirun not found: the MPI tests need Open MPI (apt-get install -y openmpi-bin libopenmpi-dev)"
		if os.Getenv("MINMAX_REQUIRE_MPI") == "1" {
			fmt.Fprintln(os.Stderr, "FAIL:", msg)
			return 1
		}
		fmt.Println("SKIP:", msg)
		return 0
	}
	ranks := 2
	if v := os.Getenv("MINMAX_TEST_RANKS"); v != "" {
		if _, err := fmt.Sscan(v, &ranks); err != nil || ranks < 1 {
			fmt.Fprintf(os.Stderr, "MINMAX_TEST_RANKS=%q: want a number of ranks\n", v)
			return 2
		}
	}
	cmd := exec.Command(path, append(mpirunArgs(ranks), os.Args...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return max(ee.ExitCode(), 1)
		}
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestCollectives(t *testing.T) {
	r, n := world.Rank(), world.Size()
	f := []float32{float32(r + 1), 0.5}
	if err := world.AllReduceFloat32(f); err != nil || f[0] != float32(n*(n+1)/2) || f[1] != 0.5*float32(n) {
		t.Fatalf("float32 all-reduce: %v (%v)", f, err)
	}
	d := make([]float64, 100_000)
	for i := range d {
		d[i] = float64(i * (r + 1))
	}
	if err := world.AllReduceFloat64(d); err != nil || d[99_999] != float64(n*(n+1)/2*99_999) {
		t.Fatalf("float64 all-reduce: %v (%v)", d[99_999], err)
	}
	b := []byte{byte(r), 7}
	if err := world.Broadcast(b, 1); err != nil || b[0] != 1 {
		t.Fatalf("broadcast from rank 1: %v (%v)", b, err)
	}
	all, err := world.AllGather(make([]byte, 3*r)) // rank 0 sends nothing
	if err != nil || len(all) != n || len(all[0]) != 0 || len(all[n-1]) != 3*(n-1) {
		t.Fatalf("all-gather: %v (%v)", all, err)
	}
}

// The toy game (R1 every other step, EMA) over the two MPI ranks computes
// what one process computes with the whole batch, and the ranks hold the
// same weights bit for bit.
func TestGameOverMPI(t *testing.T) {
	parallel.SetThreads(1)
	mk := func() *gan.Game {
		spec, _ := arch.Lookup("mlp")
		rng := tensor.NewRNG(3)
		g, d, err := spec.Build(spec.Defaults(), 16, arch.PointData(2), rng)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := dist.Parse("ring(8, r=2, sd=0.02)")
		adam := gan.Adam{LR: 1e-3, Beta1: 0.5, Beta2: 0.999}
		game, err := gan.NewGame(gan.Config{Loss: gan.Losses["minimax"], Batch: 65, Latent: 16, DSteps: 2, R1Gamma: 0.1, R1Every: 2,
			G: adam, D: adam, Steps: 100, EMA: 0.99}, g, d, &gan.PointSampler{D: p}, rng)
		if err != nil {
			t.Fatal(err)
		}
		return game
	}
	single, group := mk(), mk()
	if err := group.Distribute(world, false); err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for step := 1; step <= 50; step++ {
		a, err := single.Step()
		if err != nil {
			t.Fatal(err)
		}
		b, err := group.Step()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range [][2]float64{{a.LossD, b.LossD}, {a.LossG, b.LossG}, {a.GradD, b.GradD}, {a.GradG, b.GradG}, {a.DReal, b.DReal}} {
			worst = max(worst, math.Abs(v[0]-v[1])/(1+math.Abs(v[0])))
		}
		if b.Ranks != world.Size() {
			t.Fatalf("step %d: ranks %d in the stats", step, b.Ranks)
		}
	}
	if worst > 1e-5 {
		t.Errorf("over %d ranks the figures differ from one process's by up to %.3g (relative)", world.Size(), worst)
	}
	t.Logf("50 steps over %d MPI ranks against one process: largest relative difference %.3g", world.Size(), worst)
	var w []float32
	for _, p := range nn.Params(group.G()) {
		w = append(w, p.Param.Value.Data...)
	}
	mine := make([]float32, len(w))
	copy(mine, w)
	if world.Rank() > 0 {
		clear(w) // the sum is rank 0's weights: each rank compares its own
	}
	if err := world.AllReduceFloat32(w); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w, mine) {
		t.Errorf("rank %d's weights of G differ from rank 0's", world.Rank())
	}
}
