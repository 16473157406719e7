package tensor

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/internal/gemm"
	"github.com/minmaxgan/minmax/internal/parallel"
)

// Col2Im is the adjoint of Im2Col: <Im2Col(x), c> = <x, Col2Im(c)> for
// every geometry (including padding that the kernel hangs over and strides
// that skip pixels), and Col2Im starts from the bias.
func TestCol2ImIsAdjointOfIm2Col(t *testing.T) {
	rng := NewRNG(2)
	for _, p := range []struct{ n, h, w, c, k, s, pad int }{
		{2, 5, 5, 1, 3, 1, 1}, {1, 7, 6, 3, 4, 2, 1}, {3, 9, 8, 2, 3, 3, 0}, {1, 4, 4, 5, 4, 1, 2}, {2, 28, 28, 1, 4, 2, 1},
	} {
		g, err := NewConvGeom(p.h, p.w, p.k, p.k, p.s, p.s, p.pad, p.pad)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, p.n*p.h*p.w*p.c)
		col := make([]float32, p.n*g.OH*g.OW*g.PatchLen(p.c))
		rng.Normal(x, 0, 1)
		rng.Normal(col, 0, 1)
		ux := make([]float32, len(col))
		Im2Col(ux, x, p.n, p.c, g)
		bias := make([]float32, p.c)
		rng.Normal(bias, 0, 1)
		folded := make([]float32, len(x))
		Col2Im(folded, col, bias, p.n, p.c, g)
		var lhs, rhs, bsum float64
		for i := range col {
			lhs += float64(ux[i]) * float64(col[i])
		}
		for i := range x {
			rhs += float64(x[i]) * float64(folded[i])
			bsum += float64(x[i]) * float64(bias[i%p.c])
		}
		if d := math.Abs(lhs - (rhs - bsum)); d > 1e-3*(1+math.Abs(lhs)) {
			t.Errorf("%+v: <Im2Col(x), c> = %g but <x, Col2Im(c)> = %g", p, lhs, rhs-bsum)
		}
	}
}

func TestConvGeomErrors(t *testing.T) {
	for _, c := range []struct {
		h, k, s, p int
		want       string
	}{{5, 0, 1, 0, "kernel"}, {5, 3, 0, 0, "stride"}, {5, 3, 1, -1, "padding"}, {2, 5, 1, 1, "larger"}} {
		if _, err := NewConvGeom(c.h, c.h, c.k, c.k, c.s, c.s, c.p, c.p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want one about the %s", c, err, c.want)
		}
	}
	if _, err := NewConvTGeom(7, 7, 4, 4, 2, 2, 1, 1, 2, 2); err == nil {
		t.Error("output padding 2 with stride 2 was accepted")
	}
	g, err := NewConvTGeom(7, 7, 4, 4, 2, 2, 1, 1, 0, 0)
	if err != nil || g.H != 14 || g.OH != 7 {
		t.Errorf("7×7 up by a stride-2 kernel-4 padding-1 transposed convolution: %+v, %v; want 14×14", g, err)
	}
}

// The patches that ConvMatMul and ConvWeightMatMul gather are Im2Col's, on
// geometries with every kind of edge: the products are bit-identical
// (the direct weight gradient, summed in its own order, within rounding).
func TestConvMatMulMatchesIm2Col(t *testing.T) { testConvMatMulMatchesIm2Col(t) }

// In bfloat16 likewise: the direct convolution (where the CPU has AVX-512
// BF16 and the channels are even) rounds the image, the packed product
// the unfolded rows, to the same values, summed in the same pairs.
func TestConvMatMulMatchesIm2ColBF16(t *testing.T) {
	if err := gemm.SetPrecision(gemm.BFloat16); err != nil {
		t.Skip(err)
	}
	defer gemm.SetPrecision(gemm.Float32)
	testConvMatMulMatchesIm2Col(t)
}

