// Package parallel runs index ranges on a fixed set of worker goroutines.
//
// It exists so that the compute kernels (GEMM, elementwise, im2col) can use
// every allowed core without allocating in a training step's hot path: the
// workers are started once, work is handed to them through per-worker
// mailboxes (atomics, no allocation), and a Job is an interface implemented
// by a long-lived struct (a pointer converted to an interface does not
// allocate). Idle workers spin for a short while before parking, as
// OpenMP runtimes do, because a GAN step is a chain of short kernels.
//
// Work is split into contiguous parts by a fixed rule that depends only on
// the length and the thread count, so results are bit-identical for the same
// thread count from run to run. ForChunks instead hands chunks out as the
// threads ask for them, for jobs whose chunks compute the same values
// whoever runs them.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Job is a unit of parallel work. Run processes the index range [lo, hi);
// part is the index of the part (0 <= part < parts) so that a job can keep
// per-part scratch space.
type Job interface {
	Run(part, lo, hi int)
}

// worker is one pool goroutine's mailbox. The caller publishes a task by
// writing it and then bumping seq; the worker spins on seq for a while
// before parking, because waking a parked thread costs ~100 µs on the
// virtual machines minmax runs on, longer than many of the kernels it
// would run. Parking and waking follow the Dekker pattern on sequentially
// consistent atomics, so no wake-up is lost.
type worker struct {
	seq    atomic.Uint64
	parked atomic.Bool
	wake   chan struct{}
	job    Job
	part   int
	lo, hi int
	// claim says who runs the task last published: taskOpen until the
	// worker (taskWorker) or the caller (taskCaller) takes it.
	claim atomic.Int32
	_     [64]byte // keep workers on separate cache lines
}

// Task claims (worker.claim).
const (
	taskOpen = iota
	taskWorker
	taskCaller
)

// Pool is a fixed set of worker goroutines. The goroutine that calls For
// takes part 0 itself, so a pool of n threads starts n-1 goroutines; when
// done with it, it also runs the parts no worker has started yet.
//
// Several goroutines may call a Pool at once (a server sampling two runs,
// a run trained while the same process serves it): one call at a time
// gets the workers, and a call that finds them busy runs its job alone on
// its own goroutine, as a pool of one thread would. Results are the same
// either way, since every job's result is independent of its split.
type Pool struct {
	busy    sync.Mutex // held by the call that has the workers
	threads int
	workers []*worker
	pending atomic.Int64 // parts not yet finished by workers
	waiter  atomic.Bool  // the caller is parked waiting for them
	done    chan struct{}
	closed  atomic.Bool
	taken   atomic.Int64 // workers' parts the caller ran itself (tests)
	chunks  chunkJob     // ForChunks's job, used by the call that holds busy
}

// chunkJob runs a job's chunks for ForChunks: each part claims the next
// chunk from a shared counter until none is left.
type chunkJob struct {
	job      Job
	n, chunk int
	next     atomic.Int64 // the next chunk to claim
}

// Run claims and runs chunks as part until none is left.
func (c *chunkJob) Run(part, _, _ int) {
	for {
		lo := int(c.next.Add(1)-1) * c.chunk
		if lo >= c.n {
			return
		}
		c.job.Run(part, lo, min(c.n, lo+c.chunk))
	}
}

// spinFor is how long a worker (or the caller waiting for workers) spins
// before parking.
const spinFor = 200 * time.Microsecond

// NewPool starts a pool of n threads (n < 1 means 1).
func NewPool(n int) *Pool {
	if n < 1 {
		n = 1
	}
	p := &Pool{threads: n, done: make(chan struct{}, 1)}
	for i := 0; i < n-1; i++ {
		w := &worker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		go p.loop(w)
	}
	return p
}

func (p *Pool) loop(w *worker) {
	var seen uint64
	for {
		// Wait for seq to move: spin, then park.
		start := time.Now()
		for spins := 0; w.seq.Load() == seen; spins++ {
			if spins&255 == 255 {
				if p.closed.Load() {
					return
				}
				if time.Since(start) > spinFor {
					w.parked.Store(true)
					if w.seq.Load() == seen {
						<-w.wake
					}
					w.parked.Store(false)
					start = time.Now()
				}
			}
		}
		seen = w.seq.Load()
		if p.closed.Load() {
			return
		}
		if !w.claim.CompareAndSwap(taskOpen, taskWorker) {
			continue // the caller ran it (ForParts)
		}
		w.job.Run(w.part, w.lo, w.hi)
		p.finished()
	}
}

