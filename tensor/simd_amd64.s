//go:build amd64

#include "textflag.h"

// Elementwise kernels for AVX2, 8 float32 per ymm register, 32 per loop
// iteration. n must be a multiple of 8 (the Go wrappers do the tail).
// "Positive" means !(x <= 0): true for x > 0 and for NaN, so NaN
// propagates (as in the pure-Go versions).

// func reluAVX2(dst, x *float32, n int)
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
relu32:
	CMPQ CX, $32
	JL   relu8
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y2
	VMOVUPS 64(SI), Y3
	VMOVUPS 96(SI), Y4
	VCMPPS  $0x16, Y0, Y1, Y5
	VCMPPS  $0x16, Y0, Y2, Y6
	VCMPPS  $0x16, Y0, Y3, Y7
	VCMPPS  $0x16, Y0, Y4, Y8
	VANDPS  Y5, Y1, Y1
	VANDPS  Y6, Y2, Y2
	VANDPS  Y7, Y3, Y3
	VANDPS  Y8, Y4, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     relu32
relu8:
	CMPQ CX, $8
	JL   reludone
	VMOVUPS (SI), Y1
	VCMPPS  $0x16, Y0, Y1, Y5
	VANDPS  Y5, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     relu8
reludone:
	VZEROUPPER
	RET

// func reluMaskAVX2(dst, x, gr *float32, n int)
TEXT ·reluMaskAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ gr+16(FP), DX
	MOVQ n+24(FP), CX
	VXORPS Y0, Y0, Y0
mask32:
	CMPQ CX, $32
	JL   mask8
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y2
	VMOVUPS 64(SI), Y3
	VMOVUPS 96(SI), Y4
	VCMPPS  $0x16, Y0, Y1, Y1
	VCMPPS  $0x16, Y0, Y2, Y2
	VCMPPS  $0x16, Y0, Y3, Y3
	VCMPPS  $0x16, Y0, Y4, Y4
	VANDPS  (DX), Y1, Y1
	VANDPS  32(DX), Y2, Y2
	VANDPS  64(DX), Y3, Y3
	VANDPS  96(DX), Y4, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     mask32
mask8:
	CMPQ CX, $8
	JL   maskdone
	VMOVUPS (SI), Y1
	VCMPPS  $0x16, Y0, Y1, Y1
	VANDPS  (DX), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     mask8
maskdone:
	VZEROUPPER
	RET

// func leakyAVX2(dst, x, gr *float32, n int, slope float32)
// dst = positive(x) ? gr : slope*gr. For LeakyReLU itself pass gr = x.
TEXT ·leakyAVX2(SB), NOSPLIT, $0-36
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         gr+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS slope+32(FP), Y9
	VXORPS       Y0, Y0, Y0
leaky16:
	CMPQ CX, $16
	JL   leaky8
	VMOVUPS   (SI), Y1
	VMOVUPS   32(SI), Y2
	VMOVUPS   (DX), Y3
	VMOVUPS   32(DX), Y4
	VCMPPS    $0x16, Y0, Y1, Y1
	VCMPPS    $0x16, Y0, Y2, Y2
	VMULPS    Y9, Y3, Y5
	VMULPS    Y9, Y4, Y6
	VBLENDVPS Y1, Y3, Y5, Y5
	VBLENDVPS Y2, Y4, Y6, Y6
	VMOVUPS   Y5, (DI)
	VMOVUPS   Y6, 32(DI)
	ADDQ      $64, SI
	ADDQ      $64, DX
	ADDQ      $64, DI
	SUBQ      $16, CX
	JMP       leaky16
leaky8:
	CMPQ CX, $8
	JL   leakydone
	VMOVUPS   (SI), Y1
	VMOVUPS   (DX), Y3
	VCMPPS    $0x16, Y0, Y1, Y1
	VMULPS    Y9, Y3, Y5
	VBLENDVPS Y1, Y3, Y5, Y5
	VMOVUPS   Y5, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DX
	ADDQ      $32, DI
	SUBQ      $8, CX
	JMP       leaky8
