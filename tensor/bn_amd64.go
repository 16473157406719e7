//go:build amd64

package tensor

//go:noescape
func bnSumAVX2(a *float64, x *float32, n int)

//go:noescape
func bnSqAVX2(b *float64, x *float32, mean *float64, n int)

//go:noescape
func bnGradAVX2(a, b *float64, gr, x *float32, n int)

//go:noescape
func sumSqAVX2(s *float64, x *float32, n int)

//go:noescape
func bnAffineAVX2(y, x, s, t *float32, n int)

//go:noescape
func bnDxAVX2(dx, gr, x, k, m, q *float32, n int)

// The simd* functions do the head of a row kernel whose length is a
// multiple of the kernel's width and return how many elements they did.

func simdBNSum(a []float64, x []float32) int {
	n := len(x) &^ 3
	if !useAVX2 || n == 0 {
		return 0
	}
	bnSumAVX2(&a[0], &x[0], n)
	return n
}

// simdSumSq adds the squares of the multiple-of-32 head of x into the
// lanes s (SumSquares) and returns how many elements it did.
func simdSumSq(s *[sumSqLanes]float64, x []float32) int {
	n := len(x) &^ (sumSqLanes - 1)
	if !useAVX2 || n == 0 {
		return 0
	}
	sumSqAVX2(&s[0], &x[0], n)
	return n
}

func simdBNSq(b []float64, x []float32, mean []float64) int {
	n := len(x) &^ 3
	if !useAVX2 || n == 0 {
		return 0
	}
	bnSqAVX2(&b[0], &x[0], &mean[0], n)
	return n
}

func simdBNGrad(a, b []float64, g, x []float32) int {
	n := len(g) &^ 3
	if !useAVX2 || n == 0 {
		return 0
	}
	bnGradAVX2(&a[0], &b[0], &g[0], &x[0], n)
	return n
}

func simdBNAffine(y, x, s, t []float32) int {
	n := len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	bnAffineAVX2(&y[0], &x[0], &s[0], &t[0], n)
	return n
}

func simdBNDx(dx, g, x, k, m, q []float32) int {
	n := len(dx) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	bnDxAVX2(&dx[0], &g[0], &x[0], &k[0], &m[0], &q[0], n)
	return n
}
