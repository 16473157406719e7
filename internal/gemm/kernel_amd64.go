//go:build amd64

package gemm

import "golang.org/x/sys/cpu"

//go:generate go run asm_gen.go

// sgemmKernelAVX512 is the 12×32 AVX-512F micro-kernel (see microKernel).
//
//go:noescape
func sgemmKernelAVX512(kc int, a, b, c *float32, ldc int, beta float32)

// sgemmKernelAVX2 is the 6×16 AVX2+FMA micro-kernel (see microKernel).
//
//go:noescape
func sgemmKernelAVX2(kc int, a, b, c *float32, ldc int, beta float32)

// packT8 sets dst[p*ldd+i] = alpha*src[i*lds+p] for i < 8 and p < n, a
// multiple of 8 (AVX).
//
//go:noescape
func packT8(dst *float32, ldd int, src *float32, lds int, n int, alpha float32)

// packT4 is packT8 for 4 rows.
//
//go:noescape
func packT4(dst *float32, ldd int, src *float32, lds int, n int, alpha float32)

var avx512Impl = &impl{
	kind: AVX512, mr: 12, nr: 32,
	kc: 256, mc: 12, nc: 1024,
	fn: sgemmKernelAVX512, asmPack: true,
}

var avx2Impl = &impl{
	kind: AVX2, mr: 6, nr: 16,
	kc: 256, mc: 6, nc: 512,
	fn: sgemmKernelAVX2, asmPack: true,
}

func archImpls() []*impl {
	var l []*impl
	if cpu.X86.HasAVX512F {
		l = append(l, avx512Impl)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		l = append(l, avx2Impl)
	}
	return l
}
