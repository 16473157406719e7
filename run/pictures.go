package run

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"

	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/tensor"
	"github.com/minmaxgan/minmax/viz"
)

// Pictures draws the run's pictures from its history (and the current G
// and D): the scatter of generated against real points over time, the
// density of Q_G against P, D over the data space, and the curves of the
// losses, D's outputs and the JSD estimate; for 1-D data an animated GIF of
// the game.
func (r *Run) Pictures() error {
	if r.IsImage() {
		if err := r.curves(); err != nil {
			return err
		}
		return r.finalGrid()
	}
	if len(r.hist.snaps) == 0 {
		return nil
	}
	if err := r.curves(); err != nil {
		return err
	}
	if r.Data.Dim == 1 {
		return r.pictures1D()
	}
	return r.pictures2D()
}

// pick returns up to k snapshots evenly spread, always the first and last.
func pick(s []snapshot, k int) []snapshot {
	if len(s) <= k {
		return s
	}
	out := make([]snapshot, 0, k)
	for i := 0; i < k; i++ {
		out = append(out, s[i*(len(s)-1)/(k-1)])
	}
	return out
}

func (r *Run) realSample(n int, seed uint64) []float32 {
	dim := r.Data.Dim
	buf := make([]float64, n*dim)
	dist.SampleN(r.P, tensor.NewRNG(seed).Rand(), n, buf)
	out := make([]float32, len(buf))
	for i, v := range buf {
		out[i] = float32(v)
	}
	return out
}

// view is a square box around P's bounds (cropped to its bulk).
func (r *Run) view() (lo, hi float64) {
	real := r.realSample(20000, 7)
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range real {
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
	}
	pad := 0.15 * (hi - lo)
	return lo - pad, hi + pad
}

func (r *Run) title() string {
	return fmt.Sprintf("%s, loss %s, seed %d", r.Recipe.Data.Source, r.Recipe.Loss.Name, r.Recipe.Run.Seed)
}

func (r *Run) pictures2D() error {
	lo, hi := r.view()
	real := r.realSample(1000, 3)
	snaps := pick(r.hist.snaps, 8)
	var frames []viz.ScatterFrame
	for _, s := range snaps {
		frames = append(frames, viz.ScatterFrame{Title: fmt.Sprintf("step %d", s.step), Real: real, Fake: s.fake})
	}
	if err := viz.SaveScatterGrid(filepath.Join(r.Dir, "scatter.png"), frames, 4, lo, hi,
		"real (blue) and generated (orange) points: "+r.title()); err != nil {
		return err
	}
	// Density of Q_G against P: histograms of 50,000 samples each, same bins.
	const n, bins = 50000, 120
	fake, err := r.Generate(n, r.Recipe.Run.Seed^0xde75)
	if err != nil {
		return err
	}
	hp, xs := histogram2D(r.realSample(n, 11), lo, hi, bins)
	hq, _ := histogram2D(fake, lo, hi, bins)
	top := math.Max(slices.Max(hp), slices.Max(hq))
	for _, h := range [][]float64{hp, hq} {
		for i, v := range h {
			h[i] = math.Log10(math.Max(v, top*1e-4))
		}
	}
	lt := math.Log10(top)
	if err := viz.SaveHeatmapsRange(filepath.Join(r.Dir, "density.png"), []viz.HeatPanel{
		{Title: "P (data): " + r.Recipe.Data.Source, Field: viz.Field{Xs: xs, Ys: xs, Zs: hp}},
		{Title: fmt.Sprintf("Q_G (generator) at step %d", r.Game.StepsDone()), Field: viz.Field{Xs: xs, Ys: xs, Zs: hq}},
	}, viz.Sequential(), lt-4, lt, "log10 density"); err != nil {
		return err
	}
	// D over the plane with real and generated points.
	gx, dv, err := r.dOnPlane(lo, hi, 150)
	if err != nil {
		return err
	}
	zs := make([]float64, len(dv))
	abs := make([]float64, len(dv))
	for i, v := range dv {
		zs[i] = float64(v)
		abs[i] = math.Abs(float64(v))
	}
	slices.Sort(abs)
	limit := math.Max(abs[len(abs)*98/100], 1e-3)
	last := r.hist.snaps[len(r.hist.snaps)-1]
	return viz.SaveHeatmaps(filepath.Join(r.Dir, "discriminator.png"), []viz.HeatPanel{{
		Title:  fmt.Sprintf("D(x) at step %d (logit; red: judged real)", r.Game.StepsDone()),
		Field:  viz.Field{Xs: gx, Ys: gx, Zs: zs},
		Points: []viz.Points{{Name: "real (blue)", XY: f64(real[:600]), Color: viz.ColP}, {Name: "generated (orange)", XY: f64(last.fake[:600]), Color: viz.ColQ}},
	}}, limit, "D(x)")
}