// convGeoms are convolutions with every kind of edge, on every path of
// ConvMatMul (direct, rows over a padded copy, patches read in place,
// gathered or unfolded, few output channels).
var convGeoms = []convCase{
	{8, 8, 3, 5, 3, 3, 1, 1}, {7, 9, 4, 6, 3, 3, 1, 0}, {9, 7, 2, 3, 4, 4, 2, 1}, {5, 5, 1, 4, 5, 5, 1, 2},
	{6, 6, 8, 1, 3, 3, 1, 1}, {14, 14, 16, 16, 3, 3, 1, 1}, {4, 4, 3, 2, 1, 1, 1, 0}, {11, 6, 5, 7, 3, 2, 2, 2},
	{3, 3, 2, 2, 3, 3, 1, 3}, {8, 8, 64, 40, 3, 3, 1, 1}, {9, 9, 37, 13, 3, 3, 2, 1},
	// Kernel rows longer than a cache block of k (spans cut by kc), and
	// strides larger than the kernel with the padding.
	{6, 6, 300, 9, 3, 3, 1, 1}, {10, 7, 3, 4, 5, 5, 3, 2}, {4, 5, 2, 3, 2, 2, 3, 1},
	// A few output channels (computed tap by tap), K in several
	// chunks; a 5×5 kernel with padding 2 on an odd grid, and no
	// padding.
	{16, 16, 64, 3, 3, 3, 1, 1}, {9, 11, 16, 2, 5, 5, 1, 2}, {7, 8, 12, 4, 3, 3, 1, 0},
	// biggan's 28×28 blocks (direct where the CPU has AVX-512: strips
	// of 12 positions across the rows' padding columns).
	{28, 28, 32, 32, 3, 3, 1, 1}, {14, 14, 32, 48, 1, 1, 1, 0},
	// Strided kernel gradients summed directly in float32: dcgan28's
	// second discriminator layer, an odd grid, stride 3, and a few
	// output channels (dy widened to 8).
	{14, 14, 64, 128, 4, 4, 2, 1}, {9, 11, 32, 8, 3, 3, 2, 1}, {10, 10, 32, 4, 3, 3, 3, 1}, {12, 12, 32, 6, 4, 4, 2, 1},
	// Strided patches read in place (in bfloat16 from a rounded
	// padded copy): odd sizes, padding 2, 40 outputs (an edge tile).
	{10, 9, 24, 40, 3, 3, 2, 1}, {11, 8, 16, 36, 3, 3, 2, 2},
	// Few channels, unfolded (unfolds): dcgan28's gray input, an RGB
	// input, a run of neither 4 nor 9 values.
	{28, 28, 1, 64, 4, 4, 2, 1}, {12, 12, 3, 16, 3, 3, 1, 1}, {9, 10, 2, 8, 5, 5, 1, 2},
}

// convCase is a convolution of c channels to o over images of h×w, with a
// kh×kw kernel, stride s and padding p.
type convCase struct{ h, w, c, o, kh, kw, s, p int }

// geometry returns the case's geometry and, for n images, the rows (the
// output positions) and the patch length k of its product.
func (tc convCase) geometry(t *testing.T, n int) (g ConvGeom, rows, k int) {
	t.Helper()
	g, err := NewConvGeom(tc.h, tc.w, tc.kh, tc.kw, tc.s, tc.s, tc.p, tc.p)
	if err != nil {
		t.Fatal(err)
	}
	return g, n * g.OH * g.OW, g.PatchLen(tc.c)
}

