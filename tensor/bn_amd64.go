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

//go:noescape
func bnSumRows512(a *float64, x *float32, rows, c, n int)

//go:noescape
func bnSqRows512(b *float64, x *float32, mean *float64, rows, c, n int)

//go:noescape
func bnGradRows512(a, b *float64, gr, x *float32, rows, c, n int)

//go:noescape
func bnAffineRows512(y, x, s, t *float32, rows, c, n int)

//go:noescape
func bnDxRows512(dx, gr, x, k, m, q *float32, rows, c, n int)

// The simdBN*Rows functions do the first columns of a block of rows rows
// of c values (rows ≥ 1) with the AVX-512 block kernels and return how
// many columns they did (0 without AVX-512); the callers do the rest row
// by row.

func simdBNSumRows(a []float64, x []float32, rows, c int) int {
	n := c &^ 7
	if !useAVX512 || n == 0 {
		return 0
	}
	_, _ = a[n-1], x[rows*c-1]
	bnSumRows512(&a[0], &x[0], rows, c, n)
	return n
}

func simdBNSqRows(b []float64, x []float32, mean []float64, rows, c int) int {
	n := c &^ 7
	if !useAVX512 || n == 0 {
		return 0
	}
	_, _, _ = b[n-1], mean[n-1], x[rows*c-1]
	bnSqRows512(&b[0], &x[0], &mean[0], rows, c, n)
	return n
}

func simdBNGradRows(a, b []float64, g, x []float32, rows, c int) int {
	n := c &^ 7
	if !useAVX512 || n == 0 {
		return 0
	}
	_, _, _, _ = a[n-1], b[n-1], g[rows*c-1], x[rows*c-1]
	bnGradRows512(&a[0], &b[0], &g[0], &x[0], rows, c, n)
	return n
}

func simdBNAffineRows(y, x, s, t []float32, rows, c int) int {
	n := c &^ 15
	if !useAVX512 || n == 0 {
		return 0
	}
	_, _, _, _ = y[rows*c-1], x[rows*c-1], s[n-1], t[n-1]
	bnAffineRows512(&y[0], &x[0], &s[0], &t[0], rows, c, n)
	return n
}

func simdBNDxRows(dx, g, x, k, m, q []float32, rows, c int) int {
	n := c &^ 15
	if !useAVX512 || n == 0 {
		return 0
	}
	_, _, _ = dx[rows*c-1], g[rows*c-1], x[rows*c-1]
	_, _, _ = k[n-1], m[n-1], q[n-1]
	bnDxRows512(&dx[0], &g[0], &x[0], &k[0], &m[0], &q[0], rows, c, n)
	return n
}
