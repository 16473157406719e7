// Package mpi runs minmax's data-parallel training over MPI: World is
// MPI_COMM_WORLD as a cluster.Comm.
//
// The binding is a small cgo file over the few calls the trainer needs
// (MPI_Init_thread, rank and size, MPI_Allreduce of float32 and float64
// sums, MPI_Bcast, MPI_Allgatherv, MPI_Abort, MPI_Finalize), built only
// with the "mpi" build tag against the system's Open MPI:
//
//	apt-get install -y openmpi-bin libopenmpi-dev
//	go build -tags mpi ./cmd/minmax
//	mpirun -np 2 ./minmax train --preset dcgan-fashion-mnist --sync-bn
//
// Without the tag the package still builds, in pure Go: Launched tells
// that a process was started by mpirun, and Init says that this minmax
// was built without MPI.
package mpi
