//go:build amd64

#include "textflag.h"

// Row kernels of batch normalisation (batchnorm.go) for AVX2: the float64
// column sums, 4 per ymm register, and the float32 row transforms, 8 per
// register. Each does exactly the pure-Go loop's arithmetic, element by
// element, without fused multiply-adds, so the results are identical bit
// for bit. n must be a multiple of 4 (sums) or 8 (transforms); the Go
// wrappers do the tail.

// func bnSumAVX2(a *float64, x *float32, n int)   a[i] += float64(x[i])
TEXT ·bnSumAVX2(SB), NOSPLIT, $0-24
	MOVQ a+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
sum8:
	CMPQ CX, $8
	JL   sum4
	VCVTPS2PD (SI), Y0
	VCVTPS2PD 16(SI), Y1
	VADDPD    (DI), Y0, Y0
	VADDPD    32(DI), Y1, Y1
	VMOVUPD   Y0, (DI)
	VMOVUPD   Y1, 32(DI)
	ADDQ      $32, SI
	ADDQ      $64, DI
	SUBQ      $8, CX
	JMP       sum8
sum4:
	CMPQ CX, $4
	JL   sumdone
	VCVTPS2PD (SI), Y0
	VADDPD    (DI), Y0, Y0
	VMOVUPD   Y0, (DI)
sumdone:
	VZEROUPPER
	RET

// func bnSqAVX2(b *float64, x *float32, mean *float64, n int)
// d = float64(x[i]) − mean[i]; b[i] += d·d
TEXT ·bnSqAVX2(SB), NOSPLIT, $0-32
	MOVQ b+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ mean+16(FP), DX
	MOVQ n+24(FP), CX
sq8:
	CMPQ CX, $8
	JL   sq4
	VCVTPS2PD (SI), Y0
	VCVTPS2PD 16(SI), Y1
	VSUBPD    (DX), Y0, Y0
	VSUBPD    32(DX), Y1, Y1
	VMULPD    Y0, Y0, Y0
	VMULPD    Y1, Y1, Y1
	VADDPD    (DI), Y0, Y0
	VADDPD    32(DI), Y1, Y1
	VMOVUPD   Y0, (DI)
	VMOVUPD   Y1, 32(DI)
	ADDQ      $32, SI
	ADDQ      $64, DX
	ADDQ      $64, DI
	SUBQ      $8, CX
	JMP       sq8
sq4:
	CMPQ CX, $4
	JL   sqdone
	VCVTPS2PD (SI), Y0
	VSUBPD    (DX), Y0, Y0
	VMULPD    Y0, Y0, Y0
	VADDPD    (DI), Y0, Y0
	VMOVUPD   Y0, (DI)
sqdone:
	VZEROUPPER
	RET

// func bnGradAVX2(a, b *float64, gr, x *float32, n int)
// a[i] += float64(gr[i]); b[i] += float64(gr[i])·float64(x[i])
TEXT ·bnGradAVX2(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), DI
	MOVQ b+8(FP), R8
	MOVQ gr+16(FP), SI
	MOVQ x+24(FP), DX
	MOVQ n+32(FP), CX
grad4:
	CMPQ CX, $4
	JL   graddone
	VCVTPS2PD (SI), Y0
	VCVTPS2PD (DX), Y1
	VADDPD    (DI), Y0, Y2
	VMULPD    Y1, Y0, Y1
	VADDPD    (R8), Y1, Y1
	VMOVUPD   Y2, (DI)
	VMOVUPD   Y1, (R8)
	ADDQ      $16, SI
	ADDQ      $16, DX
	ADDQ      $32, DI
	ADDQ      $32, R8
	SUBQ      $4, CX
	JMP       grad4
graddone:
	VZEROUPPER
	RET

// func bnAffineAVX2(y, x, s, t *float32, n int)   y[i] = x[i]·s[i] + t[i]
TEXT ·bnAffineAVX2(SB), NOSPLIT, $0-40
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ s+16(FP), DX
	MOVQ t+24(FP), R8
	MOVQ n+32(FP), CX
aff8:
	CMPQ CX, $8
	JL   affdone
	VMOVUPS (SI), Y0
	VMULPS  (DX), Y0, Y0
	VADDPS  (R8), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     aff8
affdone:
	VZEROUPPER
	RET

// func bnDxAVX2(dx, gr, x, k, m, q *float32, n int)
// dx[i] = k[i]·gr[i] + m[i]·x[i] + q[i]
TEXT ·bnDxAVX2(SB), NOSPLIT, $0-56
	MOVQ dx+0(FP), DI
	MOVQ gr+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ k+24(FP), R8
	MOVQ m+32(FP), R9
	MOVQ q+40(FP), R10
	MOVQ n+48(FP), CX
dx8:
	CMPQ CX, $8
	JL   dxdone
	VMOVUPS (R8), Y0
	VMULPS  (SI), Y0, Y0
	VMOVUPS (R9), Y1
	VMULPS  (DX), Y1, Y1
	VADDPS  Y1, Y0, Y0
	VADDPS  (R10), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	ADDQ    $32, R9
	ADDQ    $32, R10
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     dx8
dxdone:
	VZEROUPPER
	RET

// func sumSqAVX2(s *float64, x *float32, n int)
// s[m] += x[32j+m]² in float64 for m < 32, j < n/32, in order of j, n a
// multiple of 32: the 32 lanes of SumSquares, eight ymm of four. Each
// square is rounded before it is added (VMULPD then VADDPD, no FMA), as
// the Go loop does.
TEXT ·sumSqAVX2(SB), NOSPLIT, $0-24
	MOVQ s+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VMOVUPD (DI), Y0
	VMOVUPD 32(DI), Y1
	VMOVUPD 64(DI), Y2
	VMOVUPD 96(DI), Y3
	VMOVUPD 128(DI), Y4
	VMOVUPD 160(DI), Y5
	VMOVUPD 192(DI), Y6
	VMOVUPD 224(DI), Y7
sqloop:
	CMPQ CX, $32
	JL   sqdone
	VCVTPS2PD (SI), Y8
	VCVTPS2PD 16(SI), Y9
	VCVTPS2PD 32(SI), Y10
	VCVTPS2PD 48(SI), Y11
	VCVTPS2PD 64(SI), Y12
	VCVTPS2PD 80(SI), Y13
	VCVTPS2PD 96(SI), Y14
	VCVTPS2PD 112(SI), Y15
	VMULPD Y8, Y8, Y8
	VMULPD Y9, Y9, Y9
	VMULPD Y10, Y10, Y10
	VMULPD Y11, Y11, Y11
	VMULPD Y12, Y12, Y12
	VMULPD Y13, Y13, Y13
	VMULPD Y14, Y14, Y14
	VMULPD Y15, Y15, Y15
	VADDPD Y8, Y0, Y0
	VADDPD Y9, Y1, Y1
	VADDPD Y10, Y2, Y2
	VADDPD Y11, Y3, Y3
	VADDPD Y12, Y4, Y4
	VADDPD Y13, Y5, Y5
	VADDPD Y14, Y6, Y6
	VADDPD Y15, Y7, Y7
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  sqloop
sqdone:
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VMOVUPD Y4, 128(DI)
	VMOVUPD Y5, 160(DI)
	VMOVUPD Y6, 192(DI)
	VMOVUPD Y7, 224(DI)
	VZEROUPPER
	RET