func testConvMatMulMatchesIm2Col(t *testing.T) {
	rng := NewRNG(9)
	for _, tc := range convGeoms {
		n := 3
		g, rows, k := tc.geometry(t, n)
		x := make([]float32, n*tc.h*tc.w*tc.c)
		w := make([]float32, tc.o*k)
		dy := make([]float32, rows*tc.o)
		for _, s := range [][]float32{x, w, dy} {
			for i := range s {
				s[i] = float32(rng.NormFloat64())
			}
		}
		col := make([]float32, rows*k)
		Im2Col(col, x, n, tc.c, g)
		bf16 := gemm.CurrentPrecision() == gemm.BFloat16
		if fewDirect(tc.c, tc.o, rows, g) {
			// The tap-by-tap product sums c terms per tap.
			bf16 = gemm.InBF16(n*tc.h*tc.w, g.KH*g.KW*tc.o, tc.c)
		}
		round := func(v float32) float64 {
			if bf16 {
				return float64(gemm.RoundBF16(v))
			}
			return float64(v)
		}
		// sumCheck compares got, summed in an order of its own, with the
		// float64 sums of start + col·wᵀ (of the operands as rounded in
		// bfloat16), within the rounding of a float32 sum of k terms.
		sumCheck := func(what string, got, start []float32) {
			for r := range rows {
				for j := range tc.o {
					sum, abs := float64(start[r*tc.o+j]), math.Abs(float64(start[r*tc.o+j]))
					for p := range k {
						v := round(col[r*k+p]) * round(w[j*k+p])
						sum, abs = sum+v, abs+math.Abs(v)
					}
					if d := math.Abs(float64(got[r*tc.o+j]) - sum); !(d <= float64(k+2)*0x1p-24*abs) {
						t.Fatalf("%+v %s: tap-by-tap ConvMatMul[%d] = %v, the float64 sum %v", tc, what, r*tc.o+j, got[r*tc.o+j], sum)
					}
				}
			}
		}
		few := fewDirect(tc.c, tc.o, rows, g)
		for _, acc := range []bool{false, true} {
			want, got := make([]float32, rows*tc.o), make([]float32, rows*tc.o)
			for i := range want {
				want[i], got[i] = float32(i%7), float32(i%7)
			}
			MatMul(want, col, w, rows, tc.o, k, false, true, acc)
			ConvMatMul(got, x, w, nil, n, tc.c, tc.o, g, acc)
			if few {
				start := make([]float32, len(got))
				if acc {
					for i := range start {
						start[i] = float32(i % 7)
					}
				}
				sumCheck(fmt.Sprintf("accumulate %v", acc), got, start)
				continue
			}
			for i := range want {
				if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
					t.Fatalf("%+v accumulate %v: ConvMatMul[%d] = %v, Im2Col and MatMul give %v", tc, acc, i, got[i], want[i])
				}
			}
		}
		// With a bias: as filling the rows with it and accumulating.
		bias := make([]float32, tc.o)
		for i := range bias {
			bias[i] = float32(rng.NormFloat64())
		}
		want, got := make([]float32, rows*tc.o), make([]float32, rows*tc.o)
		FillRows(want, bias)
		MatMul(want, col, w, rows, tc.o, k, false, true, true)
		ConvMatMul(got, x, w, bias, n, tc.c, tc.o, g, false)
		if few {
			start := make([]float32, len(got))
			FillRows(start, bias)
			sumCheck("with bias", got, start)
		} else {
			for i := range want {
				if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
					t.Fatalf("%+v with bias: ConvMatMul[%d] = %v, FillRows and MatMul give %v", tc, i, got[i], want[i])
				}
			}
		}
		want, got = make([]float32, tc.o*k), make([]float32, tc.o*k)
		MatMul(want, dy, col, tc.o, k, rows, true, false, false)
		ConvWeightMatMul(got, dy, x, n, tc.c, tc.o, g)
		patchW := unfolds(tc.c, tc.o, rows, g) && patchDirect(n, tc.o, k, g)
		if directWeights(tc.c, tc.o, rows, g) || patchW {
			// Summed in another order: within the rounding of a float32
			// sum of rows terms of the float64 one (of the operands as
			// rounded to bfloat16 there; the kernel gradient of
			// patches sums float32 products at any precision).
			bf16 = gemm.CurrentPrecision() == gemm.BFloat16 && !patchW
			for j := range tc.o {
				for p := range k {
					var sum, abs float64
					for r := range rows {
						v := round(dy[r*tc.o+j]) * round(col[r*k+p])
						sum, abs = sum+v, abs+math.Abs(v)
					}
					if d := math.Abs(float64(got[j*k+p]) - sum); !(d <= float64(rows+1)*0x1p-24*abs) {
						t.Fatalf("%+v: ConvWeightMatMul[%d] = %v, the float64 sum %v", tc, j*k+p, got[j*k+p], sum)
					}
				}
			}
			continue
		}
		for i := range want {
			if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
				t.Fatalf("%+v: ConvWeightMatMul[%d] = %v, Im2Col and MatMul give %v", tc, i, got[i], want[i])
			}
		}
	}
}

