package dist

import (
	"math"
	"math/rand/v2"
	"strconv"
)

// Limits on the number of components of ring and grid, so that a short
// spec cannot ask for an unbounded amount of memory.
const (
	MaxRingModes = 1000 // largest k in ring(k, ...)
	MaxGridSide  = 100  // largest k in grid(k, ...), i.e. at most 10000 modes
)

// Defaults of the keyword arguments of ring and grid.
const (
	DefaultRingRadius  = 2.0  // r in ring(k)
	DefaultRingSD      = 0.02 // sd in ring(k)
	DefaultGridSpacing = 2.0  // spacing in grid(k)
	DefaultGridSD      = 0.05 // sd in grid(k)
)

// Normal2 is the isotropic two-dimensional normal N2(mx, my, sd):
//
//	log p(x, y) = -((x-mx)² + (y-my)²)/(2 sd²) - 2 log sd - log(2π)
type Normal2 struct {
	mx, my, sd float64
	logNorm    float64 // -2 log sd - log 2π
}

// NewNormal2 returns N2(mx, my, sd). mx and my must be finite and sd finite
// and > 0.
func NewNormal2(mx, my, sd float64) (*Normal2, error) {
	if !finite(mx) {
		return nil, wrapArg("N2(mx, my, sd)", badArg(0, "mx must be finite (got %s)", fmtNum(mx)))
	}
	if !finite(my) {
		return nil, wrapArg("N2(mx, my, sd)", badArg(1, "my must be finite (got %s)", fmtNum(my)))
	}
	if !finite(sd) || sd <= 0 {
		return nil, wrapArg("N2(mx, my, sd)", badArg(2, "sd must be finite and > 0 (got %s)", fmtNum(sd)))
	}
	return &Normal2{mx: mx, my: my, sd: sd, logNorm: -2*math.Log(sd) - log2Pi}, nil
}

// Dim returns 2.
func (d *Normal2) Dim() int { return 2 }

// LogProb returns the log-density at (x[0], x[1]).
func (d *Normal2) LogProb(x []float64) float64 {
	if len(x) != 2 {
		return math.NaN()
	}
	u, v := (x[0]-d.mx)/d.sd, (x[1]-d.my)/d.sd
	return -0.5*(u*u+v*v) + d.logNorm
}

// Sample draws one sample into out[0:2].
func (d *Normal2) Sample(r *rand.Rand, out []float64) {
	out[0] = d.mx + d.sd*r.NormFloat64()
	out[1] = d.my + d.sd*r.NormFloat64()
}

// String returns "N2(mx, my, sd)".
func (d *Normal2) String() string {
	return "N2(" + fmtNum(d.mx) + ", " + fmtNum(d.my) + ", " + fmtNum(d.sd) + ")"
}

// Bounds returns the centre ± 9 sd on each axis.
func (d *Normal2) Bounds() (lo, hi []float64) {
	w := gaussTail * d.sd
	return []float64{d.mx - w, d.my - w}, []float64{d.mx + w, d.my + w}
}

// Breaks returns nil: the density is smooth.
func (d *Normal2) Breaks(axis int) []float64 { return nil }

// Ring is ring(k, r=R, sd=S): k equal-weight isotropic normals with
// standard deviation S centred at R(cos 2πi/k, sin 2πi/k), i = 0..k-1 (the
// first at angle 0, counter-clockwise):
//
//	p(x) = (1/k) Σ_i N2(x; c_i, S)
type Ring struct {
	k         int
	r, sd     float64
	cx, cy    []float64
	logNorm   float64 // -2 log sd - log 2π - log k
	inv2Var   float64 // 1/(2 sd²)
	boundsLoX float64
	boundsHiX float64
	boundsLoY float64
	boundsHiY float64
}

// NewRing returns ring(k, r=r, sd=sd): 1 <= k <= MaxRingModes, r and sd
// finite and > 0.
func NewRing(k int, r, sd float64) (*Ring, error) {
	if e := checkRing(k, r, sd); e != nil {
		return nil, wrapArg("ring(k, r, sd)", e)
	}
	d := &Ring{k: k, r: r, sd: sd, cx: make([]float64, k), cy: make([]float64, k)}
	for i := range k {
		c, s := unitCircle(i, k)
		d.cx[i], d.cy[i] = r*c, r*s
	}
	d.logNorm = -2*math.Log(sd) - log2Pi - math.Log(float64(k))
	d.inv2Var = 1 / (2 * sd * sd)
	w := gaussTail * sd
	d.boundsLoX, d.boundsHiX = minOf(d.cx)-w, maxOf(d.cx)+w
	d.boundsLoY, d.boundsHiY = minOf(d.cy)-w, maxOf(d.cy)+w
	return d, nil
}

