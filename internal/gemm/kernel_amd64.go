//go:build amd64

package gemm

import (
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/minmaxgan/minmax/internal/amx"
)

//go:generate go run asm_gen.go

// sgemmKernelAVX512 is the 12×32 AVX-512F micro-kernel (see microKernel).
//
//go:noescape
func sgemmKernelAVX512(kc int, a, b, c *float32, ldc int, beta float32)

// sgemmKernelAVX512r8, r4, c16, r8c16 and r4c16 are sgemmKernelAVX512 for
// the top-left 8×32, 4×32, 12×16, 8×16 and 4×16 corner of the tile.
//
//go:noescape
func sgemmKernelAVX512r8(kc int, a, b, c *float32, ldc int, beta float32)

//go:noescape
func sgemmKernelAVX512r4(kc int, a, b, c *float32, ldc int, beta float32)

//go:noescape
func sgemmKernelAVX512c16(kc int, a, b, c *float32, ldc int, beta float32)

//go:noescape
func sgemmKernelAVX512r8c16(kc int, a, b, c *float32, ldc int, beta float32)

//go:noescape
func sgemmKernelAVX512r4c16(kc int, a, b, c *float32, ldc int, beta float32)

// sgemmTapsAVX512 is sgemmKernelAVX512 reading A in place (see
// tapsKernel).
//
//go:noescape
func sgemmTapsAVX512(nseg int, seg *int, a *float32, rs int, b, c *float32, rows *int, mode int, bias *float32)

// sgemmRowVecAVX512 computes rows of C as combinations of rows of B, each
// element as sgemmKernelAVX512 computes it (rowVecKernel, asm_gen.go's
// rowVec512).
//
//go:noescape
func sgemmRowVecAVX512(rows, n, kc int, a *float32, ars, as int, b *float32, ldb int, c *float32, ldc int, mode int, bias *float32)

// sgemmRowsAVX512 is sgemmKernelAVX512 reading A through row pointers
// (see rowsKernel).
//
//go:noescape
func sgemmRowsAVX512(nseg int, seg *uintptr, b, c *float32, ldc int, beta float32, bias *float32)

// sgemmRowsBF16 is sgemmKernelBF16 reading A through row pointers to
// bfloat16 values (see rowsKernel): each step reads a pair of them, 4
// bytes, from every row.
//
//go:noescape
func sgemmRowsBF16(nseg int, seg *uintptr, b, c *float32, ldc int, beta float32, bias *float32)

// sgemmKernelBF16 is the 12×32 AVX-512 BF16 micro-kernel: microKernel's
// arithmetic on panels of bfloat16 pairs (see toPairs), ceil(kc/2) pair
// rows of them, with VDPBF16PS (encoded as bytes by asm_gen.go: the Go
// assembler has no mnemonic for it).
//
//go:noescape
func sgemmKernelBF16(kc int, a, b, c *float32, ldc int, beta float32)

// sgemmTapsBF16 is sgemmTapsAVX512 on bfloat16 pairs (sgemmKernelBF16's
// arithmetic): A's rows in place hold bfloat16 values, each 4-byte step a
// pair of consecutive ones, and B is packed in pair rows (toPairs).
//
//go:noescape
func sgemmTapsBF16(nseg int, seg *int, a *float32, rs int, b, c *float32, rows *int, mode int, bias *float32)

// convertBF16 sets dst[i] to the bits of src[i] rounded to bfloat16 for i
// < n, a multiple of 16, as BF16Bits rounds.
//
//go:noescape
func convertBF16(dst *uint16, src *float32, n int)

// packBF16Pairs turns kq pairs of float32 rows of w values at src into kq
// rows of bfloat16 pairs at dst (which may be src), rounding to nearest
// even; tail is the mask of the last w%16 columns. See toPairs.
//
//go:noescape
func packBF16Pairs(dst, src *float32, w, kq, tail int)

// packPairsB packs rows rows of a B (ldb apart) straight into pair
// panels of 32 columns, pstride floats apart (toPairs of packB's panels;
// see asm_gen.go's bf16PackB): a K chunk of a stored, untransposed B, or
// a run of its rows from their pair row on; tail holds the masks of the
// last panel's columns (pairsTail).
//
//go:noescape
func packPairsB(dst, src *float32, ldb, rows, panels, tail, pstride int)

