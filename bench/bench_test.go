package bench

import (
	"testing"
	"time"
)

func TestRunReportsMedianRate(t *testing.T) {
	calls := 0
	w := Workload{Name: "sleep", Unit: "call/s", Flops: 1e6, Setup: func(uint64) (func() error, error) {
		return func() error { calls++; time.Sleep(2 * time.Millisecond); return nil }, nil
	}}
	r, err := Run(w, Options{Threads: 1, Windows: 3, MinWindow: 40 * time.Millisecond, Warmup: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Rate <= 100 || r.Rate > 500 || r.Windows != 3 || r.Workload != "sleep" || calls == 0 {
		t.Fatalf("result %+v: a 2 ms call should run at 100-500 call/s", r)
	}
	if r.GFLOPS != r.Rate*1e6/1e9 {
		t.Fatalf("gflops %v does not follow from rate %v", r.GFLOPS, r.Rate)
	}
	if _, err := Run(w, Options{Threads: 0}); err == nil {
		t.Fatal("threads=0 accepted")
	}
}
