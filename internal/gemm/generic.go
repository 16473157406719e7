package gemm

import "unsafe"

// genericImpl is the portable kernel: a 4×4 register tile in plain Go.
var genericImpl = &impl{
	kind: Generic,
	mr:   4,
	nr:   4,
	kc:   256,
	mc:   64,
	nc:   256,
	fn:   sgemmKernelGeneric,
	dot:  dotGo,
	axpy: axpyGo,
}

// sgemmKernelGeneric is the pure-Go 4×4 micro-kernel (see microKernel).
func sgemmKernelGeneric(kc int, a, b, c *float32, ldc int, beta float32) {
	const mr, nr = 4, 4
	as := unsafe.Slice(a, kc*mr)
	bs := unsafe.Slice(b, kc*nr)
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	for len(as) >= mr && len(bs) >= nr {
		a0, a1, a2, a3 := as[0], as[1], as[2], as[3]
		b0, b1, b2, b3 := bs[0], bs[1], bs[2], bs[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		as = as[mr:]
		bs = bs[nr:]
	}
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	store4(cs[0*ldc:0*ldc+4], c00, c01, c02, c03, beta)
	store4(cs[1*ldc:1*ldc+4], c10, c11, c12, c13, beta)
	store4(cs[2*ldc:2*ldc+4], c20, c21, c22, c23, beta)
	store4(cs[3*ldc:3*ldc+4], c30, c31, c32, c33, beta)
}

func store4(c []float32, x0, x1, x2, x3, beta float32) {
	c = c[:4]
	switch beta {
	case 0:
		c[0], c[1], c[2], c[3] = x0, x1, x2, x3
	case 1:
		c[0] += x0
		c[1] += x1
		c[2] += x2
		c[3] += x3
	default:
		c[0] = float32(beta*c[0]) + x0
		c[1] = float32(beta*c[1]) + x1
		c[2] = float32(beta*c[2]) + x2
		c[3] = float32(beta*c[3]) + x3
	}
}
