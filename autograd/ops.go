package autograd

import (
	"math"

	"github.com/minmaxgan/minmax/tensor"
)

// binary is the shared body of the broadcasting Add, Sub, Mul and Div.
func (t *Tape) binary(op opKind, kop tensor.BinOp, a, b *Node) *Node {
	if !t.ok(op, a, b) {
		return t.bad
	}
	var shape [tensor.MaxRank]int
	r, ok := tensor.BroadcastShape(a.Shape(), b.Shape(), &shape)
	if !ok {
		return t.failf("%v: shapes %v and %v cannot be broadcast together", op, sh(a.Shape()), sh(b.Shape()))
	}
	n := t.node(op, shape[:r], nil, a, b, nil)
	tensor.Binary(kop, n.t.Data, n.Shape(), a.t.Data, a.Shape(), b.t.Data, b.Shape())
	return n
}

// Add returns a + b with NumPy broadcasting.
func (t *Tape) Add(a, b *Node) *Node { return t.binary(opAdd, tensor.OpAdd, a, b) }

// Sub returns a - b with NumPy broadcasting.
func (t *Tape) Sub(a, b *Node) *Node { return t.binary(opSub, tensor.OpSub, a, b) }

// Mul returns a * b elementwise with NumPy broadcasting.
func (t *Tape) Mul(a, b *Node) *Node { return t.binary(opMul, tensor.OpMul, a, b) }

// Div returns a / b elementwise with NumPy broadcasting.
func (t *Tape) Div(a, b *Node) *Node { return t.binary(opDiv, tensor.OpDiv, a, b) }

// Affine returns a*x + b for scalars a and b.
func (t *Tape) Affine(x *Node, a, b float32) *Node {
	if !t.ok(opAffine, x) {
		return t.bad
	}
	n := t.node(opAffine, x.Shape(), nil, x, nil, nil)
	n.f, n.f2 = a, b
	tensor.Affine(n.t.Data, x.t.Data, a, b)
	return n
}

// Scale returns c*x.
func (t *Tape) Scale(x *Node, c float32) *Node { return t.Affine(x, c, 0) }

// AddScalar returns x + c.
func (t *Tape) AddScalar(x *Node, c float32) *Node { return t.Affine(x, 1, c) }

// Neg returns -x.
func (t *Tape) Neg(x *Node) *Node { return t.Affine(x, -1, 0) }

// MatMul returns op(a) @ op(b) for matrices (rank 2), where op transposes
// its argument when the matching flag is set. The transposes cost nothing:
// the GEMM packs its operands in whichever order they come.
func (t *Tape) MatMul(a, b *Node, transA, transB bool) *Node {
	if !t.ok(opMatMul, a, b) {
		return t.bad
	}
	if a.t.Rank() != 2 || b.t.Rank() != 2 {
		return t.failf("MatMul: operands must be matrices, got shapes %v and %v", sh(a.Shape()), sh(b.Shape()))
	}
	m, ka := a.t.Dim(0), a.t.Dim(1)
	if transA {
		m, ka = ka, m
	}
	kb, nn := b.t.Dim(0), b.t.Dim(1)
	if transB {
		kb, nn = nn, kb
	}
	if ka != kb {
		return t.failf("MatMul: shapes %v%s and %v%s: inner dimensions %d and %d differ",
			sh(a.Shape()), tr(transA), sh(b.Shape()), tr(transB), ka, kb)
	}
	n := t.node(opMatMul, []int{m, nn}, nil, a, b, nil)
	n.a[0], n.a[1] = b2i(transA), b2i(transB)
	tensor.MatMul(n.t.Data, a.t.Data, b.t.Data, m, nn, ka, transA, transB, false)
	return n
}

