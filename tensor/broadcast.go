package tensor

// BroadcastShape computes the NumPy-style broadcast of shapes a and b (dims
// aligned at the right; a dim of 1 stretches). It writes the result into out
// and returns its rank, or ok=false when the shapes are incompatible.
func BroadcastShape(a, b []int, out *[MaxRank]int) (rank int, ok bool) {
	rank = max(len(a), len(b))
	if rank > MaxRank {
		return 0, false
	}
	for i := 0; i < rank; i++ {
		da, db := 1, 1
		if j := len(a) - rank + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - rank + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			return 0, false
		}
	}
	return rank, true
}

// CanBroadcastTo reports whether shape from broadcasts to shape to.
func CanBroadcastTo(from, to []int) bool {
	if len(from) > len(to) {
		return false
	}
	for i := range from {
		f, t := from[len(from)-1-i], to[len(to)-1-i]
		if f != t && f != 1 {
			return false
		}
	}
	return true
}

// alignedStrides writes the row-major strides of shape, right-aligned to
// rank dims of out, with 0 for broadcast (size-1 or missing) dims.
func alignedStrides(shape []int, outShape []int, strides *[MaxRank]int) {
	rank := len(outShape)
	s := 1
	for i := rank - 1; i >= 0; i-- {
		j := len(shape) - rank + i
		if j < 0 || (shape[j] == 1 && outShape[i] != 1) {
			strides[i] = 0
		} else {
			strides[i] = s
		}
		if j >= 0 {
			s *= shape[j]
		}
	}
}

// BinOp names an elementwise binary operation.
type BinOp uint8

// The binary operations.
const (
	OpAdd BinOp = iota
	OpSub
	OpMul
	OpDiv
)

func binRow(op BinOp, dst, a, b []float32) {
	if op <= OpMul {
		i := simdBin(int(op), dst, a[:len(dst)], b[:len(dst)]) // bit-identical to the loops below
		dst, a, b = dst[i:], a[i:], b[i:]
	}
	switch op {
	case OpAdd:
		for i := range dst {
			dst[i] = a[i] + b[i]
		}
	case OpSub:
		for i := range dst {
			dst[i] = a[i] - b[i]
		}
	case OpMul:
		for i := range dst {
			dst[i] = a[i] * b[i]
		}
	case OpDiv:
		for i := range dst {
			dst[i] = a[i] / b[i]
		}
	}
}

func binScalarRight(op BinOp, dst, a []float32, b float32) {
	if op <= OpMul {
		i := simdBinScalar(int(op), dst, a[:len(dst)], b) // bit-identical to the loops below
		dst, a = dst[i:], a[i:]
	}
	switch op {
	case OpAdd:
		for i := range dst {
			dst[i] = a[i] + b
		}
	case OpSub:
		for i := range dst {
			dst[i] = a[i] - b
		}
	case OpMul:
		for i := range dst {
			dst[i] = a[i] * b
		}
	case OpDiv:
		for i := range dst {
			dst[i] = a[i] / b
		}
	}
}

func binScalarLeft(op BinOp, dst []float32, a float32, b []float32) {
	switch op {
	case OpAdd:
		for i := range dst {
			dst[i] = a + b[i]
		}
	case OpSub:
		for i := range dst {
			dst[i] = a - b[i]
		}
	case OpMul:
		for i := range dst {
			dst[i] = a * b[i]
		}
	case OpDiv:
		for i := range dst {
			dst[i] = a / b[i]
		}
	}
}

func apply(op BinOp, a, b float32) float32 {
	switch op {
	case OpAdd:
		return a + b
	case OpSub:
		return a - b
	case OpMul:
		return a * b
	default:
		return a / b
	}
}

