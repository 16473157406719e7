//go:build !amd64

package gemm

func archImpls() []*impl { return nil }

func packT8(dst *float32, ldd int, src *float32, lds int, n int, alpha float32, pf int) {
	panic("gemm: packT8 is amd64 only")
}

func packT4(dst *float32, ldd int, src *float32, lds int, n int, alpha float32, pf int) {
	panic("gemm: packT4 is amd64 only")
}

func packCopyAVX(dst *float32, ldd int, src *float32, lds int, rows, w int, alpha float32) {
	panic("gemm: packCopyAVX is amd64 only")
}

func prefetchL2(p *float32, ld int, rows, lines int) {}

var (
	bf16Impl    *impl
	bf16DotImpl *impl
	amxImpl     *impl
	bf16PackAsm = false
)

func packBF16Pairs(dst, src *float32, w, kq, tail int) { panic("gemm: no assembly") }

func convertBF16(dst *uint16, src *float32, n int) { panic("gemm: no assembly") }

func packAMXA(dst *uint16, src *float32, lds, rows, end, kc int, alpha float32, tail int) {
	panic("gemm: no assembly")
}

func pairsAMX(dst *uint32, src *float32, kc int) { panic("gemm: no assembly") }

func packPairsB(dst, src *float32, ldb, rows, panels, tail, pstride int) {
	panic("gemm: no assembly")
}

func sgemmKernelAMX(kc int, a, b, c *float32, ldc int, beta float32) { panic("gemm: no assembly") }
func sgemmPanelsAMX(kc int, a, b, c *float32, ldc int, beta float32, n int) {
	panic("gemm: no assembly")
}
