//go:build amd64

package tensor

import (
	"sync"

	"golang.org/x/sys/cpu"
)

// useAVX2 selects the assembly elementwise kernels; tests turn it off to
// compare them with the pure-Go ones.
var useAVX2 = cpu.X86.HasAVX2

//go:noescape
func reluAVX2(dst, x *float32, n int)

//go:noescape
func reluMaskAVX2(dst, x, gr *float32, n int)

//go:noescape
func leakyAVX2(dst, x, gr *float32, n int, slope float32)

// simdReLU does the multiple-of-8 head of ReLU and returns how many
// elements it did.
func simdReLU(dst, x []float32) int {
	n := len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	if useAVX512 {
		reluAVX512(&dst[0], &x[0], n)
	} else {
		reluAVX2(&dst[0], &x[0], n)
	}
	return n
}

func simdReLUMask(dst, x, g []float32) int {
	n := len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	if useAVX512 {
		reluMaskAVX512(&dst[0], &x[0], &g[0], n)
	} else {
		reluMaskAVX2(&dst[0], &x[0], &g[0], n)
	}
	return n
}

func simdLeaky(dst, x, g []float32, slope float32) int {
	n := len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	if useAVX512 {
		leakyAVX512(&dst[0], &x[0], &g[0], n, slope)
	} else {
		leakyAVX2(&dst[0], &x[0], &g[0], n, slope)
	}
	return n
}

//go:noescape
func binAVX2(op int, dst, a, b *float32, n int)

// simdBin does the multiple-of-8 head of dst = a op b for add, sub and mul
// (0, 1, 2) and returns how many elements it did.
func simdBin(op int, dst, a, b []float32) int {
	n := len(dst) &^ 7
	if !useAVX2 || n == 0 || op > 2 {
		return 0
	}
	if useAVX512 {
		binAVX512(op, &dst[0], &a[0], &b[0], n)
	} else {
		binAVX2(op, &dst[0], &a[0], &b[0], n)
	}
	return n
}

// useAVX512 selects the 512-bit form of the elementwise kernels that have
// one (binAVX512, reluAVX512, reluMaskAVX512, leakyAVX512); tests turn it off to compare the two.
var useAVX512 = cpu.X86.HasAVX512F

//go:noescape
func binAVX512(op int, dst, a, b *float32, n int)

//go:noescape
func colSumAVX512(dst, x *float32, rows, ld, n int)

// simdColSum adds rows rows of x (row stride ld) into dst's first
// columns, as many as a multiple of 16 covers, and returns how many: the
// sums of colSum, in registers across the rows.
func simdColSum(dst, x []float32, rows, ld int) int {
	n := len(dst) &^ 15
	if !useAVX512 || n == 0 || rows == 0 {
		return 0
	}
	_ = x[(rows-1)*ld+n-1]
	colSumAVX512(&dst[0], &x[0], rows, ld, n)
	return n
}

//go:noescape
func reluAVX512(dst, x *float32, n int)

//go:noescape
func reluMaskAVX512(dst, x, gr *float32, n int)

//go:noescape
func leakyAVX512(dst, x, gr *float32, n int, slope float32)

//go:noescape
func binScalarAVX2(op int, dst, a *float32, b float32, n int)

// simdBinScalar does the multiple-of-8 head of dst = a op b for a scalar
// b and add, sub and mul (0, 1, 2) and returns how many elements it did.
func simdBinScalar(op int, dst, a []float32, b float32) int {
	n := len(dst) &^ 7
	if !useAVX2 || n == 0 || op > 2 {
		return 0
	}
	binScalarAVX2(op, &dst[0], &a[0], b, n)
	return n
}

//go:noescape
func blockSum2AVX2(dst, r0, r1 *float32, w, c int)

// simdBlockSum2 writes the 2×2 block sums of a row pair of w pixels of c
// channels (r0, r1: 2w pixels each) into dst (w pixels) and says whether
// it did (c a multiple of 8 on a CPU with AVX2).
func simdBlockSum2(dst, r0, r1 []float32, w, c int) bool {
	if !useAVX2 || c == 0 || c%8 != 0 || w == 0 {
		return false
	}
	_, _, _ = dst[w*c-1], r0[2*w*c-1], r1[2*w*c-1]
	blockSum2AVX2(&dst[0], &r0[0], &r1[0], w, c)
	return true
}

