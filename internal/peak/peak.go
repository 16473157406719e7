package peak

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"
)

// Kind is one peak loop: an instruction repeated on independent
// accumulators, with the floating-point operations one iteration does.
type Kind struct {
	// Name identifies the kind in `minmax bench --workload peak`:
	// "fp32-fma-avx512", "fp32-fma-avx2", "bf16-dot-avx512", "bf16-amx" or
	// "fp32-scalar-go" for this package's loops; loops made elsewhere with
	// NewKind have their own ("fp32-kernel-avx512-12x32", the float32
	// GEMM kernel's ceiling).
	Name string
	// Doc says what the loop runs.
	Doc string
	// FlopsPerIter is the floating-point operations of one iteration: a
	// multiply-add counts 2 per lane (32 for VFMADD231PS zmm, 16 for ymm),
	// a BF16 pair dot 4 per lane (64 for VDPBF16PS zmm).
	FlopsPerIter float64
	// Chunk is the iterations run between two reads of the clock (about a
	// tenth of a millisecond).
	Chunk int
	// FP32 marks the float32 kinds, the reference of peak fractions.
	FP32 bool

	run func(n int) float32 // runs n iterations, returns a checksum
}

// NewKind returns a kind for a loop defined outside this package (package
// internal/gemm's micro-kernel ceiling, for one), to be timed by Measure
// like the others: run runs n iterations on the calling goroutine and
// returns a checksum, each iteration doing flopsPerIter floating-point
// operations; chunk is the iterations between two reads of the clock. It
// is never FP32: the float32 peak is the FMA loop's.
func NewKind(name, doc string, flopsPerIter float64, chunk int, run func(n int) float32) Kind {
	return Kind{Name: name, Doc: doc, FlopsPerIter: flopsPerIter, Chunk: chunk, run: run}
}

// Run runs n iterations of the loop on the calling goroutine and returns
// its checksum (the sum of the accumulators).
func (k Kind) Run(n int) float32 { return k.run(n) }

// Go is the portable loop, for CPUs without AVX2 and FMA and for other
// architectures: 12 independent float32 chains of x = x·0.75 + 0.25 in
// plain Go, 2 FLOP each per iteration. It measures what scalar Go code
// reaches, not the SIMD units; its name says so.
var Go = Kind{
	Name: "fp32-scalar-go", Doc: "scalar float32 multiply and add in Go, 12 independent chains per thread (not SIMD)",
	FlopsPerIter: 12 * 2, Chunk: 1 << 14, FP32: true, run: goLoop,
}

func goLoop(n int) float32 {
	const m, c = 0.75, 0.25 // each chain tends to 1 and stays there
	var a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11 float32
	for range n {
		a0 = a0*m + c
		a1 = a1*m + c
		a2 = a2*m + c
		a3 = a3*m + c
		a4 = a4*m + c
		a5 = a5*m + c
		a6 = a6*m + c
		a7 = a7*m + c
		a8 = a8*m + c
		a9 = a9*m + c
		a10 = a10*m + c
		a11 = a11*m + c
	}
	return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11
}

// All returns every kind this CPU runs: the assembly loops its features
// allow (AVX-512F, AVX2 with FMA, AVX512_BF16), then Go.
func All() []Kind { return append(archKinds(), Go) }

// FP32 returns the float32 kind that sets this machine's float32 peak:
// the widest FMA loop the CPU runs (AVX-512, else AVX2), else Go.
func FP32() Kind {
	for _, k := range All() {
		if k.FP32 {
			return k
		}
	}
	return Go
}

// Kinds returns what `minmax bench --workload peak` reports: FP32 and,
// where the CPU has AVX512_BF16, the BF16 loop.
func Kinds() []Kind {
	l := []Kind{FP32()}
	for _, k := range archKinds() {
		if !k.FP32 {
			l = append(l, k)
		}
	}
	return l
}

