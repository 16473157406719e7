//go:build !amd64

package gemm

func archImpls() []*impl { return nil }

func packT8(dst *float32, ldd int, src *float32, lds int, n int, alpha float32) {
	panic("gemm: packT8 is amd64 only")
}

func packT4(dst *float32, ldd int, src *float32, lds int, n int, alpha float32) {
	panic("gemm: packT4 is amd64 only")
}
