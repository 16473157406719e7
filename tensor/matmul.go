package tensor

import "github.com/minmaxgan/minmax/internal/gemm"

// MatMul computes c = op(a) @ op(b) (+ c when accumulate), row-major, where
// op(a) is m×k and op(b) is k×n: a is stored m×k, or k×m when transA; b is
// stored k×n, or n×k when transB. Work goes to the assembly SGEMM on the
// process-wide worker pool.
func MatMul(c, a, b []float32, m, n, k int, transA, transB, accumulate bool) {
	lda, ldb := leading(m, n, k, transA, transB)
	var beta float32
	if accumulate {
		beta = 1
	}
	gemm.Sgemm(nil, transA, transB, m, n, k, 1, a, lda, b, ldb, beta, c, n)
}

// MatMulBias computes c = op(a) @ op(b) + bias, bias (n values) added to
// every row: bit-identical to FillRows(c, bias) then MatMul with
// accumulate, without that pass over c (each tile of c starts from the
// bias inside the product, on every thread).
func MatMulBias(c, a, b, bias []float32, m, n, k int, transA, transB bool) {
	lda, ldb := leading(m, n, k, transA, transB)
	gemm.SgemmBias(nil, transA, transB, m, n, k, a, lda, b, ldb, bias, c, n)
}

// leading returns the leading dimensions of MatMul's operands, stored
// m×k (k×m when transA) and k×n (n×k when transB).
func leading(m, n, k int, transA, transB bool) (lda, ldb int) {
	lda, ldb = k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	return lda, ldb
}
