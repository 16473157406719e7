package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// tapsRows serves the rows of a Taps operand as stored rows: the matrix
// the direct kernel reads in place, written out.
func tapsRows(a *Taps) *storedRows {
	k := len(a.Offs) * a.C
	m := a.Images * a.OH * a.OW
	s := &storedRows{m: make([]float32, m*k), cols: k}
	for img := range a.Images {
		for y := range a.OH {
			for x := range a.OW {
				r := (img*a.OH+y)*a.OW + x
				q := img*a.Plane + y*a.Width + x
				for t, off := range a.Offs {
					copy(s.m[r*k+t*a.C:r*k+(t+1)*a.C], a.X[(q+off)*a.C:(q+off+1)*a.C])
				}
			}
		}
	}
	return s
}

// The direct product is bit-identical to the packed product of the same
// rows: over channel counts that cut taps across K chunks (several chunks
// at C 40 and 64), column counts with partial panels, grids with columns
// and rows past the output, bias, accumulation, and thread counts.
func TestSgemmTapsMatchesPacked(t *testing.T) {
	if !TapsAvailable(2) {
		t.Skip("no direct kernel on this CPU")
	}
	testTapsMatchPacked(t, false)
}

// In bfloat16 likewise (the packed product rounds its panels to bfloat16
// pairs, the direct one a copy of the image), for even channel counts;
// odd ones have no direct form there.
func TestSgemmTapsMatchesPackedBF16(t *testing.T) {
	useBF16Dot(t)
	if TapsAvailable(3) || !TapsAvailable(32) {
		t.Fatalf("TapsAvailable in bfloat16: 3 channels %v, 32 channels %v; want false, true", TapsAvailable(3), TapsAvailable(32))
	}
	testTapsMatchPacked(t, true)
}

// On AMX likewise, for channels in multiples of 32 (the others have no
// direct form there), a partial column panel (48 columns) included.
func TestSgemmTapsMatchesPackedAMX(t *testing.T) {
	useAMX(t)
	if TapsAvailable(40) || !TapsAvailable(64) {
		t.Fatalf("TapsAvailable on AMX: 40 channels %v, 64 channels %v; want false, true", TapsAvailable(40), TapsAvailable(64))
	}
	testTapsMatchPacked(t, true)
}

// sameTaps is the direct operand of a "same" convolution by a kh×kw
// kernel over images of h×w×c padded by (kh-1)/2 and (kw-1)/2 (X unset).
func sameTaps(images, h, w, c, kh, kw int) *Taps {
	ph, pw := (kh-1)/2, (kw-1)/2
	hp, wp := h+2*ph, w+2*pw
	a := &Taps{C: c, Images: images, Plane: hp * wp, Width: wp, OH: h, OW: w}
	for ky := range kh {
		for kx := range kw {
			a.Offs = append(a.Offs, ky*wp+kx)
		}
	}
	return a
}

