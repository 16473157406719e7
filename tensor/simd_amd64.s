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
