package lab

import (
	"math"
	"slices"

	"github.com/minmaxgan/minmax/dist"
)

// The trained discriminator is a neural network: evaluating it costs tens
// of thousands of multiply-adds, and a ReLU network has kinks everywhere,
// which defeats adaptive quadrature's error control. So the integrals that
// involve the trained D use a fixed composite Gauss–Legendre rule on a
// grid fitted to P and Q (panels no wider than half a scale near
// every landmark of the densities (Gaussian modes, Laplace peaks), edges at every break of a density), evaluate D
// on all nodes at once with the engine's GEMM, and check convergence by
// splitting every panel in two: the difference between the two answers is
// reported as the error estimate.

// gl3 is the 3-point Gauss–Legendre rule on [-1, 1].
var (
	gl3x = [3]float64{-0.7745966692414834, 0, 0.7745966692414834}
	gl3w = [3]float64{5.0 / 9, 8.0 / 9, 5.0 / 9}
)

// axisRule is a 1-D composite rule: nodes and weights.
type axisRule struct {
	x, w []float64
}

// panelEdges returns the panel edges along one axis for p and q, with base
// uniform panels over the union of their bounds, refined around modes and
// breaks.
func panelEdges(p, q dist.Dist, axis, base int) []float64 {
	plo, phi := p.Bounds()
	qlo, qhi := q.Bounds()
	lo, hi := math.Min(plo[axis], qlo[axis]), math.Max(phi[axis], qhi[axis])
	edges := make([]float64, 0, base+64)
	for i := 0; i <= base; i++ {
		edges = append(edges, lo+(hi-lo)*float64(i)/float64(base))
	}
	for _, d := range []dist.Dist{p, q} {
		edges = append(edges, d.Breaks(axis)...)
		for _, m := range dist.Landmarks(d) {
			for j := -12; j <= 12; j++ {
				edges = append(edges, m.Center[axis]+float64(j)*m.Scale/2)
			}
		}
	}
	slices.Sort(edges)
	out := edges[:0]
	tiny := (hi - lo) * 1e-12
	for _, e := range edges {
		if e < lo || e > hi {
			continue
		}
		if len(out) > 0 && e-out[len(out)-1] <= tiny {
			continue
		}
		out = append(out, e)
	}
	return out
}

// rule builds the composite rule on edges, with each panel split into
// `split` equal parts.
func rule(edges []float64, split int) axisRule {
	var r axisRule
	for i := 0; i+1 < len(edges); i++ {
		a, b := edges[i], edges[i+1]
		h := (b - a) / float64(split)
		for s := 0; s < split; s++ {
			c, half := a+(float64(s)+0.5)*h, h/2
			for k := range gl3x {
				r.x = append(r.x, c+half*gl3x[k])
				r.w = append(r.w, half*gl3w[k])
			}
		}
	}
	return r
}

// gridRule is a tensor-product rule in dim 1 or 2: points (n×dim) and weights.
type gridRule struct {
	dim    int
	points []float64
	w      []float64
}

func newGrid(p, q dist.Dist, base, split int) gridRule {
	dim := p.Dim()
	ax := rule(panelEdges(p, q, 0, base), split)
	if dim == 1 {
		return gridRule{dim: 1, points: ax.x, w: ax.w}
	}
	ay := rule(panelEdges(p, q, 1, base), split)
	g := gridRule{dim: 2, points: make([]float64, 0, 2*len(ax.x)*len(ay.x)), w: make([]float64, 0, len(ax.x)*len(ay.x))}
	for i, x := range ax.x {
		for j, y := range ay.x {
			g.points = append(g.points, x, y)
			g.w = append(g.w, ax.w[i]*ay.w[j])
		}
	}
	return g
}

// integrals are the D-dependent quantities of a report, by one rule.
type integrals struct {
	vd         float64 // ∫ P softplus(-D) + Q softplus(D)
	massRegion float64 // ∫ M over |D*| <= 5
	dsq        float64 // ∫ M (D - D*)² over |D*| <= 5
	psq        float64 // ∫ M (σ(D) - P/(P+Q))²
	derivL1    float64 // ∫ |δV_D/δD|
	derivMax   float64 // max |δV_D/δD| over the nodes
}

func (it integrals) dRMSE() float64 {
	if it.massRegion == 0 {
		return 0
	}
	return math.Sqrt(it.dsq / it.massRegion)
}

// integrate evaluates the report's integrals of D on the rule g; d holds D
// at g's points.
func integrate(p, q dist.Dist, g gridRule, d []float64) integrals {
	var it integrals
	n := len(g.w)
	for i := 0; i < n; i++ {
		x := g.points[i*g.dim : (i+1)*g.dim]
		lp, lq := p.LogProb(x), q.LogProb(x)
		pp, qq := math.Exp(lp), math.Exp(lq)
		w, di := g.w[i], d[i]
		it.vd += w * (pp*softplus(-di) + qq*softplus(di))
		m := (pp + qq) / 2
		if m > 0 {
			ds := lp - lq
			if math.Abs(ds) <= 5 {
				it.massRegion += w * m
				e := di - ds
				it.dsq += w * m * e * e
			}
			e := sigmoid(di) - posterior(lp, lq)
			it.psq += w * m * e * e
		}
		fd := math.Abs(-pp*sigmoid(-di) + qq*sigmoid(di))
		it.derivL1 += w * fd
		it.derivMax = math.Max(it.derivMax, fd)
	}
	return it
}

func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}