func testTapsMatchPacked(t *testing.T, bf16 bool) {
	rng := rand.New(rand.NewPCG(21, 22))
	type shape struct{ images, h, w, c, n, kh, kw int }
	for _, sh := range []shape{
		{2, 5, 7, 3, 17, 3, 3}, {3, 28, 28, 32, 32, 3, 3}, {2, 14, 14, 40, 70, 3, 3}, {2, 5, 9, 6, 17, 3, 3},
		{1, 9, 11, 64, 48, 3, 3}, {4, 7, 7, 32, 32, 1, 1}, {2, 8, 8, 5, 2, 3, 3}, {1, 6, 13, 16, 96, 5, 3},
		// K = 8: float32 at either precision (InBF16), as Sgemm.
		{2, 6, 6, 8, 20, 1, 1},
	} {
		if !TapsAvailable(sh.c) {
			continue // odd channels in bfloat16, or not multiples of 32 on AMX
		}
		a := sameTaps(sh.images, sh.h, sh.w, sh.c, sh.kh, sh.kw)
		a.X = randSlice(rng, a.Len())
		k := len(a.Offs) * sh.c
		m := sh.images * sh.h * sh.w
		w := randSlice(rng, sh.n*k)
		bias := randSlice(rng, sh.n)
		c0 := randSlice(rng, m*sh.n)
		rows := tapsRows(a)
		for _, threads := range []int{1, 2, 3} {
			p := pool(threads)
			for _, mode := range []string{"plain", "bias", "accumulate"} {
				name := fmt.Sprintf("%+v threads %d %s", sh, threads, mode)
				want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
				switch mode {
				case "plain":
					SgemmRowsA(p, m, sh.n, k, 1, rows, true, w, k, 0, want, sh.n)
					SgemmTaps(p, a, sh.n, w, nil, false, got)
				case "bias":
					SgemmRowsABias(p, m, sh.n, k, rows, true, w, k, bias, want, sh.n)
					SgemmTaps(p, a, sh.n, w, bias, false, got)
				case "accumulate":
					SgemmRowsA(p, m, sh.n, k, 1, rows, true, w, k, 1, want, sh.n)
					SgemmTaps(p, a, sh.n, w, nil, true, got)
				}
				same(t, name, want, got)
				if bf16 && !InBF16(m, sh.n, k) {
					continue // a float32 product reads X, not XB
				}
				if bf16 {
					// With the image already rounded (Taps.XB).
					pre := *a
					pre.X, pre.XB = nil, make([]uint16, len(a.X))
					ToBF16(pre.XB, a.X)
					got2 := append([]float32(nil), c0...)
					switch mode {
					case "plain":
						SgemmTaps(p, &pre, sh.n, w, nil, false, got2)
					case "bias":
						SgemmTaps(p, &pre, sh.n, w, bias, false, got2)
					case "accumulate":
						SgemmTaps(p, &pre, sh.n, w, nil, true, got2)
					}
					same(t, name+" (XB)", want, got2)
				}
				if bf16 && mode == "plain" && threads == 1 {
					// The products were rounded: float32's differ.
					f32 := append([]float32(nil), c0...)
					SetPrecision(Float32)
					SgemmRowsA(p, m, sh.n, k, 1, rows, true, w, k, 0, f32, sh.n)
					SetPrecision(BFloat16)
					if slices.Equal(f32, got) {
						t.Errorf("%s: bfloat16 result equals float32's", name)
					}
				}
			}
		}
	}
}

// SgemmTaps refuses operands that do not fit, with a message.
func TestSgemmTapsChecks(t *testing.T) {
	if !TapsAvailable(4) {
		t.Skip("no direct kernel on this CPU")
	}
	a := &Taps{C: 4, Images: 1, Plane: 16, Width: 4, OH: 2, OW: 2, Offs: []int{0, 1, 4, 5}}
	a.X = make([]float32, a.Len()-1)
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("a short X was accepted")
		}
	}()
	SgemmTaps(pool(1), a, 8, make([]float32, 8*16), nil, false, make([]float32, 4*8))
}

// In bfloat16 a short XB is refused even when X is long enough: the
// kernel reads XB.
func TestSgemmTapsChecksBF16(t *testing.T) {
	useBF16Dot(t)
	a := &Taps{C: 4, Images: 1, Plane: 16, Width: 4, OH: 2, OW: 2, Offs: []int{0, 1, 4, 5}}
	a.X, a.XB = make([]float32, a.Len()), make([]uint16, a.Len()-1)
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("a short XB was accepted")
		}
	}()
	SgemmTaps(pool(1), a, 8, make([]float32, 8*16), nil, false, make([]float32, 4*8))
}

// ToBF16 (the assembly for blocks of 16, Go for the rest) rounds as
// BF16Bits: ties to even, NaN, infinities, overflow, subnormals.
func TestToBF16Slice(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		math.Float32frombits(0x3f808000), math.Float32frombits(0x3f818000), math.Float32frombits(0x7f7fffff),
		math.Float32frombits(0x00000001), math.Float32frombits(0x807fffff), math.Float32frombits(0x7f800001)}
	for _, n := range []int{0, 1, 15, 16, 17, 40, 1000} {
		src := make([]float32, n)
		for i := range src {
			if i < len(special) && n >= 16 {
				src[i] = special[i]
			} else {
				src[i] = float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(60)-30)))
			}
		}
		dst := make([]uint16, n)
		ToBF16(dst, src)
		for i, v := range src {
			if want := BF16Bits(v); dst[i] != want {
				t.Errorf("n %d: ToBF16(%#08x) = %#04x, BF16Bits %#04x", n, math.Float32bits(v), dst[i], want)
			}
		}
	}
}
