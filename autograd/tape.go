package autograd

import (
	"errors"
	"fmt"

	"github.com/minmaxgan/minmax/internal/hugemem"
	"github.com/minmaxgan/minmax/tensor"
)

// opKind identifies the operation that produced a node.
type opKind uint8

const (
	opLeaf opKind = iota
	opAdd
	opSub
	opMul
	opDiv
	opAffine // a*x + b, scalars a (f) and b (f2)
	opMatMul
	opLinear
	opReLU
	opReLUMask
	opLeaky
	opLeakyMask
	opTanh
	opTanhGrad
	opSigmoid
	opSigmoidGrad
	opSoftplus
	opExp
	opLog
	opSquare
	opSqrt
	opSumTo
	opBroadcastTo
	opReshape
	opSlice
	opPad
	opConcat
	opConv
	opConvT
	opConvW
	opBatchNorm
	opCondBN
	opUpsample
	opBlockSum
	opGradOut // a gradient computed by a fused kernel outside any graph
	opLogSoftmax
	opBatchMatMul
	opSoftmax
	opGather
	opScatter
	opAllReduce
	opAttention
	opLinearReLU
	opMatMulMask // [mask > 0] ⊙ (a @ op(b)); a[2] is mask's index
	opConvTMask  // LeakyMask(mask, convT(x, w), f); a[2] is mask's index
	opConvTReLU  // ReLUMask(mask, convT(x, w)); a[2] is mask's index
	numOps
)

var opNames = [numOps]string{
	opLeaf: "leaf", opAdd: "Add", opSub: "Sub", opMul: "Mul", opDiv: "Div",
	opAffine: "Affine", opMatMul: "MatMul", opLinear: "Linear", opReLU: "ReLU",
	opReLUMask: "ReLUMask", opLeaky: "LeakyReLU", opLeakyMask: "LeakyMask",
	opTanh: "Tanh", opTanhGrad: "TanhGrad", opSigmoid: "Sigmoid",
	opSigmoidGrad: "SigmoidGrad", opSoftplus: "Softplus", opExp: "Exp",
	opLog: "Log", opSquare: "Square", opSqrt: "Sqrt", opSumTo: "SumTo",
	opBroadcastTo: "BroadcastTo", opReshape: "Reshape", opSlice: "Slice",
	opPad: "Pad", opConcat: "Concat", opConv: "Conv2D", opConvT: "ConvTranspose2D",
	opConvW: "ConvWeightGrad", opBatchNorm: "BatchNorm", opCondBN: "CondBatchNorm", opUpsample: "Upsample2D", opBlockSum: "BlockSum2D", opGradOut: "FusedGrad",
	opLogSoftmax: "LogSoftmax", opBatchMatMul: "BatchMatMul", opSoftmax: "Softmax",
	opGather: "Gather", opScatter: "ScatterAdd", opAllReduce: "AllReduce",
	opAttention: "Attention", opLinearReLU: "LinearReLU", opMatMulMask: "MatMulMask",
	opConvTMask: "ConvTranspose2DLeakyMask", opConvTReLU: "ConvTranspose2DReLUMask",
}

func (o opKind) String() string { return opNames[o] }

// Node is a value computed on a Tape, with the link to how it was computed.
// A Node is valid until its tape is Reset.
type Node struct {
	t     tensor.Tensor
	op    opKind
	ins   []*Node
	inBuf [3]*Node
	f, f2 float32 // scalar attributes (slope, scale, offset)
	a     [3]int  // integer attributes (axis, start, end, transposes)
	geo   tensor.ConvGeom
	aux   []float32 // op-specific tape-owned data kept for backward (batch norm's statistics)
	index []int32   // Gather's and ScatterAdd's index map (tape-owned)

	tape  *Tape
	epoch uint64
	idx   int
	param *Param
}

// Value returns the node's tensor. It aliases the tape's memory: copy it if
// it must outlive the next Reset.
func (n *Node) Value() *tensor.Tensor { return &n.t }