// Binary computes dst = a op b elementwise with broadcasting. outShape must
// be the broadcast of aShape and bShape, and dst must hold its elements.
func Binary(op BinOp, dst []float32, outShape []int, a []float32, aShape []int, b []float32, bShape []int) {
	n := len(dst)
	if n == 0 {
		return
	}
	switch {
	case len(a) == n && len(b) == n:
		if !runBinary(elemBin, op, n, n, dst, a, b, 0) {
			binRow(op, dst, a, b)
		}
		return
	case len(b) == 1:
		if !runElemJob(n, n, elemJob{kind: elemScalarR, op: op, dst: dst, x: a, slope: b[0]}) {
			binScalarRight(op, dst, a, b[0])
		}
		return
	case len(a) == 1:
		if !runElemJob(n, n, elemJob{kind: elemScalarL, op: op, dst: dst, x: b, slope: a[0]}) {
			binScalarLeft(op, dst, a[0], b)
		}
		return
	case len(a) == n && isTrailing(bShape, outShape):
		w := len(b)
		if runBinary(elemBinRowB, op, n/w, n, dst, a, b, w) {
			return
		}
		for r := 0; r < n; r += w {
			binRow(op, dst[r:r+w], a[r:r+w], b)
		}
		return
	case len(b) == n && isTrailing(aShape, outShape):
		w := len(a)
		if runBinary(elemBinRowA, op, n/w, n, dst, a, b, w) {
			return
		}
		for r := 0; r < n; r += w {
			binRow(op, dst[r:r+w], a, b[r:r+w])
		}
		return
	}
	var bc bcast
	bc.set(outShape, aShape, bShape)
	rows := n / bc.last
	if !runElemJob(rows, n, elemJob{kind: elemBinGen, op: op, dst: dst, x: a, g: b, bc: bc}) {
		bc.binRows(op, dst, a, b, 0, rows)
	}
}

// bcast describes a general broadcast of one or two operands to outShape,
// row by row (a row is the output's last axis): their aligned strides.
type bcast struct {
	out        [MaxRank]int
	sa, sb     [MaxRank]int
	rank, last int
}

func (bc *bcast) set(outShape, aShape, bShape []int) {
	bc.rank = len(outShape)
	copy(bc.out[:], outShape)
	bc.last = outShape[bc.rank-1]
	alignedStrides(aShape, outShape, &bc.sa)
	if bShape != nil {
		alignedStrides(bShape, outShape, &bc.sb)
	}
}

// offsets returns the offsets in a and b of the start of output row r.
func (bc *bcast) offsets(r int) (ia, ib int) {
	for d := bc.rank - 2; d >= 0; d-- {
		i := r % bc.out[d]
		r /= bc.out[d]
		ia += i * bc.sa[d]
		ib += i * bc.sb[d]
	}
	return ia, ib
}

// binRows computes output rows [lo, hi) of dst = a op b.
func (bc *bcast) binRows(op BinOp, dst, a, b []float32, lo, hi int) {
	last := bc.last
	la, lb := bc.sa[bc.rank-1], bc.sb[bc.rank-1]
	for r := lo; r < hi; r++ {
		ia, ib := bc.offsets(r)
		o := r * last
		if la == 1 && lb == 1 { // both contiguous along the last axis: one row op
			binRow(op, dst[o:o+last], a[ia:ia+last], b[ib:ib+last])
			continue
		}
		for j := 0; j < last; j++ {
			dst[o+j] = apply(op, a[ia+j*la], b[ib+j*lb])
		}
	}
}

// copyRows computes output rows [lo, hi) of a BroadcastTo of x.
func (bc *bcast) copyRows(dst, x []float32, lo, hi int) {
	last := bc.last
	lx := bc.sa[bc.rank-1]
	for r := lo; r < hi; r++ {
		ix, _ := bc.offsets(r)
		o := r * last
		if lx == 1 {
			copy(dst[o:o+last], x[ix:ix+last])
			continue
		}
		for j := 0; j < last; j++ {
			dst[o+j] = x[ix+j*lx]
		}
	}
}

// isTrailing reports whether small equals the trailing dims of big (ignoring
// leading 1s of small), so that small repeats row after row of big.
func isTrailing(small, big []int) bool {
	for len(small) > 0 && small[0] == 1 {
		small = small[1:]
	}
	if len(small) > len(big) {
		return false
	}
	off := len(big) - len(small)
	for i := range small {
		if small[i] != big[off+i] {
			return false
		}
	}
	return true
}

