//go:build amd64

package tensor

import "golang.org/x/sys/cpu"

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
	reluAVX2(&dst[0], &x[0], n)
	return n
}

func simdReLUMask(dst, x, g []float32) int {
	n := len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	reluMaskAVX2(&dst[0], &x[0], &g[0], n)
	return n
}

func simdLeaky(dst, x, g []float32, slope float32) int {
	n := len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	leakyAVX2(&dst[0], &x[0], &g[0], n, slope)
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
	binAVX2(op, &dst[0], &a[0], &b[0], n)
	return n
}

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
