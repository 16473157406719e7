//go:build amd64

package peak

import "golang.org/x/sys/cpu"

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
	return l
}