// Shape returns the node's shape (aliasing the node; do not modify).
func (n *Node) Shape() []int { return n.t.Shape() }

// Data returns the node's elements (aliasing the tape's memory).
func (n *Node) Data() []float32 { return n.t.Data }

// Item returns the first element, e.g. the value of a scalar loss.
func (n *Node) Item() float32 {
	if len(n.t.Data) == 0 {
		return 0
	}
	return n.t.Data[0]
}

// Op names the operation that produced the node ("leaf" for inputs).
func (n *Node) Op() string { return n.op.String() }

// Tape records operations for reverse-mode differentiation and owns the
// memory of their results. A Tape is not safe for concurrent use.
type Tape struct {
	nodes []*Node // pool; nodes[:used] are this epoch's nodes in creation order
	used  int
	bufs  [][]float32
	nbuf  int
	slab  hugemem.Slab // where bufs come from
	ibufs [][]int32    // the arena of index maps, as bufs
	nibuf int
	ptrs  []*Node
	nptr  int
	epoch uint64

	recording bool
	reducer   AllReducer // the group of AllReduce and synchronised batch norm (SetAllReducer)
	err       error
	bad       *Node

	scratch []float32 // transient buffer of one op (see scratchBuf)
	sums    []float64 // an op's float64 sums, transient (sumsBuf)

	needs []bool
	// target[i]: node i is a target of the current Grad (its gradient
	// is returned, so it must not be masked: reluOut).
	target []bool
	// uses[i]: how many inputs of the nodes of the current Grad's
	// backward pass node i is (leakyMasked).
	uses  []int32
	one   [1]*Node // GradOf's target list
	grads []*Node
	wrt   []*Node
	out   []*Node
}

// NewTape returns an empty tape that records operations.
func NewTape() *Tape {
	t := &Tape{recording: true, epoch: 1}
	t.bad = &Node{tape: t, idx: -1}
	t.bad.t.SetShape([]float32{0}, nil)
	return t
}

// Reset forgets every node recorded so far (they become invalid) and makes
// their memory available to the next step. It also clears a sticky error.
func (t *Tape) Reset() {
	t.used = 0
	t.nbuf = 0
	t.nibuf = 0
	t.nptr = 0
	t.epoch++
	t.err = nil
	t.recording = true
}

// Mark is a position on a tape, taken by Mark and returned to by Rewind.
type Mark struct {
	used, nbuf, nibuf, nptr int
	epoch                   uint64
}

// Mark returns the tape's current position.
func (t *Tape) Mark() Mark { return Mark{t.used, t.nbuf, t.nibuf, t.nptr, t.epoch} }

// Rewind forgets every node recorded since m, so that the ops that follow
// reuse their memory, while the nodes before m stay valid. The trainer
// rewinds after the discriminator's update, whose activations are dead by
// then, so that the generator's update reuses them: a step's memory is the
// larger of the two moves rather than their sum. Nodes recorded after m
// must not be used again; the tape detects such a use until their memory
// is handed out anew.
func (t *Tape) Rewind(m Mark) error {
	if m.epoch != t.epoch || m.used > t.used {
		return fmt.Errorf("Rewind: the mark is not a position of this tape's current step")
	}
	t.epoch++
	for _, n := range t.nodes[:m.used] {
		n.epoch = t.epoch
		if p := n.param; p != nil && p.leaf == n {
			p.leafEpoch = t.epoch
		}
	}
	t.used, t.nbuf, t.nibuf, t.nptr = m.used, m.nbuf, m.nibuf, m.nptr
	return nil
}

// Err returns the first error an op on this tape met since the last Reset.
func (t *Tape) Err() error { return t.err }

// Len is the number of nodes recorded since the last Reset.
func (t *Tape) Len() int { return t.used }