// sgemmKernelAVX2 is the 6×16 AVX2+FMA micro-kernel (see microKernel).
//
//go:noescape
func sgemmKernelAVX2(kc int, a, b, c *float32, ldc int, beta float32)

// sgemmRowsAVX2 is sgemmKernelAVX2 reading A through row pointers (see
// rowsKernel): the first 6 addresses of each segment.
//
//go:noescape
func sgemmRowsAVX2(nseg int, seg *uintptr, b, c *float32, ldc int, beta float32, bias *float32)

// sgemmTapsWAVX2r12, r8 and r4 are the AVX2 direct weight-gradient
// kernels: wgrad512's tiles of 12, 8 and 4 rows by 32 columns, with its
// arguments and arithmetic, in passes of 6×16 or 4×16 (see asm_gen.go's
// wgrad256).
//
//go:noescape
func sgemmTapsWAVX2r12(nseg int, seg *int, a *float32, as int, b *float32, bs int, c *float32, ldc int, mode int)

//go:noescape
func sgemmTapsWAVX2r8(nseg int, seg *int, a *float32, as int, b *float32, bs int, c *float32, ldc int, mode int)

//go:noescape
func sgemmTapsWAVX2r4(nseg int, seg *int, a *float32, as int, b *float32, bs int, c *float32, ldc int, mode int)

// packT8 sets dst[p*ldd+i] = alpha*src[i*lds+p] for i < 8 and p < n, a
// multiple of 8 (AVX), prefetching the rows pf bytes beyond src's as it goes.
//
//go:noescape
func packT8(dst *float32, ldd int, src *float32, lds int, n int, alpha float32, pf int)

// packT4 is packT8 for 4 rows.
//
//go:noescape
func packT4(dst *float32, ldd int, src *float32, lds int, n int, alpha float32, pf int)

// packCopyAVX sets dst[r*ldd+i] = alpha*src[r*lds+i] for r < rows and
// i < w (AVX).
//
//go:noescape
func packCopyAVX(dst *float32, ldd int, src *float32, lds int, rows, w int, alpha float32)

// prefetchL2 prefetches into L2 the first lines cache lines of rows rows
// starting at p, ld floats apart. Prefetches never fault.
//
//go:noescape
func prefetchL2(p *float32, ld int, rows, lines int)

// sdotAVX2 returns sum a[i]*x[i] for i < n (AVX2+FMA).
//
//go:noescape
func sdotAVX2(n int, a, x *float32) float32

// sdot4AVX2 sets y[r] = sum a[r*lda+i]*x[i] over i < n for r < 4, each
// computed exactly as sdotAVX2 would (AVX2+FMA).
//
//go:noescape
func sdot4AVX2(n int, a *float32, lda int, x, y *float32)

// saxpyAVX2 sets y[i] = fma(alpha, x[i], y[i]) for i < n (AVX2+FMA).
//
//go:noescape
func saxpyAVX2(n int, alpha float32, x, y *float32)

func dotAVX2(a, x []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	_ = x[len(a)-1]
	return sdotAVX2(len(a), &a[0], &x[0])
}

func dot4AVX2(a []float32, lda int, x, y []float32) {
	n := len(x)
	if n == 0 {
		clear(y[:4])
		return
	}
	_ = a[3*lda+n-1]
	_ = y[3]
	sdot4AVX2(n, &a[0], lda, &x[0], &y[0])
}

func axpyAVX2(alpha float32, x, y []float32) {
	if len(x) == 0 {
		return
	}
	_ = y[len(x)-1]
	saxpyAVX2(len(x), alpha, &x[0], &y[0])
}

var avx512Impl = &impl{
	kind:     AVX512,
	mr:       12,
	nr:       32,
	kc:       256,
	mc:       192,
	nc:       1024,
	fn:       sgemmKernelAVX512,
	edge:     avx512Edge,
	taps:     sgemmTapsAVX512,
	rows:     sgemmRowsAVX512,
	rowVec:   sgemmRowVecAVX512,
	wgrad:    [3]tapsWKernel{sgemmTapsWAVX512r4, sgemmTapsWAVX512r8, sgemmTapsWAVX512r12},
	wgradSeg: [3]tapsWKernel{sgemmTapsWSegAVX512r4, sgemmTapsWSegAVX512r8, sgemmTapsWSegAVX512r12},
	asmPack:  true,
	dot:      dotAVX2,
	dot4:     dot4AVX2,
	axpy:     axpyAVX2,
}