// dOnPlane evaluates D on a g×g grid over the square [lo, hi]², row by
// row in y, and returns the grid's coordinates along an axis with D.
func (r *Run) dOnPlane(lo, hi float64, g int) (xs []float64, d []float32, err error) {
	xs = make([]float64, g)
	for i := range xs {
		xs[i] = lo + (hi-lo)*float64(i)/float64(g-1)
	}
	grid := tensor.New(g*g, 2)
	for iy := 0; iy < g; iy++ {
		for ix := 0; ix < g; ix++ {
			grid.Data[2*(iy*g+ix)] = float32(xs[ix])
			grid.Data[2*(iy*g+ix)+1] = float32(xs[iy])
		}
	}
	d = make([]float32, g*g)
	return xs, d, r.Game.Discriminate(grid, nil, d)
}

func f64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// histogram2D bins points (x y x y ...) on bins×bins cells over [lo,hi]²
// and returns densities (row-major in y) and the cell centres.
func histogram2D(pts []float32, lo, hi float64, bins int) ([]float64, []float64) {
	h := make([]float64, bins*bins)
	w := (hi - lo) / float64(bins)
	n := len(pts) / 2
	for i := 0; i < n; i++ {
		ix := int((float64(pts[2*i]) - lo) / w)
		iy := int((float64(pts[2*i+1]) - lo) / w)
		if ix >= 0 && ix < bins && iy >= 0 && iy < bins {
			h[iy*bins+ix]++
		}
	}
	for i := range h {
		h[i] /= float64(n) * w * w
	}
	c := make([]float64, bins)
	for i := range c {
		c[i] = lo + (float64(i)+0.5)*w
	}
	return h, c
}

// plot grid for 1-D pictures
const grid1D = 400

func (r *Run) grid1D() []float64 {
	lo, hi := r.view()
	xs := make([]float64, grid1D)
	for i := range xs {
		xs[i] = lo + (hi-lo)*float64(i)/float64(grid1D-1)
	}
	return xs
}

// dOnGrid evaluates D on the 1-D plotting grid.
func (r *Run) dOnGrid() ([]float32, error) {
	xs := r.grid1D()
	x := tensor.New(len(xs), 1)
	for i, v := range xs {
		x.Data[i] = float32(v)
	}
	out := make([]float32, len(xs))
	return out, r.Game.Discriminate(x, nil, out)
}

// kde is a Gaussian kernel density estimate of 1-D samples at xs
// (Silverman's bandwidth).
func kde(samples []float32, xs []float64) []float64 {
	n := float64(len(samples))
	var m, v float64
	for _, s := range samples {
		m += float64(s)
	}
	m /= n
	for _, s := range samples {
		v += (float64(s) - m) * (float64(s) - m)
	}
	sd := math.Sqrt(v / n)
	h := math.Max(1.06*sd*math.Pow(n, -0.2), 1e-3)
	// Silverman's rule oversmooths multimodal data: use half of it, as the
	// modes of the presets are much narrower than their spread.
	h /= 2
	out := make([]float64, len(xs))
	for i, x := range xs {
		var s float64
		for _, p := range samples {
			u := (x - float64(p)) / h
			if u*u < 40 {
				s += math.Exp(-0.5 * u * u)
			}
		}
		out[i] = s / (n * h * math.Sqrt(2*math.Pi))
	}
	return out
}

