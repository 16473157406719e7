package tensor

import (
	"math"
	"testing"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// The assembly kernels agree bit for bit with the pure-Go ones, on every
// length (tails included) and on special values, in their 256-bit and
// (where the CPU has it) 512-bit forms.
var cpuAVX512 = useAVX512

func TestSIMDMatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this machine: only the pure-Go kernels run")
	}
	rng := NewRNG(4)
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-40, -1e-40}
	defer func(v bool) { useAVX512 = v }(useAVX512)
	for n := 0; n < 150; n++ {
		useAVX512 = n%2 == 0 && cpuAVX512 // both widths, tails of every length
		x, g := make([]float32, n), make([]float32, n)
		rng.Normal(x, 0, 1)
		rng.Normal(g, 0, 1)
		for i := range x {
			if i%5 == 0 {
				x[i] = special[i%len(special)]
			}
		}
		type kernel struct {
			name string
			run  func(dst []float32)
		}
		for _, k := range []kernel{
			{"ReLU", func(d []float32) { ReLU(d, x) }},
			{"ReLUMask", func(d []float32) { ReLUMask(d, x, g) }},
			{"LeakyReLU", func(d []float32) { LeakyReLU(d, x, 0.2) }},
			{"LeakyMask", func(d []float32) { LeakyMask(d, x, g, 0.2) }},
			{"Add", func(d []float32) { binRow(OpAdd, d, x, g) }},
			{"Sub", func(d []float32) { binRow(OpSub, d, x, g) }},
			{"Mul", func(d []float32) { binRow(OpMul, d, x, g) }},
			{"AddInPlace", func(d []float32) { copy(d, x); binRow(OpAdd, d, d, g) }},
			{"AddScalar", func(d []float32) { binScalarRight(OpAdd, d, x, 0.7) }},
			{"SubScalar", func(d []float32) { binScalarRight(OpSub, d, x, -1.3) }},
			{"MulScalar", func(d []float32) { binScalarRight(OpMul, d, x, 0.25) }},
			{"MulScalarInPlace", func(d []float32) { copy(d, x); binScalarRight(OpMul, d, d, -3) }},
			{"AddNegZero", func(d []float32) { binScalarRight(OpAdd, d, x, float32(math.Copysign(0, -1))) }},
		} {
			a, b := make([]float32, n), make([]float32, n)
			k.run(a)
			useAVX2 = false
			k.run(b)
			useAVX2 = true
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					t.Fatalf("%s n=%d element %d (x=%g): assembly %g, Go %g", k.name, n, i, x[i], a[i], b[i])
				}
			}
		}
	}
}

// lineMax in assembly agrees with Go's max over the line: every length
// up to 70, with NaN, ±Inf and signed zeros placed anywhere.
func TestLineMaxSIMD(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this machine")
	}
	rng := NewRNG(12)
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1))}
	for n := 1; n <= 70; n++ {
		for trial := range 12 {
			x := make([]float32, n)
			rng.Normal(x, 0, 1)
			if trial > 0 {
				x[(trial*7)%n] = special[trial%len(special)]
			}
			if trial > 6 {
				for i := range x {
					x[i] = float32(math.Inf(-1)) // an all −Inf line, one special value
				}
				x[(trial*5)%n] = special[trial%len(special)]
			}
			want := x[0]
			for _, v := range x[1:] {
				want = max(want, v)
			}
			got := lineMax(x)
			if math.IsNaN(float64(want)) != math.IsNaN(float64(got)) || (!math.IsNaN(float64(want)) && got != want) {
				t.Fatalf("n=%d trial %d: lineMax %v, max %v (%v)", n, trial, got, want, x)
			}
		}
	}
}

func BenchmarkReLUMask(b *testing.B) {
	x, g, d := make([]float32, 512*128), make([]float32, 512*128), make([]float32, 512*128)
	NewRNG(1).Normal(x, 0, 1)
	b.SetBytes(12 * 512 * 128)
	for b.Loop() {
		ReLUMask(d, x, g)
	}
}

