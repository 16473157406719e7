package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// useBF16 computes in bfloat16 for the rest of the test, or skips it where
// the CPU cannot.
func useBF16(t testing.TB) {
	t.Helper()
	if !HasBFloat16() {
		t.Skip("this CPU has no AVX-512 BF16")
	}
	if err := SetPrecision(BFloat16); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { SetPrecision(Float32) })
}

func TestBF16Bits(t *testing.T) {
	for _, c := range []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // 1 + 2^-8: a tie, to even (down)
		{0x3f818000, 0x3f82}, // a tie, to even (up)
		{0x3f808001, 0x3f81}, // just above the tie
		{0xbf80ffff, 0xbf81}, // negative, rounds away from zero in magnitude
		{0x7f7fffff, 0x7f80}, // the largest float32 overflows to +Inf
		{0x7f800000, 0x7f80}, // +Inf
		{0xff800000, 0xff80}, // -Inf
		{0x7f800001, 0x7fc0}, // a NaN whose payload is all in the low half stays a NaN
		{0xffc00000, 0xffc0}, // quiet NaN
		{0x00000000, 0x0000},
		{0x80000000, 0x8000},
		{0x00008000, 0x0000}, // the smallest subnormals round as any value
		{0x00018000, 0x0002},
	} {
		if got := BF16Bits(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("BF16Bits(%#08x) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
}

// bf16Special are float32 bits the bfloat16 conversions must get right:
// ties to even (down and up), NaNs whose payload is in the low half, a
// negative quiet NaN, infinity, the largest float32 (overflowing to
// infinity), the smallest subnormals, zero.
var bf16Special = []uint32{0x3f808000, 0x3f818000, 0x7f800001, 0xffc00001, 0x7f800000, 0x7f7fffff, 0x00000001, 0x80018000, 0}

// fillBF16Test fills s for the bfloat16 tests: about one value in every
// from bf16Special, the others from other.
func fillBF16Test(rng *rand.Rand, s []float32, every int, other func() float32) {
	for i := range s {
		if rng.IntN(every) == 0 {
			s[i] = math.Float32frombits(bf16Special[rng.IntN(len(bf16Special))])
		} else {
			s[i] = other()
		}
	}
}

// The assembly that turns packed panels into bfloat16 pairs agrees with the
// Go version bit for bit, on ties, NaNs, infinities, subnormals, every tail
// width and odd depths, in place.
func TestPairsAsmMatchesGo(t *testing.T) {
	if !bf16PackAsm {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, w := range []int{4, 12, 16, 20, 32, 48} {
		for _, kc := range []int{1, 2, 3, 7, 8, 255, 256, 257} {
			src := make([]float32, w*kc+16)
			fillBF16Test(rng, src, 5, func() float32 { return math.Float32frombits(rng.Uint32()) })
			a, b := append([]float32(nil), src...), append([]float32(nil), src...)
			toPairs(a[:w*kc], w, kc)
			ub := unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), len(b))
			toPairsGo(ub, w, kc/2)
			if kc%2 == 1 {
				q := kc / 2
				for j := range w {
					ub[q*w+j] = uint32(BF16Bits(math.Float32frombits(math.Float32bits(src[(kc-1)*w+j]))))
				}
			}
			rows := (kc + 1) / 2
			for i := range rows * w {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					t.Fatalf("w=%d kc=%d: word %d is %#08x, Go gives %#08x", w, kc, i, math.Float32bits(a[i]), math.Float32bits(b[i]))
				}
			}
			for i := w * kc; i < len(src); i++ {
				if math.Float32bits(a[i]) != math.Float32bits(src[i]) {
					t.Fatalf("w=%d kc=%d: wrote beyond the panel at %d", w, kc, i)
				}
			}
		}
	}
}

// u is bfloat16's unit roundoff (8 significant bits, round to nearest).
const bf16U = 1.0 / 256

