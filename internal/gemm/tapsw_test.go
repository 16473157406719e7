package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The direct weight gradient agrees with the sum in float64 within the
// rounding bound of a float32 sum over the positions, over channel counts
// of one and several 32-column panels, output channels in tiles of 12, 8
// and 4 rows, odd grids, 1×1, 3×3, 5×3 and 4×4 kernels, accumulation,
// several image chunks, strides 2 and 3, and its bits are the same at 1
// and 2 threads.
func TestSgemmTapsWMatchesFloat64(t *testing.T) {
	if !TapsWAvailable(&Taps{C: 32, Width: 2, Plane: 4, OW: 2}, 4) {
		t.Skip("no direct weight-gradient kernel on this CPU")
	}
	testTapsW(t, false)
}

// In bfloat16 likewise (the geometries with an even padded width, strided
// and odd grids included), against the float64 sum of the values rounded
// to bfloat16 (the products are exact in float32; only the sums round),
// and unlike the unrounded sum; with Taps.Float32, the float32 kernel's
// bits.
func TestSgemmTapsWMatchesFloat64BF16(t *testing.T) {
	useBF16Dot(t)
	if TapsWAvailable(&Taps{C: 32, Width: 3, Plane: 6, OW: 2}, 4) || TapsWAvailable(&Taps{C: 32, Width: 4, Plane: 10, OW: 3, Stride: 2}, 4) {
		t.Fatal("TapsWAvailable in bfloat16 with an odd width, or a plane not a multiple of twice the stride: want false")
	}
	testTapsW(t, true)
}

