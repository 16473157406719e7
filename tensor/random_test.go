package tensor

import (
	"math"
	"runtime"
	"sort"
	"testing"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// The ziggurat sampler must produce N(0, 1): its moments and its CDF
// (Kolmogorov–Smirnov against Φ, including the tails beyond the ziggurat's
// base at 3.44) are checked on a million samples.
func TestNormalIsStandardNormal(t *testing.T) {
	const n = 1 << 20
	x := make([]float32, n)
	NewRNG(12345).Normal(x, 0, 1)
	var m, v, k, tail float64
	for _, f := range x {
		m += float64(f)
	}
	m /= n
	for _, f := range x {
		d := float64(f) - m
		v += d * d
		k += d * d * d * d
		if math.Abs(float64(f)) > zigR {
			tail++
		}
	}
	v /= n
	k = k / n / (v * v)
	if math.Abs(m) > 5/math.Sqrt(n) || math.Abs(v-1) > 5*math.Sqrt(2.0/n) || math.Abs(k-3) > 5*math.Sqrt(24.0/n) {
		t.Fatalf("mean %g, variance %g, kurtosis %g", m, v, k)
	}
	pTail := math.Erfc(zigR / math.Sqrt2) // P(|X| > r)
	if math.Abs(tail/n-pTail) > 5*math.Sqrt(pTail/n) {
		t.Fatalf("tail share %g, want %g", tail/n, pTail)
	}
	s := make([]float64, n)
	for i, f := range x {
		s[i] = float64(f)
	}
	sort.Float64s(s)
	var ks float64
	for i, v := range s {
		cdf := 0.5 * math.Erfc(-v/math.Sqrt2)
		ks = math.Max(ks, math.Max(math.Abs(cdf-float64(i)/n), math.Abs(cdf-float64(i+1)/n)))
	}
	// The KS statistic's 99.9% point is about 1.95/sqrt(n).
	if ks > 1.95/math.Sqrt(n) {
		t.Fatalf("Kolmogorov–Smirnov distance %g exceeds %g", ks, 1.95/math.Sqrt(n))
	}
}

// A bulk draw is split into fixed chunks, so it must not depend on the
// number of threads that fill them.
func TestNormalIndependentOfThreads(t *testing.T) {
	defer parallel.SetThreads(runtime.GOMAXPROCS(0))
	var ref []float32
	for _, th := range []int{1, 2, 3} {
		parallel.SetThreads(th)
		x := make([]float32, 5*normalChunk+17)
		NewRNG(7).Normal(x, 0.5, 2)
		if ref == nil {
			ref = x
			continue
		}
		for i := range x {
			if x[i] != ref[i] {
				t.Fatalf("%d threads: value %d is %v, with 1 thread %v", th, i, x[i], ref[i])
			}
		}
	}
	// Chunks must not repeat each other.
	if ref[0] == ref[normalChunk] && ref[1] == ref[normalChunk+1] {
		t.Fatal("chunks 0 and 1 start with the same values")
	}
}

// NormFloat64 (used one value at a time by the data samplers) must be
// N(0, 1) too: moments and the tail share on 400k draws.
func TestNormFloat64Moments(t *testing.T) {
	const n = 400000
	g := NewRNG(5)
	var m, v float64
	var tail int
	for range n {
		x := g.NormFloat64()
		m += x
		v += x * x
		if math.Abs(x) > zigR {
			tail++
		}
	}
	m /= n
	v = v/n - m*m
	pTail := math.Erfc(zigR / math.Sqrt2)
	if math.Abs(m) > 5/math.Sqrt(n) || math.Abs(v-1) > 5*math.Sqrt(2.0/n) || math.Abs(float64(tail)/n-pTail) > 5*math.Sqrt(pTail/n) {
		t.Fatalf("mean %g, variance %g, tail share %g (want %g)", m, v, float64(tail)/n, pTail)
	}
}

func TestRNGStateRoundTrip(t *testing.T) {
	a := NewRNG(3)
	a.Normal(make([]float32, 7), 0, 1)
	st, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b := NewRNG(99)
	if err := b.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	x, y := make([]float32, 9), make([]float32, 9)
	a.Normal(x, 0, 1)
	b.Normal(y, 0, 1)
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("restored generator differs at %d", i)
		}
	}
}

