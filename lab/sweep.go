package lab

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/theory"
	"github.com/minmaxgan/minmax/viz"
)

// Family is a one-parameter family of generator distributions Q_θ built
// from P, such that Q_θ = P at one known θ (the seed's eq. 9-10 say
// V_D(G_θ, D*) is largest, 2 log 2, exactly there).
type Family struct {
	Name string
	// At is θ where Q_θ = P.
	At float64
	// Make returns Q_θ.
	Make func(p dist.Dist, theta float64) (dist.Dist, error)
}

// Families are the built-in families: "shift" (Q_θ = P moved by θ along
// the first axis, Q_0 = P) and "scale" (Q_θ = P scaled by θ about the
// origin, Q_1 = P).
var Families = map[string]Family{
	"shift": {Name: "shift", At: 0, Make: func(p dist.Dist, th float64) (dist.Dist, error) {
		return &shifted{base: p, delta: th}, nil
	}},
	"scale": {Name: "scale", At: 1, Make: func(p dist.Dist, th float64) (dist.Dist, error) {
		if th <= 0 {
			return nil, fmt.Errorf("scale family: θ = %g must be positive", th)
		}
		return &scaled{base: p, s: th}, nil
	}},
}

// shifted is P moved by delta along the first axis.
type shifted struct {
	base  dist.Dist
	delta float64
	buf   []float64
}

func (d *shifted) Dim() int { return d.base.Dim() }
func (d *shifted) LogProb(x []float64) float64 {
	d.buf = append(d.buf[:0], x...)
	d.buf[0] -= d.delta
	return d.base.LogProb(d.buf)
}
func (d *shifted) Sample(r *rand.Rand, out []float64) {
	d.base.Sample(r, out)
	out[0] += d.delta
}
func (d *shifted) String() string {
	return "shift(" + d.base.String() + ", " + strconv.FormatFloat(d.delta, 'g', -1, 64) + ")"
}
func (d *shifted) Bounds() (lo, hi []float64) {
	lo, hi = d.base.Bounds()
	lo, hi = append([]float64(nil), lo...), append([]float64(nil), hi...)
	lo[0] += d.delta
	hi[0] += d.delta
	return lo, hi
}
func (d *shifted) Breaks(axis int) []float64 {
	b := append([]float64(nil), d.base.Breaks(axis)...)
	if axis == 0 {
		for i := range b {
			b[i] += d.delta
		}
	}
	return b
}
func (d *shifted) Landmarks() []dist.Landmark {
	ls := dist.Landmarks(d.base)
	for i := range ls {
		ls[i].Center[0] += d.delta
	}
	return ls
}

// scaled is P scaled by s about the origin: density P(x/s)/s^dim.
type scaled struct {
	base dist.Dist
	s    float64
	buf  []float64
}

func (d *scaled) Dim() int { return d.base.Dim() }
func (d *scaled) LogProb(x []float64) float64 {
	d.buf = d.buf[:0]
	for _, v := range x {
		d.buf = append(d.buf, v/d.s)
	}
	return d.base.LogProb(d.buf) - float64(len(x))*math.Log(d.s)
}
func (d *scaled) Sample(r *rand.Rand, out []float64) {
	d.base.Sample(r, out)
	for i := range out {
		out[i] *= d.s
	}
}
func (d *scaled) String() string {
	return "scale(" + d.base.String() + ", " + strconv.FormatFloat(d.s, 'g', -1, 64) + ")"
}
func (d *scaled) Bounds() (lo, hi []float64) {
	lo, hi = d.base.Bounds()
	lo, hi = append([]float64(nil), lo...), append([]float64(nil), hi...)
	for i := range lo {
		lo[i] *= d.s
		hi[i] *= d.s
	}
	return lo, hi
}
func (d *scaled) Breaks(axis int) []float64 {
	b := append([]float64(nil), d.base.Breaks(axis)...)
	for i := range b {
		b[i] *= d.s
	}
	return b
}
func (d *scaled) Landmarks() []dist.Landmark {
	ls := dist.Landmarks(d.base)
	for i := range ls {
		for j := range ls[i].Center {
			ls[i].Center[j] *= d.s
		}
		ls[i].Scale *= d.s
	}
	return ls
}