func (r *Run) pictures1D() error {
	xs := r.grid1D()
	pd := make([]float64, len(xs))
	for i, x := range xs {
		pd[i] = math.Exp(r.P.LogProb([]float64{x}))
	}
	frames := make([][]viz.Panel, 0, len(r.hist.snaps))
	top := slices.Max(pd) * 1.6
	for _, s := range r.hist.snaps {
		_, hy := histogram1D(s.fake, xs[0], xs[len(xs)-1], 80)
		top = math.Max(top, slices.Max(hy)*1.05)
	}
	// An early, collapsed G piles its samples into a spike; do not let it
	// flatten every later frame.
	top = math.Min(top, 3*slices.Max(pd))
	floor := 1e-3 * slices.Max(pd)
	for _, s := range r.hist.snaps {
		qd := kde(s.fake, xs)
		hx, hy := histogram1D(s.fake, xs[0], xs[len(xs)-1], 80)
		sigD, post := make([]float64, len(xs)), make([]float64, len(xs))
		for i := range xs {
			sigD[i] = 1 / (1 + math.Exp(-float64(s.d[i])))
			// Where both densities are negligible the estimate of D* is
			// noise: leave a gap.
			if math.Max(pd[i], qd[i]) > floor {
				post[i] = pd[i] / (pd[i] + qd[i])
			} else {
				post[i] = math.NaN()
			}
		}
		frames = append(frames, []viz.Panel{
			{Title: fmt.Sprintf("step %d: P (data) and a histogram of Q_G (1,000 generated samples)", s.step),
				XLabel: "x", YLabel: "density", YMin: 0, YMax: top,
				Curves: []viz.Curve{{Name: "P", X: xs, Y: pd, Color: viz.ColP}, {Name: "Q_G (histogram)", X: hx, Y: hy, Color: viz.ColQ}}},
			{Title: "sigmoid(D(x)) and the optimum P/(P+Q_G) = sigmoid(D*(x)) (eq. 6; Q_G by kernel density)",
				XLabel: "x", YLabel: "probability x is real", YMin: -0.02, YMax: 1.02,
				HLine: 0.5, HLineLabel: "1/2: P = Q_G (eq. 10)",
				Curves: []viz.Curve{{Name: "sigmoid(D)", X: xs, Y: sigD, Color: viz.ColD}, {Name: "sigmoid(D*)", X: xs, Y: post, Color: viz.ColDStar, Dashed: true}}},
		})
	}
	if err := viz.SaveGIF(filepath.Join(r.Dir, "training.gif"), frames, 8, 3, 60); err != nil {
		return err
	}
	return viz.SavePanels(filepath.Join(r.Dir, "final.png"), 8, 3.1, frames[len(frames)-1])
}

// histogram1D returns a density histogram of samples as a step curve.
func histogram1D(samples []float32, lo, hi float64, bins int) (xs, ys []float64) {
	h := make([]float64, bins)
	w := (hi - lo) / float64(bins)
	for _, v := range samples {
		if i := int((float64(v) - lo) / w); i >= 0 && i < bins {
			h[i]++
		}
	}
	for i, c := range h {
		d := c / (float64(len(samples)) * w)
		xs = append(xs, lo+float64(i)*w, lo+float64(i+1)*w)
		ys = append(ys, d, d)
	}
	return xs, ys
}