func BenchmarkNormal(b *testing.B) {
	g := NewRNG(1)
	x := make([]float32, 512*256)
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		g.Normal(x, 0, 1)
	}
}

// BenchmarkNormalOneThread times a latent batch's draw on one thread, in
// Go and with the AVX-512 fast path (simdNormal) where the CPU has it.
func BenchmarkNormalOneThread(b *testing.B) {
	x := make([]float32, 512*256)
	for _, simd := range []bool{false, true} {
		name := "go"
		if simd {
			name = "avx512"
		}
		b.Run(name, func(b *testing.B) {
			if simd && !useNormalAVX512 {
				b.Skip("no AVX-512 DQ")
			}
			save := useNormalAVX512
			useNormalAVX512 = simd
			defer func() { useNormalAVX512 = save }()
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				(&normalJob{dst: x, key: 1, std: 1}).Run(0, 0, (len(x)+normalChunk-1)/normalChunk)
			}
		})
	}
}

// The kernels that split work over threads (column sums for bias
// gradients, ReLU and its masks) give the same bits with any thread count.
func TestParallelKernelsIndependentOfThreads(t *testing.T) {
	defer parallel.SetThreads(runtime.GOMAXPROCS(0))
	const rows, cols = 2100, 160 // three parts of parallelGrain at 3 threads
	x := make([]float32, rows*cols)
	g := make([]float32, rows*cols)
	NewRNG(4).Normal(x, 0, 1)
	NewRNG(5).Normal(g, 0, 1)
	run := func() (sum, relu, mask, leaky []float32) {
		sum = make([]float32, cols)
		SumTo(sum, []int{cols}, x, []int{rows, cols})
		relu, mask, leaky = make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
		ReLU(relu, x)
		ReLUMask(mask, x, g)
		LeakyMask(leaky, x, g, 0.2)
		return
	}
	parallel.SetThreads(1)
	s1, r1, m1, l1 := run()
	for _, th := range []int{2, 3} {
		parallel.SetThreads(th)
		s, r, m, l := run()
		for name, pair := range map[string][2][]float32{"column sums": {s1, s}, "ReLU": {r1, r}, "ReLUMask": {m1, m}, "LeakyMask": {l1, l}} {
			for i := range pair[0] {
				if pair[0][i] != pair[1][i] {
					t.Fatalf("%s with %d threads differ at %d: %v vs %v", name, th, i, pair[1][i], pair[0][i])
				}
			}
		}
	}
	// And the column sums are right.
	for j := 0; j < cols; j++ {
		var want float64
		for r := 0; r < rows; r++ {
			want += float64(x[r*cols+j])
		}
		if math.Abs(float64(s1[j])-want) > 1e-3 {
			t.Fatalf("column %d sums to %v, want %v", j, s1[j], want)
		}
	}
}

// Tanh and the sigmoid, whose threads take chunks in turn, give every
// element exactly as the serial loop does, at any thread count; lengths
// that end mid-chunk included.
func TestTranscendentalsIndependentOfThreads(t *testing.T) {
	defer parallel.SetThreads(runtime.GOMAXPROCS(0))
	for _, n := range []int{transChunk*7 + 5, 40000, 100003} {
		x := make([]float32, n)
		NewRNG(uint64(n)).Normal(x, 0, 3)
		want := make([]float32, 2*n)
		tanhSerial(want[:n], x)
		sigmoidSerial(want[n:], x)
		for _, th := range []int{1, 2, 3} {
			parallel.SetThreads(th)
			got := make([]float32, 2*n)
			Tanh(got[:n], x)
			Sigmoid(got[n:], x)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n %d, %d threads: value %d is %v, the serial loop's %v", n, th, i, got[i], want[i])
				}
			}
		}
	}
}