func checkRing(k int, r, sd float64) *argError {
	if k < 1 || k > MaxRingModes {
		return badArg(0, "k must be a whole number from 1 to %d (got %d)", MaxRingModes, k)
	}
	if !finite(r) || r <= 0 {
		return badArg(1, "radius r must be finite and > 0 (got %s)", fmtNum(r))
	}
	if !finite(sd) || sd <= 0 {
		return badArg(2, "sd must be finite and > 0 (got %s)", fmtNum(sd))
	}
	return nil
}

// unitCircle returns (cos, sin) of 2πi/k, exact at multiples of a quarter
// turn so that ring(4) has its modes exactly on the axes.
func unitCircle(i, k int) (c, s float64) {
	if (4*i)%k == 0 {
		switch (4 * i / k) % 4 {
		case 0:
			return 1, 0
		case 1:
			return 0, 1
		case 2:
			return -1, 0
		default:
			return 0, -1
		}
	}
	s, c = math.Sincos(2 * math.Pi * float64(i) / float64(k))
	return c, s
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = max(m, x)
	}
	return m
}

// Dim returns 2.
func (d *Ring) Dim() int { return 2 }

// LogProb returns the log-density at (x[0], x[1]) by log-sum-exp over the
// k modes.
func (d *Ring) LogProb(x []float64) float64 {
	if len(x) != 2 {
		return math.NaN()
	}
	if isNaN(x) {
		return math.NaN()
	}
	acc := newLSE()
	term := func(i int) float64 {
		dx, dy := x[0]-d.cx[i], x[1]-d.cy[i]
		return -(dx*dx + dy*dy) * d.inv2Var
	}
	if d.k <= 16 {
		for i := range d.k {
			acc.add(term(i))
		}
		return acc.value() + d.logNorm
	}
	// Many modes: start from the mode nearest in angle and walk both ways.
	// Along each way the distance to the modes grows, so once a term is
	// lseSkip below the running maximum, so are all the rest on that side.
	k := d.k
	i0 := int(math.Round(math.Atan2(x[1], x[0]) * float64(k) / (2 * math.Pi)))
	i0 = ((i0 % k) + k) % k
	acc.add(term(i0))
	doneL, doneR := false, false
	for s := 1; 2*s <= k && !(doneL && doneR); s++ {
		if r := (i0 + s) % k; !doneR {
			if v := term(r); v < acc.max-lseSkip {
				doneR = true
			} else {
				acc.add(v)
			}
		}
		if l := (i0 - s + k) % k; l != (i0+s)%k && !doneL {
			if v := term(l); v < acc.max-lseSkip {
				doneL = true
			} else {
				acc.add(v)
			}
		}
	}
	return acc.value() + d.logNorm
}

// Sample draws one sample into out[0:2]: a uniformly chosen mode plus
// isotropic normal noise.
func (d *Ring) Sample(r *rand.Rand, out []float64) {
	i := r.IntN(d.k)
	out[0] = d.cx[i] + d.sd*r.NormFloat64()
	out[1] = d.cy[i] + d.sd*r.NormFloat64()
}

// String returns "ring(k, r=R, sd=S)".
func (d *Ring) String() string {
	return "ring(" + strconv.Itoa(d.k) + ", r=" + fmtNum(d.r) + ", sd=" + fmtNum(d.sd) + ")"
}

// Bounds returns the box of the mode centres widened by 9 sd.
func (d *Ring) Bounds() (lo, hi []float64) {
	return []float64{d.boundsLoX, d.boundsLoY}, []float64{d.boundsHiX, d.boundsHiY}
}

// Breaks returns nil: the density is smooth.
func (d *Ring) Breaks(axis int) []float64 { return nil }