//go:noescape
func maxAVX2(x *float32, n int) float32

// simdMax returns the largest of the multiple-of-8 head of x (NaN if one
// is NaN) and how many elements it read (0: none, and m is meaningless).
func simdMax(x []float32) (m float32, n int) {
	n = len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0, 0
	}
	return maxAVX2(&x[0], n), n
}

//go:noescape
func expShiftAVX2(dst, x *float32, n int, m float32)

// simdExpShift does the multiple-of-8 head of expShiftLine and returns
// how many elements it did.
func simdExpShift(dst, x []float32, m float32) int {
	n := len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	expShiftAVX2(&dst[0], &x[0], n, m)
	return n
}

// useNormalAVX512 selects normalAVX512 (it needs AVX-512 DQ's 64-bit
// multiply); tests turn it off to compare it with the Go loop.
var useNormalAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// normalAVX512 writes the fast-path samples of the values of n/2 (n a
// multiple of 16) consecutive draws of a stream into dst, the two halves
// of each draw in turn, from the states after its first eight draws
// st[0:8] and the step st[8] (8γ), and lists in rej the indices of the
// values that the fast path rejected, in order (their slots in dst then
// hold garbage; rej needs room for n+16); it returns how many there are.
//
//go:noescape
func normalAVX512(dst *float32, n int, st *[9]uint64, mean, std float32, rej *int32) int

// normalDraws is the most draws simdNormal computes ahead for a chunk:
// its pairs and about twice the draws its slow paths take on average
// (about one value in 80 is rejected, and a rejection takes one to two
// draws).
const normalDraws = normalChunk/2 + normalChunk/32

// normalScratch is simdNormal's buffers: the kernel's values and the
// rejected ones' indices. They are pooled rather than on the stack, where
// their 35 KB would be zeroed at every chunk.
type normalScratch struct {
	vals [2 * normalDraws]float32
	rej  [2*normalDraws + 16]int32 // the kernel stores 16 at a time
}

var normalScratches = sync.Pool{New: func() any { return new(normalScratch) }}

// simdNormal fills a prefix of dst (an even number of values, at most a
// chunk) as fillNormal's loop would from r, leaves r after their draws and
// returns their number. The kernel computes the fast path of the next
// draws in order; the values are copied from them between the rejected
// ones, which normalPairs computes, and whose slow paths' draws are then
// skipped. Where they take more draws than were computed, the rest is
// left to the loop.
func simdNormal(dst []float32, r *splitMix, mean, std float32) int {
	pairs := min(len(dst), normalChunk) / 2
	if !useNormalAVX512 || pairs < 8 {
		return 0
	}
	draws := min(pairs+pairs/16+8, normalDraws) &^ 7
	s0 := r.s
	var st [9]uint64
	gamma := normalGamma
	for j := range 8 {
		st[j] = s0 + uint64(j+1)*gamma
	}
	st[8] = 8 * gamma // wraps, as the states do
	sc := normalScratches.Get().(*normalScratch)
	defer normalScratches.Put(sc)
	vals := &sc.vals
	nr := normalAVX512(&vals[0], 2*draws, &st, mean, std, &sc.rej[0])
	i, j := 0, 0 // values written, draws taken
	for _, e := range sc.rej[:nr] {
		d := int(e) / 2
		if d < j {
			continue // a draw a slow path took
		}
		n := min(d-j, pairs-i/2)
		copy(dst[i:i+2*n], vals[2*j:2*(j+n)])
		i, j = i+2*n, j+n
		if i/2 == pairs {
			break
		}
		r.s = s0 + uint64(j)*normalGamma
		i += normalPairs(dst[i:i+2], r, mean, std)
		j = int((r.s - s0) * normalGammaInv)
		if i/2 == pairs {
			break
		}
	}
	if j < draws {
		n := min(pairs-i/2, draws-j)
		copy(dst[i:i+2*n], vals[2*j:2*(j+n)])
		i, j = i+2*n, j+n
	}
	r.s = s0 + uint64(j)*normalGamma
	return i
}
