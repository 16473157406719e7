package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// useAMX computes in bfloat16 with the AMX kernel for the rest of the
// test, or skips it where the CPU or the OS has no AMX.
func useAMX(t testing.TB) {
	t.Helper()
	if amxImpl == nil {
		t.Skip("no AMX BF16 here")
	}
	useBF16Kernel(t, amxImpl)
}

// useBF16Kernel makes im the bfloat16 kernel for the rest of the test.
func useBF16Kernel(t testing.TB, im *impl) {
	t.Helper()
	old := bf16Impl
	bf16Impl = im
	if err := SetPrecision(BFloat16); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bf16Impl = old; SetPrecision(Float32) })
}

func BenchmarkAMXKernel(b *testing.B) {
	if amxImpl == nil {
		b.Skip("no AMX")
	}
	const kc, tiles = 256, 64
	rng := rand.New(rand.NewPCG(1, 2))
	a := alignedFloats(32 * kc)
	bb := alignedFloats(32 * kc * tiles)
	for i := range a {
		a[i] = rng.Float32()
	}
	for i := range bb {
		bb[i] = rng.Float32()
	}
	var ws workspace
	toAMXA(a, kc, &ws)
	for t := range tiles {
		toPairs(bb[t*32*kc:(t+1)*32*kc], 32, kc)
	}
	c := alignedFloats(32 * 32 * tiles)
	b.Run("tile", func(b *testing.B) {
		for range b.N {
			for t := range tiles {
				sgemmKernelAMX(kc, &a[0], &bb[t*32*kc], &c[t*32], 32*tiles, 1)
			}
		}
		b.ReportMetric(float64(b.N)*2*32*32*kc*tiles/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("panels", func(b *testing.B) {
		for range b.N {
			sgemmPanelsAMX(kc, &a[0], &bb[0], &c[0], 32*tiles, 1, tiles)
		}
		b.ReportMetric(float64(b.N)*2*32*32*kc*tiles/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// sgemmPanelsAMX gives every tile the bits of sgemmKernelAMX on it, for
// depths that fill whole blocks of 16 pairs and depths that do not, and
// for beta 0 and 1, and leaves C's columns beyond the panels alone.
func TestPanelsAMXMatchesKernel(t *testing.T) {
	if amxImpl == nil {
		t.Skip("no AMX BF16 here")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, kc := range []int{16, 32, 50, 256} {
		for _, n := range []int{1, 2, 3} {
			for _, beta := range []float32{0, 1} {
				a := alignedFloats(32 * kc)
				bb := alignedFloats(32 * kc * n)
				for i := range a {
					a[i] = rng.Float32()*2 - 1
				}
				for i := range bb {
					bb[i] = rng.Float32()*2 - 1
				}
				var ws workspace
				toAMXA(a, kc, &ws)
				for p := range n {
					toPairs(bb[p*32*kc:(p+1)*32*kc], 32, kc)
					padAMXB(bb[p*32*kc:(p+1)*32*kc], kc)
				}
				ldc := 32*n + 5
				want := alignedFloats(32 * ldc)
				for i := range want {
					want[i] = rng.Float32()
				}
				got := append([]float32(nil), want...)
				for p := range n {
					sgemmKernelAMX(kc, &a[0], &bb[p*32*kc], &want[p*32], ldc, beta)
				}
				sgemmPanelsAMX(kc, &a[0], &bb[0], &got[0], ldc, beta, n)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("kc %d, %d panels, beta %v: C[%d][%d] = %v, want %v", kc, n, beta, i/ldc, i%ldc, got[i], want[i])
					}
				}
			}
		}
	}
}

// useBF16Dot computes in bfloat16 with the AVX-512 BF16 kernel
// (VDPBF16PS) for the rest of the test, or skips it where the CPU lacks
// it.
func useBF16Dot(t testing.TB) {
	t.Helper()
	if bf16DotImpl == nil {
		t.Skip("no AVX-512 BF16 on this CPU")
	}
	useBF16Kernel(t, bf16DotImpl)
}

// forBF16Kernels runs f as a subtest on each bfloat16 kernel this CPU
// has, or skips where it has none.
func forBF16Kernels(t *testing.T, f func(t *testing.T)) {
	if bf16DotImpl == nil {
		t.Skip("no AVX-512 BF16 on this CPU")
	}
	t.Run("avx512bf16", func(t *testing.T) { useBF16Dot(t); f(t) })
	t.Run("amx", func(t *testing.T) { useAMX(t); f(t) })
}

// packAMXA, which packs A's rows straight into the AMX layout, writes the
// bits of the float32 panel (packAPanel) turned into it by toAMXA, with
// ties, NaNs, infinities and subnormals, alpha, every tail width and short
// panels.
func TestPackAMXAMatchesToAMXA(t *testing.T) {
	if !bf16PackAsm {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(13, 14))
	im := &impl{mr: 32, nr: 32, asmPack: true}
	for _, kc := range []int{16, 17, 31, 32, 33, 47, 48, 63, 64, 100, 256} {
		for _, rows := range []int{1, 5, 16, 31, 32} {
			for _, alpha := range []float32{1, -0.75} {
				lda := kc + 3
				a := make([]float32, rows*lda)
				fillBF16Test(rng, a, 6, func() float32 { return float32(rng.NormFloat64()) })
				want := alignedFloats(32 * kc)
				packAPanel(im, want, a, lda, 0, rows, 0, kc, alpha, false)
				var ws workspace
				toAMXA(want, kc, &ws)
				got := alignedFloats(32 * kc)
				for i := range got {
					got[i] = float32(math.NaN())
				}
				packAMXA((*uint16)(unsafe.Pointer(&got[0])), &a[0], lda, rows, 32, kc, alpha, amxTail(kc))
				n := (kc + 31) / 32 * 512
				for i := range n {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("kc=%d rows=%d alpha=%v: word %d (block %d row %d) is %#08x, want %#08x", kc, rows, alpha, i, i/512, i%512/16, math.Float32bits(got[i]), math.Float32bits(want[i]))
					}
				}
			}
		}
	}
}

// pairsAMX, the assembly behind toAMXA, writes toAMXAGo's bits, with
// ties, NaNs, infinities and subnormals, odd depths and partial blocks.
func TestPairsAMXMatchesGo(t *testing.T) {
	if !bf16PackAsm {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(15, 16))
	for _, kc := range []int{16, 17, 31, 32, 33, 63, 64, 65, 100, 255, 256} {
		src := make([]float32, 32*kc)
		fillBF16Test(rng, src, 5, func() float32 { return math.Float32frombits(rng.Uint32()) })
		n := (kc + 31) / 32 * 512
		got, want := make([]uint32, n), make([]uint32, n)
		for i := range got {
			got[i] = 0xdeadbeef
		}
		pairsAMX(&got[0], &src[0], kc)
		toAMXAGo(want, unsafe.Slice((*uint32)(unsafe.Pointer(&src[0])), len(src)), kc)
		for i := range n {
			if got[i] != want[i] {
				t.Fatalf("kc=%d: word %d (block %d row %d pair %d) is %#08x, want %#08x", kc, i, i/512, i%512/16, i%16, got[i], want[i])
			}
		}
	}
}

// BF16Kernel names the kernel in use: AMX where present, else VDPBF16PS.
func TestBF16Kernel(t *testing.T) {
	want := ""
	switch {
	case amxImpl != nil:
		want = "amx"
	case bf16DotImpl != nil:
		want = "avx512-bf16"
	}
	if got := BF16Kernel(); got != want {
		t.Errorf("BF16Kernel() = %q, want %q", got, want)
	}
	if bf16DotImpl != nil {
		useBF16Dot(t)
		if got := BF16Kernel(); got != "avx512-bf16" {
			t.Errorf("with the VDPBF16PS kernel in use, BF16Kernel() = %q", got)
		}
	}
}

// packPairsB, which packs a stored B straight into pair panels, writes
// the bits of packB's panels turned into pairs by toPairs, with ties,
// NaNs, infinities and subnormals, odd depths and partial last panels.
func TestPackPairsBMatchesToPairs(t *testing.T) {
	if !bf16PackAsm {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(17, 18))
	im := &impl{mr: 12, nr: 32, asmPack: true}
	for _, kc := range []int{1, 2, 3, 16, 17, 64, 255, 256} {
		for _, nc := range []int{1, 15, 16, 17, 32, 33, 64, 70, 96} {
			ldb := nc + 5
			b := make([]float32, kc*ldb)
			fillBF16Test(rng, b, 6, func() float32 { return float32(rng.NormFloat64()) })
			panels := (nc + 31) / 32
			want := alignedFloats(panels * 32 * kc)
			packB(im, want, b, ldb, false, 0, nc, 0, kc)
			for s := range panels {
				toPairs(want[s*32*kc:(s+1)*32*kc], 32, kc)
			}
			got := alignedFloats(panels * 32 * kc)
			for i := range got {
				got[i] = float32(math.NaN())
			}
			packPairsB(&got[0], &b[0], ldb, kc, panels, pairsTail(nc-(panels-1)*32), 32*kc)
			for s := range panels {
				for i := range (kc + 1) / 2 * 32 {
					g, w := math.Float32bits(got[s*32*kc+i]), math.Float32bits(want[s*32*kc+i])
					if g != w {
						t.Fatalf("kc=%d nc=%d: panel %d word %d (pair row %d, column %d) is %#08x, want %#08x", kc, nc, s, i, i/32, i%32, g, w)
					}
				}
			}
		}
	}
}

// On AMX, A given by strided runs (packed from where its runs lie when a
// K chunk is within one span, the holes gathered; gathered row by row
// otherwise) gives the bits of A stored, whatever the cuts, at 1 and 2
// threads, m not a multiple of 32 included.
func TestStridedRowsAMXMatchesStored(t *testing.T) {
	useAMX(t)
	rng := rand.New(rand.NewPCG(15, 16))
	for _, sh := range [][3]int{{37, 45, 600}, {200, 70, 512}, {64, 128, 1024}, {25, 33, 96}} {
		m, n, kk := sh[0], sh[1], sh[2]
		a, b, c0 := randSlice(rng, m*kk), randSlice(rng, kk*n), randSlice(rng, m*n)
		want := append([]float32(nil), c0...)
		Sgemm(pool(1), false, false, m, n, kk, 1, a, kk, b, n, 1, want, n)
		for _, cut := range [][2]int{{kk, m}, {kk, 7}, {256, 12}, {512, 1}, {64, 13}, {33, 7}} {
			for _, holes := range []bool{false, true} {
				for _, threads := range []int{1, 2} {
					got := append([]float32(nil), c0...)
					SgemmRowsA(pool(threads), m, n, kk, 1, &stridedRows{storedRows{a, kk}, cut[0], cut[1], holes}, false, b, n, 1, got, n)
					same(t, fmt.Sprintf("%dx%dx%d spans %d runs %d holes %v threads %d", m, n, kk, cut[0], cut[1], holes, threads), want, got)
				}
			}
		}
	}
}

// In bfloat16, a B given by strided runs (SgemmRowsB) is packed straight
// into pair panels where its spans start panels (packPairsStrided: pairs
// across two runs, rows over the padding, an odd K) and gives the bits
// of B stored, on every bfloat16 kernel, at 1 and 2 threads.
func TestStridedRowsBPairsMatchStored(t *testing.T) {
	forBF16Kernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(17, 18))
		for _, sh := range [][3]int{{40, 576, 301}, {33, 192, 64}, {70, 600, 531}, {5, 96, 7}} {
			n, kk, m := sh[0], sh[1], sh[2] // C is n×kk, the product's K is m
			a, e := randSlice(rng, m*kk), randSlice(rng, m*n)
			want := make([]float32, n*kk)
			Sgemm(pool(1), true, false, n, kk, m, 1, e, n, a, kk, 0, want, kk)
			for _, cut := range [][2]int{{kk, m}, {192, 32}, {64, 13}, {32, 1}, {96, 7}, {kk, 2}, {50, 5}} {
				for _, holes := range []bool{false, true} {
					for _, threads := range []int{1, 2} {
						got := make([]float32, n*kk)
						SgemmRowsB(pool(threads), true, n, kk, m, 1, e, n, &stridedRows{storedRows{a, kk}, cut[0], cut[1], holes}, 0, got, kk)
						same(t, fmt.Sprintf("%dx%dx%d spans %d runs %d holes %v threads %d", n, kk, m, cut[0], cut[1], holes, threads), want, got)
					}
				}
			}
		}
	})
}

// packPairsStrided writes the words of packBStrided then toPairs, the
// zero halves of an odd K and the columns past a last partial panel
// included.
func TestPackPairsStridedMatchesPacked(t *testing.T) {
	useBF16Dot(t)
	rng := rand.New(rand.NewPCG(19, 20))
	im := bf16DotImpl
	for _, sh := range [][2]int{{301, 576}, {64, 192}, {7, 96}, {40, 70}} {
		k, n := sh[0], sh[1]
		a := randSlice(rng, k*n)
		for _, cut := range [][2]int{{n, k}, {192, 32}, {64, 13}, {32, 1}, {96, 7}, {n, 2}} {
			for _, holes := range []bool{false, true} {
				s := &stridedRows{storedRows{a, n}, cut[0], cut[1], holes}
				for _, c := range [][4]int{{0, n, 0, k}, {0, n, 3, k - 3}, {32, n - 32, 1, k / 2}} {
					j0, nc, p0, kc := c[0], c[1], c[2], c[3]
					if nc <= 0 || kc <= 0 {
						continue
					}
					size := (nc + 31) / 32 * 32 * kc
					want, got := make([]float32, size), make([]float32, size)
					for i := range got {
						got[i] = float32(i) // garbage where nothing is written
						want[i] = got[i]
					}
					packBStrided(im, want, make([]float32, nc), s, j0, nc, p0, kc)
					for jr := 0; jr < nc; jr += 32 {
						toPairs(want[jr*kc:(jr+32)*kc], 32, kc)
					}
					what := fmt.Sprintf("%dx%d spans %d runs %d holes %v block %v", k, n, cut[0], cut[1], holes, c)
					if !packPairsStrided(got, make([]float32, 3*nc), s, j0, nc, p0, kc) {
						if cut[0]%32 == 0 {
							t.Fatalf("%s: not packed", what)
						}
						continue
					}
					for jr := 0; jr < nc; jr += 32 {
						w := (kc + 1) / 2 * 32 // the words toPairs writes
						same(t, what, want[jr*kc:jr*kc+w], got[jr*kc:jr*kc+w])
					}
				}
			}
		}
	}
}
