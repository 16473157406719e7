package dist

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Mixture is mix(w1:D1, w2:D2, ...): with the weights normalised to
// π_i = w_i / Σ_j w_j,
//
//	p(x) = Σ_i π_i p_i(x)
//
// All components have the same dimension; they may themselves be mixtures.
type Mixture struct {
	weights []float64 // as given (String prints these, so it round-trips exactly)
	logw    []float64 // log π_i
	cum     []float64 // cumulative π_i, last entry exactly 1
	comps   []Dist
	dim     int
}

// NewMixture returns the mixture of comps with the given weights, which
// need not sum to 1: they are normalised. There must be at least one
// component, as many weights as components, every weight finite and > 0,
// and all components of one dimension.
func NewMixture(weights []float64, comps []Dist) (*Mixture, error) {
	if len(comps) == 0 {
		return nil, errors.New("mix: no components")
	}
	if len(weights) != len(comps) {
		return nil, fmt.Errorf("mix: %d weights for %d components", len(weights), len(comps))
	}
	for i, c := range comps {
		if c == nil {
			return nil, fmt.Errorf("mix: component %d is nil", i+1)
		}
	}
	for i, w := range weights {
		if e := checkWeight(i, w); e != nil {
			return nil, wrapArg("mix", e)
		}
	}
	for i, c := range comps[1:] {
		if c.Dim() != comps[0].Dim() {
			return nil, fmt.Errorf("mix: components have different dimensions: %d and %d (component %d is %s)",
				comps[0].Dim(), c.Dim(), i+2, c)
		}
	}
	return newMixture(slices.Clone(weights), slices.Clone(comps)), nil
}

func checkWeight(i int, w float64) *argError {
	if !finite(w) || w <= 0 {
		return badArg(i, "weight of component %d must be finite and > 0 (got %s)", i+1, fmtNum(w))
	}
	return nil
}

// newMixture builds a mixture from validated, owned slices.
func newMixture(weights []float64, comps []Dist) *Mixture {
	m := &Mixture{weights: weights, comps: comps, dim: comps[0].Dim()}
	// Normalise in a way that cannot overflow: scale by the largest weight.
	wmax := maxOf(weights)
	var s float64
	for _, w := range weights {
		s += w / wmax
	}
	logTotal := math.Log(wmax) + math.Log(s)
	m.logw = make([]float64, len(weights))
	m.cum = make([]float64, len(weights))
	var c float64
	for i, w := range weights {
		pi := (w / wmax) / s
		if pi >= 0x1p-1000 {
			m.logw[i] = math.Log(pi)
		} else {
			m.logw[i] = math.Log(w) - logTotal // pi underflows: stay in logs
		}
		c += pi
		m.cum[i] = c
	}
	m.cum[len(m.cum)-1] = 1
	return m
}

// Dim returns the common dimension of the components.
func (m *Mixture) Dim() int { return m.dim }

// LogProb returns log Σ_i π_i p_i(x), by a one-pass log-sum-exp, so it is
// exact to rounding even where every p_i(x) underflows.
func (m *Mixture) LogProb(x []float64) float64 {
	if len(x) != m.dim {
		return math.NaN()
	}
	acc := newLSE()
	for i, c := range m.comps {
		lp := c.LogProb(x)
		if lp != lp {
			return lp
		}
		acc.add(m.logw[i] + lp)
	}
	return acc.value()
}

// Sample draws one sample into out: a component chosen with probability
// π_i, then a sample of it.
func (m *Mixture) Sample(r *rand.Rand, out []float64) {
	u := r.Float64()
	i, _ := slices.BinarySearch(m.cum, u)
	// BinarySearch finds the first cum >= u; a tie (cum == u) belongs to
	// the next component, since component i covers [cum[i-1], cum[i]).
	for i < len(m.cum)-1 && m.cum[i] <= u {
		i++
	}
	m.comps[i].Sample(r, out)
}

// String returns "mix(w1:D1, w2:D2, ...)" with the weights as given.
func (m *Mixture) String() string {
	var b strings.Builder
	b.WriteString("mix(")
	for i, c := range m.comps {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(fmtNum(m.weights[i]))
		b.WriteByte(':')
		b.WriteString(c.String())
	}
	b.WriteByte(')')
	return b.String()
}

// Bounds returns the smallest box holding every component's bounds.
func (m *Mixture) Bounds() (lo, hi []float64) {
	lo, hi = m.comps[0].Bounds()
	lo, hi = slices.Clone(lo), slices.Clone(hi)
	for _, c := range m.comps[1:] {
		l, h := c.Bounds()
		for a := range lo {
			lo[a] = min(lo[a], l[a])
			hi[a] = max(hi[a], h[a])
		}
	}
	return lo, hi
}

// Breaks returns the union of the components' breaks along axis, sorted
// and without duplicates.
func (m *Mixture) Breaks(axis int) []float64 {
	var out []float64
	for _, c := range m.comps {
		out = append(out, c.Breaks(axis)...)
	}
	if len(out) == 0 {
		return nil
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Components returns the number of components.
func (m *Mixture) Components() int { return len(m.comps) }

// Component returns component i (0 <= i < Components()) and its
// normalised weight π_i.
func (m *Mixture) Component(i int) (Dist, float64) {
	return m.comps[i], math.Exp(m.logw[i])
}