// avx512Edges[r][c] covers 4(r+1) rows and 16(c+1) columns.
var avx512Edges = [3][2]edgeKernel{
	{{sgemmKernelAVX512r4c16, 4, 16}, {sgemmKernelAVX512r4, 4, 32}},
	{{sgemmKernelAVX512r8c16, 8, 16}, {sgemmKernelAVX512r8, 8, 32}},
	{{sgemmKernelAVX512c16, 12, 16}, {sgemmKernelAVX512, 12, 32}},
}

func avx512Edge(rows, cols int) edgeKernel {
	return avx512Edges[(rows-1)/4][(cols-1)/16]
}

var avx2Impl = &impl{
	kind:    AVX2,
	mr:      6,
	nr:      16,
	kc:      256,
	mc:      192,
	nc:      1024,
	fn:      sgemmKernelAVX2,
	rows:    sgemmRowsAVX2,
	wgrad:   [3]tapsWKernel{sgemmTapsWAVX2r4, sgemmTapsWAVX2r8, sgemmTapsWAVX2r12},
	asmPack: true,
	dot:     dotAVX2,
	dot4:    dot4AVX2,
	axpy:    axpyAVX2,
}

// The direct weight-gradient kernels (see asm_gen.go's wgrad512 and
// tapsWKernel), float32 and bfloat16, for 12, 8 and 4 rows.
//
//go:noescape
func sgemmTapsWAVX512r12(nseg int, seg *int, a *float32, as int, b *float32, bs int, c *float32, ldc int, mode int)

//go:noescape
func sgemmTapsWAVX512r8(nseg int, seg *int, a *float32, as int, b *float32, bs int, c *float32, ldc int, mode int)

//go:noescape
func sgemmTapsWAVX512r4(nseg int, seg *int, a *float32, as int, b *float32, bs int, c *float32, ldc int, mode int)

// sgemmTapsWSegAVX512r12, r8 and r4 are the float32 weight-gradient
// kernels on segments of three words (asm_gen.go's wgrad512 with aseg):
// the images read without their padding (Taps.Unpadded).
//
//go:noescape
func sgemmTapsWSegAVX512r12(nseg int, seg *int, a *float32, as int, b *float32, bs int, c *float32, ldc int, mode int)

//go:noescape
func sgemmTapsWSegAVX512r8(nseg int, seg *int, a *float32, as int, b *float32, bs int, c *float32, ldc int, mode int)

//go:noescape
func sgemmTapsWSegAVX512r4(nseg int, seg *int, a *float32, as int, b *float32, bs int, c *float32, ldc int, mode int)

//go:noescape
func sgemmTapsWBF16r12(nseg int, seg *int, a *float32, as int, b *float32, bs int, c *float32, ldc int, mode int)

//go:noescape
func sgemmTapsWBF16r8(nseg int, seg *int, a *float32, as int, b *float32, bs int, c *float32, ldc int, mode int)

//go:noescape
func sgemmTapsWBF16r4(nseg int, seg *int, a *float32, as int, b *float32, bs int, c *float32, ldc int, mode int)

// bf16Impl is the bfloat16 kernel Sgemm uses at that precision (nil
// where the CPU has none): AMX where the CPU and the OS have it, else
// AVX-512 BF16.
var bf16Impl = bf16Best()

func bf16Best() *impl {
	if amxImpl != nil {
		return amxImpl
	}
	return bf16DotImpl
}

// bf16DotImpl is the AVX-512 BF16 kernel (nil where the CPU lacks it): the
// float32 kernel's tile and blocking, on panels turned into bfloat16 pairs
// after packing, multiplied by VDPBF16PS. Matrix-vector products keep the
// float32 helpers.
var bf16DotImpl = func() *impl {
	if !cpu.X86.HasAVX512F || !cpu.X86.HasAVX512BF16 {
		return nil
	}
	im := *avx512Impl
	im.fn, im.edge, im.bf16, im.taps, im.rows = sgemmKernelBF16, nil, true, sgemmTapsBF16, sgemmRowsBF16
	im.wgrad = [3]tapsWKernel{sgemmTapsWBF16r4, sgemmTapsWBF16r8, sgemmTapsWBF16r12}
	im.wgradSeg, im.rowVec = [3]tapsWKernel{}, nil // float32 only
	return &im
}()