// Grid is grid(k, spacing=S, sd=SD): k×k equal-weight isotropic normals
// with standard deviation SD centred at (c_i, c_j), where
// c_i = (i - (k-1)/2)·S, i = 0..k-1, so the lattice is centred on the
// origin. Its density factorises:
//
//	p(x, y) = [(1/k) Σ_i N(x; c_i, SD)] · [(1/k) Σ_j N(y; c_j, SD)]
type Grid struct {
	k           int
	spacing, sd float64
	c           []float64 // centres along each axis
	logNorm     float64   // -2 log sd - log 2π - 2 log k
	inv2Var     float64
}

// NewGrid returns grid(k, spacing=spacing, sd=sd): 1 <= k <= MaxGridSide,
// spacing and sd finite and > 0.
func NewGrid(k int, spacing, sd float64) (*Grid, error) {
	if e := checkGrid(k, spacing, sd); e != nil {
		return nil, wrapArg("grid(k, spacing, sd)", e)
	}
	d := &Grid{k: k, spacing: spacing, sd: sd, c: make([]float64, k)}
	for i := range k {
		d.c[i] = (float64(i) - float64(k-1)/2) * spacing
	}
	d.logNorm = -2*math.Log(sd) - log2Pi - 2*math.Log(float64(k))
	d.inv2Var = 1 / (2 * sd * sd)
	return d, nil
}

func checkGrid(k int, spacing, sd float64) *argError {
	if k < 1 || k > MaxGridSide {
		return badArg(0, "k must be a whole number from 1 to %d (got %d)", MaxGridSide, k)
	}
	if !finite(spacing) || spacing <= 0 {
		return badArg(1, "spacing must be finite and > 0 (got %s)", fmtNum(spacing))
	}
	if !finite(sd) || sd <= 0 {
		return badArg(2, "sd must be finite and > 0 (got %s)", fmtNum(sd))
	}
	return nil
}

// Dim returns 2.
func (d *Grid) Dim() int { return 2 }

// LogProb returns the log-density at (x[0], x[1]) as the sum of two
// one-dimensional log-sum-exps of k terms each.
func (d *Grid) LogProb(x []float64) float64 {
	if len(x) != 2 {
		return math.NaN()
	}
	if isNaN(x) {
		return math.NaN()
	}
	return d.axis(x[0]) + d.axis(x[1]) + d.logNorm
}

// axis returns log Σ_i exp(-(t - c_i)²/(2 sd²)), walking out from the
// nearest centre: the distance grows along each way, so once a term is
// lseSkip below the running maximum, so are all the rest on that side.
func (d *Grid) axis(t float64) float64 {
	term := func(i int) float64 {
		u := t - d.c[i]
		return -u * u * d.inv2Var
	}
	i0 := int(max(0, min(float64(d.k-1), math.Round((t-d.c[0])/d.spacing))))
	acc := newLSE()
	acc.add(term(i0))
	for i := i0 + 1; i < d.k; i++ {
		v := term(i)
		if v < acc.max-lseSkip {
			break
		}
		acc.add(v)
	}
	for i := i0 - 1; i >= 0; i-- {
		v := term(i)
		if v < acc.max-lseSkip {
			break
		}
		acc.add(v)
	}
	return acc.value()
}

// Sample draws one sample into out[0:2]: a uniformly chosen lattice point
// plus isotropic normal noise.
func (d *Grid) Sample(r *rand.Rand, out []float64) {
	out[0] = d.c[r.IntN(d.k)] + d.sd*r.NormFloat64()
	out[1] = d.c[r.IntN(d.k)] + d.sd*r.NormFloat64()
}

// String returns "grid(k, spacing=S, sd=SD)".
func (d *Grid) String() string {
	return "grid(" + strconv.Itoa(d.k) + ", spacing=" + fmtNum(d.spacing) + ", sd=" + fmtNum(d.sd) + ")"
}

// Bounds returns the lattice's extent widened by 9 sd on each axis.
func (d *Grid) Bounds() (lo, hi []float64) {
	l, h := d.c[0]-gaussTail*d.sd, d.c[d.k-1]+gaussTail*d.sd
	return []float64{l, l}, []float64{h, h}
}

// Breaks returns nil: the density is smooth.
func (d *Grid) Breaks(axis int) []float64 { return nil }
