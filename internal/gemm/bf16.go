package gemm

import (
	"fmt"
	"math"
	"sync/atomic"
	"unsafe"
)

// Precision is the arithmetic of Sgemm's products.
type Precision int32

const (
	// Float32 multiplies and adds in float32 (the default).
	Float32 Precision = iota
	// BFloat16 rounds A and B to bfloat16 (8 significant bits, round to
	// nearest even) while packing them and multiplies pairs of them with
	// AVX-512 BF16's VDPBF16PS, accumulating in float32: twice the
	// multiply-adds per instruction of Float32, with products accurate to
	// about 2^-8 relatively instead of 2^-24. C, alpha and beta stay
	// float32. Matrix-vector products (m == 1 or n == 1), which are
	// memory-bound, stay in float32.
	BFloat16
)

// String returns "fp32" or "bf16".
func (p Precision) String() string {
	switch p {
	case Float32:
		return "fp32"
	case BFloat16:
		return "bf16"
	}
	return fmt.Sprintf("Precision(%d)", int32(p))
}

// precision is the Precision Sgemm uses.
var precision atomic.Int32

// HasBFloat16 reports whether this CPU runs the BFloat16 kernel (AVX-512
// with the BF16 extension: Intel Cooper Lake and Sapphire Rapids, AMD Zen
// 4 and later).
func HasBFloat16() bool { return bf16Impl != nil }

// SetPrecision makes Sgemm compute in p from now on. It returns an error,
// and changes nothing, when this CPU cannot (BFloat16 without AVX-512
// BF16). Like Use, it is process-wide and must not be called while Sgemm
// runs on another goroutine if results are expected in one precision.
func SetPrecision(p Precision) error {
	switch {
	case p == BFloat16 && bf16Impl == nil:
		return fmt.Errorf("gemm: bfloat16 needs a CPU with AVX-512 BF16 (VDPBF16PS); this one has none: use float32")
	case p != Float32 && p != BFloat16:
		return fmt.Errorf("gemm: unknown precision %d", int32(p))
	}
	precision.Store(int32(p))
	return nil
}

// CurrentPrecision returns the Precision Sgemm uses.
func CurrentPrecision() Precision { return Precision(precision.Load()) }

// BF16Bits rounds x to bfloat16, to nearest with ties to even, and returns
// its bits: the high half of a float32's. A NaN stays a NaN (quieted); an
// infinity stays infinite; a value beyond the largest bfloat16 rounds to
// infinity.
func BF16Bits(x float32) uint16 {
	b := math.Float32bits(x)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// RoundBF16 returns x rounded to bfloat16, as a float32.
func RoundBF16(x float32) float32 { return math.Float32frombits(uint32(BF16Bits(x)) << 16) }

// toPairs turns a packed float32 panel of kc rows of w values (A: w = MR,
// B: w = NR) into ceil(kc/2) rows of w 32-bit words in place: word j of
// pair row q holds bfloat16(row 2q)[j] in its low half and bfloat16(row
// 2q+1)[j] (0 past the last row) in its high half, the layout VDPBF16PS
// reads.
func toPairs(panel []float32, w, kc int) {
	if kc == 0 {
		return
	}
	u := unsafe.Slice((*uint32)(unsafe.Pointer(&panel[0])), len(panel))
	if kq := kc / 2; kq > 0 {
		if bf16PackAsm {
			packBF16Pairs(&panel[0], &panel[0], w, kq, (1<<(w%16))-1)
		} else {
			toPairsGo(u, w, kq)
		}
	}
	if kc%2 == 1 {
		q := kc / 2
		src, dst := u[(kc-1)*w:kc*w], u[q*w:(q+1)*w]
		for j := range dst {
			dst[j] = uint32(BF16Bits(math.Float32frombits(src[j])))
		}
	}
}

// toPairsGo is packBF16Pairs in Go, for CPUs without the assembly and for
// tests.
func toPairsGo(u []uint32, w, kq int) {
	for q := range kq {
		r0, r1, dst := u[2*q*w:(2*q+1)*w], u[(2*q+1)*w:(2*q+2)*w], u[q*w:(q+1)*w]
		for j := range dst {
			lo := BF16Bits(math.Float32frombits(r0[j]))
			hi := BF16Bits(math.Float32frombits(r1[j]))
			dst[j] = uint32(lo) | uint32(hi)<<16
		}
	}
}

// ToBF16 sets dst[i] = BF16Bits(src[i]) for every i < len(src) (dst at
// least as long), in assembly where the CPU has AVX-512.
func ToBF16(dst []uint16, src []float32) {
	n := len(src)
	if n == 0 {
		return
	}
	_ = dst[n-1]
	v := 0
	if bf16PackAsm {
		v = n &^ 15
		if v > 0 {
			convertBF16(&dst[0], &src[0], v)
		}
	}
	for i := v; i < n; i++ {
		dst[i] = BF16Bits(src[i])
	}
}