// A stride-1 transposed convolution computed as the convolution with the
// flipped kernel agrees with the folding of columns (Col2Im) and with a
// float64 sum over the definition; geometries that would enlarge the image
// or are strided are not flipped.
func TestFlippedTransposedConvolution(t *testing.T) {
	rng := NewRNG(4)
	for _, tc := range []struct{ oh, ow, cin, cout, kh, kw, ph, pw int }{
		{8, 8, 5, 3, 3, 3, 1, 1}, {7, 9, 16, 12, 3, 3, 1, 1}, {6, 6, 4, 4, 5, 5, 2, 2}, {5, 7, 3, 2, 3, 3, 2, 2},
		{9, 9, 40, 24, 3, 3, 1, 1}, {6, 5, 3, 4, 3, 1, 1, 0},
	} {
		g, err := NewConvTGeom(tc.oh, tc.ow, tc.kh, tc.kw, 1, 1, tc.ph, tc.pw, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		fg, ok := g.Flipped()
		if !ok {
			t.Fatalf("%+v: not flipped", tc)
		}
		n := 2
		x := make([]float32, n*tc.oh*tc.ow*tc.cin)
		w := make([]float32, tc.cin*tc.kh*tc.kw*tc.cout)
		for _, s := range [][]float32{x, w} {
			for i := range s {
				s[i] = float32(rng.NormFloat64())
			}
		}
		rows, k := n*g.OH*g.OW, g.PatchLen(tc.cout)
		cols := make([]float32, rows*k)
		MatMul(cols, x, w, rows, k, tc.cin, false, false, false)
		folded := make([]float32, n*g.H*g.W*tc.cout)
		Col2Im(folded, cols, nil, n, tc.cout, g)
		wf := make([]float32, len(w))
		FlipKernel(wf, w, tc.cin, tc.kh, tc.kw, tc.cout)
		flipped := make([]float32, len(folded))
		ConvMatMul(flipped, x, wf, nil, n, tc.cin, tc.cout, fg, false)
		for img := range n {
			for y := range g.H {
				for xx := range g.W {
					for o := range tc.cout {
						var sum, abs float64
						for oy := range g.OH {
							ky := y + tc.ph - oy
							if ky < 0 || ky >= tc.kh {
								continue
							}
							for ox := range g.OW {
								kx := xx + tc.pw - ox
								if kx < 0 || kx >= tc.kw {
									continue
								}
								for i := range tc.cin {
									v := float64(x[((img*g.OH+oy)*g.OW+ox)*tc.cin+i]) * float64(w[((i*tc.kh+ky)*tc.kw+kx)*tc.cout+o])
									sum += v
									abs += math.Abs(v)
								}
							}
						}
						at := ((img*g.H+y)*g.W+xx)*tc.cout + o
						tol := 1e-6*abs + 1e-30
						if math.Abs(float64(flipped[at])-sum) > tol || math.Abs(float64(folded[at])-sum) > tol {
							t.Fatalf("%+v at %d: flipped %v, folded %v, float64 %v", tc, at, flipped[at], folded[at], sum)
						}
					}
				}
			}
		}
	}
	for _, tc := range []struct{ h, kh, s, p int }{{4, 4, 2, 1}, {1, 4, 1, 0}, {4, 3, 1, 0}, {4, 1, 1, 0}} {
		g, err := NewConvTGeom(tc.h, tc.h, tc.kh, tc.kh, tc.s, tc.s, tc.p, tc.p, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := g.Flipped(); ok {
			t.Errorf("%+v (big image %dx%d from %dx%d) is flipped", tc, g.H, g.W, g.OH, g.OW)
		}
	}
}

// FillRows repeats the row whatever the lengths: short and long rows,
// destinations shorter than the block or not a whole number of rows.
func TestFillRows(t *testing.T) {
	for _, rl := range []int{1, 3, 64, 100, 2047, 2048, 3000} {
		for _, rows := range []int{1, 2, 7, 33, 1000} {
			for _, extra := range []int{0, 1} {
				row := make([]float32, rl)
				for i := range row {
					row[i] = float32(i + 1)
				}
				dst := make([]float32, rl*rows+extra*(rl/2))
				FillRows(dst, row)
				for i, v := range dst {
					if v != row[i%rl] {
						t.Fatalf("row %d, %d rows (+%d): dst[%d] = %v, want %v", rl, rows, extra, i, v, row[i%rl])
					}
				}
			}
		}
	}
}

// padPairs makes the pairs of padded positions that gemm.PairRows makes
// from a padded copy, bit for bit: pairs across the padding, across rows
// and across images, with and without padding, at strides 1 to 3 (class
// k from position k·s on, rows of s positions paired with the s after,
// zeros past the last position; at stride 1 the pairs (2j, 2j+1), then
// (2j+1, 2j+2)).
func TestPadPairs(t *testing.T) {
	rng := NewRNG(5)
	for _, tc := range []struct{ n, h, w, c, ph, pw int }{
		{3, 5, 6, 32, 1, 1}, {2, 4, 4, 16, 2, 2}, {2, 3, 8, 32, 0, 0}, {1, 7, 2, 2, 1, 0}, {4, 2, 6, 6, 3, 1}, {2, 5, 5, 8, 1, 1},
	} {
		hp, wp := tc.h+2*tc.ph, tc.w+2*tc.pw
		x := make([]float32, tc.n*tc.h*tc.w*tc.c)
		rng.Normal(x, 0, 1)
		padded := make([]float32, tc.n*hp*wp*tc.c)
		PadImages(padded, x, tc.n, tc.h, tc.w, tc.c, tc.ph, tc.pw)
		pos := tc.n * hp * wp
		for _, s := range []int{1, 2, 3} {
			for _, cut := range []int{0, 1, 3} { // positions short of the end
				p := pos - cut
				w := s * tc.c
				even, odd := (p+2*s-1)/(2*s), (p-s+2*s-1)/(2*s)
				want := make([]uint32, (even+odd)*w)
				for k, rows := range [2]int{even, odd} {
					src := append(slices.Clone(padded[min(len(padded), k*w):]), make([]float32, 2*rows*w)...)
					gemm.PairRows(want[k*even*w:(k*even+rows)*w], src, w, rows)
				}
				got := make([]uint32, len(want))
				padPairs(got, even, odd, x, tc.n, tc.h, tc.w, tc.c, tc.ph, tc.pw, s)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%+v, stride %d, %d positions: word %d = %#x, want %#x", tc, s, p, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// What ConvMatMulKeep leaves (the padded copy, or the unfolded patches of
// an image of few channels) gives ConvWeightMatMulPadded the bits
// ConvWeightMatMul computes from the image, and the convolution is
// ConvMatMul's; where the convolution neither unfolds nor takes both
// direct paths in float32, or where both read the image where it lies
// (the rows kernel, and a kernel gradient of unpadded images), there is
// nothing to keep. With the unpadded kernel gradient off, the rows
// kernel's forward keeps a padded copy, and reads it: the bits of the
// patches read in place.
func TestConvKeepPadded(t *testing.T) {
	testConvKeepPadded(t)
	defer func() { unpaddedWeights = true }()
	unpaddedWeights = false
	testConvKeepPadded(t)
}

// In bfloat16 only the unfolded patches are kept.
func TestConvKeepPaddedBF16(t *testing.T) {
	if err := gemm.SetPrecision(gemm.BFloat16); err != nil {
		t.Skip(err)
	}
	defer gemm.SetPrecision(gemm.Float32)
	testConvKeepPadded(t)
}

func testConvKeepPadded(t *testing.T) {
	rng := NewRNG(8)
	for _, tc := range []struct{ n, h, w, c, o, k, s int }{
		{3, 8, 8, 32, 16, 3, 1}, {2, 7, 9, 64, 36, 3, 1}, {2, 6, 6, 32, 6, 3, 1},
		{3, 28, 28, 1, 64, 4, 2}, {2, 10, 10, 3, 8, 3, 1}, {2, 10, 10, 3, 4, 3, 1},
	} {
		g, _ := NewConvGeom(tc.h, tc.w, tc.k, tc.k, tc.s, tc.s, 1, 1)
		rows, k := tc.n*g.OH*g.OW, g.PatchLen(tc.c)
		x := make([]float32, tc.n*tc.h*tc.w*tc.c)
		w := make([]float32, tc.o*k)
		dy := make([]float32, rows*tc.o)
		for _, s := range [][]float32{x, w, dy} {
			rng.Normal(s, 0, 1)
		}
		l := KeepLen(tc.n, tc.c, tc.o, g)
		f32 := gemm.CurrentPrecision() == gemm.Float32
		inPlace := rowsPadded(tc.c, g) && weightsUnpadded(tc.n, tc.c, tc.o, g)
		if want := unfolds(tc.c, tc.o, rows, g) || f32 && direct(tc.c, tc.o, rows, g) && directWeights(tc.c, tc.o, rows, g) && tc.o%4 == 0 && !inPlace; (l > 0) != want {
			t.Fatalf("%+v, unpadded gradients %v: KeepLen %d, want a copy: %v", tc, unpaddedWeights, l, want)
		}
		if l == 0 {
			continue
		}
		keep := make([]float32, l)
		for i := range keep {
			keep[i] = float32(i) // overwritten
		}
		out, ref := make([]float32, rows*tc.o), make([]float32, rows*tc.o)
		ConvMatMulKeep(out, x, w, nil, tc.n, tc.c, tc.o, g, false, keep)
		ConvMatMul(ref, x, w, nil, tc.n, tc.c, tc.o, g, false)
		dw, dwRef := make([]float32, tc.o*k), make([]float32, tc.o*k)
		ConvWeightMatMulPadded(dw, dy, x, keep, tc.n, tc.c, tc.o, g)
		ConvWeightMatMul(dwRef, dy, x, tc.n, tc.c, tc.o, g)
		for _, p := range [][2][]float32{{out, ref}, {dw, dwRef}} {
			for i := range p[0] {
				if math.Float32bits(p[0][i]) != math.Float32bits(p[1][i]) {
					t.Fatalf("%+v: element %d: %v with the kept copy, %v without", tc, i, p[0][i], p[1][i])
				}
			}
		}
	}
}

// ConvTMatMul gives MatMul then Col2Im's bits, with and without a bias,
// and ConvTMatMulLeakyMask those of LeakyMask after it, at 1 and 2
// threads and in both precisions, over blocks of one image or several (a
// part's last block short), its columns folded a panel of rows at a time
// or a block of images at a time (and where the product's B comes in
// several column blocks, which has no panels).
func TestConvTMatMulMatchesCol2Im(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	save, savePanels := convTBlockBytes, foldPanels
	defer func() { convTBlockBytes, foldPanels = save, savePanels }()
	rng := NewRNG(21)
	for _, prec := range []gemm.Precision{gemm.Float32, gemm.BFloat16} {
		if gemm.SetPrecision(prec) != nil {
			continue
		}
		for _, tc := range []struct{ n, h, w, cin, cout, k, s, p int }{
			{5, 14, 14, 32, 16, 4, 2, 1}, // DCGAN's 7×7 → 14×14
			{3, 28, 28, 16, 1, 4, 2, 1},  // to one channel
			{4, 9, 11, 8, 6, 3, 2, 1},    // odd sizes
			{2, 6, 6, 300, 5, 3, 1, 0},   // K in several chunks
			{1, 2, 2, 3, 1, 2, 1, 0},     // one row of columns: the fallback
			{2, 8, 8, 600, 160, 4, 2, 1}, // 2,560 columns of 600: B in column blocks
		} {
			g, err := NewConvTGeom((tc.h+2*tc.p-tc.k)/tc.s+1, (tc.w+2*tc.p-tc.k)/tc.s+1, tc.k, tc.k, tc.s, tc.s, tc.p, tc.p, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			rows, k := tc.n*g.OH*g.OW, g.PatchLen(tc.cout)
			x, w := make([]float32, rows*tc.cin), make([]float32, tc.cin*k)
			bias := make([]float32, tc.cout)
			for _, s := range [][]float32{x, w, bias} {
				rng.Normal(s, 0, 1)
			}
			col := make([]float32, rows*k)
			MatMul(col, x, w, rows, k, tc.cin, false, false, false)
			// A mask with both signs, zeros and a NaN.
			mask := make([]float32, tc.n*g.H*g.W*tc.cout)
			rng.Normal(mask, 0, 1)
			mask[0], mask[len(mask)/2], mask[len(mask)-1] = 0, float32(math.NaN()), float32(math.Copysign(0, -1))
			for _, b := range [][]float32{nil, bias} {
				want := make([]float32, tc.n*g.H*g.W*tc.cout)
				Col2Im(want, col, b, tc.n, tc.cout, g)
				for _, th := range []int{1, 2} {
					for _, mode := range []struct {
						blockBytes int
						panels     bool
					}{{1, true}, {2 * g.OH * g.OW * k * 4, true}, {save, true}, {1, false}, {save, false}} {
						blockBytes := mode.blockBytes
						parallel.SetThreads(th)
						convTBlockBytes, foldPanels = blockBytes, mode.panels
						got := make([]float32, len(want))
						ConvTMatMul(got, x, w, b, tc.n, tc.cin, tc.cout, g)
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%v %+v, bias %v, %d threads, blocks of %d bytes, panels %v: value %d is %v, want %v", prec, tc, b != nil, th, blockBytes, mode.panels, i, got[i], want[i])
							}
						}
						if b != nil {
							continue
						}
						// Masked as each image is folded: the bits of
						// LeakyMask after it.
						masked := make([]float32, len(want))
						LeakyMask(masked, mask, want, 0.2)
						ConvTMatMulLeakyMask(got, x, w, mask, 0.2, tc.n, tc.cin, tc.cout, g)
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(masked[i]) {
								t.Fatalf("%v %+v, masked, %d threads, blocks of %d bytes, panels %v: value %d is %v, want %v", prec, tc, th, blockBytes, mode.panels, i, got[i], masked[i])
							}
						}
					}
				}
			}
		}
	}
	gemm.SetPrecision(gemm.Float32)
}

// ConvMatMulReLUMask gives the bits of ConvMatMul followed by ReLUMask on
// every path (the epilogue of a packed product or the rows kernel, or a
// pass after a direct one), in float32 and in bfloat16, at 1 and 2
// threads, with a mask of both signs, zeros of both signs and NaNs.
func TestConvMatMulReLUMaskMatchesSeparate(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	defer gemm.SetPrecision(gemm.Float32)
	for _, prec := range []gemm.Precision{gemm.Float32, gemm.BFloat16} {
		if err := gemm.SetPrecision(prec); err != nil {
			continue
		}
		rng := NewRNG(23)
		for _, tc := range convGeoms {
			n := 3
			g, rows, k := tc.geometry(t, n)
			x, w, mask := make([]float32, n*tc.h*tc.w*tc.c), make([]float32, tc.o*k), make([]float32, rows*tc.o)
			rng.Normal(x, 0, 1)
			rng.Normal(w, 0, 1)
			rng.Normal(mask, 0, 1)
			mask[0], mask[len(mask)/3], mask[len(mask)/2], mask[len(mask)-1] = 0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.NaN())
			want := make([]float32, rows*tc.o)
			ConvMatMul(want, x, w, nil, n, tc.c, tc.o, g, false)
			ReLUMask(want, mask, want)
			for _, th := range []int{1, 2} {
				parallel.SetThreads(th)
				got := make([]float32, rows*tc.o)
				fillNaN(got)
				ConvMatMulReLUMask(got, x, w, mask, n, tc.c, tc.o, g)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v %+v, %d threads: element %d is %v, want %v", prec, tc, th, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// fillNaN sets every value of s to NaN.
func fillNaN(s []float32) {
	for i := range s {
		s[i] = float32(math.NaN())
	}
}

// ConvMatMulAct gives the bits of ConvMatMulKeep followed by the
// activation, on every path (the epilogue of a packed product, or a pass
// after a direct one), with and without a bias and a kept copy, in float32
// and in bfloat16.
func TestConvMatMulActMatchesSeparate(t *testing.T) {
	for _, prec := range []gemm.Precision{gemm.Float32, gemm.BFloat16} {
		if err := gemm.SetPrecision(prec); err != nil {
			continue
		}
		rng := NewRNG(19)
		for _, tc := range convGeoms {
			n := 3
			g, rows, k := tc.geometry(t, n)
			x, w, bias := make([]float32, n*tc.h*tc.w*tc.c), make([]float32, tc.o*k), make([]float32, tc.o)
			rng.Normal(x, 0, 1)
			rng.Normal(w, 0, 1)
			rng.Normal(bias, 0, 1)
			for _, act := range []Act{{Kind: ActReLU}, {Kind: ActLeaky, Slope: 0.2}} {
				for _, withBias := range []bool{false, true} {
					b := bias
					if !withBias {
						b = nil
					}
					var keepW, keepG []float32
					if l := KeepLen(n, tc.c, tc.o, g); l > 0 {
						keepW, keepG = make([]float32, l), make([]float32, l)
					}
					want, got := make([]float32, rows*tc.o), make([]float32, rows*tc.o)
					keptW := ConvMatMulKeep(want, x, w, b, n, tc.c, tc.o, g, false, keepW)
					outOp{act: act}.apply(want)
					keptG := ConvMatMulAct(got, x, w, b, n, tc.c, tc.o, g, keepG, act)
					what := fmt.Sprintf("%v %+v act %+v bias %v", prec, tc, act, withBias)
					if keptW != keptG {
						t.Fatalf("%s: kept %v, ConvMatMulKeep kept %v", what, keptG, keptW)
					}
					for i := range want {
						if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
							t.Fatalf("%s: element %d is %v, want %v", what, i, got[i], want[i])
						}
					}
					if keptW && !slices.Equal(keepW, keepG) {
						t.Fatalf("%s: the kept copies differ", what)
					}
				}
			}
		}
	}
	gemm.SetPrecision(gemm.Float32)
}

// evenBlocks cuts the images into a multiple of the threads' blocks where
// a block of at least half the size allows it.
func TestEvenBlocks(t *testing.T) {
	for _, tc := range []struct{ n, per, threads, want int }{
		{64, 5, 2, 4},   // dcgan28's first generator layer: 16 blocks, not 13
		{64, 83, 2, 32}, // its last: 2 blocks of 32, not 1 of 64 (nor 63 and 1)
		{64, 5, 1, 5},   // one thread: as sized
		{64, 8, 2, 8},   // already even
		{5, 2, 2, 2},    // 3 blocks of 2, and none of 1 makes an even count: as sized
		{7, 3, 2, 2},    // 4 blocks
		{10, 4, 2, 3},   // 3 blocks of 4 is odd: 4 blocks, of 3 (the last of 1)
	} {
		if got := evenBlocks(tc.n, tc.per, tc.threads); got != tc.want {
			t.Errorf("evenBlocks(%d, %d, %d) = %d, want %d", tc.n, tc.per, tc.threads, got, tc.want)
		}
	}
}

// The direct kernel gradient gives the same bits reading the images
// without their padding (gemm.Taps.Unpadded) as from a padded copy, for
// dcgan28's strided discriminator layer and a 3×3 convolution, at 1 and 2
// threads.
func TestConvWeightUnpaddedMatchesPadded(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	defer func() { unpaddedWeights = true }()
	rng := NewRNG(23)
	for _, tc := range []struct{ n, h, c, o, k, s, p int }{{16, 14, 64, 128, 4, 2, 1}, {4, 9, 32, 12, 3, 1, 1}} {
		g, err := NewConvGeom(tc.h, tc.h, tc.k, tc.k, tc.s, tc.s, tc.p, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, tc.n*tc.h*tc.h*tc.c)
		dy := make([]float32, tc.n*g.OH*g.OW*tc.o)
		rng.Normal(x, 0, 1)
		rng.Normal(dy, 0, 1)
		for _, th := range []int{1, 2} {
			parallel.SetThreads(th)
			want, got := make([]float32, tc.o*g.PatchLen(tc.c)), make([]float32, tc.o*g.PatchLen(tc.c))
			unpaddedWeights = false
			ConvWeightMatMul(want, dy, x, tc.n, tc.c, tc.o, g)
			unpaddedWeights = true
			ConvWeightMatMul(got, dy, x, tc.n, tc.c, tc.o, g)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%+v at %d threads: dw[%d] = %v unpadded, %v padded", tc, th, i, got[i], want[i])
				}
			}
		}
	}
}