func testTapsW(t *testing.T, bf16 bool) {
	rng := rand.New(rand.NewPCG(31, 32))
	type shape struct{ images, h, w, c, n, kh, kw, stride int }
	for _, sh := range []shape{
		{2, 6, 8, 32, 4, 3, 3, 1}, {3, 28, 28, 32, 32, 3, 3, 1}, {2, 14, 14, 64, 64, 3, 3, 1}, {1, 9, 11, 32, 20, 3, 3, 1},
		{4, 8, 8, 32, 12, 1, 1, 1}, {1, 6, 12, 96, 8, 5, 3, 1}, {40, 16, 16, 32, 24, 3, 3, 1}, {2, 7, 10, 64, 44, 3, 3, 1},
		// Stride 2, as DCGAN's 4×4 convolutions (padding 1): 14×14 to
		// 7×7, an odd input, several chunks, 3×3 on an odd grid.
		{3, 14, 14, 64, 128, 4, 4, 2}, {2, 9, 7, 32, 8, 4, 4, 2}, {40, 16, 16, 32, 12, 4, 4, 2}, {2, 11, 13, 32, 4, 3, 3, 2},
		{1, 9, 7, 32, 8, 4, 4, 2}, // one image: one group, not two halves
		// Odd grid widths with even padded widths (bfloat16 pairs each
		// grid row's last output with a zero): stride 1 and 2, several
		// chunks; stride 3 (three parts to a pair row, both classes).
		{2, 8, 8, 32, 12, 4, 4, 1}, {3, 12, 10, 64, 16, 4, 4, 1}, {24, 14, 14, 32, 8, 4, 4, 2}, {2, 10, 10, 32, 4, 3, 3, 3},
		{2, 8, 6, 32, 8, 3, 3, 2}, {2, 4, 8, 32, 4, 3, 3, 3}, // the last row of X's pairs partly past X
	} {
		a := sameTaps(sh.images, sh.h, sh.w, sh.c, sh.kh, sh.kw)
		if sh.stride != 1 || sh.kh == 4 {
			a = stridedTaps(sh.images, sh.h, sh.w, sh.c, sh.kh, sh.kw, sh.stride)
		}
		if bf16 && !TapsWAvailable(a, sh.n) {
			continue // an odd padded width
		}
		a.X = randSlice(rng, a.MinLenW())
		rows := sh.images * a.OH * a.OW
		dy := randSlice(rng, rows*sh.n)
		k := len(a.Offs) * sh.c
		want := tapsWGo(a, sh.n, dy, bf16)
		abs := tapsWAbs(a, sh.n, dy)
		name := fmt.Sprintf("%dx%dx%dx%d-%d-%dx%d/%d", sh.images, sh.h, sh.w, sh.c, sh.n, sh.kh, sh.kw, sh.stride)
		var first []float32
		for _, threads := range []int{1, 2} {
			for _, acc := range []bool{false, true} {
				dw := make([]float32, sh.n*k)
				start := make([]float32, len(dw))
				if acc {
					start = randSlice(rng, len(dw))
					copy(dw, start)
				} else {
					for i := range dw {
						dw[i] = float32(math.NaN()) // to be overwritten
					}
				}
				SgemmTapsW(pool(threads), a, sh.n, dy, dw, acc)
				// A float32 sum of rows terms, plus the start value.
				bound := float64(rows+1) * 0x1p-24
				for i, v := range dw {
					w := want[i] + float64(start[i])
					if d := math.Abs(float64(v) - w); d > bound*(abs[i]+math.Abs(float64(start[i]))) || math.IsNaN(d) {
						t.Fatalf("%s, %d threads, accumulate %v: dw[%d] = %v, want %v (bound %.3g)", name, threads, acc, i, v, w, bound*abs[i])
					}
				}
				if acc {
					continue
				}
				if first == nil {
					first = dw
				} else {
					for i := range dw {
						if math.Float32bits(dw[i]) != math.Float32bits(first[i]) {
							t.Fatalf("%s: dw[%d] = %v at %d threads, %v at 1", name, i, dw[i], threads, first[i])
						}
					}
				}
			}
		}
		if bf16 {
			// X's pairs made beforehand (Taps.XP, in the layout of
			// PairsLen): the same bits.
			even, odd := a.PairCounts()
			b := *a
			b.XP = make([]uint32, b.PairsLen())
			w := a.step() * a.C
			for h, rows := range [2]int{even, odd} {
				// Class h from position h·s on, zeros past X.
				src := append(slices.Clone(a.X[min(len(a.X), h*w):]), make([]float32, 2*rows*w)...)
				PairRows(b.XP[h*even*w:(h*even+rows)*w], src, w, rows)
			}
			b.X = nil
			dw := make([]float32, sh.n*k)
			SgemmTapsW(pool(2), &b, sh.n, dy, dw, false)
			for i := range dw {
				if math.Float32bits(dw[i]) != math.Float32bits(first[i]) {
					t.Fatalf("%s: dw[%d] = %v from XP, %v from X", name, i, dw[i], first[i])
				}
			}
			// The float32 kernel's result, for scale: rounding the
			// operands must cost far more than rounding the sums.
			SetPrecision(Float32)
			f32 := make([]float32, sh.n*k)
			SgemmTapsW(pool(1), a, sh.n, dy, f32, false)
			SetPrecision(BFloat16)
			// Taps.Float32 sums in float32 at this precision: the
			// float32 kernel's bits.
			b = *a
			b.Float32 = true
			if !TapsWAvailable(&b, sh.n) {
				t.Fatalf("%s: TapsWAvailable false with Float32", name)
			}
			SgemmTapsW(pool(2), &b, sh.n, dy, dw, false)
			for i := range dw {
				if math.Float32bits(dw[i]) != math.Float32bits(f32[i]) {
					t.Fatalf("%s: dw[%d] = %v with Float32 in bfloat16, %v in float32", name, i, dw[i], f32[i])
				}
			}
			exact := tapsWGo(a, sh.n, dy, false)
			var errBF, errF float64
			for i := range first {
				errBF = max(errBF, math.Abs(float64(first[i])-exact[i])/abs[i])
				errF = max(errF, math.Abs(float64(f32[i])-exact[i])/abs[i])
			}
			if errBF < 100*errF {
				t.Errorf("%s: the bfloat16 result is off the unrounded sum by %.3g (relative), the float32 one by %.3g: were the operands rounded?", name, errBF, errF)
			}
		}
	}
}