// MaxPoolIndex's 2×2 path picks the index the general loop picks: the
// first of the largest values in window order, NaN never, the window's
// first position when all are NaN or −Inf.
func TestMaxPoolIndex2x2(t *testing.T) {
	rng := NewRNG(6)
	n, h, w, c := 2, 6, 8, 5
	x := make([]float32, n*h*w*c)
	rng.Normal(x, 0, 1)
	special := []float32{float32(math.NaN()), float32(math.Inf(-1)), float32(math.Inf(1)), 0.5, 0.5}
	for i := range x {
		if i%3 == 0 {
			x[i] = special[i%len(special)]
		}
	}
	got := make([]int32, n*(h/2)*(w/2)*c)
	MaxPoolIndex(got, x, n, h, w, c, 2)
	o := 0
	for b := range n {
		for y := range h / 2 {
			for xx := range w / 2 {
				base := ((b*h+2*y)*w + 2*xx) * c
				for ch := range c {
					best, bi := float32(math.Inf(-1)), base+ch
					for dy := range 2 {
						for dx := range 2 {
							i := base + (dy*w+dx)*c + ch
							if x[i] > best {
								best, bi = x[i], i
							}
						}
					}
					if got[o] != int32(bi) {
						t.Fatalf("output %d: index %d, want %d", o, got[o], bi)
					}
					o++
				}
			}
		}
	}
}

// Column sums of a short matrix (bias gradients: SumTo over the rows)
// are the row-by-row float32 sums of a plain loop, bit for bit, at every
// width (AVX-512's register sums of 64 and 16 columns, the eight-wide
// adds of the rest and their tails) and thread count.
func TestColumnSumsMatchLoop(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	rng := NewRNG(5)
	// (Width 1 is SumTo's single sum over the whole slice: not columns.)
	for _, w := range []int{2, 7, 8, 9, 31, 32, 33, 100, 128, 300} {
		for _, rows := range []int{1, 3, 64, 512} {
			x := make([]float32, rows*w)
			rng.Normal(x, 0, 1)
			want := make([]float32, w)
			for r := range rows {
				for j := range w {
					want[j] += x[r*w+j]
				}
			}
			for _, threads := range []int{1, 2} {
				parallel.SetThreads(threads)
				got := make([]float32, w)
				SumTo(got, []int{w}, x, []int{rows, w})
				for j := range w {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Fatalf("%d×%d at %d threads: column %d is %v, the loop gives %v", rows, w, threads, j, got[j], want[j])
					}
				}
			}
		}
	}
}

// The AVX-512 ziggurat gives the Go loop's bits: the same stream in the
// same order, rejected values (whose slow paths take draws) and odd tails
// included.
func TestNormalAVX512MatchesGo(t *testing.T) {
	if !useNormalAVX512 {
		t.Skip("no AVX-512 DQ")
	}
	defer func() { useNormalAVX512 = true }()
	rejected := 0
	for _, n := range []int{1, 15, 16, 17, 31, 48, 1000, normalChunk - 1, normalChunk} {
		for c, ms := range [][2]float32{{0, 1}, {0.5, 2}, {-3, 0.01}} {
			key := uint64(n)*977 + uint64(c)
			got, want := make([]float32, n), make([]float32, n)
			useNormalAVX512 = true
			fillNormal(got, key, c+3, ms[0], ms[1])
			useNormalAVX512 = false
			fillNormal(want, key, c+3, ms[0], ms[1])
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n %d, mean %g, std %g: value %d is %v, want %v", n, ms[0], ms[1], i, got[i], want[i])
				}
			}
			// Count the slow paths the stream took.
			r := splitMix{s: mix64(key + uint64(c+4)*0xd1b54a32d192ed03)}
			for range n / 2 {
				u := r.Uint64()
				for _, h := range []int32{int32(uint32(u)), int32(uint32(u >> 32))} {
					if absU32(h) >= zigK[uint32(h)&(zigLayers-1)] {
						rejected++
						r.slow(h)
					}
				}
			}
		}
	}
	if rejected < 100 {
		t.Fatalf("only %d values took the slow path: the comparison does not cover it", rejected)
	}
}
