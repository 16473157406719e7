package tensor

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/minmaxgan/minmax/internal/gemm"
	"github.com/minmaxgan/minmax/internal/parallel"
)

// benchConv times a 3×3 "same" convolution of 64 images of 32×32×64 into
// 64 channels (a biggan32 layer), one thread: unfolded then multiplied,
// or gathered inside the GEMM.
func benchConv(b *testing.B, gathered bool) {
	g, _ := NewConvGeom(32, 32, 3, 3, 1, 1, 1, 1)
	n, c, o := 64, 64, 64
	rng := NewRNG(1)
	x := make([]float32, n*32*32*c)
	w := make([]float32, o*9*c)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	rows, k := n*g.OH*g.OW, g.PatchLen(c)
	out := make([]float32, rows*o)
	var col []float32
	if !gathered {
		col = make([]float32, rows*k)
	}
	b.ResetTimer()
	for range b.N {
		if gathered {
			ConvMatMul(out, x, w, nil, n, c, o, g, false)
		} else {
			Im2Col(col, x, n, c, g)
			MatMul(out, col, w, rows, o, k, false, true, false)
		}
	}
	b.ReportMetric(float64(2*rows*o*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkConvUnfolded(b *testing.B) { benchConv(b, false) }
func BenchmarkConvGathered(b *testing.B) { benchConv(b, true) }

// BenchmarkConvWeightStrided times the kernel gradient of dcgan28's first
// discriminator layer (4×4, stride 2, padding 1, 1 → 64 channels, 64
// images of 28×28): a product whose gathered operand (12,544 patch rows
// of 16 taps) costs more than its multiply-adds.
func BenchmarkConvWeightStrided(b *testing.B) { benchWeightStrided(b, 28, 1, 64) }

// BenchmarkConvWeightStrided64 times the kernel gradient of dcgan28's
// second discriminator layer (4×4, stride 2, padding 1, 64 → 128 channels,
// 64 images of 14×14): direct in float32 (Taps.Stride), packed in
// bfloat16.
func BenchmarkConvWeightStrided64(b *testing.B) { benchWeightStrided(b, 14, 64, 128) }

// stridedConv is the operands of a DCGAN convolution (4×4, stride 2,
// padding 1) of 64 images of hw×hw×c into o channels: the image x and an
// output gradient dy, normal values. The strided benchmarks run on
// benchThreads threads.
func stridedConv(hw, c, o int) (g ConvGeom, n int, x, dy []float32) {
	g, _ = NewConvGeom(hw, hw, 4, 4, 2, 2, 1, 1)
	n = 64
	rng := NewRNG(1)
	x = make([]float32, n*hw*hw*c)
	rng.Normal(x, 0, 1)
	dy = make([]float32, n*g.OH*g.OW*o)
	rng.Normal(dy, 0, 1)
	return g, n, x, dy
}

// benchWeightStrided times ConvWeightMatMul on stridedConv(hw, c, o), at
// each precision.
func benchWeightStrided(b *testing.B, hw, c, o int) {
	defer parallel.SetThreads(parallel.Default().Threads())
	parallel.SetThreads(benchThreads())
	g, n, x, dy := stridedConv(hw, c, o)
	dw := make([]float32, o*g.PatchLen(c))
	eachPrecision(b, func(b *testing.B) {
		for range b.N {
			ConvWeightMatMul(dw, dy, x, n, c, o, g)
		}
		b.ReportMetric(float64(2*n*g.OH*g.OW*o*g.PatchLen(c))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// BenchmarkCol2ImStrided times the fold of dcgan28's last generator layer
// (a 4×4 transposed convolution, stride 2, padding 1, 64 images of 14×14
// to 28×28, 1 channel): every patch adds to its image.
func BenchmarkCol2ImStrided(b *testing.B) {
	defer parallel.SetThreads(parallel.Default().Threads())
	parallel.SetThreads(benchThreads())
	g, _ := NewConvGeom(28, 28, 4, 4, 2, 2, 1, 1)
	n, c := 64, 1
	col := make([]float32, n*g.OH*g.OW*g.PatchLen(c))
	NewRNG(1).Normal(col, 0, 1)
	dst := make([]float32, n*28*28*c)
	b.ResetTimer()
	for range b.N {
		Col2Im(dst, col, nil, n, c, g)
	}
}

// BenchmarkConvSame times biggan32's discriminator convolution (3×3,
// padding 1, 128 images of 32×32×64 into 64 channels: fake and real) at 1
// and 2 threads, forward and kernel gradient: the patches over the padding
// are gathered by the GEMM, the image is never copied.
func BenchmarkConvSame(b *testing.B) {
	defer parallel.SetThreads(parallel.Default().Threads())
	g, _ := NewConvGeom(32, 32, 3, 3, 1, 1, 1, 1)
	n, c, o := 128, 64, 64
	rng := NewRNG(1)
	x := make([]float32, n*32*32*c)
	rng.Normal(x, 0, 1)
	w := make([]float32, o*g.PatchLen(c))
	rng.Normal(w, 0, 1)
	rows, k := n*g.OH*g.OW, g.PatchLen(c)
	out := make([]float32, rows*o)
	dw := make([]float32, o*k)
	bias := make([]float32, o)
	rng.Normal(bias, 0, 1)
	for _, th := range []int{1, 2} {
		parallel.SetThreads(th)
		b.Run(fmt.Sprintf("forward/threads=%d", th), func(b *testing.B) {
			for range b.N {
				ConvMatMul(out, x, w, nil, n, c, o, g, false)
			}
			b.ReportMetric(float64(2*rows*o*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("forward+bias/threads=%d", th), func(b *testing.B) {
			for range b.N {
				ConvMatMul(out, x, w, bias, n, c, o, g, false)
			}
			b.ReportMetric(float64(2*rows*o*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("weight/threads=%d", th), func(b *testing.B) {
			for range b.N {
				ConvWeightMatMul(dw, out, x, n, c, o, g)
			}
			b.ReportMetric(float64(2*rows*o*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkConvDirect times 3×3 "same" convolutions direct (the kernel
// reads the padded image in place) and through packed patches, at 1 and 2
// threads: biggan-fashion-mnist's (64 images of 28×28×32 into 32
// channels) and biggan32's discriminator's and generator's (128 images of
// 32×32×64 into 64, 64 images of 16×16×64).
func BenchmarkConvDirect(b *testing.B) {
	benchDirect(b, func(s directShape, g ConvGeom, x, w, bias, dy, out, dw []float32) {
		ConvMatMul(out, x, w, bias, s.n, s.c, s.o, g, false)
	})
}

// BenchmarkConvWeightDirect times the kernel gradients of the same
// convolutions, direct (gemm.SgemmTapsW on a padded copy) and through
// packed patches.
func BenchmarkConvWeightDirect(b *testing.B) {
	benchDirect(b, func(s directShape, g ConvGeom, x, w, bias, dy, out, dw []float32) {
		ConvWeightMatMul(dw, dy, x, s.n, s.c, s.o, g)
	})
}

// directShape is one of the direct benchmarks' convolutions.
type directShape struct{ n, hw, c, o int }

// benchDirect times run on each shape, at each precision the CPU has, at
// 1 and 2 threads, direct and packed (GFLOP/s at 2 FLOPs per
// multiply-add).
func benchDirect(b *testing.B, run func(s directShape, g ConvGeom, x, w, bias, dy, out, dw []float32)) {
	defer parallel.SetThreads(parallel.Default().Threads())
	defer func() { directConv = true }()
	for _, s := range []directShape{{64, 28, 32, 32}, {128, 32, 64, 64}, {64, 16, 64, 64}} {
		g, _ := NewConvGeom(s.hw, s.hw, 3, 3, 1, 1, 1, 1)
		rng := NewRNG(1)
		rows, k := s.n*g.OH*g.OW, g.PatchLen(s.c)
		x := make([]float32, s.n*s.hw*s.hw*s.c)
		w := make([]float32, s.o*k)
		bias := make([]float32, s.o)
		dy := make([]float32, rows*s.o)
		for _, v := range [][]float32{x, w, bias, dy} {
			rng.Normal(v, 0, 1)
		}
		out, dw := make([]float32, rows*s.o), make([]float32, s.o*k)
		for _, prec := range []gemm.Precision{gemm.Float32, gemm.BFloat16} {
			if gemm.SetPrecision(prec) != nil {
				continue
			}
			for _, th := range []int{1, 2} {
				parallel.SetThreads(th)
				for _, d := range []bool{true, false} {
					name := map[bool]string{true: "direct", false: "packed"}[d]
					b.Run(fmt.Sprintf("%dx%dx%dx%d-%d/%s/%s/threads=%d", s.n, s.hw, s.hw, s.c, s.o, prec, name, th), func(b *testing.B) {
						directConv = d
						for range b.N {
							run(s, g, x, w, bias, dy, out, dw)
						}
						b.ReportMetric(float64(2*rows*s.o*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
			gemm.SetPrecision(gemm.Float32)
		}
	}
}

// BenchmarkConvStrided times the forward product of dcgan28's second
// discriminator layer (4×4, stride 2, padding 1, 64 images of 14×14×64
// into 7×7×128), its patches read in place by the rows kernel: four of a
// step's products have this shape (the discriminator's three passes and
// the generator's input gradient).
func BenchmarkConvStrided(b *testing.B) {
	defer parallel.SetThreads(parallel.Default().Threads())
	parallel.SetThreads(benchThreads())
	c, o := 64, 128
	g, n, x, _ := stridedConv(14, c, o)
	w := make([]float32, o*g.PatchLen(c))
	NewRNG(2).Normal(w, 0, 0.02)
	rows, k := n*g.OH*g.OW, g.PatchLen(c)
	out := make([]float32, rows*o)
	eachPrecision(b, func(b *testing.B) {
		for range b.N {
			ConvMatMul(out, x, w, nil, n, c, o, g, false)
		}
		b.ReportMetric(float64(2*rows*o*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// eachPrecision runs f as a sub-benchmark at each precision the CPU has.
func eachPrecision(b *testing.B, f func(b *testing.B)) {
	defer gemm.SetPrecision(gemm.Float32)
	for _, prec := range []gemm.Precision{gemm.Float32, gemm.BFloat16} {
		if gemm.SetPrecision(prec) != nil {
			continue
		}
		b.Run(prec.String(), f)
	}
}

// BenchmarkCol2ImStrided64 times the fold of dcgan28's first generator
// layer (4×4, stride 2, padding 1, 64 images of 7×7 to 14×14, 64
// channels): 12.8 MB of columns.
func BenchmarkCol2ImStrided64(b *testing.B) {
	defer parallel.SetThreads(parallel.Default().Threads())
	parallel.SetThreads(benchThreads())
	g, _ := NewConvGeom(14, 14, 4, 4, 2, 2, 1, 1)
	n, c := 64, 64
	col := make([]float32, n*g.OH*g.OW*g.PatchLen(c))
	NewRNG(1).Normal(col, 0, 1)
	dst := make([]float32, n*14*14*c)
	b.ResetTimer()
	for range b.N {
		Col2Im(dst, col, nil, n, c, g)
	}
	b.ReportMetric(float64(4*len(col))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// benchThreads is the thread count of the strided benchmarks: 1, or
// BENCH_THREADS (BENCH_THREADS=2 go test ./tensor -bench Strided).
func benchThreads() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_THREADS")); err == nil && n > 0 {
		return n
	}
	return 1
}

// BenchmarkConvFewChannels times dcgan28's first discriminator
// convolution (4×4, stride 2, padding 1, 64 images of 28×28×1 into
// 14×14×64), whose patches are unfolded (unfolds): the forward product
// (unfolding included), the kernel gradient from the patches the forward
// kept, and the kernel gradient unfolding them anew (a transposed
// convolution's, G's last layer).
func BenchmarkConvFewChannels(b *testing.B) {
	g, _ := NewConvGeom(28, 28, 4, 4, 2, 2, 1, 1)
	n, c, o := 64, 1, 64
	keep := make([]float32, KeepLen(n, c, o, g))
	benchConvRuns(b, g, n, c, o, func(x, w, dy, out, dw []float32) []benchRun {
		return []benchRun{
			{"forward", func() { ConvMatMulKeep(out, x, w, nil, n, c, o, g, false, keep) }},
			{"weight-kept", func() { ConvWeightMatMulPadded(dw, dy, x, keep, n, c, o, g) }},
			{"weight", func() { ConvWeightMatMul(dw, dy, x, n, c, o, g) }},
		}
	})
}

// BenchmarkConvFewOut times biggan32's last generator layer (3×3,
// padding 1, 64 images of 32×32×64 into 3 channels): the forward product
// tap by tap (convFewTaps) and the kernel gradient.
func BenchmarkConvFewOut(b *testing.B) {
	g, _ := NewConvGeom(32, 32, 3, 3, 1, 1, 1, 1)
	n, c, o := 64, 64, 3
	benchConvRuns(b, g, n, c, o, func(x, w, dy, out, dw []float32) []benchRun {
		return []benchRun{
			{"forward", func() { ConvMatMul(out, x, w, nil, n, c, o, g, false) }},
			{"weight", func() { ConvWeightMatMul(dw, dy, x, n, c, o, g) }},
		}
	})
}

// benchRun is one named sub-benchmark of benchConvRuns.
type benchRun struct {
	name string
	run  func()
}

// benchConvRuns times the runs that runs makes of a convolution's
// operands (n images under g, c channels into o; random), each as a
// sub-benchmark at BENCH_THREADS threads, in GFLOP/s of the convolution.
func benchConvRuns(b *testing.B, g ConvGeom, n, c, o int, runs func(x, w, dy, out, dw []float32) []benchRun) {
	defer parallel.SetThreads(parallel.Default().Threads())
	parallel.SetThreads(benchThreads())
	rows, k := n*g.OH*g.OW, g.PatchLen(c)
	x := make([]float32, n*g.H*g.W*c)
	w := make([]float32, o*k)
	dy := make([]float32, rows*o)
	for i, s := range [][]float32{x, w, dy} {
		NewRNG(uint64(i)).Normal(s, 0, 1)
	}
	out, dw := make([]float32, rows*o), make([]float32, o*k)
	flops := float64(2 * rows * o * k)
	for _, r := range runs(x, w, dy, out, dw) {
		b.Run(r.name, func(b *testing.B) {
			for range b.N {
				r.run()
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkConvTMatMul times dcgan28's first generator layer (64 images
// of 7×7×128 to 14×14×64, 4×4, stride 2, padding 1) fused
// (ConvTMatMul) and as MatMul then Col2Im, at 1 and 2 threads.
func BenchmarkConvTMatMul(b *testing.B) {
	defer parallel.SetThreads(parallel.Default().Threads())
	g, _ := NewConvTGeom(7, 7, 4, 4, 2, 2, 1, 1, 0, 0)
	n, cin, cout := 64, 128, 64
	rows, k := n*g.OH*g.OW, g.PatchLen(cout)
	rng := NewRNG(1)
	x, w, bias := make([]float32, rows*cin), make([]float32, cin*k), make([]float32, cout)
	for _, s := range [][]float32{x, w, bias} {
		rng.Normal(s, 0, 1)
	}
	out, col := make([]float32, n*g.H*g.W*cout), make([]float32, rows*k)
	for _, th := range []int{1, 2} {
		parallel.SetThreads(th)
		b.Run(fmt.Sprintf("fused/threads=%d", th), func(b *testing.B) {
			for range b.N {
				ConvTMatMul(out, x, w, bias, n, cin, cout, g)
			}
			b.ReportMetric(float64(2*rows*k*cin)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("leaky/threads=%d", th), func(b *testing.B) {
			mask := make([]float32, len(out))
			rng.Normal(mask, 0, 1)
			for range b.N {
				ConvTMatMulLeakyMask(out, x, w, mask, 0.2, n, cin, cout, g)
			}
			b.ReportMetric(float64(2*rows*k*cin)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("columns/threads=%d", th), func(b *testing.B) {
			for range b.N {
				MatMul(col, x, w, rows, k, cin, false, false, false)
				Col2Im(out, col, bias, n, cout, g)
			}
			b.ReportMetric(float64(2*rows*k*cin)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkConvWeightPatches times the kernel gradient of dcgan28's first
// discriminator layer (4×4, stride 2, padding 1, 64 images of 28×28×1
// into 64 channels) from its unfolded patches (12,544×16): through the
// direct kernel gradient of the transposed product (patchWeights) and as
// the packed product, on BENCH_THREADS threads.
func BenchmarkConvWeightPatches(b *testing.B) {
	defer parallel.SetThreads(parallel.Default().Threads())
	parallel.SetThreads(benchThreads())
	g, _ := NewConvGeom(28, 28, 4, 4, 2, 2, 1, 1)
	n, o, k := 64, 64, g.PatchLen(1)
	rows := n * g.OH * g.OW
	rng := NewRNG(1)
	col, dy := make([]float32, rows*k), make([]float32, rows*o)
	rng.Normal(col, 0, 1)
	rng.Normal(dy, 0, 1)
	dw := make([]float32, o*k)
	eachPrecision(b, func(b *testing.B) {
		b.Run("direct", func(b *testing.B) {
			for range b.N {
				if !patchWeights(dw, dy, col, n, o, k, g) {
					b.Skip("no direct kernel gradient for this geometry")
				}
			}
		})
		b.Run("packed", func(b *testing.B) {
			for range b.N {
				MatMul(dw, dy, col, o, k, rows, true, false, false)
			}
		})
	})
}