// Bad operands are refused with a message rather than read out of bounds.
func TestSgemmTapsWChecks(t *testing.T) {
	a := &Taps{C: 32, Images: 1, Plane: 16, Width: 4, OH: 2, OW: 2, Offs: []int{0, 1, 4, 5}}
	if !TapsWAvailable(a, 4) {
		t.Skip("no direct weight-gradient kernel on this CPU")
	}
	if TapsWAvailable(&Taps{C: 0, Images: 1, Plane: 16, Width: 4, OH: 2, OW: 2}, 4) {
		t.Error("TapsWAvailable for images of no channels")
	}
	for name, f := range map[string]func(){
		"short X": func() {
			a.X = make([]float32, a.MinLenW()-1)
			SgemmTapsW(pool(1), a, 4, make([]float32, 16), make([]float32, 4*128), false)
		},
		"short dy": func() {
			a.X = make([]float32, a.MinLenW())
			SgemmTapsW(pool(1), a, 4, make([]float32, 15), make([]float32, 4*128), false)
		},
		"short dw": func() {
			a.X = make([]float32, a.MinLenW())
			SgemmTapsW(pool(1), a, 4, make([]float32, 16), make([]float32, 4*128-1), false)
		},
		"6 out": func() {
			a.X = make([]float32, a.MinLenW())
			SgemmTapsW(pool(1), a, 6, make([]float32, 24), make([]float32, 6*128), false)
		},
		"stride past the grid": func() {
			b := *a
			b.Stride = 4 // the second column of outputs would read position 4 of a row of 4
			b.X = make([]float32, 1024)
			SgemmTapsW(pool(1), &b, 4, make([]float32, 16), make([]float32, 4*128), false)
		},
		"forward with a stride": func() {
			b := *a
			b.Stride = 2
			b.X = make([]float32, 4096)
			SgemmTaps(pool(1), &b, 4, make([]float32, 4*128), nil, false, make([]float32, 16))
		},
		"negative offs": func() {
			b := *a
			b.Offs = []int{-1}
			b.X = make([]float32, 64)
			SgemmTapsW(pool(1), &b, 4, make([]float32, 16), make([]float32, 4*32), false)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// stridedTaps is the operand of a convolution of stride s with padding 1
// (as DCGAN's 4×4 ones) on images of h×w×c: OH = (h+2-kh)/s+1.
func stridedTaps(images, h, w, c, kh, kw, s int) *Taps {
	hp, wp := h+2, w+2
	a := &Taps{C: c, Images: images, Plane: hp * wp, Width: wp, OH: (hp-kh)/s + 1, OW: (wp-kw)/s + 1, Stride: s}
	for ky := range kh {
		for kx := range kw {
			a.Offs = append(a.Offs, ky*wp+kx)
		}
	}
	return a
}

// tapsWAbs is Σ|dy·x| per element of dw: the scale of its rounding bound.
func tapsWAbs(a *Taps, n int, dy []float32) []float64 {
	b := *a
	b.X = make([]float32, len(a.X))
	for i, v := range a.X {
		b.X[i] = float32(math.Abs(float64(v)))
	}
	ady := make([]float32, len(dy))
	for i, v := range dy {
		ady[i] = float32(math.Abs(float64(v)))
	}
	return tapsWGo(&b, n, ady, false)
}

// tapsWGo is SgemmTapsW's sum in float64, for tests: the reference the
// kernels are checked against (rounding X and dy to bfloat16 first when
// bf16).
func tapsWGo(a *Taps, n int, dy []float32, bf16 bool) []float64 {
	k := len(a.Offs) * a.C
	out := make([]float64, n*k)
	round := func(v float32) float64 {
		if bf16 {
			return float64(RoundBF16(v))
		}
		return float64(v)
	}
	r := 0
	for img := range a.Images {
		for y := range a.OH {
			for x := range a.OW {
				q := img*a.Plane + (y*a.Width+x)*a.step()
				for jo := range n {
					g := round(dy[r*n+jo])
					for t, off := range a.Offs {
						xs := a.X[(q+off)*a.C : (q+off+1)*a.C]
						o := out[jo*k+t*a.C:]
						for c, v := range xs {
							o[c] += g * round(v)
						}
					}
				}
				r++
			}
		}
	}
	return out
}

// SgemmTapsW's bfloat16 operands (strided or not, odd grids or even) hold
// what operands documents: word c of part r of row q of X's
// class h pairs positions h·s + 2s·q + r and s further (zero past X), and
// dy's pairs stay within grid rows, an odd row's last value paired with
// zero.
func TestTapsWPairsLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, sh := range []struct{ images, h, w, c, kh, kw, s int }{
		{2, 8, 8, 32, 4, 4, 1}, {2, 8, 8, 32, 3, 3, 1}, {3, 14, 14, 32, 4, 4, 2}, {2, 10, 10, 32, 3, 3, 3},
		// A last row of pairs whose partners are partly in X.
		{2, 8, 6, 32, 3, 3, 2}, {2, 4, 8, 32, 3, 3, 3},
	} {
		a := stridedTaps(sh.images, sh.h, sh.w, sh.c, sh.kh, sh.kw, sh.s)
		a.X = randSlice(rng, a.MinLenW())
		n := 4
		rows := a.Images * a.OH * a.OW
		dy := randSlice(rng, rows*n)
		j := &tapsWJob{a: a, n: n, im: &impl{bf16: true}}
		j.operands(pool(2), 2, dy)
		s, c := a.step(), a.C
		even, odd := a.PairCounts()
		xp := j.pairBuf[:(even+odd)*s*c]
		word := func(lo, hi float32) uint32 { return uint32(BF16Bits(lo)) | uint32(BF16Bits(hi))<<16 }
		at := func(pos, ch int) float32 {
			if pos*c+ch < len(a.X) {
				return a.X[pos*c+ch]
			}
			return 0
		}
		for h, count := range [2]int{even, odd} {
			for q := range count {
				for r := range s {
					pos := h*s + 2*s*q + r
					for ch := range c {
						got := xp[(h*even+q)*s*c+r*c+ch]
						if want := word(at(pos, ch), at(pos+s, ch)); got != want {
							t.Fatalf("%+v: class %d row %d part %d channel %d = %#x, want %#x (positions %d, %d)", sh, h, q, r, ch, got, want, pos, pos+s)
						}
					}
				}
			}
		}
		dyp := j.pairBuf[len(j.pairBuf)-a.Images*a.OH*j.owp/2*n:]
		for g := range a.Images * a.OH {
			for x := 0; x < a.OW; x += 2 {
				for ch := range n {
					hi := float32(0)
					if x+1 < a.OW {
						hi = dy[(g*a.OW+x+1)*n+ch]
					}
					if got, want := dyp[(g*j.owp+x)/2*n+ch], word(dy[(g*a.OW+x)*n+ch], hi); got != want {
						t.Fatalf("%+v: dy pair of grid row %d, x %d, channel %d = %#x, want %#x", sh, g, x, ch, got, want)
					}
				}
			}
		}
	}
}

// Images read without their padding (Taps.Unpadded) give the padded
// copy's bits: the products of the padding's zeros skipped, every other
// product summed in the same order and the same chunks, for strides 1 to
// 3, paddings 0 to 2, kernels of 1 to 5, tiles of 12, 8 and 4 rows,
// several chunks and both groups of images, with and without
// accumulation, at 1 and 2 threads; and where a tap lies in the padding
// for every output (tiles summed from nothing).
func TestSgemmTapsWUnpaddedMatchesPadded(t *testing.T) {
	if !UnpaddedAvailable(&Taps{C: 32, Width: 2, Plane: 4, OW: 2}, 4) {
		t.Skip("no segment kernel on this CPU")
	}
	rng := rand.New(rand.NewPCG(41, 42))
	type shape struct{ images, h, w, c, n, kh, kw, s, ph, pw int }
	for _, sh := range []shape{
		{16, 14, 14, 64, 128, 4, 4, 2, 1, 1}, // dcgan28's discriminator, several chunks
		{3, 7, 9, 32, 20, 3, 3, 1, 1, 1},
		{2, 11, 13, 32, 8, 5, 3, 2, 2, 1},
		{2, 10, 10, 64, 4, 3, 3, 3, 0, 2},
		{2, 6, 6, 32, 12, 1, 1, 1, 0, 0},
		{2, 1, 6, 32, 8, 5, 3, 1, 2, 1}, // taps above and below a one-row image
	} {
		hp, wp := sh.h+2*sh.ph, sh.w+2*sh.pw
		a := &Taps{C: sh.c, Images: sh.images, Plane: hp * wp, Width: wp,
			OH: (hp-sh.kh)/sh.s + 1, OW: (wp-sh.kw)/sh.s + 1, Stride: sh.s}
		for ky := range sh.kh {
			for kx := range sh.kw {
				a.Offs = append(a.Offs, ky*wp+kx)
			}
		}
		x := randSlice(rng, sh.images*sh.h*sh.w*sh.c)
		padded := make([]float32, sh.images*hp*wp*sh.c)
		for img := range sh.images {
			for y := range sh.h {
				for xx := range sh.w {
					copy(padded[((img*hp+y+sh.ph)*wp+xx+sh.pw)*sh.c:][:sh.c], x[((img*sh.h+y)*sh.w+xx)*sh.c:][:sh.c])
				}
			}
		}
		rows, k := sh.images*a.OH*a.OW, len(a.Offs)*sh.c
		dy := randSlice(rng, rows*sh.n)
		start := randSlice(rng, sh.n*k)
		for _, acc := range []bool{false, true} {
			want := slices.Clone(start)
			a.X, a.Unpadded = padded, nil
			SgemmTapsW(pool(1), a, sh.n, dy, want, acc)
			for _, threads := range []int{1, 2} {
				got := slices.Clone(start)
				a.X, a.Unpadded = x, &Unpadded{H: sh.h, W: sh.w, PH: sh.ph, PW: sh.pw}
				SgemmTapsW(pool(threads), a, sh.n, dy, got, acc)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%+v, accumulate %v, %d threads: dw[%d] = %v unpadded, %v padded", sh, acc, threads, i, got[i], want[i])
					}
				}
			}
		}
	}
}
