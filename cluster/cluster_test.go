package cluster_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/minmaxgan/minmax/cluster"
)

// onEach runs f on every rank of a Local group of n, concurrently, and
// returns each rank's error.
func onEach(n int, f func(c cluster.Comm) error) []error {
	comms := cluster.Local(n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r, c := range comms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[r] = f(c)
		}()
	}
	wg.Wait()
	return errs
}

func TestShardCoversTheBatch(t *testing.T) {
	for _, n := range []int{1, 7, 64, 65} {
		for size := 1; size <= min(n, 9); size++ {
			next := 0
			for r := range size {
				lo, hi := cluster.Shard(n, r, size)
				if lo != next || hi <= lo || hi-lo > n/size+1 || hi-lo < n/size {
					t.Fatalf("Shard(%d, %d, %d) = [%d, %d) after %d", n, r, size, lo, hi, next)
				}
				next = hi
			}
			if next != n {
				t.Fatalf("%d ranks cover %d of %d", size, next, n)
			}
		}
	}
}

func TestLocalCollectives(t *testing.T) {
	const n = 3
	errs := onEach(n, func(c cluster.Comm) error {
		r := c.Rank()
		f := []float32{float32(r), 1, float32(10 * r)}
		if err := c.AllReduceFloat32(f); err != nil {
			return err
		}
		if f[0] != 3 || f[1] != 3 || f[2] != 30 {
			return fmt.Errorf("rank %d: float32 sums %v", r, f)
		}
		d := []float64{0.5 * float64(r)}
		if err := c.AllReduceFloat64(d); err != nil {
			return err
		}
		if d[0] != 1.5 {
			return fmt.Errorf("rank %d: float64 sum %v", r, d)
		}
		b := []byte{byte(r), byte(r)}
		if err := c.Broadcast(b, 2); err != nil {
			return err
		}
		if b[0] != 2 || b[1] != 2 {
			return fmt.Errorf("rank %d: broadcast gave %v", r, b)
		}
		got, err := cluster.BroadcastBytes(c, []byte(strings.Repeat("x", r+1)), 1)
		if err != nil || string(got) != "xx" {
			return fmt.Errorf("rank %d: BroadcastBytes gave %q, %v", r, got, err)
		}
		all, err := c.AllGather([]byte(strings.Repeat("a", r)))
		if err != nil {
			return err
		}
		for k, v := range all {
			if string(v) != strings.Repeat("a", k) {
				return fmt.Errorf("rank %d: all-gather slot %d is %q", r, k, v)
			}
		}
		return nil
	})
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// Agree names the ranks that differ, on every rank; Gather gives every
// rank every rank's error.
func TestAgreeAndGather(t *testing.T) {
	errs := onEach(3, func(c cluster.Comm) error {
		v := "recipe A"
		if c.Rank() == 2 {
			v = "recipe B"
		}
		return cluster.Agree(c, "the recipe", []byte(v), nil)
	})
	for r, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "rank 2") || strings.Contains(err.Error(), "rank 1 ") {
			t.Errorf("rank %d: Agree said %v", r, err)
		}
	}
	errs = onEach(3, func(c cluster.Comm) error {
		return cluster.Agree(c, "the binary", []byte("same"), nil)
	})
	for r, err := range errs {
		if err != nil {
			t.Errorf("rank %d: identical bytes: %v", r, err)
		}
	}
	errs = onEach(3, func(c cluster.Comm) error {
		var mine error
		if c.Rank() == 1 {
			mine = errors.New("no data at /data/x")
		}
		return cluster.Gather(c, mine)
	})
	for r, err := range errs {
		var re cluster.RankError
		if err == nil || !errors.As(err, &re) || re.Rank != 1 || !strings.Contains(err.Error(), "rank 1: no data at /data/x") {
			t.Errorf("rank %d: Gather gave %v", r, err)
		}
	}
	errs = onEach(2, func(c cluster.Comm) error { return cluster.Gather(c, nil) })
	for r, err := range errs {
		if err != nil {
			t.Errorf("rank %d: no error anywhere, Gather gave %v", r, err)
		}
	}
}

func TestSingleAndTimed(t *testing.T) {
	var s cluster.Single
	buf := []float32{1, 2}
	tm := cluster.NewTimed(s)
	if err := tm.AllReduceFloat32(buf); err != nil || buf[0] != 1 || buf[1] != 2 {
		t.Fatalf("Single's all-reduce changed %v (%v)", buf, err)
	}
	if tm.Elapsed() <= 0 {
		t.Error("Timed counted no time")
	}
	tm.Reset()
	if tm.Elapsed() != 0 {
		t.Error("Reset left time")
	}
	if err := s.Broadcast(nil, 1); err == nil {
		t.Error("broadcast from rank 1 in a group of 1: no error")
	}
}

// Example: two ranks (goroutines here; processes under mpirun) sum their
// gradients.
func ExampleLocal() {
	comms := cluster.Local(2)
	grads := [][]float32{{1, 2}, {3, 4}}
	var wg sync.WaitGroup
	for r, c := range comms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.AllReduceFloat32(grads[r])
		}()
	}
	wg.Wait()
	fmt.Println(grads[0], grads[1])
	// Output: [4 6] [4 6]
}
