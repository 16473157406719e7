//go:build !mpi

package main

import (
	"strings"
	"testing"
)

// Started by mpirun, a minmax built without MPI refuses to train (each
// process would train alone into the same run) and says how to build one
// with MPI. (mpirun announces the job through the environment.)
func TestTrainUnderMPIRunWithoutMPI(t *testing.T) {
	cmd := minmaxCmd(smallToy(t.TempDir(), "5")...)
	cmd.Env = append(cmd.Env, "OMPI_COMM_WORLD_SIZE=2", "OMPI_COMM_WORLD_RANK=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "rank 1 of 2") || !strings.Contains(string(out), "go build -tags mpi") {
		t.Fatalf("err %v, output:\n%s", err, out)
	}
	// A job of one process is a plain run.
	cmd = minmaxCmd(smallToy(t.TempDir(), "5")...)
	cmd.Env = append(cmd.Env, "OMPI_COMM_WORLD_SIZE=1", "OMPI_COMM_WORLD_RANK=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("a job of one process: %v\n%s", err, out)
	}
}
