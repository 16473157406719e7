//go:build mpi

package mpi

/*
#cgo pkg-config: ompi-c
#include <mpi.h>

static int mm_init(int *provided) {
	return MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
}
static int mm_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int mm_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
static int mm_allreduce_f32(float *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static int mm_allreduce_f64(double *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static int mm_bcast(void *buf, int n, int root) {
	return MPI_Bcast(buf, n, MPI_BYTE, root, MPI_COMM_WORLD);
}
static int mm_allgather_len(long long mine, long long *all) {
	return MPI_Allgather(&mine, 1, MPI_LONG_LONG, all, 1, MPI_LONG_LONG, MPI_COMM_WORLD);
}
static int mm_allgatherv(const void *send, int n, void *recv, const int *counts, const int *displs) {
	return MPI_Allgatherv(send, n, MPI_BYTE, recv, counts, displs, MPI_BYTE, MPI_COMM_WORLD);
}
static int mm_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static int mm_finalize(void) { return MPI_Finalize(); }
static int mm_error_string(int code, char *out, int *len) { return MPI_Error_string(code, out, len); }
*/
import "C"

import (
	"fmt"
	"math"
	"unsafe"
)

// Built reports whether this minmax was built with MPI (the mpi tag).
const Built = true

// World is MPI_COMM_WORLD: every process mpirun started. Its collectives
// must be called by one goroutine at a time (MPI_THREAD_SERIALIZED), which
// the trainer does.
type World struct {
	rank, size int
	done       bool
}

// Init initialises MPI (once per process) and returns the world.
func Init() (*World, error) {
	var provided C.int
	if rc := C.mm_init(&provided); rc != C.MPI_SUCCESS {
		return nil, fmt.Errorf("MPI_Init_thread: %s", errorString(rc))
	}
	if provided < C.MPI_THREAD_SERIALIZED {
		C.mm_finalize()
		return nil, fmt.Errorf("this MPI library does not support MPI_THREAD_SERIALIZED (it provides level %d), which minmax needs", int(provided))
	}
	var r, s C.int
	if rc := C.mm_rank(&r); rc != C.MPI_SUCCESS {
		return nil, fmt.Errorf("MPI_Comm_rank: %s", errorString(rc))
	}
	if rc := C.mm_size(&s); rc != C.MPI_SUCCESS {
		return nil, fmt.Errorf("MPI_Comm_size: %s", errorString(rc))
	}
	return &World{rank: int(r), size: int(s)}, nil
}

func errorString(rc C.int) string {
	var buf [C.MPI_MAX_ERROR_STRING]C.char
	var n C.int
	if C.mm_error_string(rc, &buf[0], &n) != C.MPI_SUCCESS {
		return fmt.Sprintf("MPI error %d", int(rc))
	}
	return C.GoStringN(&buf[0], n)
}

func check(what string, rc C.int) error {
	if rc != C.MPI_SUCCESS {
		return fmt.Errorf("%s: %s", what, errorString(rc))
	}
	return nil
}

// Rank is this process's rank.
func (w *World) Rank() int { return w.rank }

// Size is the number of processes.
func (w *World) Size() int { return w.size }

// chunk is the most elements one MPI call takes (its counts are C ints).
const chunk = math.MaxInt32 / 8

// AllReduceFloat32 sums buf over the ranks, in place (MPI_Allreduce).
func (w *World) AllReduceFloat32(buf []float32) error {
	for lo := 0; lo < len(buf); lo += chunk {
		part := buf[lo:min(lo+chunk, len(buf))]
		if err := check("MPI_Allreduce", C.mm_allreduce_f32((*C.float)(unsafe.Pointer(&part[0])), C.int(len(part)))); err != nil {
			return err
		}
	}
	return nil
}

// AllReduceFloat64 sums buf over the ranks, in place.
func (w *World) AllReduceFloat64(buf []float64) error {
	for lo := 0; lo < len(buf); lo += chunk {
		part := buf[lo:min(lo+chunk, len(buf))]
		if err := check("MPI_Allreduce", C.mm_allreduce_f64((*C.double)(unsafe.Pointer(&part[0])), C.int(len(part)))); err != nil {
			return err
		}
	}
	return nil
}

// Broadcast copies root's buf to every rank (MPI_Bcast).
func (w *World) Broadcast(buf []byte, root int) error {
	if root < 0 || root >= w.size {
		return fmt.Errorf("broadcast from rank %d in a world of %d", root, w.size)
	}
	for lo := 0; lo < len(buf); lo += chunk {
		part := buf[lo:min(lo+chunk, len(buf))]
		if err := check("MPI_Bcast", C.mm_bcast(unsafe.Pointer(&part[0]), C.int(len(part)), C.int(root))); err != nil {
			return err
		}
	}
	return nil
}

// AllGather returns every rank's data (MPI_Allgather of the lengths, then
// MPI_Allgatherv).
func (w *World) AllGather(data []byte) ([][]byte, error) {
	lens := make([]C.longlong, w.size)
	if err := check("MPI_Allgather", C.mm_allgather_len(C.longlong(len(data)), &lens[0])); err != nil {
		return nil, err
	}
	counts := make([]C.int, w.size)
	displs := make([]C.int, w.size)
	total := 0
	for r, n := range lens {
		if total+int(n) > math.MaxInt32 {
			return nil, fmt.Errorf("all-gather of %d bytes and more: too large for one MPI call", total+int(n))
		}
		counts[r], displs[r] = C.int(n), C.int(total)
		total += int(n)
	}
	recv := make([]byte, max(total, 1))
	send := unsafe.Pointer(&recv[0]) // any valid address for an empty send
	if len(data) > 0 {
		send = unsafe.Pointer(&data[0])
	}
	if err := check("MPI_Allgatherv", C.mm_allgatherv(send, C.int(len(data)), unsafe.Pointer(&recv[0]), &counts[0], &displs[0])); err != nil {
		return nil, err
	}
	out := make([][]byte, w.size)
	for r := range out {
		out[r] = recv[displs[r] : displs[r]+counts[r]]
	}
	return out, nil
}

// Abort ends every process of the job with the exit status code
// (MPI_Abort): the way out when this rank cannot go on and the others
// would wait for it forever.
func (w *World) Abort(code int) {
	C.mm_abort(C.int(code))
}

// Finalize shuts MPI down; call it once, after the last collective.
func (w *World) Finalize() error {
	if w.done {
		return nil
	}
	w.done = true
	return check("MPI_Finalize", C.mm_finalize())
}
