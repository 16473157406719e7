package tensor

import (
	"testing"
)

// The layout benchmarks behind docs/architecture.md's choice of NHWC: the
// forward pass of the dcgan28 discriminator's second convolution (64
// images, 14×14×64 -> 7×7×128, kernel 4, stride 2, padding 1) done as
// im2col + GEMM in each layout. NCHW unfolds to a (C·K·K)×(N·OH·OW) matrix,
// multiplies W (O×C·K·K) by it and must then transpose the (O, N·OH·OW)
// result to NCHW; NHWC unfolds runs of C contiguous channels and the GEMM
// writes NHWC directly.

const (
	lbN, lbH, lbC, lbO, lbK = 64, 14, 64, 128, 4
)

func layoutGeom(b *testing.B) ConvGeom {
	g, err := NewConvGeom(lbH, lbH, lbK, lbK, 2, 2, 1, 1)
	if err != nil {
		b.Fatal(err)
	}
	return g
}

func BenchmarkConvForwardNHWC(b *testing.B) {
	g := layoutGeom(b)
	rng := NewRNG(1)
	x := make([]float32, lbN*lbH*lbH*lbC)
	w := make([]float32, lbO*g.PatchLen(lbC))
	rng.Normal(x, 0, 1)
	rng.Normal(w, 0, 1)
	rows := lbN * g.OH * g.OW
	col := make([]float32, rows*g.PatchLen(lbC))
	y := make([]float32, rows*lbO)
	for b.Loop() {
		Im2Col(col, x, lbN, lbC, g)
		MatMul(y, col, w, rows, lbO, g.PatchLen(lbC), false, true, false)
	}
}

// im2colNCHW unfolds n images c×h×w into a (c·kh·kw)×(n·oh·ow) matrix.
func im2colNCHW(col, x []float32, n, c int, g ConvGeom) {
	cols := n * g.OH * g.OW
	for ci := 0; ci < c; ci++ {
		for ky := 0; ky < g.KH; ky++ {
			for kx := 0; kx < g.KW; kx++ {
				row := col[((ci*g.KH+ky)*g.KW+kx)*cols:][:cols]
				j := 0
				for img := 0; img < n; img++ {
					plane := x[(img*c+ci)*g.H*g.W:][:g.H*g.W]
					for oy := 0; oy < g.OH; oy++ {
						iy := oy*g.SH - g.PH + ky
						for ox := 0; ox < g.OW; ox++ {
							ix := ox*g.SW - g.PW + kx
							if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
								row[j] = 0
							} else {
								row[j] = plane[iy*g.W+ix]
							}
							j++
						}
					}
				}
			}
		}
	}
}

func BenchmarkConvForwardNCHW(b *testing.B) {
	g := layoutGeom(b)
	rng := NewRNG(1)
	x := make([]float32, lbN*lbH*lbH*lbC)
	w := make([]float32, lbO*g.PatchLen(lbC))
	rng.Normal(x, 0, 1)
	rng.Normal(w, 0, 1)
	cols := lbN * g.OH * g.OW
	col := make([]float32, cols*g.PatchLen(lbC))
	tmp := make([]float32, cols*lbO)
	y := make([]float32, cols*lbO)
	plane := g.OH * g.OW
	for b.Loop() {
		im2colNCHW(col, x, lbN, lbC, g)
		MatMul(tmp, w, col, lbO, cols, g.PatchLen(lbC), false, false, false)
		for o := 0; o < lbO; o++ { // (O, N·P) -> (N, O, P)
			for img := 0; img < lbN; img++ {
				copy(y[(img*lbO+o)*plane:][:plane], tmp[o*cols+img*plane:][:plane])
			}
		}
	}
}

func BenchmarkIm2ColNHWC(b *testing.B) {
	g := layoutGeom(b)
	x := make([]float32, lbN*lbH*lbH*lbC)
	col := make([]float32, lbN*g.OH*g.OW*g.PatchLen(lbC))
	for b.Loop() {
		Im2Col(col, x, lbN, lbC, g)
	}
}

func BenchmarkIm2ColNCHW(b *testing.B) {
	g := layoutGeom(b)
	x := make([]float32, lbN*lbH*lbH*lbC)
	col := make([]float32, lbN*g.OH*g.OW*g.PatchLen(lbC))
	for b.Loop() {
		im2colNCHW(col, x, lbN, lbC, g)
	}
}