// Lookup returns the kind named name, if this CPU runs it.
func Lookup(name string) (Kind, bool) {
	for _, k := range All() {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// Options controls a measurement.
type Options struct {
	Threads int           // goroutines running the loop at once, each locked to its OS thread
	Windows int           // timed windows; the median is reported (default 5)
	Window  time.Duration // length of each window (default 500 ms)
	Warmup  time.Duration // untimed run first, for clocks and power states to settle (default 200 ms)
}

// Result is a measured peak.
type Result struct {
	Kind     string
	Threads  int
	GFLOPS   float64   // the median over the windows of the summed rates of the threads
	Windows  []float64 // GFLOP/s of each window, in order
	Seconds  float64   // timed, in all
	Checksum float64   // sum of the loops' checksums (keeps the work observable)
	// CPUShare is the CPU time the threads ran over their elapsed time,
	// over all timed windows (Linux; 0 where unknown): under 1 when other
	// processes took turns on the cores, so that the rates measure the
	// share of the machine this process got, not its limit.
	CPUShare float64
}

// Measure runs k on o.Threads goroutines at once, each locked to its own
// OS thread, for o.Windows windows of o.Window after a warm-up. In a
// window every thread runs the loop Chunk iterations at a time until the
// window's deadline and its rate is its FLOPs over its own elapsed time;
// the window's rate is the sum over threads, and the median window is
// reported. GOMAXPROCS is raised to o.Threads for the measurement if it
// is lower.
func Measure(k Kind, o Options) (Result, error) {
	if k.run == nil {
		return Result{}, fmt.Errorf("peak: kind %q has no loop", k.Name)
	}
	if k.Chunk < 1 {
		return Result{}, fmt.Errorf("peak: kind %q runs %d iterations between reads of the clock; want at least 1", k.Name, k.Chunk)
	}
	if o.Threads < 1 {
		return Result{}, fmt.Errorf("peak: threads must be at least 1, got %d", o.Threads)
	}
	if o.Windows <= 0 {
		o.Windows = 5
	}
	if o.Window <= 0 {
		o.Window = 500 * time.Millisecond
	}
	if o.Warmup <= 0 {
		o.Warmup = 200 * time.Millisecond
	}
	if prev := runtime.GOMAXPROCS(0); prev < o.Threads {
		runtime.GOMAXPROCS(o.Threads)
		defer runtime.GOMAXPROCS(prev)
	}
	type report struct {
		iters    int64
		sec, cpu float64 // cpu < 0: unknown
		sum      float64
	}
	starts := make([]chan time.Time, o.Threads)
	done := make(chan report, o.Threads)
	for i := range starts {
		starts[i] = make(chan time.Time, 1) // buffered: all threads get the window at once
		go func(start <-chan time.Time) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for deadline := range start {
				var r report
				c0, cok := threadCPU()
				t0 := time.Now()
				for {
					r.sum += float64(k.run(k.Chunk))
					r.iters += int64(k.Chunk)
					if t := time.Now(); !t.Before(deadline) {
						r.sec = t.Sub(t0).Seconds()
						break
					}
				}
				r.cpu = -1
				if c1, ok := threadCPU(); ok && cok {
					r.cpu = (c1 - c0).Seconds()
				}
				done <- r
			}
		}(starts[i])
	}
	defer func() {
		for _, s := range starts {
			close(s)
		}
	}()
	res := Result{Kind: k.Name, Threads: o.Threads}
	cpu, elapsed := 0.0, 0.0
	for w := -1; w < o.Windows; w++ {
		length := o.Window
		if w < 0 {
			length = o.Warmup
		}
		deadline := time.Now().Add(length)
		for _, s := range starts {
			s <- deadline
		}
		rate, sec := 0.0, 0.0
		for range starts {
			r := <-done
			rate += float64(r.iters) * k.FlopsPerIter / r.sec / 1e9
			sec = max(sec, r.sec)
			res.Checksum += r.sum
			if w >= 0 && cpu >= 0 {
				if r.cpu < 0 {
					cpu = -1
				} else {
					cpu += r.cpu
					elapsed += r.sec
				}
			}
		}
		if w >= 0 {
			res.Windows = append(res.Windows, rate)
			res.Seconds += sec
		}
	}
	if cpu > 0 && elapsed > 0 {
		res.CPUShare = min(cpu/elapsed, 1)
	}
	sorted := slices.Clone(res.Windows)
	slices.Sort(sorted)
	res.GFLOPS = sorted[len(sorted)/2]
	if math.IsNaN(res.GFLOPS) || math.IsInf(res.GFLOPS, 0) || res.GFLOPS <= 0 {
		return res, fmt.Errorf("peak: %s at %d threads measured %v GFLOP/s", k.Name, o.Threads, res.GFLOPS)
	}
	return res, nil
}

func sum(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += v
	}
	return s
}
