package dist

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Dist is a probability distribution on the line (Dim 1) or the plane
// (Dim 2) with an exact log-density and a sampler.
type Dist interface {
	// Dim is the dimension of the sample space: 1 or 2.
	Dim() int
	// LogProb returns the exact log-density at x, which must have length
	// Dim (NaN otherwise); -Inf outside the support.
	LogProb(x []float64) float64
	// Sample draws one sample from r into out, which must have length at
	// least Dim (a shorter out is an indexing error, as with copy into a
	// fixed array; SampleN checks lengths and returns an error instead).
	Sample(r *rand.Rand, out []float64)
	// String returns the canonical spec, which Parse accepts back.
	String() string
	// Bounds returns a box [lo[i], hi[i]] (one entry per axis) holding all
	// but less than 1e-14 of the mass; it is exact for bounded supports.
	Bounds() (lo, hi []float64)
	// Breaks returns, in increasing order, the coordinates along axis
	// (0 <= axis < Dim) where the density is not smooth (the edges of a
	// uniform, the peak of a Laplace), for quadrature to split at. Nil if
	// there are none or axis is out of range.
	Breaks(axis int) []float64
}

// Mode is one Gaussian component of a distribution: an isotropic normal
// with the given centre (length Dim) and standard deviation, carrying the
// given fraction of the total mass.
type Mode struct {
	Center []float64
	SD     float64
	Weight float64
}

// Modes returns the Gaussian components of d (centre, sd, weight; the
// weights sum to 1) when d is a Gaussian or a mixture of Gaussians: N, N2,
// ring, grid, or a mix (nested or not) of those. For any other d it returns
// ok = false. The slices returned are fresh copies.
func Modes(d Dist) (modes []Mode, ok bool) {
	switch d := d.(type) {
	case *Normal:
		return []Mode{{Center: []float64{d.mu}, SD: d.sd, Weight: 1}}, true
	case *Normal2:
		return []Mode{{Center: []float64{d.mx, d.my}, SD: d.sd, Weight: 1}}, true
	case *Ring:
		w := 1 / float64(d.k)
		for i := range d.k {
			modes = append(modes, Mode{Center: []float64{d.cx[i], d.cy[i]}, SD: d.sd, Weight: w})
		}
		return modes, true
	case *Grid:
		w := 1 / float64(d.k*d.k)
		for _, x := range d.c {
			for _, y := range d.c {
				modes = append(modes, Mode{Center: []float64{x, y}, SD: d.sd, Weight: w})
			}
		}
		return modes, true
	case *Mixture:
		for i, c := range d.comps {
			sub, ok := Modes(c)
			if !ok {
				return nil, false
			}
			w := math.Exp(d.logw[i])
			for _, m := range sub {
				m.Weight *= w
				modes = append(modes, m)
			}
		}
		return modes, true
	}
	return nil, false
}

// Landmark is a place where a density has structure on a known length
// scale: within a few Scale of Center (length Dim) the density changes on
// the scale Scale. Quadrature (package theory) starts with panels no wider
// than about 2 Scale around every landmark, so that it sees narrow modes.
type Landmark struct {
	Center []float64
	Scale  float64
}

// Landmarker is implemented by distributions defined outside this package
// that want Landmarks to report their structure.
type Landmarker interface {
	Landmarks() []Landmark
}

// Landmarks returns the landmarks of d: the centre and sd of every Gaussian
// component, the centre and scale b of every Laplace component, and the
// midpoint and half-width of every uniform (whose edges are also Breaks). A
// Dist from outside this package reports
// its landmarks by implementing Landmarker; otherwise it has none. The
// slices returned are fresh copies.
func Landmarks(d Dist) []Landmark {
	switch d := d.(type) {
	case *Laplace:
		return []Landmark{{Center: []float64{d.mu}, Scale: d.b}}
	case *Uniform:
		return []Landmark{{Center: []float64{0.5*d.a + 0.5*d.b}, Scale: 0.5*d.b - 0.5*d.a}}
	case *Mixture:
		var out []Landmark
		for _, c := range d.comps {
			out = append(out, Landmarks(c)...)
		}
		return out
	case Landmarker:
		out := d.Landmarks()
		for i := range out {
			out[i].Center = slices.Clone(out[i].Center)
		}
		return out
	}
	modes, ok := Modes(d)
	if !ok {
		return nil
	}
	out := make([]Landmark, len(modes))
	for i, m := range modes {
		out[i] = Landmark{Center: m.Center, Scale: m.SD}
	}
	return out
}

// SampleN draws n samples of d from r into out, row-major: sample i is
// out[i*Dim : (i+1)*Dim]. It returns an error, and draws nothing, if d or r
// is nil, n is negative, or out is shorter than n*Dim.
func SampleN(d Dist, r *rand.Rand, n int, out []float64) error {
	switch {
	case d == nil:
		return errors.New("SampleN: nil Dist")
	case r == nil:
		return errors.New("SampleN: nil *rand.Rand")
	case n < 0:
		return fmt.Errorf("SampleN: negative sample count %d", n)
	}
	dim := d.Dim()
	if n > 0 && len(out)/n < dim {
		return fmt.Errorf("SampleN: out has length %d, need n*Dim = %d*%d", len(out), n, dim)
	}
	for i := range n {
		d.Sample(r, out[i*dim:(i+1)*dim])
	}
	return nil
}

// Tail widths used by Bounds: a normal puts less than 2.3e-19 of its mass
// beyond 9 sd; a Laplace puts exp(-36) < 2.4e-16 beyond 36 b.
const (
	gaussTail   = 9.0
	laplaceTail = 36.0
)

var (
	log2Pi     = math.Log(2 * math.Pi)
	halfLog2Pi = 0.5 * math.Log(2*math.Pi)
)

// fmtNum formats v as the shortest decimal that parses back to exactly v.
func fmtNum(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// lse accumulates a log-sum-exp in one pass without a buffer.
type lse struct {
	max, sum float64
}

func newLSE() lse { return lse{max: math.Inf(-1)} }

// lseSkip is how far below the running maximum a term may be skipped: its
// share of the sum is below e^-50 ≈ 2e-22, so even 10⁴ such terms change
// the result by less than a rounding error, and skipping them saves an
// exponential (most modes of a ring or grid are far from any given x).
const lseSkip = 50

func (a *lse) add(v float64) {
	switch {
	case v == math.Inf(-1):
	case v <= a.max:
		if v-a.max > -lseSkip {
			a.sum += math.Exp(v - a.max)
		}
	default:
		if a.max-v > -lseSkip {
			a.sum = a.sum*math.Exp(a.max-v) + 1
		} else {
			a.sum = 1
		}
		a.max = v
	}
}

func (a *lse) value() float64 {
	if a.max == math.Inf(-1) {
		return a.max
	}
	return a.max + math.Log(a.sum)
}

// isNaN reports whether any coordinate of x is NaN.
func isNaN(x []float64) bool {
	for _, v := range x {
		if v != v {
			return true
		}
	}
	return false
}

// finite reports whether v is neither infinite nor NaN.
func finite(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) }

// argError reports which argument of a constructor is invalid, so that
// Parse can point at it.
type argError struct {
	arg int // index of the offending argument
	msg string
}

// Error returns the message.
func (e *argError) Error() string { return e.msg }

func badArg(arg int, format string, a ...any) *argError {
	return &argError{arg: arg, msg: fmt.Sprintf(format, a...)}
}

// wrapArg prefixes a constructor's argument error with the constructor.
func wrapArg(sig string, e *argError) error {
	return fmt.Errorf("%s: %w", sig, e)
}