leakydone:
	VZEROUPPER
	RET

// func binAVX2(op int, dst, a, b *float32, n int)
// dst = a op b for op 0 (add), 1 (sub), 2 (mul), n a multiple of 8; one
// rounding per element, as the Go loop.
TEXT ·binAVX2(SB), NOSPLIT, $0-40
	MOVQ op+0(FP), AX
	MOVQ dst+8(FP), DI
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
	MOVQ n+32(FP), CX
	CMPQ AX, $1
	JEQ  sub8
	CMPQ AX, $2
	JEQ  mul8
add8:
	CMPQ    CX, $8
	JL      bindone
	VMOVUPS (SI), Y0
	VADDPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     add8
sub8:
	CMPQ    CX, $8
	JL      bindone
	VMOVUPS (SI), Y0
	VSUBPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     sub8
mul8:
	CMPQ    CX, $8
	JL      bindone
	VMOVUPS (SI), Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     mul8
bindone:
	VZEROUPPER
	RET

// func binScalarAVX2(op int, dst, a *float32, b float32, n int)
// dst = a op b for a scalar b and op 0 (add), 1 (sub), 2 (mul), n a
// multiple of 8; one rounding per element, as the Go loop.
TEXT ·binScalarAVX2(SB), NOSPLIT, $0-40
	MOVQ         op+0(FP), AX
	MOVQ         dst+8(FP), DI
	MOVQ         a+16(FP), SI
	VBROADCASTSS b+24(FP), Y1
	MOVQ         n+32(FP), CX
	CMPQ         AX, $1
	JEQ          bssub8
	CMPQ         AX, $2
	JEQ          bsmul8
bsadd8:
	CMPQ    CX, $8
	JL      bsdone
	VMOVUPS (SI), Y0
	VADDPS  Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     bsadd8
bssub8:
	CMPQ    CX, $8
	JL      bsdone
	VMOVUPS (SI), Y0
	VSUBPS  Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     bssub8
bsmul8:
	CMPQ    CX, $8
	JL      bsdone
	VMOVUPS (SI), Y0
	VMULPS  Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     bsmul8
bsdone:
	VZEROUPPER
	RET

// func blockSum2AVX2(dst, r0, r1 *float32, w, c int)
// dst[px·c + i] = (((0 + r0[2px·c + i]) + r0[(2px+1)·c + i]) + r1[2px·c + i])
// + r1[(2px+1)·c + i] for px < w and i < c, c a multiple of 8: the 2×2 block
// sums of one row of pixels, in the order of the Go loop.
TEXT ·blockSum2AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ w+24(FP), BX
	MOVQ c+32(FP), R8
	SHLQ $2, R8                // c in bytes
	VXORPS Y4, Y4, Y4
	TESTQ BX, BX
	JZ   bs2done
bs2px:
	XORQ CX, CX
bs2ch:
	VADDPS  (SI)(CX*1), Y4, Y0
	LEAQ    (SI)(R8*1), R9
	VADDPS  (R9)(CX*1), Y0, Y0
	VADDPS  (DX)(CX*1), Y0, Y0
	LEAQ    (DX)(R8*1), R9
	VADDPS  (R9)(CX*1), Y0, Y0
	VMOVUPS Y0, (DI)(CX*1)
	ADDQ    $32, CX
	CMPQ    CX, R8
	JL      bs2ch
	LEAQ    (SI)(R8*2), SI
	LEAQ    (DX)(R8*2), DX
	ADDQ    R8, DI
	DECQ    BX
	JNZ     bs2px
bs2done:
	VZEROUPPER
	RET

// func maxAVX2(x *float32, n int) float32
// The largest of x[0..n), n a positive multiple of 8, or NaN if one is NaN
// (as Go's max; where both are zeros of either sign it may return either).
TEXT ·maxAVX2(SB), NOSPLIT, $0-20
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	VMOVUPS (SI), Y0
	VCMPPS  $3, Y0, Y0, Y2     // unordered: NaN lanes
	ADDQ    $32, SI
	SUBQ    $8, CX
