package parallel

import (
	"sync/atomic"
	"testing"
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
