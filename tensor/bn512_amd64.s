//go:build amd64

#include "textflag.h"

// Block kernels of tall batch normalisation (batchnorm_tall.go) for
// AVX-512: each runs over a block of rows rows of c values (row r at x +
// 4·r·c bytes) for the first n columns, n a multiple of 8 (the sums, 8
// float64 a register) or 16 (the transforms). The column sums stay in
// registers over the block, column group by column group, and each column
// gets exactly the row kernels' operations in the same order (rows in
// order; no fused multiply-adds), so the results are those of the row
// kernels bit for bit. rows must be at least 1.

// func bnSumRows512(a *float64, x *float32, rows, c, n int)
// a[i] += float64(x[r·c+i]) for r < rows, in order of r, for i < n.
TEXT ·bnSumRows512(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ rows+16(FP), R9
	MOVQ c+24(FP), R8
	SHLQ $2, R8
	MOVQ n+32(FP), CX
sumg64:
	CMPQ CX, $64
	JL   sumg8
	VMOVUPD (DI), Z0
	VMOVUPD 64(DI), Z1
	VMOVUPD 128(DI), Z2
	VMOVUPD 192(DI), Z3
	VMOVUPD 256(DI), Z4
	VMOVUPD 320(DI), Z5
	VMOVUPD 384(DI), Z6
	VMOVUPD 448(DI), Z7
	MOVQ SI, AX
	MOVQ R9, BX
sumr64:
	VCVTPS2PD (AX), Z8
	VCVTPS2PD 32(AX), Z9
	VCVTPS2PD 64(AX), Z10
	VCVTPS2PD 96(AX), Z11
	VCVTPS2PD 128(AX), Z12
	VCVTPS2PD 160(AX), Z13
	VCVTPS2PD 192(AX), Z14
	VCVTPS2PD 224(AX), Z15
	VADDPD Z8, Z0, Z0
	VADDPD Z9, Z1, Z1
	VADDPD Z10, Z2, Z2
	VADDPD Z11, Z3, Z3
	VADDPD Z12, Z4, Z4
	VADDPD Z13, Z5, Z5
	VADDPD Z14, Z6, Z6
	VADDPD Z15, Z7, Z7
	ADDQ R8, AX
	DECQ BX
	JNZ  sumr64
	VMOVUPD Z0, (DI)
	VMOVUPD Z1, 64(DI)
	VMOVUPD Z2, 128(DI)
	VMOVUPD Z3, 192(DI)
	VMOVUPD Z4, 256(DI)
	VMOVUPD Z5, 320(DI)
	VMOVUPD Z6, 384(DI)
	VMOVUPD Z7, 448(DI)
	ADDQ $512, DI
	ADDQ $256, SI
	SUBQ $64, CX
	JMP  sumg64
sumg8:
	CMPQ CX, $8
	JL   sumdone
	VMOVUPD (DI), Z0
	MOVQ SI, AX
	MOVQ R9, BX
sumr8:
	VCVTPS2PD (AX), Z8
	VADDPD Z8, Z0, Z0
	ADDQ R8, AX
	DECQ BX
	JNZ  sumr8
	VMOVUPD Z0, (DI)
	ADDQ $64, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  sumg8
sumdone:
	VZEROUPPER
	RET

// func bnSqRows512(b *float64, x *float32, mean *float64, rows, c, n int)
// d = float64(x[r·c+i]) − mean[i]; b[i] += d·d, for r < rows in order,
// i < n.
TEXT ·bnSqRows512(SB), NOSPLIT, $0-48
	MOVQ b+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ mean+16(FP), DX
	MOVQ rows+24(FP), R9
	MOVQ c+32(FP), R8
	SHLQ $2, R8
	MOVQ n+40(FP), CX
sqg32:
	CMPQ CX, $32
	JL   sqg8
	VMOVUPD (DI), Z0
	VMOVUPD 64(DI), Z1
	VMOVUPD 128(DI), Z2
	VMOVUPD 192(DI), Z3
	VMOVUPD (DX), Z4
	VMOVUPD 64(DX), Z5
	VMOVUPD 128(DX), Z6
	VMOVUPD 192(DX), Z7
	MOVQ SI, AX
	MOVQ R9, BX
sqr32:
	VCVTPS2PD (AX), Z8
	VCVTPS2PD 32(AX), Z9
	VCVTPS2PD 64(AX), Z10
	VCVTPS2PD 96(AX), Z11
	VSUBPD Z4, Z8, Z8
	VSUBPD Z5, Z9, Z9
	VSUBPD Z6, Z10, Z10
	VSUBPD Z7, Z11, Z11
	VMULPD Z8, Z8, Z8
	VMULPD Z9, Z9, Z9
	VMULPD Z10, Z10, Z10
	VMULPD Z11, Z11, Z11
	VADDPD Z8, Z0, Z0
	VADDPD Z9, Z1, Z1
	VADDPD Z10, Z2, Z2
	VADDPD Z11, Z3, Z3
	ADDQ R8, AX
	DECQ BX
	JNZ  sqr32
	VMOVUPD Z0, (DI)
	VMOVUPD Z1, 64(DI)
	VMOVUPD Z2, 128(DI)
	VMOVUPD Z3, 192(DI)
	ADDQ $256, DI
	ADDQ $256, DX
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  sqg32
sqg8:
	CMPQ CX, $8
	JL   sqdone
	VMOVUPD (DI), Z0
	VMOVUPD (DX), Z4
	MOVQ SI, AX
	MOVQ R9, BX
sqr8:
	VCVTPS2PD (AX), Z8
	VSUBPD Z4, Z8, Z8
	VMULPD Z8, Z8, Z8
	VADDPD Z8, Z0, Z0
	ADDQ R8, AX
	DECQ BX
	JNZ  sqr8
	VMOVUPD Z0, (DI)
	ADDQ $64, DI
	ADDQ $64, DX
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  sqg8
sqdone:
	VZEROUPPER
	RET

// func bnGradRows512(a, b *float64, gr, x *float32, rows, c, n int)
// a[i] += float64(g[r·c+i]); b[i] += float64(g[r·c+i])·float64(x[r·c+i]),
// for r < rows in order, i < n.
TEXT ·bnGradRows512(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), DI
	MOVQ b+8(FP), R10
	MOVQ gr+16(FP), SI
	MOVQ x+24(FP), DX
	MOVQ rows+32(FP), R9
	MOVQ c+40(FP), R8
	SHLQ $2, R8
	MOVQ n+48(FP), CX
gradg32:
	CMPQ CX, $32
	JL   gradg8
	VMOVUPD (DI), Z0
	VMOVUPD 64(DI), Z1
	VMOVUPD 128(DI), Z2
	VMOVUPD 192(DI), Z3
	VMOVUPD (R10), Z4
	VMOVUPD 64(R10), Z5
	VMOVUPD 128(R10), Z6
	VMOVUPD 192(R10), Z7
	MOVQ SI, AX
	MOVQ DX, R11
	MOVQ R9, BX
gradr32:
	VCVTPS2PD (AX), Z8
	VCVTPS2PD 32(AX), Z9
	VCVTPS2PD 64(AX), Z10
	VCVTPS2PD 96(AX), Z11
	VCVTPS2PD (R11), Z12
	VCVTPS2PD 32(R11), Z13
	VCVTPS2PD 64(R11), Z14
	VCVTPS2PD 96(R11), Z15
	VADDPD Z8, Z0, Z0
	VADDPD Z9, Z1, Z1
	VADDPD Z10, Z2, Z2
	VADDPD Z11, Z3, Z3
	VMULPD Z12, Z8, Z12
	VMULPD Z13, Z9, Z13
	VMULPD Z14, Z10, Z14
	VMULPD Z15, Z11, Z15
	VADDPD Z12, Z4, Z4
	VADDPD Z13, Z5, Z5
	VADDPD Z14, Z6, Z6
	VADDPD Z15, Z7, Z7
	ADDQ R8, AX
	ADDQ R8, R11
	DECQ BX
	JNZ  gradr32
	VMOVUPD Z0, (DI)
	VMOVUPD Z1, 64(DI)
	VMOVUPD Z2, 128(DI)
	VMOVUPD Z3, 192(DI)
	VMOVUPD Z4, (R10)
	VMOVUPD Z5, 64(R10)
	VMOVUPD Z6, 128(R10)
	VMOVUPD Z7, 192(R10)
	ADDQ $256, DI
	ADDQ $256, R10
	ADDQ $128, SI
	ADDQ $128, DX
	SUBQ $32, CX
	JMP  gradg32
gradg8:
	CMPQ CX, $8
	JL   graddone
	VMOVUPD (DI), Z0
	VMOVUPD (R10), Z4
	MOVQ SI, AX
	MOVQ DX, R11
	MOVQ R9, BX
gradr8:
	VCVTPS2PD (AX), Z8
	VCVTPS2PD (R11), Z12
	VADDPD Z8, Z0, Z0
	VMULPD Z12, Z8, Z12
	VADDPD Z12, Z4, Z4
	ADDQ R8, AX
	ADDQ R8, R11
	DECQ BX
	JNZ  gradr8
	VMOVUPD Z0, (DI)
	VMOVUPD Z4, (R10)
	ADDQ $64, DI
	ADDQ $64, R10
	ADDQ $32, SI
	ADDQ $32, DX
	SUBQ $8, CX
	JMP  gradg8
graddone:
	VZEROUPPER
	RET

// func bnAffineRows512(y, x, s, t *float32, rows, c, n int)
// y[r·c+i] = x[r·c+i]·s[i] + t[i] (the product rounded, then the sum),
// for r < rows, i < n (a multiple of 16).
TEXT ·bnAffineRows512(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ s+16(FP), DX
	MOVQ t+24(FP), R10
	MOVQ rows+32(FP), R9
	MOVQ c+40(FP), R8
	SHLQ $2, R8
	MOVQ n+48(FP), CX
affg64:
	CMPQ CX, $64
	JL   affg16
	VMOVUPS (DX), Z0
	VMOVUPS 64(DX), Z1
	VMOVUPS 128(DX), Z2
	VMOVUPS 192(DX), Z3
	VMOVUPS (R10), Z4
	VMOVUPS 64(R10), Z5
	VMOVUPS 128(R10), Z6
	VMOVUPS 192(R10), Z7
	MOVQ SI, AX
	MOVQ DI, R11
	MOVQ R9, BX
affr64:
	VMULPS (AX), Z0, Z8
	VMULPS 64(AX), Z1, Z9
	VMULPS 128(AX), Z2, Z10
	VMULPS 192(AX), Z3, Z11
	VADDPS Z4, Z8, Z8
	VADDPS Z5, Z9, Z9
	VADDPS Z6, Z10, Z10
	VADDPS Z7, Z11, Z11
	VMOVUPS Z8, (R11)
	VMOVUPS Z9, 64(R11)
	VMOVUPS Z10, 128(R11)
	VMOVUPS Z11, 192(R11)
	ADDQ R8, AX
	ADDQ R8, R11
	DECQ BX
	JNZ  affr64
	ADDQ $256, DX
	ADDQ $256, R10
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	JMP  affg64
affg16:
	CMPQ CX, $16
	JL   affdone
	VMOVUPS (DX), Z0
	VMOVUPS (R10), Z4
	MOVQ SI, AX
	MOVQ DI, R11
	MOVQ R9, BX
affr16:
	VMULPS (AX), Z0, Z8
	VADDPS Z4, Z8, Z8
	VMOVUPS Z8, (R11)
	ADDQ R8, AX
	ADDQ R8, R11
	DECQ BX
	JNZ  affr16
	ADDQ $64, DX
	ADDQ $64, R10
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  affg16
affdone:
	VZEROUPPER
	RET

// func bnDxRows512(dx, gr, x, k, m, q *float32, rows, c, n int)
// dx[r·c+i] = (k[i]·g[r·c+i] + m[i]·x[r·c+i]) + q[i], each product and
// sum rounded, for r < rows, i < n (a multiple of 16). The rows of dx, g
// and x are reached by one offset (AX).
TEXT ·bnDxRows512(SB), NOSPLIT, $0-72
	MOVQ dx+0(FP), DI
	MOVQ gr+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ k+24(FP), R10
	MOVQ m+32(FP), R12
	MOVQ q+40(FP), R13
	MOVQ rows+48(FP), R9
	MOVQ c+56(FP), R8
	SHLQ $2, R8
	MOVQ n+64(FP), CX
dxg64:
	CMPQ CX, $64
	JL   dxg16
	VMOVUPS (R10), Z0
	VMOVUPS 64(R10), Z1
	VMOVUPS 128(R10), Z2
	VMOVUPS 192(R10), Z3
	VMOVUPS (R12), Z4
	VMOVUPS 64(R12), Z5
	VMOVUPS 128(R12), Z6
	VMOVUPS 192(R12), Z7
	VMOVUPS (R13), Z8
	VMOVUPS 64(R13), Z9
	VMOVUPS 128(R13), Z10
	VMOVUPS 192(R13), Z11
	XORQ AX, AX
	MOVQ R9, BX
dxr64:
	VMULPS (SI)(AX*1), Z0, Z12
	VMULPS 64(SI)(AX*1), Z1, Z13
	VMULPS 128(SI)(AX*1), Z2, Z14
	VMULPS 192(SI)(AX*1), Z3, Z15
	VMULPS (DX)(AX*1), Z4, Z16
	VMULPS 64(DX)(AX*1), Z5, Z17
	VMULPS 128(DX)(AX*1), Z6, Z18
	VMULPS 192(DX)(AX*1), Z7, Z19
	VADDPS Z16, Z12, Z12
	VADDPS Z17, Z13, Z13
	VADDPS Z18, Z14, Z14
	VADDPS Z19, Z15, Z15
	VADDPS Z8, Z12, Z12
	VADDPS Z9, Z13, Z13
	VADDPS Z10, Z14, Z14
	VADDPS Z11, Z15, Z15
	VMOVUPS Z12, (DI)(AX*1)
	VMOVUPS Z13, 64(DI)(AX*1)
	VMOVUPS Z14, 128(DI)(AX*1)
	VMOVUPS Z15, 192(DI)(AX*1)
	ADDQ R8, AX
	DECQ BX
	JNZ  dxr64
	ADDQ $256, R10
	ADDQ $256, R12
	ADDQ $256, R13
	ADDQ $256, SI
	ADDQ $256, DX
	ADDQ $256, DI
	SUBQ $64, CX
	JMP  dxg64
dxg16:
	CMPQ CX, $16
	JL   dxdone
	VMOVUPS (R10), Z0
	VMOVUPS (R12), Z4
	VMOVUPS (R13), Z8
	XORQ AX, AX
	MOVQ R9, BX
dxr16:
	VMULPS (SI)(AX*1), Z0, Z12
	VMULPS (DX)(AX*1), Z4, Z16
	VADDPS Z16, Z12, Z12
	VADDPS Z8, Z12, Z12
	VMOVUPS Z12, (DI)(AX*1)
	ADDQ R8, AX
	DECQ BX
	JNZ  dxr16
	ADDQ $64, R10
	ADDQ $64, R12
	ADDQ $64, R13
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  dxg16
dxdone:
	VZEROUPPER
	RET