mx8:
	CMPQ    CX, $8
	JL      mxreduce
	VMOVUPS (SI), Y1
	VCMPPS  $3, Y1, Y1, Y3
	VORPS   Y3, Y2, Y2
	VMAXPS  Y1, Y0, Y0
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     mx8
mxreduce:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VMOVMSKPS    Y2, AX
	TESTL        AX, AX
	JZ           mxdone
	VCMPPS       $15, X0, X0, X0 // always true: all ones, a NaN
mxdone:
	VMOVSS       X0, ret+16(FP)
	VZEROUPPER
	RET

// Constants of expShiftAVX2 (float32 bit patterns; see expShift in
// softmax_exp.go): log2(e), 0.5, C1, C2, P0..P5, 1, the lowest argument,
// and the exponent bias 127 (an int32).
DATA expc<>+0(SB)/4, $0x3fb8aa3b
DATA expc<>+4(SB)/4, $0x3f000000
DATA expc<>+8(SB)/4, $0x3f318000
DATA expc<>+12(SB)/4, $0xb95e8083
DATA expc<>+16(SB)/4, $0x39506967
DATA expc<>+20(SB)/4, $0x3ab743ce
DATA expc<>+24(SB)/4, $0x3c088908
DATA expc<>+28(SB)/4, $0x3d2aa9c1
DATA expc<>+32(SB)/4, $0x3e2aaaaa
DATA expc<>+36(SB)/4, $0x3f000000
DATA expc<>+40(SB)/4, $0x3f800000
DATA expc<>+44(SB)/4, $0xc2aeac50
DATA expc<>+48(SB)/4, $127
GLOBL expc<>(SB), RODATA|NOPTR, $52

