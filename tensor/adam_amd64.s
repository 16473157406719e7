//go:build amd64

#include "textflag.h"

// func adamAVX2(w, g, m, v *float32, n int, c *AdamConsts)
// One Adam update of n (a multiple of 8) elements, with the same float32
// operations in the same order as the Go loop (no fused multiply-add), so
// the results are bit-identical:
//   m = b1*m + c1*g;  v = b2*v + (c2*g)*g;  w = w - (step*m) / (sqrt(v)*inv + eps)
// c points at [b1, c1, b2, c2, step, inv, eps].
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ         w+0(FP), DI
	MOVQ         gr+8(FP), SI
	MOVQ         m+16(FP), DX
	MOVQ         v+24(FP), R8
	MOVQ         n+32(FP), CX
	MOVQ         c+40(FP), AX
	VBROADCASTSS 0(AX), Y8   // b1
	VBROADCASTSS 4(AX), Y9   // c1
	VBROADCASTSS 8(AX), Y10  // b2
	VBROADCASTSS 12(AX), Y11 // c2
	VBROADCASTSS 16(AX), Y12 // step
	VBROADCASTSS 20(AX), Y13 // inv
	VBROADCASTSS 24(AX), Y14 // eps
loop:
	CMPQ    CX, $8
	JL      done
	VMOVUPS (SI), Y0         // g
	VMULPS  (DX), Y8, Y1     // b1*m
	VMULPS  Y0, Y9, Y2       // c1*g
	VADDPS  Y2, Y1, Y1       // m'
	VMOVUPS Y1, (DX)
	VMULPS  (R8), Y10, Y3    // b2*v
	VMULPS  Y0, Y11, Y4      // c2*g
	VMULPS  Y0, Y4, Y4       // (c2*g)*g
	VADDPS  Y4, Y3, Y3       // v'
	VMOVUPS Y3, (R8)
	VSQRTPS Y3, Y5
	VMULPS  Y13, Y5, Y5      // sqrt(v')*inv
	VADDPS  Y14, Y5, Y5      // + eps
	VMULPS  Y1, Y12, Y6      // step*m'
	VDIVPS  Y5, Y6, Y6       // (step*m') / (...)
	VMOVUPS (DI), Y7
	VSUBPS  Y6, Y7, Y7
	VMOVUPS Y7, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	SUBQ    $8, CX
	JMP     loop
done:
	VZEROUPPER
	RET
