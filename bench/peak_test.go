package bench

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/minmaxgan/minmax/internal/gemm"
	"github.com/minmaxgan/minmax/internal/peak"
)

func TestPeakLines(t *testing.T) {
	rs, err := Peak(Options{Threads: 1, Windows: 3, MinWindow: 40 * time.Millisecond, Warmup: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	kinds := PeakKinds()
	if len(rs) != len(kinds) || len(kinds) != len(peak.Kinds())+1 || rs[0].Kind != peak.FP32().Name ||
		rs[1].Kind != gemm.CeilingLoop().Name || !strings.HasPrefix(rs[1].Kind, "fp32-kernel-"+gemm.Current().String()+"-") {
		t.Fatalf("Peak gave %+v, want one line per kind of %v, the float32 one first, then the kernel's ceiling", rs, kinds)
	}
	for i, r := range rs {
		if r.Workload != PeakName || r.Kind != kinds[i].Name || r.Threads != 1 || r.Unit != "GFLOP/s" ||
			r.Rate <= 0 || r.GFLOPS != r.Rate || r.Windows != 3 || r.Seconds <= 0 {
			t.Errorf("line %d: %+v", i, r)
		}
		b, _ := json.Marshal(r)
		if !strings.Contains(r.Caches, "L1d ") || !strings.Contains(r.Caches, "KiB") || !strings.HasPrefix(r.Blocking, "KC ") {
			t.Errorf("line %d: caches %q, blocking %q: want the caches and blocks the products use", i, r.Caches, r.Blocking)
		}
		// Only the kernel's ceiling has a fraction: of the float32 line's rate.
		if i == 1 {
			if r.PeakGFLOPS != rs[0].GFLOPS || r.PeakFraction != r.GFLOPS/rs[0].GFLOPS || !strings.Contains(string(b), `"peak_fraction":`) {
				t.Errorf("the ceiling's line %+v: want peak_gflops %v and peak_fraction its rate over that", r, rs[0].GFLOPS)
			}
		} else if r.PeakFraction != 0 || strings.Contains(string(b), "peak_fraction") {
			t.Errorf("line %d has a peak fraction: %s", i, b)
		}
		if !strings.Contains(string(b), `"kind":"`+r.Kind+`"`) {
			t.Errorf("line %d as JSON: %s", i, b)
		}
		t.Logf("%s", b)
	}
	if _, err := Peak(Options{Threads: 0}); err == nil {
		t.Error("threads=0 accepted")
	}
}

// A workload with a FLOP count reports its fraction of the float32 peak
// at its thread count, measured in the process; without one, or with
// NoPeak, none (and its JSON has no peak fields).
func TestRunReportsPeakFraction(t *testing.T) {
	w := Workload{Name: "sleep", Unit: "call/s", Flops: 1e6, Setup: func(uint64) (func() error, error) {
		return func() error { time.Sleep(time.Millisecond); return nil }, nil
	}}
	o := Options{Threads: 2, Windows: 1, MinWindow: 20 * time.Millisecond, Warmup: 5 * time.Millisecond,
		PeakWindows: 2, PeakWindow: 30 * time.Millisecond}
	r, err := Run(w, o)
	if err != nil {
		t.Fatal(err)
	}
	if r.PeakGFLOPS <= 0 || r.PeakFraction != r.GFLOPS/r.PeakGFLOPS || r.PeakFraction <= 0 {
		t.Fatalf("result %+v: want peak_gflops > 0 and peak_fraction = gflops/peak_gflops", r)
	}
	if p, _ := FP32Peak(2, 0, 0); p != r.PeakGFLOPS {
		t.Errorf("FP32Peak(2) = %v, not the %v the run used (one measurement per thread count)", p, r.PeakGFLOPS)
	}
	o.NoPeak = true
	r, err = Run(w, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	if r.PeakGFLOPS != 0 || r.PeakFraction != 0 || strings.Contains(string(b), "peak") || strings.Contains(string(b), "kind") {
		t.Errorf("NoPeak: %s", b)
	}
}
