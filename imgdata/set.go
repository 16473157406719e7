package imgdata

import (
	"errors"
	"fmt"
	"math"

	"github.com/minmaxgan/minmax/tensor"
)

// MaxDataBytes is the largest pixel (or label) payload a reader accepts:
// 16 GiB. A header that declares more is refused as a *FormatError before
// anything is allocated, so a corrupt or hostile file cannot make a reader
// ask for an absurd amount of memory.
const MaxDataBytes = 1 << 34

// FormatError reports a file whose content is malformed: a wrong magic
// number, an unsupported data type, a length that does not match its header,
// a label out of range, an image that does not decode, and so on. Test for it
// with errors.As.
type FormatError struct {
	// File is the path of the offending file.
	File string
	// Msg says what was wrong and what was expected.
	Msg string
}

// Error formats the error as "FILE: MSG".
func (e *FormatError) Error() string {
	if e.File == "" {
		return "" + e.Msg
	}
	return "" + e.File + ": " + e.Msg
}

// formatErr returns a *FormatError for file with a formatted message.
func formatErr(file, format string, args ...any) error {
	return &FormatError{File: file, Msg: fmt.Sprintf(format, args...)}
}

// Set is an in-memory image data set, stored compactly as bytes.
//
// Pixel values are 0 (black) to 255 (full intensity). The images lie one
// after the other in Pix, each channel-planar (all of channel 0, then all of
// channel 1, ...) and each channel row-major: the value of channel k at row
// y, column x of image i is
//
//	Pix[((i*C+k)*H+y)*W+x]
//
// A Set is not modified by any method or function of this package once it
// is returned, so it may be read (Batch, Image, ...) from several goroutines
// at once.
type Set struct {
	// N is the number of images, C the number of channels (1 for
	// grayscale, 3 for RGB), H and W the height and width in pixels.
	N, C, H, W int
	// Pix holds the N×C×H×W pixel values, in the layout described above.
	Pix []uint8
	// Labels holds the class of each image, an index into Classes; it is nil
	// when the source has no labels.
	Labels []int
	// Classes names the classes ("0" to "9" for MNIST, "airplane" ... for
	// CIFAR-10, the sub-folder names of an image folder); it is nil when the
	// source has no labels.
	Classes []string
	// Source describes where the images came from (a file, a folder, a
	// named data set), for messages and logs.
	Source string
}

// ImageLen returns the number of values in one image, C×H×W.
func (s *Set) ImageLen() int { return s.C * s.H * s.W }

// Image returns the C×H×W pixel values of image i, a sub-slice of Pix (not a
// copy). It returns nil if i is out of range (or Pix is too short for it).
func (s *Set) Image(i int) []uint8 {
	n := s.ImageLen()
	if i < 0 || i >= s.N || n <= 0 || (i+1)*n > len(s.Pix) {
		return nil
	}
	return s.Pix[i*n : (i+1)*n : (i+1)*n]
}

// Validate checks that the set is self-consistent: C is 1 or 3, N is not
// negative, H and W are positive, Pix holds exactly N×C×H×W values, and
// Labels is either nil or has N entries, each a valid index into Classes.
// Every set a reader of this package returns passes Validate; it is meant
// for sets built by hand.
func (s *Set) Validate() error {
	switch {
	case s == nil:
		return errors.New("nil set")
	case s.C != 1 && s.C != 3:
		return fmt.Errorf("set has %d channels; expected 1 or 3", s.C)
	case s.N < 0 || s.H <= 0 || s.W <= 0:
		return fmt.Errorf("set has shape %d×%d×%d×%d; expected N ≥ 0 and positive H and W", s.N, s.C, s.H, s.W)
	}
	size, ok := product(s.N, s.C, s.H, s.W)
	if !ok || size != len(s.Pix) {
		return fmt.Errorf("set of shape %d×%d×%d×%d has %d pixel values; expected %d", s.N, s.C, s.H, s.W, len(s.Pix), size)
	}
	if s.Labels == nil {
		return nil
	}
	if len(s.Labels) != s.N {
		return fmt.Errorf("set has %d images but %d labels", s.N, len(s.Labels))
	}
	if len(s.Classes) == 0 && s.N > 0 {
		return errors.New("set has labels but no classes")
	}
	for i, l := range s.Labels {
		if l < 0 || l >= len(s.Classes) {
			return fmt.Errorf("label %d of the set is %d; expected 0 to %d (%d classes)", i, l, len(s.Classes)-1, len(s.Classes))
		}
	}
	return nil
}

