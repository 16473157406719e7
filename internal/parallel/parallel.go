// Package parallel runs index ranges on a fixed set of worker goroutines.
//
// It exists so that the compute kernels (GEMM, elementwise, im2col) can use
// every allowed core without allocating in a training step's hot path: the
// workers are started once, work is handed to them as plain values over
// buffered channels, and a Job is an interface implemented by a long-lived
// struct (a pointer converted to an interface does not allocate).
//
// Work is split into contiguous parts by a fixed rule that depends only on
// the length and the thread count, so results are bit-identical for the same
// thread count from run to run.
package parallel

import (
	"runtime"
	"sync"
)

// Job is a unit of parallel work. Run processes the index range [lo, hi);
// part is the index of the part (0 <= part < parts) so that a job can keep
// per-part scratch space.
type Job interface {
	Run(part, lo, hi int)
}

type task struct {
	job      Job
	part     int
	lo, hi   int
	finished *sync.WaitGroup
}

// Pool is a fixed set of worker goroutines. The goroutine that calls For
// takes part 0 itself, so a pool of n threads starts n-1 goroutines.
// A Pool must not be used by two goroutines at once.
type Pool struct {
	threads int
	work    []chan task
	wg      sync.WaitGroup
}

// NewPool starts a pool of n threads (n < 1 means 1).
func NewPool(n int) *Pool {
	if n < 1 {
		n = 1
	}
	p := &Pool{threads: n}
	p.work = make([]chan task, n-1)
	for i := range p.work {
		ch := make(chan task, 1)
		p.work[i] = ch
		go func() {
			for t := range ch {
				t.job.Run(t.part, t.lo, t.hi)
				t.finished.Done()
			}
		}()
	}
	return p
}

// Threads is the number of threads the pool runs work on.
func (p *Pool) Threads() int { return p.threads }

// Close stops the workers. The pool must not be used afterwards.
func (p *Pool) Close() {
	for _, ch := range p.work {
		close(ch)
	}
	p.work = nil
}

// Split returns the bounds of part i of n items split into parts parts:
// contiguous, in order, sizes differing by at most one.
func Split(n, parts, i int) (lo, hi int) {
	return i * n / parts, (i + 1) * n / parts
}

// For runs job over [0, n) split into min(Threads, n) parts and waits for
// all of them. Part 0 runs on the calling goroutine.
func (p *Pool) For(n int, job Job) {
	p.ForParts(n, p.threads, job)
}

// ForParts is For with an explicit number of parts (at most Threads; fewer
// when n is small, e.g. to keep each part above a minimum grain).
func (p *Pool) ForParts(n, parts int, job Job) {
	if n <= 0 {
		return
	}
	if parts > p.threads {
		parts = p.threads
	}
	if parts > n {
		parts = n
	}
	if parts <= 1 {
		job.Run(0, 0, n)
		return
	}
	p.wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		lo, hi := Split(n, parts, i)
		p.work[i-1] <- task{job: job, part: i, lo: lo, hi: hi, finished: &p.wg}
	}
	lo, hi := Split(n, parts, 0)
	job.Run(0, lo, hi)
	p.wg.Wait()
}

// PartsFor returns how many parts to split n items into so that each part
// has at least grain items, bounded by the pool's threads.
func (p *Pool) PartsFor(n, grain int) int {
	if grain < 1 {
		grain = 1
	}
	parts := n / grain
	if parts > p.threads {
		parts = p.threads
	}
	if parts < 1 {
		parts = 1
	}
	return parts
}

var (
	defaultMu   sync.Mutex
	defaultPool = NewPool(runtime.GOMAXPROCS(0))
)

// Default returns the process-wide pool that the kernels use. Its size is
// GOMAXPROCS at start-up, or what SetThreads last set.
func Default() *Pool {
	defaultMu.Lock()
	p := defaultPool
	defaultMu.Unlock()
	return p
}

// SetThreads replaces the process-wide pool with one of n threads and sets
// GOMAXPROCS to n, so that --threads N bounds all compute to N cores.
// It must not be called while kernels are running.
func SetThreads(n int) {
	if n < 1 {
		n = 1
	}
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if defaultPool.threads == n {
		runtime.GOMAXPROCS(n)
		return
	}
	defaultPool.Close()
	defaultPool = NewPool(n)
	runtime.GOMAXPROCS(n)
}
