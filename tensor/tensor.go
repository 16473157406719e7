package tensor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxRank is the largest number of dimensions a Tensor can have.
const MaxRank = 6

// Tensor is a dense, row-major float32 array. Data holds exactly Len()
// elements. The zero value is an empty scalar-less tensor of rank 0 with no
// data; use New or FromData.
type Tensor struct {
	shape [MaxRank]int
	rank  int
	// Data is the elements in row-major order.
	Data []float32
}

// ErrShape is wrapped by every shape error of this package.
var ErrShape = errors.New("bad shape")

// CheckShape reports whether shape is a valid tensor shape: at most MaxRank
// dimensions, each at least 0.
func CheckShape(shape []int) error {
	if len(shape) > MaxRank {
		return fmt.Errorf("%w: %s has %d dimensions, at most %d are supported", ErrShape, FormatShape(shape), len(shape), MaxRank)
	}
	for i, d := range shape {
		if d < 0 {
			return fmt.Errorf("%w: %s has negative dimension %d at axis %d", ErrShape, FormatShape(shape), d, i)
		}
	}
	return nil
}

// NumElems is the product of the dimensions (1 for a rank-0 shape).
func NumElems(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// New returns a zero-filled tensor of the given shape. It panics on an
// invalid shape (negative or too many dimensions); use FromData or
// CheckShape for shapes that come from users.
func New(shape ...int) *Tensor {
	if err := CheckShape(shape); err != nil {
		panic("tensor.New: " + err.Error())
	}
	t := &Tensor{Data: make([]float32, NumElems(shape))}
	t.rank = copy(t.shape[:], shape)
	return t
}

// FromData wraps data (not copied) in a tensor of the given shape.
func FromData(data []float32, shape ...int) (*Tensor, error) {
	if err := CheckShape(shape); err != nil {
		return nil, err
	}
	if n := NumElems(shape); n != len(data) {
		return nil, fmt.Errorf("%w: shape %s holds %d elements, data has %d", ErrShape, FormatShape(shape), n, len(data))
	}
	t := &Tensor{Data: data}
	t.rank = copy(t.shape[:], shape)
	return t, nil
}

// Shape returns the dimensions. The slice aliases the tensor: do not modify it.
func (t *Tensor) Shape() []int { return t.shape[:t.rank] }

// Rank is the number of dimensions.
func (t *Tensor) Rank() int { return t.rank }

// Dim returns dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += t.rank
	}
	return t.shape[i]
}

// Len is the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// SetShape sets the shape and the data slice in place (no copy, no check
// beyond consistency). It is for arenas that recycle tensors.
func (t *Tensor) SetShape(data []float32, shape []int) error {
	if err := CheckShape(shape); err != nil {
		return err
	}
	if n := NumElems(shape); n != len(data) {
		return fmt.Errorf("%w: shape %s holds %d elements, data has %d", ErrShape, FormatShape(shape), n, len(data))
	}
	t.Data = data
	t.rank = copy(t.shape[:], shape)
	clear(t.shape[t.rank:])
	return nil
}

// SetShapeUnchecked is SetShape without validation, for hot paths whose
// shapes were validated already: it never fails and never allocates.
func (t *Tensor) SetShapeUnchecked(data []float32, shape []int) {
	t.Data = data
	t.rank = copy(t.shape[:], shape)
	clear(t.shape[t.rank:])
}

// Reshape returns a view of t with a new shape and the same data. One
// dimension may be -1, meaning whatever makes the element count agree.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	var s [MaxRank]int
	r, err := ResolveReshape(t.Shape(), shape, &s)
	if err != nil {
		return nil, err
	}
	v := &Tensor{Data: t.Data, rank: r, shape: s}
	return v, nil
}

// ResolveReshape checks that shape (with at most one -1) can view a tensor of
// shape from, writes the resolved dimensions into out and returns the rank.
func ResolveReshape(from, shape []int, out *[MaxRank]int) (int, error) {
	if len(shape) > MaxRank {
		return 0, fmt.Errorf("%w: reshape to %s: at most %d dimensions", ErrShape, FormatShape(shape), MaxRank)
	}
	n := NumElems(from)
	known, infer := 1, -1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			return 0, fmt.Errorf("%w: reshape %s to %s: dimension %d is %d", ErrShape, FormatShape(from), FormatShape(shape), i, d)
		default:
			known *= d
		}
		out[i] = d
	}
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			return 0, fmt.Errorf("%w: reshape %s (%d elements) to %s: cannot infer the -1", ErrShape, FormatShape(from), n, FormatShape(shape))
		}
		out[infer] = n / known
	} else if known != n {
		return 0, fmt.Errorf("%w: reshape %s (%d elements) to %s (%d elements)", ErrShape, FormatShape(from), n, FormatShape(shape), known)
	}
	return len(shape), nil
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{shape: t.shape, rank: t.rank, Data: make([]float32, len(t.Data))}
	copy(c.Data, t.Data)
	return c
}

// CopyFrom copies src's elements into t; the element counts must agree.
func (t *Tensor) CopyFrom(src *Tensor) error {
	if len(src.Data) != len(t.Data) {
		return fmt.Errorf("%w: copy %s into %s: element counts differ", ErrShape, FormatShape(src.Shape()), FormatShape(t.Shape()))
	}
	copy(t.Data, src.Data)
	return nil
}

// Fill sets every element to v.
func (t *Tensor) Fill(v float32) {
	for i := range t.Data {
		t.Data[i] = v
	}
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// String formats small tensors in full and large ones by shape.
func (t *Tensor) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Tensor%v", t.Shape())
	if len(t.Data) <= 16 {
		fmt.Fprintf(&sb, "%v", t.Data)
	}
	return sb.String()
}

// FormatShape writes a shape as "[3 4]" like fmt does, without letting the
// slice escape to the heap (so hot paths that report errors stay
// allocation-free when there is no error).
func FormatShape(s []int) string {
	b := make([]byte, 0, 2+4*len(s))
	b = append(b, '[')
	for i, d := range s {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(d), 10)
	}
	return string(append(b, ']'))
}