// product multiplies positive or zero dims, reporting false when the result
// exceeds MaxDataBytes (or would overflow int).
func product(dims ...int) (int, bool) {
	p := 1
	for _, d := range dims {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			p = 0
			continue
		}
		if p > MaxDataBytes/d {
			return 0, false
		}
		p *= d
	}
	return p, p <= MaxDataBytes
}

// toFloat maps a byte v to v/127.5 - 1, so 0 -> -1 and 255 -> 1.
var toFloat = func() (t [256]float32) {
	for v := range t {
		t[v] = float32(float64(v)/127.5 - 1)
	}
	return t
}()

// Batch gathers the images idx[0], idx[1], ... into dst, one after the other
// in the layout of Pix, mapping each value v to v/127.5 - 1, so 0 becomes -1
// and 255 becomes 1. dst must have exactly len(idx)×C×H×W elements. An index
// out of range or a dst of the wrong length is an error, reported before dst
// is written. Batch does not allocate.
func (s *Set) Batch(idx []int, dst []float32) error {
	n := s.ImageLen()
	want, ok := product(len(idx), n)
	if !ok {
		return fmt.Errorf("Batch of %d images of %d×%d×%d is too large", len(idx), s.C, s.H, s.W)
	}
	if len(dst) != want {
		return fmt.Errorf("Batch of %d images of %d×%d×%d needs a dst of %d values; it has %d", len(idx), s.C, s.H, s.W, want, len(dst))
	}
	if size, ok := product(s.N, n); !ok || len(s.Pix) != size {
		return fmt.Errorf("Batch: the set of %d images of %d×%d×%d has %d pixel values; expected %d", s.N, s.C, s.H, s.W, len(s.Pix), size)
	}
	for k, i := range idx {
		if i < 0 || i >= s.N {
			return fmt.Errorf("Batch: index %d (position %d) is out of range for %d images", i, k, s.N)
		}
	}
	lut := &toFloat
	for k, i := range idx {
		src := s.Pix[i*n : (i+1)*n]
		d := dst[k*n : (k+1)*n]
		d = d[:len(src)]
		for j, v := range src {
			d[j] = lut[v]
		}
	}
	return nil
}

// HWC returns a copy of the pixels with the channels last (N×H×W×C), the
// layout of IDX files and of most image libraries. For one channel it is
// simply a copy of Pix. It returns nil for a set that fails Validate.
func (s *Set) HWC() []uint8 {
	if s.Validate() != nil {
		return nil
	}
	out := make([]uint8, len(s.Pix))
	if s.C == 1 {
		copy(out, s.Pix)
		return out
	}
	plane := s.H * s.W
	for i := range s.N {
		img := s.Pix[i*s.C*plane : (i+1)*s.C*plane]
		o := out[i*s.C*plane : (i+1)*s.C*plane]
		for k := range s.C {
			p := img[k*plane : (k+1)*plane]
			for j, v := range p {
				o[j*s.C+k] = v
			}
		}
	}
	return out
}

// Subset returns a new set holding copies of the images idx[0], idx[1], ...
// (repetitions allowed) with their labels, and the same Classes. An index out
// of range is an error.
func (s *Set) Subset(idx []int) (*Set, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	for k, i := range idx {
		if i < 0 || i >= s.N {
			return nil, fmt.Errorf("Subset: index %d (position %d) is out of range for %d images", i, k, s.N)
		}
	}
	n := s.ImageLen()
	if _, ok := product(len(idx), n); !ok {
		return nil, fmt.Errorf("Subset of %d images of %d values is too large", len(idx), n)
	}
	out := &Set{N: len(idx), C: s.C, H: s.H, W: s.W, Classes: s.Classes, Source: s.Source}
	out.Pix = make([]uint8, len(idx)*n)
	if s.Labels != nil {
		out.Labels = make([]int, len(idx))
	}
	for k, i := range idx {
		copy(out.Pix[k*n:], s.Pix[i*n:(i+1)*n])
		if s.Labels != nil {
			out.Labels[k] = s.Labels[i]
		}
	}
	return out, nil
}