func tr(b bool) string {
	if b {
		return "ᵀ"
	}
	return ""
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Linear returns x @ wᵀ + bias, the fully connected layer, for x of shape
// (batch, in), w of shape (out, in) (PyTorch's layout) and bias of shape
// (out) or nil. Each tile of the output starts from the bias inside the
// product (tensor.MatMulBias), so the layer is a single GEMM pass.
func (t *Tape) Linear(x, w, bias *Node) *Node {
	return t.linear(opLinear, x, w, bias, tensor.Act{})
}

// LinearReLU returns ReLU(x @ wᵀ + bias) (bias may be nil) as one op, with
// Linear's shapes: the product's threads apply the ReLU to the tiles they
// compute (tensor.MatMulBiasAct), instead of a pass over the output on
// one thread. The values and gradients, at any order, are bit-identical to
// ReLU(Linear(x, w, bias)).
func (t *Tape) LinearReLU(x, w, bias *Node) *Node {
	return t.linear(opLinearReLU, x, w, bias, tensor.Act{Kind: tensor.ActReLU})
}

// linear records op, x @ wᵀ + bias followed by act.
func (t *Tape) linear(op opKind, x, w, bias *Node, act tensor.Act) *Node {
	n := t.linearNode(op, x, w, bias)
	if n == t.bad {
		return n
	}
	var b []float32
	if bias != nil {
		b = bias.t.Data
	}
	tensor.MatMulBiasAct(n.t.Data, x.t.Data, w.t.Data, b, x.t.Dim(0), w.t.Dim(0), x.t.Dim(1), false, true, act)
	return n
}

// linearNode checks Linear's operands and returns the node of op for
// them, its value not yet computed.
func (t *Tape) linearNode(op opKind, x, w, bias *Node) *Node {
	if bias == nil {
		if !t.ok(op, x, w) {
			return t.bad
		}
	} else if !t.ok(op, x, w, bias) {
		return t.bad
	}
	if x.t.Rank() != 2 || w.t.Rank() != 2 || x.t.Dim(1) != w.t.Dim(1) {
		return t.failf("%v: input %v and weight %v: want input (batch, in) and weight (out, in)", op, sh(x.Shape()), sh(w.Shape()))
	}
	m, out := x.t.Dim(0), w.t.Dim(0)
	if bias != nil && (bias.t.Rank() != 1 || bias.t.Dim(0) != out) {
		return t.failf("%v: bias %v does not match weight %v: want (%d)", op, sh(bias.Shape()), sh(w.Shape()), out)
	}
	return t.node(op, []int{m, out}, nil, x, w, bias)
}

// matMulMask returns [mask > 0] ⊙ (a @ op(b)), with the mask applied by the
// product's threads (tensor.MatMulMask): the gradient reaching a ReLU whose
// output is mask through a product (reluOut). a[2] keeps mask's index, so
// that the ReLU's own rule sees its gradient masked already (maskedBy).
func (t *Tape) matMulMask(a, b, mask *Node, transB bool) *Node {
	if !t.ok(opMatMulMask, a, b, mask) {
		return t.bad
	}
	m, k := a.t.Dim(0), a.t.Dim(1)
	nn := b.t.Dim(1)
	if transB {
		nn = b.t.Dim(0)
	}
	n := t.node(opMatMulMask, []int{m, nn}, nil, a, b, mask)
	n.a[0], n.a[1], n.a[2] = 0, b2i(transB), mask.idx
	tensor.MatMulMask(n.t.Data, a.t.Data, b.t.Data, mask.t.Data, m, nn, k, false, transB)
	return n
}

// maskedBy reports whether g, a gradient reaching the activation output
// y, was masked by y's rule already: by a ReLU's (matMulMask,
// convTReLUMask), which would change nothing if applied again (where y >
// 0 it keeps g, and g is zero elsewhere), or by a fused LeakyReLU's
// (convTLeakyMask), which must not be applied again.
func maskedBy(g, y *Node) bool {
	return (g.op == opMatMulMask || g.op == opConvTMask || g.op == opConvTReLU) && g.a[2] == y.idx
}

// reluGrad returns the gradient before a ReLU fused into the node y
// (LinearReLU, Conv2DReLU), given g after it: masked by y > 0, unless it
// is already (maskedBy).
func (t *Tape) reluGrad(y, g *Node) *Node {
	if maskedBy(g, y) {
		return g
	}
	return t.reluMask(y, g)
}

func (t *Tape) unary(op opKind, x *Node) *Node {
	if !t.ok(op, x) {
		return t.bad
	}
	return t.node(op, x.Shape(), nil, x, nil, nil)
}

// ReLU returns max(x, 0).
func (t *Tape) ReLU(x *Node) *Node {
	n := t.unary(opReLU, x)
	if n != t.bad {
		tensor.ReLU(n.t.Data, x.t.Data)
	}
	return n
}

// LeakyReLU returns x where x > 0 and slope*x elsewhere.
func (t *Tape) LeakyReLU(x *Node, slope float32) *Node {
	n := t.unary(opLeaky, x)
	if n != t.bad {
		n.f = slope
		tensor.LeakyReLU(n.t.Data, x.t.Data, slope)
	}
	return n
}

// Tanh returns tanh(x).
func (t *Tape) Tanh(x *Node) *Node {
	n := t.unary(opTanh, x)
	if n != t.bad {
		tensor.Tanh(n.t.Data, x.t.Data)
	}
	return n
}

// Sigmoid returns 1/(1+exp(-x)).
func (t *Tape) Sigmoid(x *Node) *Node {
	n := t.unary(opSigmoid, x)
	if n != t.bad {
		tensor.Sigmoid(n.t.Data, x.t.Data)
	}
	return n
}

// Softplus returns log(1+exp(x)), computed stably (finite and exact for
// |x| = 1e4): the building block of the seed's losses, eq. (1).
func (t *Tape) Softplus(x *Node) *Node {
	n := t.unary(opSoftplus, x)
	if n != t.bad {
		tensor.Softplus(n.t.Data, x.t.Data)
	}
	return n
}

// Exp returns exp(x).
func (t *Tape) Exp(x *Node) *Node {
	n := t.unary(opExp, x)
	if n != t.bad {
		tensor.Exp(n.t.Data, x.t.Data)
	}
	return n
}

// Log returns the natural logarithm of x.
func (t *Tape) Log(x *Node) *Node {
	n := t.unary(opLog, x)
	if n != t.bad {
		tensor.Log(n.t.Data, x.t.Data)
	}
	return n
}

// Square returns x*x.
func (t *Tape) Square(x *Node) *Node {
	n := t.unary(opSquare, x)
	if n != t.bad {
		tensor.Square(n.t.Data, x.t.Data)
	}
	return n
}

// Sqrt returns the square root of x.
func (t *Tape) Sqrt(x *Node) *Node {
	n := t.unary(opSqrt, x)
	if n != t.bad {
		tensor.Sqrt(n.t.Data, x.t.Data)
	}
	return n
}

// maskOp builds the fused gradient ops g*f'(x) that are differentiable
// themselves (so that gradients of gradients work).
func (t *Tape) maskOp(op opKind, x, g *Node) *Node {
	if !t.ok(op, x, g) {
		return t.bad
	}
	if !tensor.SameShape(x.Shape(), g.Shape()) {
		return t.failf("%v: shapes %v and %v differ", op, sh(x.Shape()), sh(g.Shape()))
	}
	return t.node(op, x.Shape(), nil, x, g, nil)
}

func (t *Tape) reluMask(x, g *Node) *Node {
	n := t.maskOp(opReLUMask, x, g)
	if n != t.bad {
		tensor.ReLUMask(n.t.Data, x.t.Data, g.t.Data)
	}
	return n
}

func (t *Tape) leakyMask(x, g *Node, slope float32) *Node {
	n := t.maskOp(opLeakyMask, x, g)
	if n != t.bad {
		n.f = slope
		tensor.LeakyMask(n.t.Data, x.t.Data, g.t.Data, slope)
	}
	return n
}

func (t *Tape) tanhGrad(y, g *Node) *Node {
	n := t.maskOp(opTanhGrad, y, g)
	if n != t.bad {
		tensor.TanhGrad(n.t.Data, y.t.Data, g.t.Data)
	}
	return n
}

func (t *Tape) sigmoidGrad(y, g *Node) *Node {
	n := t.maskOp(opSigmoidGrad, y, g)
	if n != t.bad {
		tensor.SigmoidGrad(n.t.Data, y.t.Data, g.t.Data)
	}
	return n
}

// SumTo sums x down to shape, which must broadcast to x's shape (the
// adjoint of BroadcastTo). It returns x itself when the shapes agree.
func (t *Tape) SumTo(x *Node, shape ...int) *Node {
	if !t.ok(opSumTo, x) {
		return t.bad
	}
	if tensor.SameShape(x.Shape(), shape) {
		return x
	}
	if !tensor.CanBroadcastTo(shape, x.Shape()) {
		return t.failf("SumTo: shape %v does not broadcast to %v", sh(shape), sh(x.Shape()))
	}
	n := t.node(opSumTo, shape, nil, x, nil, nil)
	tensor.SumTo(n.t.Data, n.Shape(), x.t.Data, x.Shape())
	return n
}

// BroadcastTo repeats x along its size-1 (or missing leading) dimensions to
// the given shape. It returns x itself when the shapes agree.
func (t *Tape) BroadcastTo(x *Node, shape ...int) *Node {
	if !t.ok(opBroadcastTo, x) {
		return t.bad
	}
	if tensor.SameShape(x.Shape(), shape) {
		return x
	}
	if !tensor.CanBroadcastTo(x.Shape(), shape) {
		return t.failf("BroadcastTo: shape %v does not broadcast to %v", sh(x.Shape()), sh(shape))
	}
	n := t.node(opBroadcastTo, shape, nil, x, nil, nil)
	tensor.BroadcastTo(n.t.Data, n.Shape(), x.t.Data, x.Shape())
	return n
}

// Reshape returns a view of x with a new shape (one dimension may be -1).
// No data is copied.
func (t *Tape) Reshape(x *Node, shape ...int) *Node {
	if !t.ok(opReshape, x) {
		return t.bad
	}
	var s [tensor.MaxRank]int
	r, err := tensor.ResolveReshape(x.Shape(), shape, &s)
	if err != nil {
		return t.failf("Reshape: %v", err)
	}
	return t.node(opReshape, s[:r], x.t.Data, x, nil, nil)
}

// axes validates a list of axes of a rank-r tensor into a mask.
func (t *Tape) axes(op string, shape []int, axes []int) (mask [tensor.MaxRank]bool, ok bool) {
	r := len(shape)
	if len(axes) == 0 {
		for i := 0; i < r; i++ {
			mask[i] = true
		}
		return mask, true
	}
	for _, a := range axes {
		if a < 0 {
			a += r
		}
		if a < 0 || a >= r {
			t.failf("%s: axis %d out of range for shape %v", op, a, sh(shape))
			return mask, false
		}
		if mask[a] {
			t.failf("%s: axis %d given twice for shape %v", op, a, sh(shape))
			return mask, false
		}
		mask[a] = true
	}
	return mask, true
}

// Sum sums x over the given axes (all axes when none are given). With
// keepDims the summed axes stay as size 1.
func (t *Tape) Sum(x *Node, keepDims bool, axes ...int) *Node {
	if !t.ok(opSumTo, x) {
		return t.bad
	}
	mask, ok := t.axes("Sum", x.Shape(), axes)
	if !ok {
		return t.bad
	}
	var kept, dropped [tensor.MaxRank]int
	r, nd := x.t.Rank(), 0
	for i := 0; i < r; i++ {
		if mask[i] {
			kept[i] = 1
		} else {
			kept[i] = x.t.Dim(i)
			dropped[nd] = kept[i]
			nd++
		}
	}
	s := t.SumTo(x, kept[:r]...)
	if keepDims {
		return s
	}
	return t.Reshape(s, dropped[:nd]...)
}

// Mean averages x over the given axes (all axes when none are given).
func (t *Tape) Mean(x *Node, keepDims bool, axes ...int) *Node {
	s := t.Sum(x, keepDims, axes...)
	if s == t.bad || len(s.t.Data) == 0 {
		return s
	}
	return t.Scale(s, float32(len(s.t.Data))/float32(len(x.t.Data)))
}

func (t *Tape) axis(op string, x *Node, axis int) (int, bool) {
	r := x.t.Rank()
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= r {
		t.failf("%s: axis %d out of range for shape %v", op, axis, sh(x.Shape()))
		return 0, false
	}
	return axis, true
}

// Slice returns x[..., start:end, ...] along axis (a copy).
func (t *Tape) Slice(x *Node, axis, start, end int) *Node {
	if !t.ok(opSlice, x) {
		return t.bad
	}
	axis, ok := t.axis("Slice", x, axis)
	if !ok {
		return t.bad
	}
	if start < 0 || end > x.t.Dim(axis) || start > end {
		return t.failf("Slice: range [%d:%d] out of bounds for axis %d of shape %v", start, end, axis, sh(x.Shape()))
	}
	var s [tensor.MaxRank]int
	copy(s[:], x.Shape())
	s[axis] = end - start
	n := t.node(opSlice, s[:x.t.Rank()], nil, x, nil, nil)
	n.a = [3]int{axis, start, end}
	outer, mid, inner := tensor.AxisSplit(x.Shape(), axis)
	tensor.SliceAxis(n.t.Data, x.t.Data, outer, mid, inner, start, end)
	return n
}

// pad is the adjoint of Slice: g placed at [start:start+len) along axis of a
// zero tensor whose axis has size full.
func (t *Tape) pad(g *Node, axis, start, full int) *Node {
	if !t.ok(opPad, g) {
		return t.bad
	}
	var s [tensor.MaxRank]int
	copy(s[:], g.Shape())
	s[axis] = full
	n := t.node(opPad, s[:g.t.Rank()], nil, g, nil, nil)
	end := start + g.t.Dim(axis)
	n.a = [3]int{axis, start, end}
	outer, mid, inner := tensor.AxisSplit(n.Shape(), axis)
	tensor.PadAxis(n.t.Data, g.t.Data, outer, mid, inner, start, end)
	return n
}

// Concat joins xs along axis; all other dimensions must agree.
func (t *Tape) Concat(axis int, xs ...*Node) *Node {
	if len(xs) == 0 {
		return t.failf("Concat: no inputs")
	}
	if !t.ok(opConcat, xs...) {
		return t.bad
	}
	axis, ok := t.axis("Concat", xs[0], axis)
	if !ok {
		return t.bad
	}
	var s [tensor.MaxRank]int
	r := xs[0].t.Rank()
	copy(s[:], xs[0].Shape())
	s[axis] = 0
	for i, x := range xs {
		if x.t.Rank() != r {
			return t.failf("Concat: input %d has shape %v, input 0 has %v", i, sh(x.Shape()), sh(xs[0].Shape()))
		}
		for d := 0; d < r; d++ {
			if d != axis && x.t.Dim(d) != s[d] {
				return t.failf("Concat: input %d has shape %v, input 0 has %v: only axis %d may differ", i, sh(x.Shape()), sh(xs[0].Shape()), axis)
			}
		}
		s[axis] += x.t.Dim(axis)
	}
	n := t.node(opConcat, s[:r], nil, nil, nil, nil)
	n.a[0] = axis
	if t.recording {
		n.ins = t.ptrSlice(len(xs))
		copy(n.ins, xs)
	}
	outer, mid, inner := tensor.AxisSplit(n.Shape(), axis)
	off := 0
	for _, x := range xs {
		w := x.t.Dim(axis)
		tensor.InsertAxis(n.t.Data, x.t.Data, outer, mid, inner, off, off+w)
		off += w
	}
	return n
}

// LogSoftmax returns log(softmax(x)) over the last axis of x, shape
// (rows, classes), computed stably (the row maximum is subtracted before
// exponentiating): the log-probabilities of a classifier, whose negative
// mean at the true classes is the cross-entropy loss.
func (t *Tape) LogSoftmax(x *Node) *Node {
	if !t.ok(opLogSoftmax, x) {
		return t.bad
	}
	if x.t.Rank() != 2 || x.t.Dim(1) < 1 {
		return t.failf("LogSoftmax: input %v, want (rows, classes)", sh(x.Shape()))
	}
	n := t.node(opLogSoftmax, x.Shape(), nil, x, nil, nil)
	rows, k := x.t.Dim(0), x.t.Dim(1)
	for r := 0; r < rows; r++ {
		in, out := x.t.Data[r*k:(r+1)*k], n.t.Data[r*k:(r+1)*k]
		m := in[0]
		for _, v := range in {
			m = max(m, v)
		}
		var s float64
		for _, v := range in {
			s += math.Exp(float64(v - m))
		}
		lse := m + float32(math.Log(s))
		for i, v := range in {
			out[i] = v - lse
		}
	}
	return n
}

// Upsample2D repeats each pixel of x, shape (N, H, W, C), over an f×f
// block and multiplies it by scale: (N, H·f, W·f, C), nearest-neighbour
// upsampling (scale 1). Its gradient is BlockSum2D with the same f and
// scale, and that one's is Upsample2D: they differentiate to any order.
func (t *Tape) Upsample2D(x *Node, f int, scale float32) *Node {
	if !t.ok(opUpsample, x) {
		return t.bad
	}
	s := x.Shape()
	if len(s) != 4 || f < 1 {
		return t.failf("Upsample2D: input %v by %d, want (N, H, W, C) and a factor >= 1", sh(s), f)
	}
	n := t.node(opUpsample, []int{s[0], s[1] * f, s[2] * f, s[3]}, nil, x, nil, nil)
	n.a[0], n.f = f, scale
	tensor.Upsample2D(n.t.Data, x.t.Data, s[0], s[1], s[2], s[3], f, scale)
	return n
}

// BlockSum2D sums x, shape (N, H, W, C), over non-overlapping f×f blocks
// (H and W multiples of f) and multiplies by scale: (N, H/f, W/f, C);
// average pooling is scale 1/f².
func (t *Tape) BlockSum2D(x *Node, f int, scale float32) *Node {
	if !t.ok(opBlockSum, x) {
		return t.bad
	}
	s := x.Shape()
	if len(s) != 4 || f < 1 || s[1]%f != 0 || s[2]%f != 0 {
		return t.failf("BlockSum2D: input %v by %d, want (N, H, W, C) with H and W multiples of the factor", sh(s), f)
	}
	n := t.node(opBlockSum, []int{s[0], s[1] / f, s[2] / f, s[3]}, nil, x, nil, nil)
	n.a[0], n.f = f, scale
	tensor.BlockSum2D(n.t.Data, x.t.Data, s[0], s[1]/f, s[2]/f, s[3], f, scale)
	return n
}