// BroadcastTo writes x, broadcast to outShape, into dst.
func BroadcastTo(dst []float32, outShape []int, x []float32, xShape []int) {
	n := len(dst)
	if n == 0 {
		return
	}
	if len(x) == n {
		copy(dst, x)
		return
	}
	if len(x) == 1 {
		v := x[0]
		for i := range dst {
			dst[i] = v
		}
		return
	}
	if isTrailing(xShape, outShape) {
		for r := 0; r < n; r += len(x) {
			copy(dst[r:], x)
		}
		return
	}
	var bc bcast
	bc.set(outShape, xShape, nil)
	rows := n / bc.last
	if !runElemJob(rows, n, elemJob{kind: elemBcast, dst: dst, x: x, bc: bc}) {
		bc.copyRows(dst, x, 0, rows)
	}
}

// SumTo reduces x (shape xShape) by summation to dstShape, which must
// broadcast to xShape: the adjoint of BroadcastTo. The summation order is
// fixed (row-major over x), so results are deterministic.
func SumTo(dst []float32, dstShape []int, x []float32, xShape []int) {
	n := len(x)
	if len(dst) == n {
		copy(dst, x)
		return
	}
	clear(dst)
	if n == 0 {
		return
	}
	if len(dst) == 1 {
		var s float32
		for _, v := range x {
			s += v
		}
		dst[0] = s
		return
	}
	if isTrailing(dstShape, xShape) { // column sums: bias gradients
		w := len(dst)
		if isTall(n / w) {
			colSumBlocks(dst, x, w)
			return
		}
		if w < 32 || !runElems(elemColSum, w, n, dst, x, nil, 0, w) {
			colSum(dst, x, w, 0)
		}
		return
	}
	var sd [MaxRank]int
	alignedStrides(dstShape, xShape, &sd)
	rank := len(xShape)
	last := xShape[rank-1]
	ld := sd[rank-1]
	var idx [MaxRank]int
	id := 0
	for o := 0; o < n; o += last {
		if ld == 0 {
			var s float32
			for _, v := range x[o : o+last] {
				s += v
			}
			dst[id] += s
		} else if ld == 1 {
			// The last axis is kept (per-sample, per-channel sums over
			// the pixels of NHWC images): one vector add per row.
			d, v := dst[id:id+last], x[o:o+last]
			for j := simdBin(0, d, d, v); j < last; j++ {
				d[j] += v[j]
			}
		} else {
			for j := 0; j < last; j++ {
				dst[id+j*ld] += x[o+j]
			}
		}
		for d := rank - 2; d >= 0; d-- {
			idx[d]++
			id += sd[d]
			if idx[d] < xShape[d] {
				break
			}
			id -= sd[d] * idx[d]
			idx[d] = 0
		}
	}
}

// AxisSplit views shape as (outer, shape[axis], inner).
func AxisSplit(shape []int, axis int) (outer, mid, inner int) {
	outer, inner = 1, 1
	for i := 0; i < axis; i++ {
		outer *= shape[i]
	}
	for i := axis + 1; i < len(shape); i++ {
		inner *= shape[i]
	}
	return outer, shape[axis], inner
}

// SliceAxis copies x[..., start:end, ...] along axis (x viewed as
// (outer, mid, inner)) into dst.
func SliceAxis(dst, x []float32, outer, mid, inner, start, end int) {
	w := (end - start) * inner
	for o := 0; o < outer; o++ {
		copy(dst[o*w:(o+1)*w], x[(o*mid+start)*inner:(o*mid+end)*inner])
	}
}

// PadAxis is the adjoint of SliceAxis: dst (outer, mid, inner) is zeroed and
// g (outer, end-start, inner) is written at offset start along the axis.
func PadAxis(dst, g []float32, outer, mid, inner, start, end int) {
	clear(dst)
	InsertAxis(dst, g, outer, mid, inner, start, end)
}

// InsertAxis writes g (outer, end-start, inner) into dst (outer, mid, inner)
// at offset start along the axis, leaving the rest of dst as it is.
func InsertAxis(dst, g []float32, outer, mid, inner, start, end int) {
	w := (end - start) * inner
	for o := 0; o < outer; o++ {
		copy(dst[(o*mid+start)*inner:(o*mid+end)*inner], g[o*w:(o+1)*w])
	}
}
