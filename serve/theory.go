package serve

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"

	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/lab"
	"github.com/minmaxgan/minmax/tensor"
	"github.com/minmaxgan/minmax/theory"
)

// TheoryAnswer is GET /api/theory: the seed's exact quantities for P and
// Q (the figures of `minmax theory --exact-only`, from the same
// functions) and D* on a grid for the picture.
type TheoryAnswer struct {
	P   string `json:"p"`
	Q   string `json:"q"`
	Dim int    `json:"dim"`
	// JSD(P || Q) in nats, its quadrature error estimate, in bits.
	JSD     float64 `json:"jsd"`
	JSDErr  float64 `json:"jsd_err"`
	JSDBits float64 `json:"jsd_bits"`
	// V_D(G, D*) by eq. (1) (quadrature of the loss at D*), and by eq. (7)
	// (2 log 2 - 2 JSD), and 2 log 2 itself.
	VDEq1   float64 `json:"vd_star_eq1"`
	VDEq7   float64 `json:"vd_star_eq7"`
	TwoLog2 float64 `json:"two_log_2"`
	// KL both ways; null when a support is not covered (+Inf).
	KLPQ *float64 `json:"kl_pq"`
	KLQP *float64 `json:"kl_qp"`
	// The largest |δV_D/δD| at D* (eq. 4-5: zero) and at D* + 0.5.
	DerivAtDStar float64 `json:"deriv_max_at_dstar"`
	DerivPlus    float64 `json:"deriv_max_at_dstar_plus_half"`
	// The picture: for 1-D, X with P's and Q's densities and D* (null
	// where infinite); for 2-D, the densities and D* on an N×N grid over
	// [Lo, Hi]², row by row in y.
	Lo    float64    `json:"lo"`
	Hi    float64    `json:"hi"`
	X     []float64  `json:"x,omitempty"`
	PDens []float64  `json:"p_density,omitempty"`
	QDens []float64  `json:"q_density,omitempty"`
	N     int        `json:"n,omitempty"`
	DStar []*float64 `json:"d_star"`
}

// theoryError is a spec that does not parse: the message, and where.
type theoryError struct {
	Error string `json:"error"`
	Param string `json:"param"`
	// Pos is the column (from 1) of the trouble in the spec, when known.
	Pos  int    `json:"pos,omitempty"`
	Spec string `json:"spec"`
}

func (s *Server) theory(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	for k := range qv {
		if k != "p" && k != "q" {
			apiError(w, http.StatusBadRequest, k, "unknown parameter: the theory takes p and q")
			return
		}
	}
	var ds [2]dist.Dist
	for i, name := range []string{"p", "q"} {
		spec := qv.Get(name)
		if spec == "" {
			writeJSON(w, http.StatusBadRequest, theoryError{Error: "the distribution " + name + " is missing: give a spec such as N(0, 1)", Param: name})
			return
		}
		d, err := dist.Parse(spec)
		if err != nil {
			te := theoryError{Error: err.Error(), Param: name, Spec: spec}
			var se *dist.SyntaxError
			if errors.As(err, &se) {
				te.Pos = len([]rune(spec[:min(max(se.Pos, 0), len(spec))])) + 1
				te.Error = se.Msg
			}
			writeJSON(w, http.StatusBadRequest, te)
			return
		}
		ds[i] = d
	}
	p, q := ds[0], ds[1]
	if p.Dim() != q.Dim() {
		writeJSON(w, http.StatusBadRequest, theoryError{Param: "q", Spec: qv.Get("q"),
			Error: fmt.Sprintf("p is %d-dimensional and q is %d-dimensional; they must agree", p.Dim(), q.Dim())})
		return
	}
	var ans TheoryAnswer
	if !s.generate(w, r, func() error {
		ex, err := lab.ComputeExact(p, q)
		if err != nil {
			return err
		}
		ans = TheoryAnswer{P: p.String(), Q: q.String(), Dim: p.Dim(),
			JSD: ex.JSD, JSDErr: ex.JSDErr, JSDBits: ex.JSDBits,
			VDEq1: ex.VDStarEq1, VDEq7: ex.VDStarEq7, TwoLog2: 2 * math.Ln2,
			KLPQ: finite(ex.KLPQ), KLQP: finite(ex.KLQP),
			DerivAtDStar: ex.DerivAtDStar, DerivPlus: ex.DerivPerturbd}
		ans.picture(p, q)
		return nil
	}) {
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

func finite(v float64) *float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return &v
}

// picture fills the grid of D*: over the bulk of P and Q (the central
// 99% of samples of both, padded), not their 1e-14 bounds.
func (a *TheoryAnswer) picture(p, q dist.Dist) {
	const n = 4000
	dim := p.Dim()
	var xs []float64
	for i, d := range []dist.Dist{p, q} {
		buf := make([]float64, n*dim)
		dist.SampleN(d, tensor.NewRNG(uint64(i+1)).Rand(), n, buf)
		xs = append(xs, buf...)
	}
	slices.Sort(xs)
	lo, hi := xs[len(xs)/200], xs[len(xs)-1-len(xs)/200]
	pad := 0.15 * (hi - lo)
	if pad == 0 {
		pad = 1
	}
	a.Lo, a.Hi = lo-pad, hi+pad
	dstar := theory.DStar(p, q)
	if dim == 1 {
		const g = 400
		for i := range g {
			x := a.Lo + (a.Hi-a.Lo)*float64(i)/float64(g-1)
			pt := []float64{x}
			a.X = append(a.X, x)
			a.PDens = append(a.PDens, math.Exp(p.LogProb(pt)))
			a.QDens = append(a.QDens, math.Exp(q.LogProb(pt)))
			a.DStar = append(a.DStar, finite(dstar(pt)))
		}
		return
	}
	const g = 80
	a.N = g
	for iy := range g {
		for ix := range g {
			pt := []float64{a.Lo + (a.Hi-a.Lo)*float64(ix)/float64(g-1), a.Lo + (a.Hi-a.Lo)*float64(iy)/float64(g-1)}
			a.PDens = append(a.PDens, math.Exp(p.LogProb(pt)))
			a.QDens = append(a.QDens, math.Exp(q.LogProb(pt)))
			a.DStar = append(a.DStar, finite(dstar(pt)))
		}
	}
}