// curves draws losses, D's mean outputs, and the evaluations over steps.
func (r *Run) curves() error {
	st := r.hist.stats
	if len(st) == 0 {
		return nil
	}
	steps := make([]float64, len(st))
	ld, lg, dr, df := make([]float64, len(st)), make([]float64, len(st)), make([]float64, len(st)), make([]float64, len(st))
	for i, s := range st {
		steps[i], ld[i], lg[i], dr[i], df[i] = float64(s.Step), s.LossD, s.LossG, s.DReal, s.DFake
	}
	w := max(1, len(st)/100)
	title := fmt.Sprintf("losses (moving average over %d steps): %s", w, r.title())
	if w == 1 {
		title = "losses: " + r.title()
	}
	lossPanel := viz.Panel{Title: title, XLabel: "step", YLabel: "loss",
		Curves: []viz.Curve{{Name: "D's loss", X: steps, Y: smooth(ld, w), Color: viz.ColD}, {Name: "G's loss", X: steps, Y: smooth(lg, w), Color: viz.ColQ}}}
	if r.Recipe.Loss.Name == "minimax" || r.Recipe.Loss.Name == "nonsaturating" {
		lossPanel.HLine, lossPanel.HLineLabel = 2*math.Ln2, "2 log 2: V_D(G, D*) at P = Q_G (eq. 10)"
	}
	panels := []viz.Panel{
		lossPanel,
		{Title: "mean D(x) on real and generated batches", XLabel: "step", YLabel: "logit",
			Curves: []viz.Curve{{Name: "D(real)", X: steps, Y: smooth(dr, w), Color: viz.ColP}, {Name: "D(G(z))", X: steps, Y: smooth(df, w), Color: viz.ColQ}}},
	}
	var es, jsd, se, hq []float64
	for _, e := range r.hist.evals {
		if e.JSDEstimate != nil {
			es = append(es, float64(e.Step))
			jsd = append(jsd, *e.JSDEstimate)
			se = append(se, 2**e.JSDSE)
		}
	}
	if len(es) > 0 {
		panels = append(panels, viz.Panel{
			Title:  "JSD(P || Q_G) estimated by a discriminator trained afresh (log 2 - V_D/2, eq. 7); eq. 10: 0 at P = Q_G",
			XLabel: "step", YLabel: "nats", HLine: 0, HLineLabel: "0",
			Curves:      []viz.Curve{{X: es, Y: jsd, Color: viz.ColDStar}},
			ErrorPoints: &viz.ErrorPoints{Name: "estimate ± 2 s.e.", X: es, Y: jsd, Err: se, Color: viz.ColD},
		})
	}
	var cs []float64
	for _, e := range r.hist.evals {
		if e.Coverage != nil {
			cs = append(cs, float64(e.Step))
			hq = append(hq, e.Coverage.HQFraction)
		}
	}
	if len(cs) > 0 {
		cov := make([]float64, 0, len(cs))
		for _, e := range r.hist.evals {
			if e.Coverage != nil {
				cov = append(cov, float64(e.Coverage.ModesCovered)/float64(e.Coverage.ModesTotal))
			}
		}
		panels = append(panels, viz.Panel{
			Title: "mode coverage (2,500 samples): share of modes covered, share of high-quality samples", XLabel: "step", YLabel: "fraction",
			YMin: 0, YMax: 1.05,
			Curves: []viz.Curve{{Name: "modes covered", X: cs, Y: cov, Color: viz.ColP}, {Name: "high-quality samples", X: cs, Y: hq, Color: viz.ColD}},
		})
	}
	var is, fd, prec, rec, cover, ss, modes, cs2, cacc []float64
	var scored *Eval
	for i, e := range r.hist.evals {
		if s := e.Images; s != nil {
			is = append(is, float64(e.Step))
			fd = append(fd, s.FD)
			prec, rec, cover = append(prec, s.Precision), append(rec, s.Recall), append(cover, s.Coverage)
			if a := s.ConditionalAccuracy; a != nil {
				cs2, cacc = append(cs2, float64(e.Step)), append(cacc, *a)
			}
			scored = &r.hist.evals[i]
			if st := s.Stacked; st != nil {
				ss, modes = append(ss, float64(e.Step)), append(modes, float64(st.Modes))
			}
		}
	}
	if scored != nil {
		s := scored.Images
		panels = append(panels,
			viz.Panel{Title: fmt.Sprintf("Fréchet distance of evaluator %s features (%d samples against %d images of %s; not FID)", s.Evaluator, s.FakeN, s.RealN, s.Real),
				XLabel: "step", YLabel: "FD", Curves: []viz.Curve{{X: is, Y: fd, Color: viz.ColD}}},
			viz.Panel{Title: "precision and recall (k = 3), coverage (k = 5)", XLabel: "step", YLabel: "fraction", YMin: 0, YMax: 1.05,
				Curves: []viz.Curve{{Name: "precision", X: is, Y: prec, Color: viz.ColP}, {Name: "recall", X: is, Y: rec, Color: viz.ColQ}, {Name: "coverage", X: is, Y: cover, Color: viz.ColD}}})
		if len(cacc) > 0 {
			panels = append(panels, viz.Panel{Title: "conditional accuracy: share of samples the evaluator classifies as the class asked for", XLabel: "step", YLabel: "fraction", YMin: 0, YMax: 1.05,
				Curves: []viz.Curve{{X: cs2, Y: cacc, Color: viz.ColD}}})
		}
		if st := s.Stacked; st != nil {
			// A generator uniform over the 1,000 triples covers 1000(1 - 0.999ⁿ)
			// of them in n samples on average.
			uniform := 1000 * (1 - math.Pow(0.999, float64(st.Samples)))
			panels = append(panels, viz.Panel{
				Title:  fmt.Sprintf("Stacked MNIST: digit triples covered in %d samples (of 1,000; a uniform generator covers %.0f)", st.Samples, uniform),
				XLabel: "step", YLabel: "modes", YMin: 0, YMax: 1050,
				Curves: []viz.Curve{{Name: "modes covered", X: ss, Y: modes, Color: viz.ColD},
					{Name: "uniform generator", X: []float64{ss[0], ss[len(ss)-1]}, Y: []float64{uniform, uniform}, Color: viz.ColP}}})
		}
	}
	if p, ok := r.sigmaPanel(); ok {
		panels = append(panels, p)
	}
	// Every panel is over the same steps, from 0 to the last recorded, so
	// that their ticks line up down the page.
	last := steps[len(steps)-1]
	for _, e := range r.hist.evals {
		last = max(last, float64(e.Step))
	}
	for i := range panels {
		panels[i].XMin, panels[i].XMax = 0, last
	}
	return viz.SavePanels(filepath.Join(r.Dir, "curves.png"), 9, 2.8, panels)
}

