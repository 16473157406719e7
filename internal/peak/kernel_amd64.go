//go:build amd64

package peak

import (
	"sync"

	"golang.org/x/sys/cpu"

	"github.com/minmaxgan/minmax/internal/amx"
)

//go:generate go run asm_gen.go

// fmaAVX512 runs n iterations of 48 VFMADD231PS zmm (24 accumulator chains,
// each advanced twice per iteration) and stores the sum of the
// accumulators to sum. The multiplicands are ab[0:16] and ab[16:32] as
// float32 bits.
//
//go:noescape
func fmaAVX512(n int, ab *[32]uint32, sum *[16]float32)

// dotBF16AVX512 is fmaAVX512 with VDPBF16PS: the multiplicands are 32
// bfloat16 values each (ab[i] holds the pair hi<<16 | lo).
//
//go:noescape
func dotBF16AVX512(n int, ab *[32]uint32, sum *[16]float32)

// fmaAVX2 runs n iterations of 24 VFMADD231PS ymm (12 chains) on ab[0:8]
// and ab[16:24] and stores the sum of the accumulators to sum[0:8].
//
//go:noescape
func fmaAVX2(n int, ab *[32]uint32, sum *[16]float32)

// tdpAMX runs n iterations of TDPBF16PS on six tile accumulators (see
// asm_gen.go's loopAMX), with the tile configuration cfg, A and B tiles
// from ab, and stores the accumulators to acc.
//
//go:noescape
func tdpAMX(n int, cfg *[64]byte, ab *[2048]byte, acc *[6144]float32)

// The dpbf16Once functions load ZD, ZS1 and ZS2 from acc, a and b, run one
// VDPBF16PS ZD, ZS1, ZS2 (Intel order) from the generator's encoder and
// store ZD to acc: the test of that encoder.

//go:noescape
func dpbf16Once_0_1_2(acc *[16]float32, a, b *[16]uint32)

//go:noescape
func dpbf16Once_9_10_11(acc *[16]float32, a, b *[16]uint32)

//go:noescape
func dpbf16Once_17_18_20(acc *[16]float32, a, b *[16]uint32)

//go:noescape
func dpbf16Once_31_30_29(acc *[16]float32, a, b *[16]uint32)

//go:noescape
func dpbf16Once_5_24_13(acc *[16]float32, a, b *[16]uint32)

//go:noescape
func dpbf16Once_26_7_19(acc *[16]float32, a, b *[16]uint32)

//go:noescape
func dpbf16Once_12_28_3(acc *[16]float32, a, b *[16]uint32)

// The multiplicands of the loops. Every instruction adds exactly 2⁻²⁰ to
// each lane of its accumulator (2⁻¹⁰·2⁻¹⁰ for an FMA, 2·2⁻¹⁰·2⁻¹¹ for a
// BF16 pair dot), a normal number: no accumulator nears a denormal or an
// infinity, and until one reaches 16 (2²⁴ instructions, where the
// increment becomes half its last place and it stops growing) the sums are
// exact, so a test can count the instructions run from the checksum.
var (
	abF32  = fill(0x3a800000, 0x3a800000) // 2⁻¹⁰ and 2⁻¹⁰ as float32
	abBF16 = fill(0x3a803a80, 0x3a003a00) // pairs (2⁻¹⁰, 2⁻¹⁰) and (2⁻¹¹, 2⁻¹¹) as bfloat16
)

func fill(a, b uint32) *[32]uint32 {
	var ab [32]uint32
	for i := range 16 {
		ab[i], ab[16+i] = a, b
	}
	return &ab
}

func runAVX512(n int) float32 {
	var s [16]float32
	fmaAVX512(n, abF32, &s)
	return sum(s[:])
}

func runBF16(n int) float32 {
	var s [16]float32
	dotBF16AVX512(n, abBF16, &s)
	return sum(s[:])
}

// abAMX holds the A and B tiles of the AMX loop: every bfloat16 value
// 2⁻¹⁰, so each TDPBF16PS adds 32·2⁻²⁰ = 2⁻¹⁵ to each of the 256
// elements of its accumulator, exactly until an element reaches 16 (2¹⁹
// iterations).
var abAMX = func() *[2048]byte {
	var ab [2048]byte
	for i := 0; i < len(ab); i += 2 {
		ab[i], ab[i+1] = 0x80, 0x3a // 0x3a80, little-endian
	}
	return &ab
}()

// accAMX is the AMX loop's store (its size makes it no stack variable).
var accAMX sync.Pool

// runAMX returns the sum of the accumulators' elements: each product adds
// 2⁻²⁰, as each of the other loops' instructions does per lane, and the
// sum is exact below 10,000 iterations.
func runAMX(n int) float32 {
	acc, _ := accAMX.Get().(*[6144]float32)
	if acc == nil {
		acc = new([6144]float32)
	}
	defer accAMX.Put(acc)
	tdpAMX(n, &amx.Config, abAMX, acc)
	return sum(acc[:])
}

func runAVX2(n int) float32 {
	var s [16]float32
	fmaAVX2(n, abF32, &s)
	return sum(s[:8])
}

func archKinds() []Kind {
	var l []Kind
	if cpu.X86.HasAVX512F {
		l = append(l, Kind{
			Name: "fp32-fma-avx512", Doc: "VFMADD231PS zmm, 24 independent chains per thread",
			FlopsPerIter: 48 * 32, Chunk: 1 << 14, FP32: true, run: runAVX512,
		})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		l = append(l, Kind{
			Name: "fp32-fma-avx2", Doc: "VFMADD231PS ymm, 12 independent chains per thread",
			FlopsPerIter: 24 * 16, Chunk: 1 << 15, FP32: true, run: runAVX2,
		})
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16 {
		l = append(l, Kind{
			Name: "bf16-dot-avx512", Doc: "VDPBF16PS zmm, 24 independent chains per thread",
			FlopsPerIter: 48 * 64, Chunk: 1 << 14, run: runBF16,
		})
	}
	if cpu.X86.HasAVX512F && amx.Available() {
		l = append(l, Kind{
			Name: "bf16-amx", Doc: "TDPBF16PS on 16×16 tiles, 6 independent chains per thread",
			FlopsPerIter: 6 * 16 * 16 * 32 * 2, Chunk: 1 << 12, run: runAMX,
		})
	}
	return l
}