// SetRecording turns linking of new nodes into the graph on or off and
// returns the previous setting. With recording off (inference, or
// evaluating a model whose gradients are not wanted) ops still compute but
// their results are constants to later Grad calls.
func (t *Tape) SetRecording(on bool) (previous bool) {
	previous, t.recording = t.recording, on
	return previous
}

// ErrStaleNode is wrapped when an op is given a node from a previous step
// (before a Reset) or from another tape.
var ErrStaleNode = errors.New("node does not belong to this tape's current step")

func (t *Tape) fail(err error) *Node {
	if t.err == nil {
		t.err = err
	}
	return t.bad
}

func (t *Tape) failf(format string, args ...any) *Node {
	if t.err != nil {
		return t.bad
	}
	return t.fail(fmt.Errorf(""+format, args...))
}

// Failf records an error (the first one sticks, as for the built-in ops)
// and returns the tape's placeholder node. Layers composed of several ops
// use it to report inputs they cannot take, naming the layer.
func (t *Tape) Failf(format string, args ...any) *Node {
	if t.err != nil {
		return t.bad
	}
	return t.fail(fmt.Errorf(format, args...))
}

// ok checks the inputs of an op; false means the op must return t.bad.
func (t *Tape) ok(op opKind, ns ...*Node) bool {
	if t.err != nil {
		return false
	}
	for i, n := range ns {
		if n == nil {
			t.failf("%v: input %d is nil", op, i)
			return false
		}
		if n.tape != t || n.epoch != t.epoch {
			t.fail(fmt.Errorf("%v: input %d (%v %v): %w", op, i, n.op, sh(n.t.Shape()), ErrStaleNode))
			return false
		}
	}
	return true
}

// alloc returns a buffer of n float32 from the arena. Its contents are
// undefined: kernels must overwrite all of it.
func (t *Tape) alloc(n int) []float32 {
	if t.nbuf < len(t.bufs) {
		b := t.bufs[t.nbuf]
		if cap(b) >= n {
			t.nbuf++
			return b[:n]
		}
		b = t.slab.Floats(n, n+n/4)
		t.bufs[t.nbuf] = b
		t.nbuf++
		return b
	}
	b := t.slab.Floats(n, n)
	t.bufs = append(t.bufs, b)
	t.nbuf++
	return b
}

// allocIndex returns an index map of n int32 from the tape's arena (same
// rules as alloc).
func (t *Tape) allocIndex(n int) []int32 {
	if t.nibuf < len(t.ibufs) {
		b := t.ibufs[t.nibuf]
		if cap(b) < n {
			b = make([]int32, n, n+n/4)
			t.ibufs[t.nibuf] = b
		}
		t.nibuf++
		return b[:n]
	}
	b := make([]int32, n)
	t.ibufs = append(t.ibufs, b)
	t.nibuf++
	return b
}

// scratchBuf returns a buffer of n float32 that is valid only until the
// next call: for an op's intermediate results that no node keeps (the
// columns of a transposed convolution before they are folded), so that
// they do not each take arena memory for the whole step.
func (t *Tape) scratchBuf(n int) []float32 {
	if cap(t.scratch) < n {
		t.scratch = make([]float32, n)
	}
	return t.scratch[:n]
}

// sumsBuf returns n zeroed float64s valid until the next call: the
// per-column sums a synchronised batch norm adds across ranks.
func (t *Tape) sumsBuf(n int) []float64 {
	if cap(t.sums) < n {
		t.sums = make([]float64, n)
	}
	b := t.sums[:n]
	clear(b)
	return b
}

// node returns a fresh node of the given op and shape, with data from the
// arena (when data is nil) and the given inputs linked while recording.
func (t *Tape) node(op opKind, shape []int, data []float32, in0, in1, in2 *Node) *Node {
	var n *Node
	if t.used < len(t.nodes) {
		n = t.nodes[t.used]
		*n = Node{}
	} else {
		n = new(Node)
		t.nodes = append(t.nodes, n)
	}
	n.tape, n.epoch, n.idx, n.op = t, t.epoch, t.used, op
	t.used++
	if data == nil {
		data = t.alloc(tensor.NumElems(shape))
	}
	n.t.SetShapeUnchecked(data, shape)
	if t.recording {
		k := 0
		for _, in := range [3]*Node{in0, in1, in2} {
			if in != nil {
				n.inBuf[k] = in
				k++
			}
		}
		n.ins = n.inBuf[:k]
	}
	return n
}