// sigmaPanel plots the spectral-norm estimates over training: for G and
// for D, the smallest, the median and the largest σ over their layers.
func (r *Run) sigmaPanel() (viz.Panel, bool) {
	type series struct{ x, lo, med, hi []float64 }
	var g, d series
	for _, e := range r.hist.evals {
		if len(e.SpectralNorms) == 0 {
			continue
		}
		for _, who := range []struct {
			prefix string
			s      *series
		}{{"G.", &g}, {"D.", &d}} {
			var v []float64
			for k, s := range e.SpectralNorms {
				if len(k) > 2 && k[:2] == who.prefix {
					v = append(v, s)
				}
			}
			if len(v) == 0 {
				continue
			}
			slices.Sort(v)
			who.s.x = append(who.s.x, float64(e.Step))
			who.s.lo, who.s.med, who.s.hi = append(who.s.lo, v[0]), append(who.s.med, v[len(v)/2]), append(who.s.hi, v[len(v)-1])
		}
	}
	if len(g.x) == 0 && len(d.x) == 0 {
		return viz.Panel{}, false
	}
	var cs []viz.Curve
	for _, c := range []struct {
		name  string
		s     series
		color color.Color
	}{{"G", g, viz.ColQ}, {"D", d, viz.ColD}} {
		if len(c.s.x) == 0 {
			continue
		}
		cs = append(cs, viz.Curve{Name: c.name + ": largest", X: c.s.x, Y: c.s.hi, Color: c.color},
			viz.Curve{Name: c.name + ": median", X: c.s.x, Y: c.s.med, Color: c.color, Dashed: true},
			viz.Curve{Name: c.name + ": smallest", X: c.s.x, Y: c.s.lo, Color: c.color, Dotted: true})
	}
	return viz.Panel{Title: "spectral norms σ of the raw weights (each layer's weight is divided by its σ)", XLabel: "step", YLabel: "σ", Curves: cs}, true
}

// smooth is a trailing moving average over w points.
func smooth(x []float64, w int) []float64 {
	out := make([]float64, len(x))
	var s float64
	for i, v := range x {
		s += v
		if i >= w {
			s -= x[i-w]
		}
		out[i] = s / float64(min(i+1, w))
	}
	return out
}
