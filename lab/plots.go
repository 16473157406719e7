package lab

import (
	"fmt"
	"math"
	"slices"

	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/tensor"
	"github.com/minmaxgan/minmax/theory"
	"github.com/minmaxgan/minmax/viz"
)

// viewBox returns a plotting range per axis that holds nearly all of P and
// Q's samples (0.25% and 99.75% quantiles, widened by 8%).
func viewBox(p, q dist.Dist, rng *tensor.RNG) (lo, hi []float64) {
	dim := p.Dim()
	const n = 20000
	buf := make([]float64, n*dim)
	axes := make([][]float64, dim)
	for _, d := range []dist.Dist{p, q} {
		dist.SampleN(d, rng.Rand(), n, buf)
		for i := 0; i < n; i++ {
			for a := 0; a < dim; a++ {
				axes[a] = append(axes[a], buf[i*dim+a])
			}
		}
	}
	lo, hi = make([]float64, dim), make([]float64, dim)
	for a := range axes {
		slices.Sort(axes[a])
		l, h := axes[a][len(axes[a])/400], axes[a][len(axes[a])-1-len(axes[a])/400]
		pad := 0.08 * (h - l)
		lo[a], hi[a] = l-pad, h+pad
	}
	if dim == 2 { // square view
		c0, c1 := (lo[0]+hi[0])/2, (lo[1]+hi[1])/2
		half := math.Max(hi[0]-lo[0], hi[1]-lo[1]) / 2
		lo[0], hi[0], lo[1], hi[1] = c0-half, c0+half, c1-half, c1+half
	}
	return lo, hi
}

// Plot writes the pictures of a report into dir: theory_1d.png (P and Q;
// D* and D; sigmoid(D) and P/(P+Q)) or theory_2d.png (heatmaps of D* and
// D with sample points). It returns the paths written.
func Plot(p, q dist.Dist, r *Report, dir string, seed uint64) ([]string, error) {
	rng := tensor.NewRNG(seed + 99)
	lo, hi := viewBox(p, q, rng)
	ds := theory.DStar(p, q)
	if p.Dim() == 1 {
		const n = 800
		xs := make([]float64, n)
		var pd, qd, dstar, dtr, post, sig []float64
		for i := range xs {
			x := []float64{lo[0] + (hi[0]-lo[0])*float64(i)/float64(n-1)}
			xs[i] = x[0]
			lp, lq := p.LogProb(x), q.LogProb(x)
			pd, qd = append(pd, math.Exp(lp)), append(qd, math.Exp(lq))
			dstar = append(dstar, ds(x))
			dv := r.D(x)
			dtr = append(dtr, dv)
			post = append(post, posterior(lp, lq))
			sig = append(sig, sigmoid(dv))
		}
		path := dir + "/theory_1d.png"
		err := viz.SavePanels(path, 8, 3.1, []viz.Panel{
			{Title: fmt.Sprintf("P = %s   Q = %s", r.P, r.Q), XLabel: "x", YLabel: "density",
				Curves: []viz.Curve{{Name: "P (data)", X: xs, Y: pd, Color: viz.ColP}, {Name: "Q (generator, fixed)", X: xs, Y: qd, Color: viz.ColQ}}},
			{Title: fmt.Sprintf("D*(x) = log P(x) - log Q(x) (eq. 6) and the trained D: RMSE %.3f where |D*| ≤ 5", r.DRMSE),
				XLabel: "x", YLabel: "logit", YMin: -8, YMax: 8,
				Curves: []viz.Curve{{Name: "D* (exact)", X: xs, Y: dstar, Color: viz.ColDStar}, {Name: fmt.Sprintf("D trained (%d steps)", r.Steps), X: xs, Y: dtr, Color: viz.ColD, Dashed: true}}},
			{Title: fmt.Sprintf("sigmoid(D) against P/(P+Q): RMSE %.4f; JSD %.4f nats, estimate %.4f", r.PRMSE, r.Exact.JSD, r.JSDEstimate),
				XLabel: "x", YLabel: "probability x is real", YMin: -0.02, YMax: 1.02,
				Curves: []viz.Curve{{Name: "P/(P+Q) = sigmoid(D*)", X: xs, Y: post, Color: viz.ColDStar}, {Name: "sigmoid(D trained)", X: xs, Y: sig, Color: viz.ColD, Dashed: true}}},
		})
		return []string{path}, err
	}
	const n = 160
	xs, ys := make([]float64, n), make([]float64, n)
	for i := 0; i < n; i++ {
		xs[i] = lo[0] + (hi[0]-lo[0])*float64(i)/float64(n-1)
		ys[i] = lo[1] + (hi[1]-lo[1])*float64(i)/float64(n-1)
	}
	zs, zd := make([]float64, n*n), make([]float64, n*n)
	for iy, y := range ys {
		for ix, x := range xs {
			pt := []float64{x, y}
			zs[iy*n+ix] = ds(pt)
			zd[iy*n+ix] = r.D(pt)
		}
	}
	const shown = 250
	pp, qp := make([]float64, 2*shown), make([]float64, 2*shown)
	dist.SampleN(p, rng.Rand(), shown, pp)
	dist.SampleN(q, rng.Rand(), shown, qp)
	pts := []viz.Points{{Name: "P (blue)", XY: pp, Color: viz.ColP}, {Name: "Q (orange)", XY: qp, Color: viz.ColQ}}
	path := dir + "/theory_2d.png"
	err := viz.SaveHeatmaps(path, []viz.HeatPanel{
		{Title: "D*(x) = log P/Q (eq. 6)", Field: viz.Field{Xs: xs, Ys: ys, Zs: zs}, Points: pts},
		{Title: fmt.Sprintf("trained D (%d steps), RMSE %.3f where |D*| ≤ 5", r.Steps, r.DRMSE), Field: viz.Field{Xs: xs, Ys: ys, Zs: zd}, Points: pts},
	}, 6, "logit")
	return []string{path}, err
}