// ptrSlice returns k node pointers of tape-owned storage (for ops with many inputs).
func (t *Tape) ptrSlice(k int) []*Node {
	if t.nptr+k > len(t.ptrs) {
		t.ptrs = append(t.ptrs, make([]*Node, t.nptr+k-len(t.ptrs))...)
	}
	s := t.ptrs[t.nptr : t.nptr+k : t.nptr+k]
	t.nptr += k
	return s
}

// Leaf wraps x (not copied) as an input node. Gradients with respect to it
// can be asked for (e.g. the real batch of an R1 penalty).
func (t *Tape) Leaf(x *tensor.Tensor) *Node {
	if t.err != nil {
		return t.bad
	}
	if x == nil {
		return t.failf("Leaf: nil tensor")
	}
	return t.node(opLeaf, x.Shape(), x.Data, nil, nil, nil)
}

// Full returns a new constant node of the given shape filled with v.
func (t *Tape) Full(v float32, shape ...int) *Node {
	if t.err != nil {
		return t.bad
	}
	if err := tensor.CheckShape(shape); err != nil {
		return t.failf("Full: %v", err)
	}
	n := t.node(opLeaf, shape, nil, nil, nil, nil)
	for i := range n.t.Data {
		n.t.Data[i] = v
	}
	return n
}

// Scalar returns a constant rank-0 node holding v.
func (t *Tape) Scalar(v float32) *Node { return t.Full(v) }

// Param returns the leaf node of p for this step, creating it on first use:
// using a parameter twice in a step (D on real and on fake data) gives the
// same node, so its gradient sums both uses.
func (t *Tape) Param(p *Param) *Node {
	if t.err != nil {
		return t.bad
	}
	if p.leaf != nil && p.leafTape == t && p.leafEpoch == t.epoch {
		return p.leaf
	}
	n := t.node(opLeaf, p.Value.Shape(), p.Value.Data, nil, nil, nil)
	n.param = p
	p.leaf, p.leafTape, p.leafEpoch = n, t, t.epoch
	return n
}

// Param is a trainable tensor with its gradient. The optimizers keep their
// own state outside it, so models, optimizer states and checkpoints stay
// separate.
type Param struct {
	// Name identifies the parameter in checkpoints ("D.fc1.weight").
	Name string
	// Value is the parameter's current value.
	Value *tensor.Tensor
	// Grad accumulates gradients from Tape.Backward; zero it with ZeroGrad.
	Grad *tensor.Tensor

	leaf      *Node
	leafTape  *Tape
	leafEpoch uint64
}

// NewParam makes a parameter of value (not copied) with a zero gradient.
func NewParam(name string, value *tensor.Tensor) *Param {
	return &Param{Name: name, Value: value, Grad: tensor.New(value.Shape()...)}
}

// ZeroGrad sets the gradient to zero.
func (p *Param) ZeroGrad() { clear(p.Grad.Data) }

// ZeroGrads sets the gradients of all ps to zero.
func ZeroGrads(ps []*Param) {
	for _, p := range ps {
		p.ZeroGrad()
	}
}

// Inputs returns the nodes n was computed from (nil for leaves and for
// nodes made while recording was off).
func (n *Node) Inputs() []*Node { return n.ins }

// NodeOp returns the op name of the i-th node recorded since the last Reset
// (for tests and debugging).
func (t *Tape) NodeOp(i int) string { return t.nodes[i].op.String() }

// sh formats a shape for an error message without letting it escape.
func sh(s []int) string { return tensor.FormatShape(s) }