// finished counts a worker's part done, waking the caller if it waits for
// the last one.
func (p *Pool) finished() {
	if p.pending.Add(-1) == 0 && p.waiter.Load() {
		select {
		case p.done <- struct{}{}:
		default:
		}
	}
}

// Threads is the number of threads the pool runs work on.
func (p *Pool) Threads() int { return p.threads }

// Close stops the workers. The pool must not be used afterwards.
func (p *Pool) Close() {
	p.closed.Store(true)
	for _, w := range p.workers {
		w.seq.Add(1)
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	p.workers = nil
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
	if parts <= 1 || !p.busy.TryLock() {
		job.Run(0, 0, n)
		return
	}
	defer p.busy.Unlock()
	p.run(n, parts, job)
}

// ForChunks runs job over [0, n) in chunks of chunk items (the last one
// shorter; chunk 0 or less: about chunksPerPart chunks a part) that at
// most parts threads claim one after another, each
// calling job.Run with its own part index (0 <= part < parts, for
// per-part scratch) and one chunk's bounds. A thread that starts late or
// runs slower (on a virtual machine the two cores' speeds differ from
// moment to moment) then takes fewer chunks, rather than leaving the
// other to wait for it at the end, as an even split in parts would.
//
// Which thread runs a chunk varies from run to run, so it suits jobs
// whose every chunk computes the same values whoever runs it, into
// memory of its own (a block of images, or partial sums added afterwards
// in a fixed order). Run must also accept the whole range at once: that
// is how a pool of one thread, or a call that finds the workers busy,
// runs it.
func (p *Pool) ForChunks(n, chunk, parts int, job Job) {
	if n <= 0 {
		return
	}
	parts = min(parts, p.threads)
	if chunk <= 0 {
		chunk = n / (chunksPerPart * max(1, parts))
	}
	chunk = max(1, chunk)
	parts = min(parts, (n+chunk-1)/chunk)
	if parts <= 1 || !p.busy.TryLock() {
		job.Run(0, 0, n)
		return
	}
	defer p.busy.Unlock()
	c := &p.chunks
	c.job, c.n, c.chunk = job, n, chunk
	c.next.Store(0)
	p.run(parts, parts, c)
	c.job = nil
}

// chunksPerPart is how many chunks a part gets where ForChunks picks the
// size: enough that a core running slower hands several to the other,
// few enough that a claim costs nothing next to a chunk.
const chunksPerPart = 8

// run runs job's parts on the workers and the caller; the caller holds
// busy.
func (p *Pool) run(n, parts int, job Job) {
	p.pending.Store(int64(parts - 1))
	for i := 1; i < parts; i++ {
		w := p.workers[i-1]
		w.job, w.part = job, i
		w.lo, w.hi = Split(n, parts, i)
		w.claim.Store(taskOpen)
		w.seq.Add(1)
		if w.parked.Load() {
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
	lo, hi := Split(n, parts, 0)
	job.Run(0, lo, hi)
	// The parts no worker has started yet, the caller runs itself: a
	// worker can take tens of microseconds to wake on a virtual machine,
	// longer than many parts, and a job that hands out its work from a
	// counter may have none left for it. A part computes the same values
	// whoever runs it.
	for i := 1; i < parts; i++ {
		w := p.workers[i-1]
		if w.claim.CompareAndSwap(taskOpen, taskCaller) {
			job.Run(i, w.lo, w.hi)
			p.taken.Add(1)
			p.finished()
		}
	}
	// Wait for the workers: spin, then park.
	start := time.Now()
	for spins := 0; p.pending.Load() != 0; spins++ {
		if spins&255 == 255 && time.Since(start) > spinFor {
			p.waiter.Store(true)
			if p.pending.Load() != 0 {
				<-p.done
			}
			p.waiter.Store(false)
			// Drain a wake-up that raced with our own check.
			select {
			case <-p.done:
			default:
			}
			start = time.Now()
		}
	}
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
