package parallel

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type countJob struct {
	seen  []int32
	parts []int32
}

func (j *countJob) Run(part, lo, hi int) {
	atomic.AddInt32(&j.parts[part], 1)
	for i := lo; i < hi; i++ {
		atomic.AddInt32(&j.seen[i], 1)
	}
}

func TestForCoversEveryIndexOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		p := NewPool(threads)
		for _, n := range []int{1, 2, 7, 100, 1001} {
			j := &countJob{seen: make([]int32, n), parts: make([]int32, threads)}
			p.For(n, j)
			for i, c := range j.seen {
				if c != 1 {
					t.Fatalf("threads=%d n=%d: index %d run %d times", threads, n, i, c)
				}
			}
			want := min(threads, n)
			for part, c := range j.parts {
				if (part < want) != (c == 1) {
					t.Fatalf("threads=%d n=%d: part %d ran %d times", threads, n, part, c)
				}
			}
		}
		p.Close()
	}
}

func TestSplitIsContiguous(t *testing.T) {
	for _, n := range []int{0, 1, 5, 64, 1000} {
		for parts := 1; parts <= 7; parts++ {
			prev := 0
			for i := 0; i < parts; i++ {
				lo, hi := Split(n, parts, i)
				if lo != prev || hi < lo {
					t.Fatalf("Split(%d,%d,%d) = [%d,%d), previous end %d", n, parts, i, lo, hi, prev)
				}
				prev = hi
			}
			if prev != n {
				t.Fatalf("Split(%d,%d) ends at %d", n, parts, prev)
			}
		}
	}
}

func TestForDoesNotAllocate(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	j := &countJob{seen: make([]int32, 64), parts: make([]int32, 2)}
	allocs := testing.AllocsPerRun(100, func() { p.For(64, j) })
	if allocs != 0 {
		t.Fatalf("For allocates %.1f times per call, want 0", allocs)
	}
}

// fillJob writes part+1 into its range of out.
type fillJob struct{ out []int32 }

func (j *fillJob) Run(part, lo, hi int) {
	for i := lo; i < hi; i++ {
		j.out[i] = int32(part + 1)
	}
}

// Goroutines that call one pool at once (a server sampling two runs, a
// run trained in the process that serves it) each get all of their job
// done, and none waits forever: a call that finds the workers busy runs
// its job alone (ForParts and ForChunks alike).
func TestPoolSharedByGoroutines(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	var wg sync.WaitGroup
	done := make(chan struct{})
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range 2000 {
				n := 1 + (g*7+it)%500
				j := &fillJob{out: make([]int32, n)}
				if it%2 == 0 {
					p.ForParts(n, 3, j)
				} else {
					p.ForChunks(n, 7, 3, j)
				}
				for i, v := range j.out {
					if v == 0 {
						t.Errorf("goroutine %d, call %d: element %d of %d not done", g, it, i, n)
						return
					}
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("calls from several goroutines did not finish within 60 s")
	}
}

// partsJob counts the runs of each part and the items covered.
type partsJob struct {
	runs  [4]atomic.Int32
	items atomic.Int64
}

func (j *partsJob) Run(part, lo, hi int) {
	j.runs[part].Add(1)
	j.items.Add(int64(hi - lo))
}

// A part no worker has started by the time the caller is done with its
// own is run by the caller, once: every part runs exactly once, and over
// many short calls the caller takes some of them.
func TestCallerTakesUnstartedParts(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	for range 20000 {
		var j partsJob
		p.ForParts(9, 3, &j)
		for part := range 3 {
			if n := j.runs[part].Load(); n != 1 {
				t.Fatalf("part %d ran %d times, want once", part, n)
			}
		}
		if j.items.Load() != 9 {
			t.Fatalf("%d items covered, want 9", j.items.Load())
		}
	}
	if p.taken.Load() == 0 {
		t.Error("the caller never ran a worker's part in 20,000 calls of a few nanoseconds")
	}
	t.Logf("the caller ran %d of 40,000 workers' parts", p.taken.Load())
}

// chunkRec records, per index, how often it ran and which part ran it, and
// makes every part but the caller's slow when slow is set.
type chunkRec struct {
	seen  []int32
	by    []int32
	calls []atomic.Int32 // Run calls per part
	slow  bool
}

func (j *chunkRec) Run(part, lo, hi int) {
	j.calls[part].Add(1)
	if j.slow && part != 0 {
		time.Sleep(2 * time.Millisecond)
	}
	for i := lo; i < hi; i++ {
		atomic.AddInt32(&j.seen[i], 1)
		atomic.StoreInt32(&j.by[i], int32(part))
	}
}

func newChunkRec(n, threads int) *chunkRec {
	return &chunkRec{seen: make([]int32, n), by: make([]int32, n), calls: make([]atomic.Int32, threads)}
}

// ForChunks runs every index once, in chunks of the size asked (the last
// shorter; 0: about chunksPerPart a part), on at most the parts asked,
// whatever the pool's size.
func TestForChunksCoversEveryIndexOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		p := NewPool(threads)
		for _, n := range []int{1, 2, 7, 100, 1001} {
			for _, chunk := range []int{0, 1, 3, 64, 5000} {
				for _, parts := range []int{1, 2, threads} {
					j := newChunkRec(n, threads)
					p.ForChunks(n, chunk, parts, j)
					for i, c := range j.seen {
						if c != 1 {
							t.Fatalf("threads %d, n %d, chunk %d, parts %d: index %d run %d times", threads, n, chunk, parts, i, c)
						}
					}
					calls := 0
					for part := range j.calls {
						c := int(j.calls[part].Load())
						if c > 0 && part >= min(parts, threads) {
							t.Fatalf("threads %d, n %d, chunk %d, parts %d: part %d ran", threads, n, chunk, parts, part)
						}
						calls += c
					}
					size := chunk
					if size <= 0 { // about chunksPerPart a part
						size = n / (chunksPerPart * min(parts, threads))
					}
					size = max(1, size)
					if want := (n + size - 1) / size; min(parts, threads, want) > 1 && calls != want {
						t.Fatalf("threads %d, n %d, chunk %d, parts %d: %d chunks run, want %d", threads, n, chunk, parts, calls, want)
					}
				}
			}
		}
		p.Close()
	}
}

// A slow thread takes fewer chunks: with the workers 2 ms a chunk and the
// caller instant, the caller runs nearly all of them.
func TestForChunksBalancesSlowThreads(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	const n = 200
	j := newChunkRec(n, 3)
	j.slow = true
	p.ForChunks(n, 1, 3, j)
	mine := 0
	for i := range n {
		if j.seen[i] != 1 {
			t.Fatalf("index %d run %d times", i, j.seen[i])
		}
		if j.by[i] == 0 {
			mine++
		}
	}
	// Each worker holds up the chunk it claimed when it started (or a
	// few, if the caller was descheduled for milliseconds).
	if mine < n-20 {
		t.Fatalf("the caller ran %d of %d chunks while the workers slept 2 ms each, want nearly all", mine, n)
	}
}

func TestForChunksDoesNotAllocate(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	j := newChunkRec(64, 2)
	allocs := testing.AllocsPerRun(100, func() { p.ForChunks(64, 4, 2, j) })
	if allocs != 0 {
		t.Fatalf("ForChunks allocates %.1f times per call, want 0", allocs)
	}
}
