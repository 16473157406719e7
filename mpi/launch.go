package mpi

import (
	"errors"
	"os"
	"strconv"
)

// ErrNotBuilt is Init's error in a minmax built without the mpi tag.
var ErrNotBuilt = errors.New("this minmax was built without MPI: build it with `go build -tags mpi ./cmd/minmax` (needs Open MPI's headers: apt-get install -y libopenmpi-dev) to train across processes")

// Launched reports whether this process was started by an MPI launcher
// (Open MPI's mpirun, or a PMI/PMIx one: MPICH's hydra, Slurm's srun), and
// the world size and this process's rank that the launcher announced.
func Launched() (size, rank int, ok bool) {
	for _, v := range [][2]string{
		{"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"},
		{"PMI_SIZE", "PMI_RANK"},
		{"PMIX_SIZE", "PMIX_RANK"},
	} {
		s, err := strconv.Atoi(os.Getenv(v[0]))
		if err != nil || s < 1 {
			continue
		}
		r, _ := strconv.Atoi(os.Getenv(v[1]))
		return s, r, true
	}
	return 0, 0, false
}

// LocalSize is the number of ranks on this host as the launcher announced
// it (Open MPI), or 0 when it did not.
func LocalSize() int {
	n, _ := strconv.Atoi(os.Getenv("OMPI_COMM_WORLD_LOCAL_SIZE"))
	return n
}
