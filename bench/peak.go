package bench

import (
	"fmt"
	"sync"
	"time"

	"github.com/minmaxgan/minmax/internal/gemm"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/internal/peak"
)

// PeakName is the name of the `peak` workload (see Peak).
const PeakName = "peak"

// Peak is the `peak` workload: the machine's own arithmetic limit at
// o.Threads threads, one Result per kind of loop (package internal/peak):
// the float32 one first (fp32-fma-avx512 where the CPU has AVX-512F, else
// fp32-fma-avx2, else the scalar Go loop fp32-scalar-go), then the ceiling
// of the float32 micro-kernel (fp32-kernel-avx512-12x32, say: see
// PeakKinds; its peak_fraction is over the line before), then
// bf16-dot-avx512 where it has AVX512_BF16 and bf16-amx where it has AMX
// (package internal/amx). Each is the median of
// o.Windows windows of o.MinWindow (default 500 ms) after o.Warmup
// (default 200 ms), with all threads running the loop at once; Rate and
// GFLOPS are both its GFLOP/s. Each line also names the caches the
// matrix products found and the blocks they chose (Caches, Blocking).
func Peak(o Options) ([]Result, error) {
	if o.Threads < 1 {
		return nil, fmt.Errorf("benchmark: --threads must be at least 1, got %d", o.Threads)
	}
	parallel.SetThreads(o.Threads)
	kc, mc, nc, c := gemm.Blocking()
	caches := fmt.Sprintf("L1d %d KiB, L2 %d KiB (%s)", c.L1D>>10, c.L2>>10, c.Source)
	blocking := fmt.Sprintf("KC %d, MC %d, NC %d", kc, mc, nc)
	var out []Result
	for i, k := range PeakKinds() {
		p, err := peak.Measure(k, peak.Options{Threads: o.Threads, Windows: o.Windows, Window: o.MinWindow, Warmup: o.Warmup})
		if err != nil {
			return nil, err
		}
		r := Result{Workload: PeakName, Kind: k.Name, Threads: o.Threads, Rate: p.GFLOPS, Unit: "GFLOP/s",
			GFLOPS: p.GFLOPS, Windows: len(p.Windows), Seconds: p.Seconds, CPUShare: p.CPUShare,
			Caches: caches, Blocking: blocking}
		if i == ceilingLine { // over the float32 peak, measured just before
			r.PeakGFLOPS, r.PeakFraction = out[0].GFLOPS, p.GFLOPS/out[0].GFLOPS
		}
		out = append(out, r)
	}
	return out, nil
}

// ceilingLine is the place of the kernel's ceiling among PeakKinds.
const ceilingLine = 1

// PeakKinds returns the loops Peak measures, in order: the float32 peak
// (peak.FP32), the ceiling of the float32 kernel the products use
// (gemm.CeilingLoop: the micro-kernel alone on panels in L1, whose line's
// peak_fraction is its rate over the float32 peak's), then the bfloat16
// loops this CPU has.
func PeakKinds() []peak.Kind {
	ks := peak.Kinds()
	c := gemm.CeilingLoop()
	ceiling := peak.NewKind(c.Name, c.Doc, c.FlopsPerCall, 256, c.Run)
	return append([]peak.Kind{ks[0], ceiling}, ks[1:]...)
}

var peaks struct {
	sync.Mutex
	by map[string]float64 // GFLOP/s by kind and thread count
}

// FP32Peak returns the float32 peak (peak.FP32) in GFLOP/s at threads
// threads, measured the first time a thread count is asked for in the
// process, in windows windows of window after a 100 ms warm-up (default 4
// windows of 250 ms), and remembered.
func FP32Peak(threads, windows int, window time.Duration) (float64, error) {
	return peakOf(peak.FP32(), threads, windows, window)
}

// BF16Peak is FP32Peak for the bfloat16 loop of the kernel the bfloat16
// products run on (gemm.BF16Kernel): TDPBF16PS tiles on AMX, else
// VDPBF16PS; an error where the CPU has no AVX512_BF16.
func BF16Peak(threads, windows int, window time.Duration) (float64, error) {
	name := "bf16-dot-avx512"
	if gemm.BF16Kernel() == "amx" {
		name = "bf16-amx"
	}
	k, ok := peak.Lookup(name)
	if !ok {
		return 0, fmt.Errorf("benchmark: this CPU has no bfloat16 peak (AVX512_BF16)")
	}
	return peakOf(k, threads, windows, window)
}

func peakOf(k peak.Kind, threads, windows int, window time.Duration) (float64, error) {
	peaks.Lock()
	defer peaks.Unlock()
	key := fmt.Sprintf("%s/%d", k.Name, threads)
	if p, ok := peaks.by[key]; ok {
		return p, nil
	}
	if windows <= 0 {
		windows = 4
	}
	if window <= 0 {
		window = 250 * time.Millisecond
	}
	r, err := peak.Measure(k, peak.Options{Threads: threads, Windows: windows, Window: window, Warmup: 100 * time.Millisecond})
	if err != nil {
		return 0, err
	}
	if peaks.by == nil {
		peaks.by = map[string]float64{}
	}
	peaks.by[key] = r.GFLOPS
	return r.GFLOPS, nil
}
