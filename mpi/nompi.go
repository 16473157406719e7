//go:build !mpi

package mpi

import "os"

// Built reports whether this minmax was built with MPI (the mpi tag).
const Built = false

// World is MPI_COMM_WORLD; without the mpi tag there is none (Init fails).
type World struct{}

// Init fails: this minmax was built without MPI.
func Init() (*World, error) { return nil, ErrNotBuilt }

// Rank is 0.
func (*World) Rank() int { return 0 }

// Size is 1.
func (*World) Size() int { return 1 }

// AllReduceFloat32 fails without MPI.
func (*World) AllReduceFloat32([]float32) error { return ErrNotBuilt }

// AllReduceFloat64 fails without MPI.
func (*World) AllReduceFloat64([]float64) error { return ErrNotBuilt }

// Broadcast fails without MPI.
func (*World) Broadcast([]byte, int) error { return ErrNotBuilt }

// AllGather fails without MPI.
func (*World) AllGather([]byte) ([][]byte, error) { return nil, ErrNotBuilt }

// Abort exits with code.
func (*World) Abort(code int) { os.Exit(code) }

// Finalize does nothing.
func (*World) Finalize() error { return nil }