// func expShiftAVX2(dst, x *float32, n int, m float32)
// dst[i] = e^(x[i] − m) for i < n (a multiple of 8), by the operations of
// expShift in the same order (no fused multiply-adds), so bit-identical
// to it; 0 where x[i] − m is below the lowest argument or −Inf.
TEXT ·expShiftAVX2(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS m+24(FP), Y15
	VBROADCASTSS expc<>+0(SB), Y14
	VBROADCASTSS expc<>+4(SB), Y13
	VBROADCASTSS expc<>+8(SB), Y12
	VBROADCASTSS expc<>+12(SB), Y11
	VBROADCASTSS expc<>+40(SB), Y10
	VBROADCASTSS expc<>+44(SB), Y9
	VPBROADCASTD expc<>+48(SB), Y8
	TESTQ        CX, CX
	JZ           expdone
exploop:
	VMOVUPS      (SI), Y0
	VSUBPS       Y15, Y0, Y0      // v = x − m
	VCMPPS       $13, Y9, Y0, Y7  // v >= lowest
	VMULPS       Y14, Y0, Y1
	VADDPS       Y13, Y1, Y1
	VROUNDPS     $1, Y1, Y1       // k = floor(v·log2(e) + 0.5)
	VMULPS       Y12, Y1, Y2
	VSUBPS       Y2, Y0, Y2
	VMULPS       Y11, Y1, Y3
	VSUBPS       Y3, Y2, Y2       // r = v − k·C1 − k·C2
	VMULPS       Y2, Y2, Y3       // r²
	VBROADCASTSS expc<>+16(SB), Y4
	VMULPS       Y2, Y4, Y4
	VBROADCASTSS expc<>+20(SB), Y5
	VADDPS       Y5, Y4, Y4
	VMULPS       Y2, Y4, Y4
	VBROADCASTSS expc<>+24(SB), Y5
	VADDPS       Y5, Y4, Y4
	VMULPS       Y2, Y4, Y4
	VBROADCASTSS expc<>+28(SB), Y5
	VADDPS       Y5, Y4, Y4
	VMULPS       Y2, Y4, Y4
	VBROADCASTSS expc<>+32(SB), Y5
	VADDPS       Y5, Y4, Y4
	VMULPS       Y2, Y4, Y4
	VBROADCASTSS expc<>+36(SB), Y5
	VADDPS       Y5, Y4, Y4       // p(r)
	VMULPS       Y3, Y4, Y4
	VADDPS       Y2, Y4, Y4
	VADDPS       Y10, Y4, Y4      // 1 + r + r²·p(r)
	VCVTPS2DQ    Y1, Y5
	VPADDD       Y8, Y5, Y5
	VPSLLD       $23, Y5, Y5      // 2^k
	VMULPS       Y5, Y4, Y4
	VANDPS       Y7, Y4, Y4
	VMOVUPS      Y4, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DI
	SUBQ         $8, CX
	JNZ          exploop
expdone:
	VZEROUPPER
	RET

// The ziggurat's fast path for the two values of each of 8 draws per
// iteration (see fillNormal and normalPair in ziggurat.go): eight
// SplitMix64 states (Z0, stepped by Z1 = 8γ) through the finaliser
// (VPMULLQ, AVX-512 DQ) give sixteen 32-bit draws h in value order; the
// layer i = h&255 indexes zigK and zigW (gathers); the sample is
// mean + std·float32(float64(h)·zigW[i]), each operation rounded alone as
// in Go, and the indices of the values with |h| >= zigK[i] go to rej for
// the slow path.

DATA normalLanes<>+0(SB)/4, $0
DATA normalLanes<>+4(SB)/4, $1
DATA normalLanes<>+8(SB)/4, $2
DATA normalLanes<>+12(SB)/4, $3
DATA normalLanes<>+16(SB)/4, $4
DATA normalLanes<>+20(SB)/4, $5
DATA normalLanes<>+24(SB)/4, $6
DATA normalLanes<>+28(SB)/4, $7
DATA normalLanes<>+32(SB)/4, $8
DATA normalLanes<>+36(SB)/4, $9
DATA normalLanes<>+40(SB)/4, $10
DATA normalLanes<>+44(SB)/4, $11
DATA normalLanes<>+48(SB)/4, $12
DATA normalLanes<>+52(SB)/4, $13
DATA normalLanes<>+56(SB)/4, $14
DATA normalLanes<>+60(SB)/4, $15
GLOBL normalLanes<>(SB), RODATA|NOPTR, $64

// func normalAVX512(dst *float32, n int, st *[9]uint64, mean, std float32, rej *int32) int
TEXT ·normalAVX512(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), DI
	MOVQ         n+8(FP), CX
	MOVQ         st+16(FP), SI
	VBROADCASTSS mean+24(FP), Z20
	VBROADCASTSS std+28(FP), Z21
	MOVQ         rej+32(FP), R8
	VMOVDQU64    (SI), Z0
	VPBROADCASTQ 64(SI), Z1
	MOVQ         $0xbf58476d1ce4e5b9, AX
	VPBROADCASTQ AX, Z2
	MOVQ         $0x94d049bb133111eb, AX
	VPBROADCASTQ AX, Z3
	MOVL         $255, AX
	VPBROADCASTD AX, Z4
	VMOVDQU32    normalLanes<>(SB), Z24
	MOVL         $16, AX
	VPBROADCASTD AX, Z25
	LEAQ         ·zigK(SB), R9
	LEAQ         ·zigW(SB), R10

normal16:
	CMPQ          CX, $16
	JL            normalDone
	VPSRLQ        $30, Z0, Z6
	VPXORQ        Z0, Z6, Z5
	VPMULLQ       Z2, Z5, Z5
	VPSRLQ        $27, Z5, Z6
	VPXORQ        Z6, Z5, Z5
	VPMULLQ       Z3, Z5, Z5
	VPSRLQ        $31, Z5, Z6
	VPXORQ        Z6, Z5, Z5 // sixteen draws h (int32)
	VPADDQ        Z1, Z0, Z0
	VPANDD        Z4, Z5, Z7 // layers
	VPABSD        Z5, Z8
	KXNORW        K1, K1, K1
	VPXORD        Z9, Z9, Z9
	VPGATHERDD    (R9)(Z7*4), K1, Z9 // zigK[i]
	VEXTRACTI32X8 $1, Z7, Y12
	KXNORB        K2, K2, K2
	VXORPD        Z14, Z14, Z14
	VGATHERDPD    (R10)(Y7*8), K2, Z14 // zigW[i] of values 0-7
	KXNORB        K4, K4, K4
	VXORPD        Z15, Z15, Z15
	VGATHERDPD    (R10)(Y12*8), K4, Z15 // of values 8-15
	VPCMPUD       $5, Z9, Z8, K3 // |h| >= zigK[i]: rejected
	VCVTDQ2PD     Y5, Z16
	VEXTRACTI32X8 $1, Z5, Y17
	VCVTDQ2PD     Y17, Z17
	VMULPD        Z14, Z16, Z16
	VMULPD        Z15, Z17, Z17
	VCVTPD2PS     Z16, Y16
	VCVTPD2PS     Z17, Y17
	VINSERTF32X8  $1, Y17, Z16, Z11
	VMULPS        Z21, Z11, Z11
	VADDPS        Z20, Z11, Z11
	VMOVUPS       Z11, (DI)
	VPCOMPRESSD   Z24, K3, Z26 // the rejected values' indices, first
	VMOVDQU32     Z26, (R8)
	KMOVW         K3, AX
	POPCNTL       AX, AX
	LEAQ          (R8)(AX*4), R8
	VPADDD        Z25, Z24, Z24
	ADDQ          $64, DI
	SUBQ          $16, CX
	JMP           normal16

normalDone:
	SUBQ       rej+32(FP), R8
	SHRQ       $2, R8
	MOVQ       R8, ret+40(FP)
	VZEROUPPER
	RET

// func binAVX512(op int, dst, a, b *float32, n int)
// binAVX2 with 512-bit registers: 64 values per iteration, then 16, then
// 8 (n a multiple of 8); one rounding per element, the same bits. On a CPU
// with full-width AVX-512 units (Zen 5) it does twice the work per
// instruction where the operands are in cache (col2im's runs).
TEXT ·binAVX512(SB), NOSPLIT, $0-40
	MOVQ op+0(FP), AX
	MOVQ dst+8(FP), DI
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
	MOVQ n+32(FP), CX
	CMPQ AX, $1
	JEQ  zsub64
	CMPQ AX, $2
	JEQ  zmul64
zadd64:
	CMPQ    CX, $64
	JL      zadd16
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	VADDPS  (DX), Z0, Z0
	VADDPS  64(DX), Z1, Z1
	VADDPS  128(DX), Z2, Z2
	VADDPS  192(DX), Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DX
	ADDQ    $256, DI
	SUBQ    $64, CX
	JMP     zadd64
zadd16:
	CMPQ    CX, $16
	JL      zadd8
	VMOVUPS (SI), Z0
	VADDPS  (DX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     zadd16
zadd8:
	CMPQ    CX, $8
	JL      zbindone
	VMOVUPS (SI), Y0
	VADDPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	JMP     zbindone
zsub64:
	CMPQ    CX, $64
	JL      zsub16
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	VSUBPS  (DX), Z0, Z0
	VSUBPS  64(DX), Z1, Z1
	VSUBPS  128(DX), Z2, Z2
	VSUBPS  192(DX), Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DX
	ADDQ    $256, DI
	SUBQ    $64, CX
	JMP     zsub64
zsub16:
	CMPQ    CX, $16
	JL      zsub8
	VMOVUPS (SI), Z0
	VSUBPS  (DX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     zsub16
zsub8:
	CMPQ    CX, $8
	JL      zbindone
	VMOVUPS (SI), Y0
	VSUBPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	JMP     zbindone
zmul64:
	CMPQ    CX, $64
	JL      zmul16
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	VMULPS  (DX), Z0, Z0
	VMULPS  64(DX), Z1, Z1
	VMULPS  128(DX), Z2, Z2
	VMULPS  192(DX), Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DX
	ADDQ    $256, DI
	SUBQ    $64, CX
	JMP     zmul64
zmul16:
	CMPQ    CX, $16
	JL      zmul8
	VMOVUPS (SI), Z0
	VMULPS  (DX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     zmul16
zmul8:
	CMPQ    CX, $8
	JL      zbindone
	VMOVUPS (SI), Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	JMP     zbindone
zbindone:
	VZEROUPPER
	RET

// The 512-bit forms of reluAVX2, reluMaskAVX2 and leakyAVX2: 64 values
// per iteration, then 16, then 8 (n a multiple of 8), the comparison in a
// mask register; the same bits (a masked-off lane is +0, as the AND).

// func reluAVX512(dst, x *float32, n int)
TEXT ·reluAVX512(SB), NOSPLIT, $0-24
	MOVQ   dst+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   n+16(FP), CX
	VXORPS Z0, Z0, Z0
zrelu64:
	CMPQ CX, $64
	JL   zrelu16
	VMOVUPS 0(SI), Z1
	VMOVUPS 64(SI), Z2
	VMOVUPS 128(SI), Z3
	VMOVUPS 192(SI), Z4
	VCMPPS  $0x16, Z0, Z1, K1
	VCMPPS  $0x16, Z0, Z2, K2
	VCMPPS  $0x16, Z0, Z3, K3
	VCMPPS  $0x16, Z0, Z4, K4
	VMOVUPS.Z Z1, K1, Z1
	VMOVUPS.Z Z2, K2, Z2
	VMOVUPS.Z Z3, K3, Z3
	VMOVUPS.Z Z4, K4, Z4
	VMOVUPS Z1, 0(DI)
	VMOVUPS Z2, 64(DI)
	VMOVUPS Z3, 128(DI)
	VMOVUPS Z4, 192(DI)
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	JMP  zrelu64
zrelu16:
	CMPQ CX, $16
	JL   zrelu8
	VMOVUPS (SI), Z1
	VCMPPS  $0x16, Z0, Z1, K1
	VMOVUPS.Z Z1, K1, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  zrelu16
zrelu8:
	CMPQ CX, $8
	JL   zreludone
	VMOVUPS (SI), Y1
	VCMPPS  $0x16, Y0, Y1, Y5
	VANDPS  Y5, Y1, Y1
	VMOVUPS Y1, (DI)
zreludone:
	VZEROUPPER
	RET

// func reluMaskAVX512(dst, x, gr *float32, n int)
TEXT ·reluMaskAVX512(SB), NOSPLIT, $0-32
	MOVQ   dst+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   gr+16(FP), DX
	MOVQ   n+24(FP), CX
	VXORPS Z0, Z0, Z0
zmask64:
	CMPQ CX, $64
	JL   zmask16
	VMOVUPS 0(SI), Z1
	VMOVUPS 64(SI), Z2
	VMOVUPS 128(SI), Z3
	VMOVUPS 192(SI), Z4
	VCMPPS  $0x16, Z0, Z1, K1
	VCMPPS  $0x16, Z0, Z2, K2
	VCMPPS  $0x16, Z0, Z3, K3
	VCMPPS  $0x16, Z0, Z4, K4
	VMOVUPS.Z 0(DX), K1, Z1
	VMOVUPS.Z 64(DX), K2, Z2
	VMOVUPS.Z 128(DX), K3, Z3
	VMOVUPS.Z 192(DX), K4, Z4
	VMOVUPS Z1, 0(DI)
	VMOVUPS Z2, 64(DI)
	VMOVUPS Z3, 128(DI)
	VMOVUPS Z4, 192(DI)
	ADDQ $256, SI
	ADDQ $256, DX
	ADDQ $256, DI
	SUBQ $64, CX
	JMP  zmask64
zmask16:
	CMPQ CX, $16
	JL   zmask8
	VMOVUPS (SI), Z1
	VCMPPS  $0x16, Z0, Z1, K1
	VMOVUPS.Z (DX), K1, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  zmask16
zmask8:
	CMPQ CX, $8
	JL   zmaskdone
	VMOVUPS (SI), Y1
	VCMPPS  $0x16, Y0, Y1, Y1
	VANDPS  (DX), Y1, Y1
	VMOVUPS Y1, (DI)
zmaskdone:
	VZEROUPPER
	RET

// func leakyAVX512(dst, x, gr *float32, n int, slope float32)
TEXT ·leakyAVX512(SB), NOSPLIT, $0-36
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         gr+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS slope+32(FP), Z9
	VXORPS       Z0, Z0, Z0
zleaky64:
	CMPQ CX, $64
	JL   zleaky16
	VMOVUPS 0(SI), Z1
	VMOVUPS 64(SI), Z2
	VMOVUPS 128(SI), Z3
	VMOVUPS 192(SI), Z4
	VMOVUPS 0(DX), Z5
	VMOVUPS 64(DX), Z6
	VMOVUPS 128(DX), Z7
	VMOVUPS 192(DX), Z8
	VCMPPS  $0x16, Z0, Z1, K1
	VCMPPS  $0x16, Z0, Z2, K2
	VCMPPS  $0x16, Z0, Z3, K3
	VCMPPS  $0x16, Z0, Z4, K4
	VMULPS  Z9, Z5, Z10
	VMULPS  Z9, Z6, Z11
	VMULPS  Z9, Z7, Z12
	VMULPS  Z9, Z8, Z13
	VMOVUPS Z5, K1, Z10
	VMOVUPS Z6, K2, Z11
	VMOVUPS Z7, K3, Z12
	VMOVUPS Z8, K4, Z13
	VMOVUPS Z10, 0(DI)
	VMOVUPS Z11, 64(DI)
	VMOVUPS Z12, 128(DI)
	VMOVUPS Z13, 192(DI)
	ADDQ $256, SI
	ADDQ $256, DX
	ADDQ $256, DI
	SUBQ $64, CX
	JMP  zleaky64
zleaky16:
	CMPQ CX, $16
	JL   zleaky8
	VMOVUPS (SI), Z1
	VMOVUPS (DX), Z5
	VCMPPS  $0x16, Z0, Z1, K1
	VMULPS  Z9, Z5, Z10
	VMOVUPS Z5, K1, Z10
	VMOVUPS Z10, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  zleaky16
zleaky8:
	CMPQ CX, $8
	JL   zleakydone
	VMOVUPS   (SI), Y1
	VMOVUPS   (DX), Y3
	VCMPPS    $0x16, Y0, Y1, Y1
	VMULPS    Y9, Y3, Y5
	VBLENDVPS Y1, Y3, Y5, Y5
	VMOVUPS   Y5, (DI)
zleakydone:
	VZEROUPPER
	RET

// func colSumAVX512(dst, x *float32, rows, ld, n int)
// dst[j] += x[r*ld+j] for each row r < rows in turn, j < n (n a multiple
// of 16): the column sums of bias gradients, each column's sum in
// registers over all the rows (binAVX512 row by row stored it after each),
// with its additions in the same order and the same operands (dst + x).
TEXT ·colSumAVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ ld+24(FP), R8
	SHLQ $2, R8
	MOVQ n+32(FP), CX
csum64:
	CMPQ    CX, $64
	JL      csum16
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	MOVQ    SI, AX
	MOVQ    rows+16(FP), DX
csum64row:
	VADDPS  (AX), Z0, Z0
	VADDPS  64(AX), Z1, Z1
	VADDPS  128(AX), Z2, Z2
	VADDPS  192(AX), Z3, Z3
	ADDQ    R8, AX
	DECQ    DX
	JNZ     csum64row
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, DI
	ADDQ    $256, SI
	SUBQ    $64, CX
	JMP     csum64
csum16:
	CMPQ    CX, $16
	JL      csumdone
	VMOVUPS (DI), Z0
	MOVQ    SI, AX
	MOVQ    rows+16(FP), DX
csum16row:
	VADDPS  (AX), Z0, Z0
	ADDQ    R8, AX
	DECQ    DX
	JNZ     csum16row
	VMOVUPS Z0, (DI)
	ADDQ    $64, DI
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     csum16
csumdone:
	VZEROUPPER
	RET
