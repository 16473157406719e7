package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"
)

// Comm is a group of processes, ranks 0 to Size()-1, that call the same
// collectives in the same order. Every method is a collective unless said
// otherwise: each rank must call it, with buffers of the same length, or
// the group waits (MPI) or fails. Implementations give every rank the same
// bits from AllReduce (all ranks then apply the same update, so replicated
// state stays identical).
type Comm interface {
	// Rank is this process's place in the group, from 0 (not a
	// collective).
	Rank() int
	// Size is the number of ranks (not a collective).
	Size() int
	// AllReduceFloat32 replaces buf, on every rank, by the element-wise
	// sum of every rank's buf.
	AllReduceFloat32(buf []float32) error
	// AllReduceFloat64 is AllReduceFloat32 for float64.
	AllReduceFloat64(buf []float64) error
	// Broadcast copies root's buf into every other rank's buf.
	Broadcast(buf []byte, root int) error
	// AllGather returns every rank's data, indexed by rank; the lengths
	// may differ between ranks.
	AllGather(data []byte) ([][]byte, error)
}

// Single is the group of one process: every collective leaves its buffers
// as they are.
type Single struct{}

// Rank is 0.
func (Single) Rank() int { return 0 }

// Size is 1.
func (Single) Size() int { return 1 }

// AllReduceFloat32 leaves buf as it is (the sum over one rank).
func (Single) AllReduceFloat32([]float32) error { return nil }

// AllReduceFloat64 leaves buf as it is.
func (Single) AllReduceFloat64([]float64) error { return nil }

// Broadcast leaves buf as it is; root must be 0.
func (Single) Broadcast(_ []byte, root int) error {
	if root != 0 {
		return fmt.Errorf("broadcast from rank %d in a group of 1", root)
	}
	return nil
}

// AllGather returns data alone.
func (Single) AllGather(data []byte) ([][]byte, error) {
	return [][]byte{append([]byte(nil), data...)}, nil
}

// Shard is the part [lo, hi) of a global batch of n samples that rank
// draws in a group of size ranks: n/size each, the first n%size ranks one
// more, in rank order, so that the shards laid end to end are the batch.
func Shard(n, rank, size int) (lo, hi int) {
	q, r := n/size, n%size
	lo = rank*q + min(rank, r)
	hi = lo + q
	if rank < r {
		hi++
	}
	return lo, hi
}

// BroadcastFloat32 copies root's buf into every rank's buf.
func BroadcastFloat32(c Comm, buf []float32, root int) error {
	if len(buf) == 0 {
		return c.Broadcast(nil, root)
	}
	return c.Broadcast(unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), 4*len(buf)), root)
}

// BroadcastBytes sends root's data to every rank, whose own data is
// ignored (its length may differ), and returns it.
func BroadcastBytes(c Comm, data []byte, root int) ([]byte, error) {
	var n [8]byte
	if c.Rank() == root {
		putUint64(n[:], uint64(len(data)))
	}
	if err := c.Broadcast(n[:], root); err != nil {
		return nil, err
	}
	buf := make([]byte, getUint64(n[:]))
	if c.Rank() == root {
		copy(buf, data)
	}
	if err := c.Broadcast(buf, root); err != nil {
		return nil, err
	}
	return buf, nil
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

func getUint64(b []byte) uint64 {
	var v uint64
	for i := range 8 {
		v |= uint64(b[i]) << (8 * i)
	}
	return v
}

// Agree checks that every rank holds the same bytes as rank 0 (the
// binary's version, the recipe, ...): what names the thing for the error,
// which lists the ranks that differ and, through describe (nil: the bytes
// are shown), how.
func Agree(c Comm, what string, mine []byte, describe func(rank0, other []byte) string) error {
	all, err := c.AllGather(mine)
	if err != nil {
		return err
	}
	var differ []string
	for r := 1; r < len(all); r++ {
		if bytes.Equal(all[r], all[0]) {
			continue
		}
		d := fmt.Sprintf("rank %d has %q, rank 0 %q", r, clip(all[r]), clip(all[0]))
		if describe != nil {
			d = fmt.Sprintf("rank %d: %s", r, describe(all[0], all[r]))
		}
		differ = append(differ, d)
	}
	if len(differ) > 0 {
		return fmt.Errorf("the ranks disagree about %s: %s; every rank must run the same minmax with the same recipe", what, strings.Join(differ, "; "))
	}
	return nil
}

func clip(b []byte) string {
	const n = 80
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// Gather makes one rank's error every rank's: each rank passes its own
// (nil when it has none) and every rank gets back the errors of all,
// joined and each prefixed with its rank, or nil when no rank failed. Ranks
// use it at the points where one of them may fail alone (opening files,
// reading data), so that the others stop too instead of waiting in the
// next collective.
func Gather(c Comm, err error) error {
	var msg []byte
	if err != nil {
		msg = []byte(err.Error())
		if len(msg) == 0 {
			msg = []byte("failed")
		}
	}
	all, gerr := c.AllGather(msg)
	if gerr != nil {
		return errors.Join(err, gerr)
	}
	var errs []error
	for r, m := range all {
		if len(m) == 0 {
			continue
		}
		if r == c.Rank() && err != nil {
			errs = append(errs, RankError{Rank: r, Err: err})
			continue
		}
		errs = append(errs, RankError{Rank: r, Err: errors.New(string(m))})
	}
	return errors.Join(errs...)
}

// RankError is an error of one rank.
type RankError struct {
	Rank int
	Err  error
}

// Error is "rank N: ..." .
func (e RankError) Error() string { return fmt.Sprintf("rank %d: %v", e.Rank, e.Err) }

// Unwrap returns the rank's error.
func (e RankError) Unwrap() error { return e.Err }

// Timed wraps a Comm and adds up the time its collectives take on this
// rank (waiting for slower ranks included), the share of a training step
// spent in communication.
type Timed struct {
	Comm
	ns atomic.Int64
}

// NewTimed wraps c.
func NewTimed(c Comm) *Timed { return &Timed{Comm: c} }

// Elapsed is the time spent in collectives so far.
func (t *Timed) Elapsed() time.Duration { return time.Duration(t.ns.Load()) }

// Reset sets Elapsed back to 0.
func (t *Timed) Reset() { t.ns.Store(0) }

func (t *Timed) since(start time.Time) { t.ns.Add(int64(time.Since(start))) }

// AllReduceFloat32 is the wrapped Comm's, timed.
func (t *Timed) AllReduceFloat32(buf []float32) error {
	defer t.since(time.Now())
	return t.Comm.AllReduceFloat32(buf)
}

// AllReduceFloat64 is the wrapped Comm's, timed.
func (t *Timed) AllReduceFloat64(buf []float64) error {
	defer t.since(time.Now())
	return t.Comm.AllReduceFloat64(buf)
}

// Broadcast is the wrapped Comm's, timed.
func (t *Timed) Broadcast(buf []byte, root int) error {
	defer t.since(time.Now())
	return t.Comm.Broadcast(buf, root)
}

// AllGather is the wrapped Comm's, timed.
func (t *Timed) AllGather(data []byte) ([][]byte, error) {
	defer t.since(time.Now())
	return t.Comm.AllGather(data)
}
