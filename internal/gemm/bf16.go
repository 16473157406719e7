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
	// AVX-512 BF16's VDPBF16PS (twice the multiply-adds per instruction of
	// Float32) or, where the CPU and the OS have it, AMX's TDPBF16PS on
	// 16×16 tiles (BF16Kernel), accumulating in float32, with products
	// accurate to about 2^-8 relatively instead of 2^-24. C, alpha and beta stay
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

// BF16Kernel names the kernel Sgemm's bfloat16 products run on: "amx"
// (Intel AMX's TDPBF16PS on tiles), "avx512-bf16" (VDPBF16PS) or "" where
// the CPU has neither.
func BF16Kernel() string {
	switch {
	case bf16Impl == nil:
		return ""
	case bf16Impl.amx:
		return "amx"
	}
	return "avx512-bf16"
}

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

// amxRows and amxPairs are the shape of an AMX tile of A as the AMX
// kernel reads it: 16 rows of 16 bfloat16 pairs (64 bytes).
const (
	amxRows  = 16
	amxPairs = 16
)

// toAMXA turns a packed float32 A micro-panel of 32 rows (kc rows of 32
// values, as packA writes it) into the AMX kernel's layout in place: for
// each block b of 16 pair steps, 32 rows of 16 words, word w of row r
// holding bfloat16(A[r][32b+2w]) in its low half and bfloat16(A[r][32b+2w+1])
// in its high half (0 past kc). A block is 2 KiB, two tiles of 16 rows.
// The panel has room: ceil(kc/32) blocks fit in 32·kc floats when kc >= 16.
func toAMXA(panel []float32, kc int, ws *workspace) {
	kq := (kc + 1) / 2
	nb := (kq + amxPairs - 1) / amxPairs
	n := nb * 2 * amxRows * amxPairs
	if len(ws.amx) < n {
		ws.amx = make([]uint32, n)
	}
	t := ws.amx[:n]
	u := unsafe.Slice((*uint32)(unsafe.Pointer(&panel[0])), len(panel))
	if bf16PackAsm {
		_ = panel[32*kc-1]
		pairsAMX(&t[0], &panel[0], kc)
	} else {
		toAMXAGo(t, u, kc)
	}
	copy(u, t)
}

// toAMXAGo is pairsAMX in Go: t receives the AMX layout of the float32
// panel whose bits are u.
func toAMXAGo(t, u []uint32, kc int) {
	nb := len(t) / (2 * amxRows * amxPairs)
	for b := range nb {
		blk := t[b*2*amxRows*amxPairs : (b+1)*2*amxRows*amxPairs]
		for w := range amxPairs {
			p := 2 * (b*amxPairs + w)
			var lo, hi []uint32
			if p < kc {
				lo = u[p*32 : p*32+32]
			}
			if p+1 < kc {
				hi = u[(p+1)*32 : (p+1)*32+32]
			}
			for r := range 32 {
				var word uint32
				if lo != nil {
					word = uint32(BF16Bits(math.Float32frombits(lo[r])))
				}
				if hi != nil {
					word |= uint32(BF16Bits(math.Float32frombits(hi[r]))) << 16
				}
				blk[r*amxPairs+w] = word
			}
		}
	}
}

// padAMXB zeroes the pair rows of a B panel of 32 columns (after toPairs)
// from ceil(kc/2) up to a multiple of 16, which the AMX kernel reads as
// whole tiles.
func padAMXB(panel []float32, kc int) {
	kq := (kc + 1) / 2
	pad := (kq + amxPairs - 1) / amxPairs * amxPairs
	clear(panel[kq*32 : pad*32])
}

// amxTail returns packAMXA's masks for kc columns: those of the last
// kc%32 columns' first and second 16 (0 when kc is a multiple of 32).
func amxTail(kc int) int { return halfMasks(kc % 32) }

// packAMXMicro packs the A micro-panel of rows [i0, i0+rows), columns
// [p0, p0+kc) of a stored untransposed or computed A straight into the
// AMX kernel's layout (packAMXA): a stored A from its rows, a computed
// one from its rows gathered into ws.rows.
func (j *job) packAMXMicro(ws *workspace, dst []float32, i0, rows, p0, kc int) {
	d := (*uint16)(unsafe.Pointer(&dst[0]))
	_ = dst[32*kc-1]
	tail := amxTail(kc)
	if j.ga == nil {
		_ = j.a[(i0+rows-1)*j.lda+p0+kc-1]
		packAMXA(d, &j.a[i0*j.lda+p0], j.lda, rows, 32, kc, j.alpha, tail)
		return
	}
	if s, ok := j.ga.(StridedRows); ok && s.Span(p0, kc) >= kc {
		// Runs of rows evenly apart in memory (a strided convolution's
		// patches, a K chunk within one kernel row) are packed from
		// where they lie; only rows over the padding are gathered.
		// (patches.Row's copies were 2.4% of dcgan28's bfloat16 step on
		// AMX at 1 thread.)
		for i := 0; i < rows; {
			src, ld, n := s.Run(i0+i, rows-i, p0)
			di := (*uint16)(unsafe.Add(unsafe.Pointer(d), 64*i))
			if src == nil {
				buf := ws.rows[:n*kc]
				for t := range n {
					j.ga.Row(buf[t*kc:(t+1)*kc], i0+i+t, p0)
				}
				src, ld = buf, kc
			}
			_ = src[(n-1)*ld+kc-1]
			packAMXA(di, &src[0], ld, n, n, kc, j.alpha, tail)
			i += n
		}
		if rows < 32 {
			// Rows [rows, 32) zero: no row is read (rows 0), src is a
			// placeholder.
			packAMXA((*uint16)(unsafe.Add(unsafe.Pointer(d), 64*rows)), &dst[0], kc, 0, 32-rows, kc, 1, tail)
		}
		return
	}
	buf := ws.rows[:rows*kc]
	for i := range rows {
		j.ga.Row(buf[i*kc:(i+1)*kc], i0+i, p0)
	}
	packAMXA(d, &buf[0], kc, rows, 32, kc, j.alpha, tail)
}

// amxEdge computes a rows×cols corner tile of C with the AMX kernel. The
// kernel sums onto C inside its tile registers (C first, then the
// products), so the corner is copied into ws.tile, summed there and
// copied back: every element of C sees the same operations whether its
// tile is whole or cut by C's edge, as RowBlocks requires.
func amxEdge(im *impl, ws *workspace, kc int, a, b *float32, c []float32, ldc, rows, cols int, beta float32) {
	t := ws.tile[:]
	if beta != 0 {
		for i := range rows {
			copy(t[i*32:i*32+cols], c[i*ldc:i*ldc+cols])
		}
	}
	im.fn(kc, a, b, &t[0], 32, beta)
	for i := range rows {
		copy(c[i*ldc:i*ldc+cols], t[i*32:i*32+cols])
	}
}

// pairsTail returns packPairsB's masks for a last panel of cols columns
// (1 to 32): those of its first and second 16.
func pairsTail(cols int) int { return halfMasks(cols) }

// halfMasks returns the load masks of the first n (0 to 32) of 32
// columns read as two halves of 16: the first half's in bits 0-15, the
// second's in bits 16-31.
func halfMasks(n int) int {
	lo, hi := min(n, 16), max(n-16, 0)
	return (1<<lo - 1) | (1<<hi-1)<<16
}