// sgemmKernelAMX is the 32×32 AMX BF16 micro-kernel (see asm_gen.go's
// amxKernel): A in toAMXA's layout, B in pair rows padded by padAMXB.
// beta must be 0 or 1 (amxKernel scales C for other values).
//
//go:noescape
func sgemmKernelAMX(kc int, a, b, c *float32, ldc int, beta float32)

// sgemmPanelsAMX is sgemmKernelAMX on n panels of B, 32·kc floats apart,
// into n tiles of C side by side, the tile configuration loaded once (see
// asm_gen.go's amxPanels). beta must be 0 or 1.
//
//go:noescape
func sgemmPanelsAMX(kc int, a, b, c *float32, ldc int, beta float32, n int)

// packAMXA packs end rows of float32 (rows of them from src, lds apart,
// zero after) times alpha into the AMX kernel's A layout at dst (see
// toAMXA), rounding as convertBF16: a whole micro-panel with end 32, or
// from dst 32·r0 uint16s on its rows r0 to r0+end. tail holds the load
// masks of the last kc%32 columns' two halves (amxTail).
//
//go:noescape
func packAMXA(dst *uint16, src *float32, lds, rows, end, kc int, alpha float32, tail int)

// pairsAMX writes the AMX kernel's A layout (toAMXA) at dst from a packed
// float32 panel of kc rows of 32 values at src (not overlapping dst).
//
//go:noescape
func pairsAMX(dst *uint32, src *float32, kc int)

// amxScatterIndex holds the byte offsets of 16 rows of an AMX A tile, 64
// bytes apart, for pairsAMX's scatters.
var amxScatterIndex = [16]int32{0, 64, 128, 192, 256, 320, 384, 448, 512, 576, 640, 704, 768, 832, 896, 960}

// sgemmTapsAMX is sgemmKernelAMX reading A in place (see tapsKernel and
// asm_gen.go's amxTaps): strips of 32 grid positions, segments of
// multiples of 16 pairs.
//
//go:noescape
func sgemmTapsAMX(nseg int, seg *int, a *float32, rs int, b, c *float32, rows *int, mode int, bias *float32)

// amxConfig is the tile configuration the AMX kernels load (amx.Config,
// copied here for the assembly, which cannot name another package's
// variables).
var amxConfig = amx.Config

// amxKernel is sgemmKernelAMX for any beta: C is scaled by beta first
// where beta is neither 0 nor 1, so that beta·C is rounded to float32
// before the products are added, as on every path.
func amxKernel(kc int, a, b, c *float32, ldc int, beta float32) {
	if beta != 0 && beta != 1 {
		s := unsafe.Slice(c, 31*ldc+32)
		for i := range 32 {
			for j := range 32 {
				s[i*ldc+j] *= beta
			}
		}
		beta = 1
	}
	sgemmKernelAMX(kc, a, b, c, ldc, beta)
}

// amxImpl is the AMX BF16 kernel (nil where the CPU or the OS lacks it):
// 32×32 tiles of C summed by TDPBF16PS, on the BF16 kernel's pair panels
// (B) and AMX row blocks (A), with a direct-convolution form
// (sgemmTapsAMX, for channels in multiples of 32) but no rows or
// weight-gradient forms: those products pack their operands.
var amxImpl = func() *impl {
	if bf16DotImpl == nil || !amx.Available() {
		return nil
	}
	im := *bf16DotImpl
	im.mr, im.nr = 32, 32
	im.fn, im.edge, im.amx, im.panels = amxKernel, nil, true, sgemmPanelsAMX
	im.taps, im.rows, im.wgrad = sgemmTapsAMX, nil, [3]tapsWKernel{}
	return &im
}()

// bf16PackAsm says packBF16Pairs may be used.
var bf16PackAsm = cpu.X86.HasAVX512F

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
