package dist

import (
	"math"
	"math/rand/v2"
)

// Normal is the one-dimensional normal distribution N(mu, sd):
//
//	log p(x) = -(x-mu)²/(2 sd²) - log sd - log(2π)/2
type Normal struct {
	mu, sd  float64
	logNorm float64 // -log sd - log(2π)/2
}

// NewNormal returns N(mu, sd). mu must be finite and sd finite and > 0.
func NewNormal(mu, sd float64) (*Normal, error) {
	if e := checkNormal(mu, sd); e != nil {
		return nil, wrapArg("N(mu, sd)", e)
	}
	return &Normal{mu: mu, sd: sd, logNorm: -math.Log(sd) - halfLog2Pi}, nil
}

func checkNormal(mu, sd float64) *argError {
	if !finite(mu) {
		return badArg(0, "mu must be finite (got %s)", fmtNum(mu))
	}
	if !finite(sd) || sd <= 0 {
		return badArg(1, "sd must be finite and > 0 (got %s)", fmtNum(sd))
	}
	return nil
}

// Dim returns 1.
func (d *Normal) Dim() int { return 1 }

// LogProb returns the log-density at x[0].
func (d *Normal) LogProb(x []float64) float64 {
	if len(x) != 1 {
		return math.NaN()
	}
	z := (x[0] - d.mu) / d.sd
	return -0.5*z*z + d.logNorm
}

// Sample draws one sample into out[0].
func (d *Normal) Sample(r *rand.Rand, out []float64) {
	out[0] = d.mu + d.sd*r.NormFloat64()
}

// String returns "N(mu, sd)".
func (d *Normal) String() string {
	return "N(" + fmtNum(d.mu) + ", " + fmtNum(d.sd) + ")"
}

// Bounds returns mu ± 9 sd, which holds all but 2.3e-19 of the mass.
func (d *Normal) Bounds() (lo, hi []float64) {
	return []float64{d.mu - gaussTail*d.sd}, []float64{d.mu + gaussTail*d.sd}
}

// Breaks returns nil: the normal density is smooth.
func (d *Normal) Breaks(axis int) []float64 { return nil }

// Uniform is the uniform distribution U(a, b) on the closed interval [a, b]:
//
//	log p(x) = -log(b - a) for a <= x <= b, -Inf otherwise
type Uniform struct {
	a, b    float64
	logDens float64 // -log(b - a)
}

// NewUniform returns U(a, b). a and b must be finite with a < b and b - a
// finite.
func NewUniform(a, b float64) (*Uniform, error) {
	if e := checkUniform(a, b); e != nil {
		return nil, wrapArg("U(a, b)", e)
	}
	return &Uniform{a: a, b: b, logDens: -math.Log(b - a)}, nil
}

func checkUniform(a, b float64) *argError {
	if !finite(a) {
		return badArg(0, "a must be finite (got %s)", fmtNum(a))
	}
	if !finite(b) {
		return badArg(1, "b must be finite (got %s)", fmtNum(b))
	}
	if !(a < b) {
		return badArg(1, "U(a, b) needs a < b (got a=%s, b=%s)", fmtNum(a), fmtNum(b))
	}
	if !finite(b - a) {
		return badArg(1, "U(a, b) needs a finite width b - a (got a=%s, b=%s)", fmtNum(a), fmtNum(b))
	}
	return nil
}

// Dim returns 1.
func (d *Uniform) Dim() int { return 1 }

// LogProb returns -log(b-a) on [a, b] and -Inf elsewhere.
func (d *Uniform) LogProb(x []float64) float64 {
	if len(x) != 1 || x[0] != x[0] {
		return math.NaN()
	}
	if x[0] < d.a || x[0] > d.b {
		return math.Inf(-1)
	}
	return d.logDens
}

// Sample draws one sample into out[0]; it always lies in [a, b].
func (d *Uniform) Sample(r *rand.Rand, out []float64) {
	v := d.a + (d.b-d.a)*r.Float64()
	out[0] = min(v, d.b)
}

// String returns "U(a, b)".
func (d *Uniform) String() string {
	return "U(" + fmtNum(d.a) + ", " + fmtNum(d.b) + ")"
}

// Bounds returns [a, b] exactly.
func (d *Uniform) Bounds() (lo, hi []float64) {
	return []float64{d.a}, []float64{d.b}
}

// Breaks returns the edges a and b on axis 0.
func (d *Uniform) Breaks(axis int) []float64 {
	if axis != 0 {
		return nil
	}
	return []float64{d.a, d.b}
}

// Laplace is the Laplace (double exponential) distribution with location
// mu and scale b:
//
//	log p(x) = -|x - mu|/b - log(2b)
type Laplace struct {
	mu, b   float64
	logNorm float64 // -log(2b)
}

// NewLaplace returns Laplace(mu, b). mu must be finite and b finite and > 0.
func NewLaplace(mu, b float64) (*Laplace, error) {
	if e := checkLaplace(mu, b); e != nil {
		return nil, wrapArg("Laplace(mu, b)", e)
	}
	return &Laplace{mu: mu, b: b, logNorm: -math.Log(2 * b)}, nil
}

func checkLaplace(mu, b float64) *argError {
	if !finite(mu) {
		return badArg(0, "mu must be finite (got %s)", fmtNum(mu))
	}
	if !finite(b) || b <= 0 {
		return badArg(1, "scale b must be finite and > 0 (got %s)", fmtNum(b))
	}
	return nil
}

// Dim returns 1.
func (d *Laplace) Dim() int { return 1 }

// LogProb returns the log-density at x[0].
func (d *Laplace) LogProb(x []float64) float64 {
	if len(x) != 1 {
		return math.NaN()
	}
	return -math.Abs(x[0]-d.mu)/d.b + d.logNorm
}

// Sample draws one sample into out[0]: mu ± b·Exp(1) with a fair sign.
func (d *Laplace) Sample(r *rand.Rand, out []float64) {
	e := d.b * r.ExpFloat64()
	if r.Uint64()&1 == 0 {
		e = -e
	}
	out[0] = d.mu + e
}

// String returns "Laplace(mu, b)".
func (d *Laplace) String() string {
	return "Laplace(" + fmtNum(d.mu) + ", " + fmtNum(d.b) + ")"
}

// Bounds returns mu ± 36 b, which holds all but exp(-36) < 2.4e-16 of the
// mass.
func (d *Laplace) Bounds() (lo, hi []float64) {
	return []float64{d.mu - laplaceTail*d.b}, []float64{d.mu + laplaceTail*d.b}
}

// Breaks returns the peak mu on axis 0, where the density has a kink.
func (d *Laplace) Breaks(axis int) []float64 {
	if axis != 0 {
		return nil
	}
	return []float64{d.mu}
}