// The broadcasting binary kernels split large work over the pool; every
// element is computed as by the serial loop, whatever the thread count.
func TestBinaryIndependentOfThreads(t *testing.T) {
	defer parallel.SetThreads(runtime.GOMAXPROCS(0))
	const rows, cols = 2100, 96 // three parts of parallelGrain at 3 threads
	a := make([]float32, rows*cols)
	b := make([]float32, rows*cols)
	row := make([]float32, cols)
	NewRNG(6).Normal(a, 0, 1)
	NewRNG(7).Normal(b, 1, 1)
	NewRNG(8).Normal(row, 2, 1)
	shape, rshape := []int{rows, cols}, []int{cols}
	run := func() [][]float32 {
		var outs [][]float32
		for _, op := range []BinOp{OpAdd, OpSub, OpMul, OpDiv} {
			full, rb, ra := make([]float32, len(a)), make([]float32, len(a)), make([]float32, len(a))
			Binary(op, full, shape, a, shape, b, shape)
			Binary(op, rb, shape, a, shape, row, rshape)
			Binary(op, ra, shape, row, rshape, b, shape)
			outs = append(outs, full, rb, ra)
		}
		return outs
	}
	parallel.SetThreads(1)
	want := run()
	// The serial result is the definition.
	for i := range a {
		c := i % cols
		if want[0][i] != a[i]+b[i] || want[4][i] != a[i]-row[c] || want[11][i] != row[c]/b[i] {
			t.Fatalf("element %d: %v %v %v", i, want[0][i], want[4][i], want[11][i])
		}
	}
	for _, th := range []int{2, 3} {
		parallel.SetThreads(th)
		got := run()
		for k := range want {
			for i := range want[k] {
				if got[k][i] != want[k][i] {
					t.Fatalf("kernel %d with %d threads differs at %d: %v vs %v", k, th, i, got[k][i], want[k][i])
				}
			}
		}
	}
}

func TestChooseDrawsDistinctIndices(t *testing.T) {
	rng := NewRNG(3)
	counts := make([]int, 10)
	for range 2000 {
		idx := rng.Choose(10, 4)
		if len(idx) != 4 {
			t.Fatalf("Choose(10, 4) gave %d indices", len(idx))
		}
		seen := map[int]bool{}
		for _, i := range idx {
			if i < 0 || i >= 10 || seen[i] {
				t.Fatalf("Choose(10, 4) = %v", idx)
			}
			seen[i] = true
			counts[i]++
		}
	}
	// Each index is chosen with probability 0.4: 800 ± 22 (1 s.d.) of 2000.
	for i, c := range counts {
		if c < 700 || c > 900 {
			t.Errorf("index %d chosen %d times of 2000, expected about 800", i, c)
		}
	}
	a, b := NewRNG(9).Choose(50, 50), NewRNG(9).Choose(50, 50)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("Choose is not a function of the seed")
		}
	}
	if len(NewRNG(1).Choose(5, 0)) != 0 {
		t.Error("Choose(5, 0) is not empty")
	}
}

// A NormalStream gives, piece by piece and from any offset, the values of
// one Normal call.
func TestNormalStream(t *testing.T) {
	want := make([]float32, 3*normalChunk+77)
	NewRNG(5).Normal(want, 0.5, 2)
	s := NewRNG(5).NormalStream(0.5, 2)
	got := make([]float32, len(want))
	for off := 0; off < len(got); {
		n := min(1000+off%3*1000, len(got)-off)
		s.Fill(got[off:off+n], off)
		off += n
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("value %d: stream %v, Normal %v", i, got[i], want[i])
		}
	}
}
