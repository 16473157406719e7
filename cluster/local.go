package cluster

import (
	"fmt"
	"sync"
)

// Local returns a group of n ranks in this process, one Comm per rank,
// each to be used by its own goroutine: the collectives meet as MPI's do
// (every rank blocks until all have arrived) and sum in rank order, so
// every rank gets the same bits. It is how the trainer's data parallelism
// is tested without mpirun. The ranks share the process's worker pool:
// one rank's kernels at a time get its threads, the others' run on their
// own goroutines (the tests set one thread: parallel.SetThreads(1)).
func Local(n int) []Comm {
	if n < 1 {
		n = 1
	}
	g := &localGroup{n: n, slots: make([]any, n)}
	g.cond = sync.NewCond(&g.mu)
	cs := make([]Comm, n)
	for r := range cs {
		cs[r] = &localComm{g: g, rank: r}
	}
	return cs
}

type localGroup struct {
	n     int
	mu    sync.Mutex
	cond  *sync.Cond
	count int
	gen   uint64
	slots []any
}

// barrier waits until every rank has called it.
func (g *localGroup) barrier() {
	g.mu.Lock()
	defer g.mu.Unlock()
	gen := g.gen
	g.count++
	if g.count == g.n {
		g.count = 0
		g.gen++
		g.cond.Broadcast()
		return
	}
	for gen == g.gen {
		g.cond.Wait()
	}
}

type localComm struct {
	g    *localGroup
	rank int
}

// localComm's methods implement Comm (see its documentation).

func (c *localComm) Rank() int { return c.rank }
func (c *localComm) Size() int { return c.g.n }

// exchange puts v in this rank's slot, waits for every rank, calls read
// with all the slots, and waits again so that no slot is reused before
// every rank has read it.
func (c *localComm) exchange(v any, read func(slots []any) error) error {
	c.g.slots[c.rank] = v
	c.g.barrier()
	err := read(c.g.slots)
	c.g.barrier()
	return err
}

func (c *localComm) AllReduceFloat32(buf []float32) error { return allReduce(c, buf) }
func (c *localComm) AllReduceFloat64(buf []float64) error { return allReduce(c, buf) }

// allReduce sums every rank's buf in rank order into each rank's buf.
func allReduce[T float32 | float64](c *localComm, buf []T) error {
	mine := append([]T(nil), buf...)
	return c.exchange(mine, func(slots []any) error {
		for r, s := range slots {
			o := s.([]T)
			if len(o) != len(buf) {
				return fmt.Errorf("all-reduce of %d numbers on rank %d, %d on rank %d", len(buf), c.rank, len(o), r)
			}
			if r == 0 {
				copy(buf, o)
				continue
			}
			for i, v := range o {
				buf[i] += v
			}
		}
		return nil
	})
}

func (c *localComm) Broadcast(buf []byte, root int) error {
	if root < 0 || root >= c.g.n {
		return fmt.Errorf("broadcast from rank %d in a group of %d", root, c.g.n)
	}
	mine := append([]byte(nil), buf...)
	return c.exchange(mine, func(slots []any) error {
		o := slots[root].([]byte)
		if len(o) != len(buf) {
			return fmt.Errorf("broadcast of %d bytes from rank %d, rank %d expects %d", len(o), root, c.rank, len(buf))
		}
		copy(buf, o)
		return nil
	})
}

func (c *localComm) AllGather(data []byte) ([][]byte, error) {
	out := make([][]byte, c.g.n)
	mine := append([]byte(nil), data...)
	err := c.exchange(mine, func(slots []any) error {
		for r, s := range slots {
			out[r] = append([]byte(nil), s.([]byte)...)
		}
		return nil
	})
	return out, err
}
