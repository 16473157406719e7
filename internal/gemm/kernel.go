package gemm

import (
	"fmt"
	"sync/atomic"
)

// Kernel names a micro-kernel implementation (an instruction-set path).
type Kernel int

const (
	// Generic is the portable pure-Go micro-kernel, available everywhere.
	Generic Kernel = iota
	// AVX2 is the AVX2+FMA assembly micro-kernel (amd64).
	AVX2
	// AVX512 is the AVX-512F assembly micro-kernel (amd64).
	AVX512
)

// String returns the kernel's name: "generic", "avx2" or "avx512".
func (k Kernel) String() string {
	switch k {
	case Generic:
		return "generic"
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return fmt.Sprintf("Kernel(%d)", int(k))
}

// microKernel computes the mr×nr tile
//
//	C[i][j] = beta*C[i][j] + sum_p a[p*mr+i] * b[p*nr+j]
//
// for one packed A micro-panel (kc×mr) and one packed B micro-panel (kc×nr).
// c points at C[0][0] and ldc is C's row stride in elements. beta == 0
// stores without reading C; beta == 1 adds; otherwise the product beta*C is
// rounded to float32 before the sum is added, on every path.
type microKernel func(kc int, a, b, c *float32, ldc int, beta float32)

// edgeKernel is a micro-kernel that computes only the top-left rows×cols
// corner of a tile.
type edgeKernel struct {
	fn         microKernel
	rows, cols int
}

// impl describes one kernel: its tile shape, its cache blocking and the
// function itself.
type impl struct {
	kind   Kernel
	mr, nr int // register tile
	kc     int // depth of a packed panel (L1/L2 blocking)
	mc     int // rows of a packed A block, a multiple of mr
	nc     int // columns of a packed B block, a multiple of nr
	fn     microKernel
	// edge, if set, returns for a tile cut to rows×cols by the edge of C
	// the cheapest kernel whose corner covers it, computing each element
	// exactly as fn does.
	edge func(rows, cols int) edgeKernel
	// dot and axpy are the matrix-vector helpers (see gemv.go):
	// dot returns sum a[i]*x[i] over len(a), axpy sets y[i] += alpha*x[i]
	// over len(x).
	dot  func(a, x []float32) float32
	axpy func(alpha float32, x, y []float32)
	// dot4, if set, computes four dot products at once:
	// y[r] = dot(a[r*lda:r*lda+len(x)], x) for r < 4, each exactly as dot.
	dot4 func(a []float32, lda int, x, y []float32)
	// taps, if set, is the direct-convolution form of fn (SgemmTaps),
	// for mr == 12 and nr == 32.
	taps tapsKernel
	// rows, if set, is fn reading A in place through row pointers
	// (rowsKernel), with mr at most rowsMR.
	rows rowsKernel
	// wgrad, if set, are the direct weight-gradient kernels (SgemmTapsW)
	// for tiles of 4, 8 and 12 rows by 32 columns.
	wgrad [3]tapsWKernel
	// wgradSeg, if set, are wgrad's float32 forms for images read
	// without their padding (Taps.Unpadded): segments of three words.
	wgradSeg [3]tapsWKernel
	// rowVec, if set (float32 kernels only), computes rows of C as
	// combinations of rows of B (thin products, see thin.go), each
	// element as fn computes it.
	rowVec rowVecKernel
	// asmPack says the transposing packers packT8 and packT4 may be used.
	asmPack bool
	// bf16 says fn reads panels of bfloat16 pairs: every packed panel is
	// turned into them (toPairs) after packing.
	bf16 bool
	// amx says fn is the AMX kernel: B panels of bfloat16 pairs padded to
	// 16 pair rows (padAMXB), A micro-panels in row blocks (toAMXA).
	amx bool
	// panels, if set, is fn on n full panels of B side by side (32·kc
	// floats apart, as packed) into n tiles of C side by side, each as fn
	// computes it, for beta 0 or 1: one call where the AMX kernel would
	// load its tile configuration n times.
	panels func(kc int, a, b, c *float32, ldc int, beta float32, n int)
}

var (
	// impls holds the kernels this CPU can run, best first.
	impls []*impl
	// current is the kernel Sgemm uses.
	current atomic.Pointer[impl]
)

func init() {
	impls = append(archImpls(), genericImpl)
	current.Store(impls[0])
}

// Available returns the kernels this CPU can run, best first. The first
// one is the default.
func Available() []Kernel {
	ks := make([]Kernel, len(impls))
	for i, im := range impls {
		ks[i] = im.kind
	}
	return ks
}

// Current returns the kernel Sgemm uses.
func Current() Kernel { return current.Load().kind }

// Use makes Sgemm use kernel k from now on. It returns an error, and changes
// nothing, if this CPU cannot run k. It is meant for tests and benchmarks
// and must not be called while Sgemm is running on another goroutine if
// results are expected to come from one kernel.
func Use(k Kernel) error {
	for _, im := range impls {
		if im.kind == k {
			current.Store(im)
			return nil
		}
	}
	return fmt.Errorf("gemm: kernel %v is not available on this CPU", k)
}