// FromFloat converts n images of c×h×w float32 values (channel-planar, the
// layout of Set.Pix and of Batch), nominally in [-1, 1], to a Set. Each
// value v is clamped to [-1, 1] and becomes round((v+1)×127.5), so -1 -> 0,
// 0 -> 128 and 1 -> 255; NaN becomes 0. c must be 1 or 3 and x must hold
// exactly n×c×h×w values.
func FromFloat(x []float32, n, c, h, w int) (*Set, error) {
	if c != 1 && c != 3 {
		return nil, fmt.Errorf("FromFloat: %d channels; expected 1 or 3", c)
	}
	if n < 1 || h < 1 || w < 1 {
		return nil, fmt.Errorf("FromFloat: shape %d×%d×%d×%d; expected positive sizes", n, c, h, w)
	}
	size, ok := product(n, c, h, w)
	if !ok || size != len(x) {
		return nil, fmt.Errorf("FromFloat: shape %d×%d×%d×%d needs %d values; x has %d", n, c, h, w, size, len(x))
	}
	pix := make([]uint8, size)
	for i, v := range x {
		pix[i] = toByte(v)
	}
	return &Set{N: n, C: c, H: h, W: w, Pix: pix, Source: "generated"}, nil
}

// toByte maps v in [-1, 1] to round((v+1)×127.5), clamping, NaN to 0.
// ToBytes converts values in [-1, 1] to pixels 0 to 255 (clamped, NaN to
// 0), as FromFloat does.
func ToBytes(dst []uint8, x []float32) {
	for i, v := range x[:len(dst)] {
		dst[i] = toByte(v)
	}
}

func toByte(v float32) uint8 {
	f := (float64(v) + 1) * 127.5
	switch {
	case !(f > 0): // also NaN
		return 0
	case f >= 255:
		return 255
	}
	return uint8(math.Floor(f + 0.5))
}

// CHWToHWC writes n channel-planar images (c×h×w each, as a Set stores
// them) into dst channel-last (h×w×c each, as minmax's models take them).
// dst and src must not overlap.
func CHWToHWC(dst, src []float32, n, c, h, w int) {
	d, hw := c*h*w, h*w
	for i := 0; i < n; i++ {
		s, o := src[i*d:(i+1)*d], dst[i*d:(i+1)*d]
		for k := 0; k < c; k++ {
			plane := s[k*hw : (k+1)*hw]
			for p, v := range plane {
				o[p*c+k] = v
			}
		}
	}
}

// HWCToCHW is the inverse of CHWToHWC.
func HWCToCHW(dst, src []float32, n, c, h, w int) {
	d, hw := c*h*w, h*w
	for i := 0; i < n; i++ {
		s, o := src[i*d:(i+1)*d], dst[i*d:(i+1)*d]
		for k := 0; k < c; k++ {
			plane := o[k*hw : (k+1)*hw]
			for p := range plane {
				plane[p] = s[p*c+k]
			}
		}
	}
}

// HoldOut splits s into a training set and a test set of about frac of its
// images (at least one, and at least one left to train on), chosen at
// random with seed, for data that has no test split of its own (a folder of
// images). The same set, frac and seed always give the same split. Both
// parts keep the images' order.
func HoldOut(s *Set, frac float64, seed uint64) (train, test *Set, err error) {
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	if !(frac > 0 && frac < 1) || s.N < 2 {
		return nil, nil, fmt.Errorf("HoldOut: %d images and a test fraction of %g; expected at least 2 images and a fraction strictly between 0 and 1", s.N, frac)
	}
	nTest := min(max(1, int(float64(s.N)*frac+0.5)), s.N-1)
	isTest := make([]bool, s.N)
	for _, i := range tensor.NewRNG(seed).Choose(s.N, nTest) {
		isTest[i] = true
	}
	var tr, te []int
	for i, t := range isTest {
		if t {
			te = append(te, i)
		} else {
			tr = append(tr, i)
		}
	}
	if train, err = s.Subset(tr); err != nil {
		return nil, nil, err
	}
	if test, err = s.Subset(te); err != nil {
		return nil, nil, err
	}
	train.Source = fmt.Sprintf("%s, %d of %d images (held-out split, seed %#x)", s.Source, len(tr), s.N, seed)
	test.Source = fmt.Sprintf("%s, %d held-out images of %d (seed %#x)", s.Source, len(te), s.N, seed)
	return train, test, nil
}