// SweepPoint is V_D(G_θ, D*) at one θ, exactly and (optionally) as reached
// by a trained discriminator.
type SweepPoint struct {
	Theta  float64 `json:"theta"`
	Q      string  `json:"q"`
	JSD    float64 `json:"jsd"`
	VDStar float64 `json:"vd_star"` // 2 log 2 - 2 JSD, eq. (7)
	// Trained estimate (when requested): V_D reached on held-out samples.
	VDTrained   *float64 `json:"vd_trained,omitempty"`
	VDTrainedSE *float64 `json:"vd_trained_se,omitempty"`
}

// Sweep computes V_D(G_θ, D*) for each θ; with trainSteps > 0 it also
// trains a discriminator at each θ and records the V_D it reaches.
func Sweep(p dist.Dist, fam Family, thetas []float64, trainSteps int, seed uint64) ([]SweepPoint, error) {
	var out []SweepPoint
	for i, th := range thetas {
		q, err := fam.Make(p, th)
		if err != nil {
			return nil, err
		}
		jsd, err := theory.JSD(p, q)
		if err != nil {
			return nil, fmt.Errorf("θ = %g: %w", th, err)
		}
		pt := SweepPoint{Theta: th, Q: q.String(), JSD: jsd.Value, VDStar: 2*math.Ln2 - 2*jsd.Value}
		if trainSteps > 0 {
			ex := Exact{JSD: jsd.Value, VDStarEq7: pt.VDStar}
			if v, err := theory.VDStar(p, q); err == nil {
				ex.VDStarEq1 = v.Value
			}
			r, err := trainOnly(p, q, Options{Steps: trainSteps, Seed: seed + uint64(i), EvalN: 50000})
			if err != nil {
				return nil, fmt.Errorf("θ = %g: %w", th, err)
			}
			pt.VDTrained, pt.VDTrainedSE = &r.VDTrained, &r.VDTrainedSE
		}
		out = append(out, pt)
	}
	return out, nil
}

// PlotSweep draws V_D(G_θ, D*) against θ with its maximum 2 log 2 marked.
func PlotSweep(path string, p dist.Dist, fam Family, pts []SweepPoint) error {
	xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
	best := 0
	var ep *viz.ErrorPoints
	for i, pt := range pts {
		xs[i], ys[i] = pt.Theta, pt.VDStar
		if pt.VDStar > pts[best].VDStar {
			best = i
		}
		if pt.VDTrained != nil {
			if ep == nil {
				ep = &viz.ErrorPoints{Name: "V_D reached by a trained D (±2 s.e.)", Color: viz.ColD}
			}
			ep.X = append(ep.X, pt.Theta)
			ep.Y = append(ep.Y, *pt.VDTrained)
			ep.Err = append(ep.Err, 2**pt.VDTrainedSE)
		}
	}
	ymin := math.Inf(1)
	for _, y := range ys {
		ymin = math.Min(ymin, y)
	}
	if ep != nil {
		for i, y := range ep.Y {
			ymin = math.Min(ymin, y-ep.Err[i])
		}
	}
	what := map[string]string{"shift": "Q_θ = P shifted by θ", "scale": "Q_θ = P scaled by θ"}[fam.Name]
	return viz.SavePanels(path, 8, 4.6, []viz.Panel{{
		Title:  fmt.Sprintf("V_D(G_θ, D*) = 2 log 2 - 2 JSD(P || Q_θ), P = %s, %s", p, what),
		XLabel: "θ", YLabel: "V_D(G_θ, D*)",
		Curves: []viz.Curve{{Name: "exact (quadrature)", X: xs, Y: ys, Color: viz.ColDStar}},
		HLine:  2 * math.Ln2, HLineLabel: "2 log 2 (eq. 10: reached only at P = Q_θ)",
		Marks: []viz.Mark{{X: pts[best].Theta, Y: pts[best].VDStar,
			Label: fmt.Sprintf("max %.6f at θ = %g", pts[best].VDStar, pts[best].Theta)}},
		ErrorPoints: ep,
		YMin:        ymin - 0.05, YMax: 2*math.Ln2 + 0.3*(2*math.Ln2-ymin),
	}})
}
