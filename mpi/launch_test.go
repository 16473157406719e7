package mpi

import "testing"

// Launched reads the job that Open MPI's mpirun, or a PMI/PMIx launcher,
// announces in the environment.
func TestLaunched(t *testing.T) {
	for _, k := range []string{"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMI_SIZE", "PMI_RANK", "PMIX_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"} {
		t.Setenv(k, "")
	}
	if _, _, ok := Launched(); ok {
		t.Fatal("launched with no launcher's variables")
	}
	t.Setenv("PMI_SIZE", "4")
	t.Setenv("PMI_RANK", "3")
	if size, rank, ok := Launched(); !ok || size != 4 || rank != 3 {
		t.Fatalf("PMI: %d, %d, %v", size, rank, ok)
	}
	t.Setenv("OMPI_COMM_WORLD_SIZE", "2")
	t.Setenv("OMPI_COMM_WORLD_RANK", "1")
	t.Setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2")
	if size, rank, ok := Launched(); !ok || size != 2 || rank != 1 || LocalSize() != 2 {
		t.Fatalf("Open MPI: %d, %d, %v, local %d", size, rank, ok, LocalSize())
	}
}
