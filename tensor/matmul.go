package tensor

import (
	"sync"

	"github.com/minmaxgan/minmax/internal/gemm"
)

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

// MatMulBiasAct computes c = act(op(a) @ op(b) + bias) (bias nil: no
// bias), the activation applied to each tile of c by the thread that
// computed it: bit-identical to MatMulBias (or MatMul) followed by the
// activation.
func MatMulBiasAct(c, a, b, bias []float32, m, n, k int, transA, transB bool, act Act) {
	post, pooled := outOp{act: act}.epilogue(n)
	if post == nil {
		if bias != nil {
			MatMulBias(c, a, b, bias, m, n, k, transA, transB)
		} else {
			MatMul(c, a, b, m, n, k, transA, transB, false)
		}
		return
	}
	lda, ldb := leading(m, n, k, transA, transB)
	gemm.SgemmPost(nil, transA, transB, m, n, k, a, lda, b, ldb, bias, c, n, post)
	putPost(pooled)
}

// MatMulMask computes c = op(a) @ op(b) where mask > 0 (or is NaN) and 0
// elsewhere, mask m×n: ReLUMask(c, mask, op(a) @ op(b)), the gradient of a
// ReLU whose output is mask reaching it through a product, with the mask
// applied by the product's threads to the tiles they computed.
func MatMulMask(c, a, b, mask []float32, m, n, k int, transA, transB bool) {
	if len(mask) < m*n {
		panic("tensor.MatMulMask: mask shorter than the m×n product")
	}
	lda, ldb := leading(m, n, k, transA, transB)
	p, pooled := outOp{mask: mask}.epilogue(n)
	gemm.SgemmPost(nil, transA, transB, m, n, k, a, lda, b, ldb, nil, c, n, p)
	putPost(pooled)
}

// ActKind names an activation a product applies to its output (Act).
type ActKind uint8

// The activations a product can fuse.
const (
	ActNone  ActKind = iota
	ActReLU          // ReLU
	ActLeaky         // LeakyReLU with Act.Slope
)

// Act is an activation fused into a product (ConvMatMulAct): applied to
// each tile of the output by the thread that computed it, where the
// product supports it, else in a pass over the output after it. Either way
// the values are those of the activation applied after the product.
type Act struct {
	Kind  ActKind
	Slope float32 // LeakyReLU's negative slope
}

// outOp is what a product does to its output as it finishes it: an
// activation, or (mask set, act none; ConvMatMulReLUMask, MatMulMask)
// keeping the output where mask (of the output's shape) is > 0 or NaN
// and zeroing it elsewhere, as ReLUMask(out, mask, out).
type outOp struct {
	act  Act
	mask []float32
}

// epilogue returns o's epilogue for gemm over an output of rows of ld
// values (nil for none) and the pooled epilogue to put back (putPost)
// after the product.
func (o outOp) epilogue(ld int) (post, pooled gemm.Epilogue) {
	if o.mask != nil {
		p := maskPosts.Get().(*maskPost)
		p.mask, p.ld = o.mask, ld
		return p, p
	}
	a := o.act
	switch a.Kind {
	case ActReLU:
		return reluPost{}, nil
	case ActLeaky:
		p := leakyPosts.Get().(*leakyPost)
		p.slope = a.Slope
		return p, p
	}
	return nil, nil
}

// putPost puts an epilogue that outOp.epilogue took from a pool back.
func putPost(p gemm.Epilogue) {
	switch p := p.(type) {
	case *leakyPost:
		leakyPosts.Put(p)
	case *maskPost:
		*p = maskPost{}
		maskPosts.Put(p)
	}
}

// apply applies o to out in a pass (the paths without an epilogue).
func (o outOp) apply(out []float32) {
	if o.mask != nil {
		ReLUMask(out, o.mask[:len(out)], out)
		return
	}
	a := o.act
	switch a.Kind {
	case ActReLU:
		ReLU(out, out)
	case ActLeaky:
		LeakyReLU(out, out, a.Slope)
	}
}

// leakyPost is the epilogue of a LeakyReLU (Act).
type leakyPost struct{ slope float32 }

var leakyPosts = sync.Pool{New: func() any { return new(leakyPost) }}

func (p *leakyPost) Finish(c []float32, ldc, _, rows, _, cols int) {
	for r := range rows {
		row := c[r*ldc : r*ldc+cols]
		leakySerial(row, row, row, p.slope)
	}
}

// reluPost is the epilogue of a ReLU (Act).
type reluPost struct{}

func (reluPost) Finish(c []float32, ldc, _, rows, _, cols int) {
	for r := range rows {
		row := c[r*ldc : r*ldc+cols]
		reluSerial(row, row)
	}
}

// maskPost is the epilogue of MatMulMask: C's block keeps its values where
// the same block of mask (row stride ld) is > 0.
type maskPost struct {
	mask []float32
	ld   int
}

var maskPosts = sync.Pool{New: func() any { return new(maskPost) }}

func (p *maskPost) Finish(c []float32, ldc, i0, rows, j0, cols int) {
	for r := range rows {
		row := c[r*ldc : r*ldc+cols]
		o := (i0+r)*p.ld + j0
		reluMaskSerial(row, p.mask[o:o+cols], row)
	}
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