// checkBF16 checks C against float64 with the error bound of bfloat16
// products accumulated in float32: each factor (alpha folded into A) is
// rounded to 8 significant bits, so each product is within (2u + u²) of
// the exact one relatively, and the float32 sums add at most about k
// float32 roundings. It returns the largest error relative to the sum of
// |products|, to show that the products really were rounded.
func checkBF16(t *testing.T, tc *gemmCase, what string, alpha, beta float32, c []float32) float64 {
	t.Helper()
	worst := 0.0
	gamma := float64(tc.k+4) * math.Pow(2, -24) * 1.01
	for x, p := range tc.pos {
		i, j := p/tc.n, p%tc.n
		c0 := float64(tc.c0[i*tc.ldc+j])
		if beta == 0 {
			c0 = 0
		}
		want := float64(alpha)*tc.dot[x] + float64(beta)*c0
		prod := math.Abs(float64(alpha)) * tc.abs[x]
		tol := (2*bf16U+bf16U*bf16U+math.Pow(2, -23))*prod + gamma*(prod*(1+3*bf16U)+math.Abs(float64(beta)*c0)) + 1e-30
		got := float64(c[i*tc.ldc+j])
		if !(math.Abs(got-want) <= tol) {
			t.Fatalf("%s %v alpha=%v beta=%v: C[%d][%d] = %v, want %v (bfloat16 bound %.3g)", what, tc, alpha, beta, i, j, got, want, tol)
		}
		if prod > 0 {
			worst = math.Max(worst, math.Abs(got-float64(beta)*c0-float64(alpha)*tc.dot[x])/prod)
		}
	}
	tc.checkOutside(t, what, c)
	return worst
}

// Sgemm in bfloat16 on awkward shapes (odd depths, edge tiles, several K
// chunks, transposes), alphas and betas, on 1 to 3 threads, within the
// bound derived from bfloat16's 8 significant bits and k; the results are
// bit-identical across thread counts.
func TestSgemmBF16(t *testing.T) {
	forBF16Kernels(t, testSgemmBF16)
}

func testSgemmBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	shapes := [][3]int{{2, 2, 1}, {3, 17, 3}, {13, 33, 7}, {12, 32, 256}, {25, 65, 257}, {37, 70, 513}, {200, 100, 600}, {64, 3136, 25}, {1024, 96, 129}}
	worst := 0.0
	for _, s := range shapes {
		for tr := range 4 {
			tc := newCase(rng, tr&1 != 0, tr&2 != 0, s[0], s[1], s[2], 1+tr, 300)
			for _, alpha := range alphas {
				for _, beta := range betas {
					var first []float32
					for _, th := range []int{1, 2, 3} {
						c := tc.run(pool(th), alpha, beta)
						worst = math.Max(worst, checkBF16(t, tc, fmt.Sprintf("bf16 threads=%d", th), alpha, beta, c))
						if first == nil {
							first = c
							continue
						}
						for i := range c {
							if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
								t.Fatalf("%v: %d threads differ from 1 at %d", tc, th, i)
							}
						}
					}
				}
			}
		}
	}
	// Rounding to 8 bits shows: float32 alone would be near 1e-7.
	if worst < 1e-4 {
		t.Errorf("the largest relative error is %.3g: the products do not look rounded to bfloat16", worst)
	}
	t.Logf("largest error over the sum of |products|: %.3g (bound 2u+u² = %.3g plus the float32 sums)", worst, 2*bf16U+bf16U*bf16U)
}

// Values that bfloat16 holds exactly (small integers) give the exact
// product: the kernel's pairing of k steps and its layout lose nothing.
func TestSgemmBF16Exact(t *testing.T) {
	forBF16Kernels(t, testSgemmBF16Exact)
}

func testSgemmBF16Exact(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range [][3]int{{5, 7, 1}, {12, 32, 2}, {13, 33, 3}, {40, 70, 257}, {100, 200, 300}} {
		for tr := range 4 {
			tc := newCase(rng, tr&1 != 0, tr&2 != 0, s[0], s[1], s[2], tr, 0)
			for _, x := range [][]float32{tc.a, tc.b} {
				for i := range x {
					x[i] = float32(rng.IntN(9) - 4)
				}
			}
			c := make([]float32, len(tc.c0))
			Sgemm(pool(2), tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, tc.a, tc.lda, tc.b, tc.ldb, 0, c, tc.ldc)
			for i := range tc.m {
				for j := range tc.n {
					var want float64
					for q := range tc.k {
						want += float64(tc.opA(i, q)) * float64(tc.opB(q, j))
					}
					if float64(c[i*tc.ldc+j]) != want {
						t.Fatalf("%v: C[%d][%d] = %v, want exactly %v", tc, i, j, c[i*tc.ldc+j], want)
					}
				}
			}
		}
	}
}

func TestSetPrecision(t *testing.T) {
	if err := SetPrecision(Precision(7)); err == nil {
		t.Error("an unknown precision was accepted")
	}
	if !HasBFloat16() {
		if err := SetPrecision(BFloat16); err == nil {
			t.Error("bfloat16 accepted on a CPU without it")
		}
		return
	}
	useBF16(t)
	if CurrentPrecision() != BFloat16 || BFloat16.String() != "bf16" {
		t.Error("precision not set")
	}
}
