package lab

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
	"github.com/minmaxgan/minmax/theory"
)

// Options is the recipe of the discriminator experiment.
type Options struct {
	Steps  int     // Adam steps (default 4000)
	Batch  int     // samples of P and of Q per step (default 512 each)
	Hidden []int   // hidden widths of D (default 128, 128, 128, ReLU)
	LR     float64 // peak learning rate, cosine-decayed to 0 (default 2e-3)
	EvalN  int     // held-out samples of P and of Q for V_D (default 200000 each)
	Seed   uint64
	// Progress, if set, is called every few hundred steps with the step and
	// the batch loss.
	Progress func(step int, loss float64)
}

func (o *Options) defaults() {
	if o.Steps == 0 {
		o.Steps = 4000
	}
	if o.Batch == 0 {
		o.Batch = 512
	}
	if o.Hidden == nil {
		o.Hidden = []int{128, 128, 128}
	}
	if o.LR == 0 {
		o.LR = 2e-3
	}
	if o.EvalN == 0 {
		o.EvalN = 200000
	}
}

// Exact holds the figures package theory computes by quadrature.
type Exact struct {
	JSD, JSDErr   float64 // nats, with the quadrature's error estimate
	JSDBits       float64
	VDStarEq1     float64 // V_D(G, D*) by eq. (1) directly
	VDStarEq7     float64 // 2 log 2 - 2 JSD, eq. (7)
	KLPQ, KLQP    float64 // may be +Inf (disjoint supports)
	DerivAtDStar  float64 // max |δV_D/δD| at D* over a grid (eq. 4-5: zero)
	DerivPerturbd float64 // the same at D* + 0.5 (not zero)
}

// ComputeExact evaluates the seed's quantities for P and Q.
func ComputeExact(p, q dist.Dist) (Exact, error) {
	var e Exact
	jsd, err := theory.JSD(p, q)
	if err != nil {
		return e, err
	}
	e.JSD, e.JSDErr = jsd.Value, jsd.Err
	e.JSDBits = jsd.Value / math.Ln2
	v1, err := theory.VDStar(p, q)
	if err != nil {
		return e, err
	}
	e.VDStarEq1 = v1.Value
	e.VDStarEq7 = 2*math.Ln2 - 2*jsd.Value
	if kl, err := theory.KL(p, q); err == nil {
		e.KLPQ = kl.Value
	} else {
		e.KLPQ = math.Inf(1)
	}
	if kl, err := theory.KL(q, p); err == nil {
		e.KLQP = kl.Value
	} else {
		e.KLQP = math.Inf(1)
	}
	ds := theory.DStar(p, q)
	grid := 2000
	if p.Dim() == 2 {
		grid = 300
	}
	n0, err := theory.FunctionalDerivativeNorms(p, q, ds, grid)
	if err != nil {
		return e, err
	}
	e.DerivAtDStar = n0.MaxAbs
	n1, err := theory.FunctionalDerivativeNorms(p, q, func(x []float64) float64 { return ds(x) + 0.5 }, grid)
	if err != nil {
		return e, err
	}
	e.DerivPerturbd = n1.MaxAbs
	return e, nil
}

// Report is the outcome of a discriminator experiment.
type Report struct {
	P, Q  string
	Exact Exact

	VDTrained   float64 // V_D of the trained D on a fresh held-out sample
	VDTrainedSE float64 // its standard error
	JSDEstimate float64 // log 2 - V_D/2, the seed's eq. (7) solved for JSD
	VDExcess    float64 // V_D(G, D) - V_D(G, D*) by quadrature (>= 0 by the theory)
	DRMSE       float64 // M-weighted RMSE of D - D* where |D*| <= 5
	DRMSEMass   float64 // M's mass in that region
	PRMSE       float64 // M-weighted RMSE of sigmoid(D) - P/(P+Q), everywhere
	DerivMaxAbs float64 // max |δV_D/δD| at the trained D over a grid
	DerivL1     float64 // its L1 norm
	QuadErr     float64 // error estimate of the grid quadrature (coarse vs fine)
	Steps       int
	Seconds     float64

	// D is the trained discriminator as a function (for plots).
	D func(x []float64) float64 `json:"-"`

	batch   *batchEval
	started time.Time
}

// Sampler is what the discriminator experiment needs of P and Q: samples.
// Every dist.Dist is one; so is a generator (see gan's run code), whose
// density is unknown.
type Sampler interface {
	Dim() int
	Sample(r *rand.Rand, out []float64)
}

func sampleN(s Sampler, r *rand.Rand, n int, out []float64) {
	d := s.Dim()
	for i := 0; i < n; i++ {
		s.Sample(r, out[i*d:(i+1)*d])
	}
}

// EstimateJSD trains a discriminator on samples of p and q with the seed's
// loss and returns the estimate log 2 - V_D/2 of JSD(p || q) (eq. 7 solved
// for the JSD) with its standard error. It needs no densities.
func EstimateJSD(p, q Sampler, o Options) (jsd, se float64, err error) {
	r, err := trainOnly(p, q, o)
	if err != nil {
		return 0, 0, err
	}
	return r.JSDEstimate, r.VDTrainedSE / 2, nil
}

// fitted is a discriminator trained on P and Q.
type fitted struct {
	mlp   *nn.MLP
	norm  affine
	rng   *tensor.RNG
	batch *batchEval
	start time.Time
}

// fit trains an MLP discriminator on fresh samples of p and q with the
// seed's loss, eq. (1), under a cosine-decayed learning rate.
func fit(p, q Sampler, o Options) (*fitted, error) {
	o.defaults()
	if p.Dim() != q.Dim() {
		return nil, fmt.Errorf("P has dimension %d and Q has %d; they must agree", p.Dim(), q.Dim())
	}
	if o.Steps < 1 || o.Batch < 1 || o.EvalN < 2 {
		return nil, fmt.Errorf("steps (%d), batch (%d) and evaluation sample (%d) must be positive", o.Steps, o.Batch, o.EvalN)
	}
	f := &fitted{start: time.Now()}
	dim := p.Dim()
	f.rng = tensor.NewRNG(o.Seed)
	f.norm = standardiser(p, q, dim, f.rng)
	sizes := append(append([]int{dim}, o.Hidden...), 1)
	d, err := nn.NewMLP(sizes, nn.Activation{Kind: "relu"}, nn.Activation{}, false, f.rng)
	if err != nil {
		return nil, err
	}
	if err := nn.Root(d, "D"); err != nil {
		return nil, err
	}
	f.mlp = d
	xp, xq := tensor.New(o.Batch, dim), tensor.New(o.Batch, dim)
	buf := make([]float64, o.Batch*dim)
	draw := func(src Sampler, dst *tensor.Tensor) {
		sampleN(src, f.rng.Rand(), o.Batch, buf)
		f.norm.apply(buf, dst.Data)
	}
	tp := autograd.NewTape()
	ctx := &nn.Ctx{Tape: tp, Training: true}
	loop := optim.Loop{
		Opt: optim.NewAdam(nn.ParamList(d), o.LR, 0.9, 0.999), LR: o.LR, Schedule: optim.Cosine, Steps: o.Steps,
		// V_D = E_P softplus(-D(x)) + E_Q softplus(D(x)), eq. (1).
		Loss: func(tp *autograd.Tape, _ int) (*autograd.Node, error) {
			draw(p, xp)
			draw(q, xq)
			return tp.Add(
				tp.Mean(tp.Softplus(tp.Neg(d.Forward(ctx, tp.Leaf(xp)))), false),
				tp.Mean(tp.Softplus(d.Forward(ctx, tp.Leaf(xq))), false)), nil
		},
	}
	if o.Progress != nil {
		loop.After = func(step int, loss float64) error {
			if (step+1)%500 == 0 {
				o.Progress(step+1, loss)
			}
			return nil
		}
	}
	if err := loop.Run(tp); err != nil {
		return nil, fmt.Errorf("training the discriminator: %w", err)
	}
	f.batch = &batchEval{mlp: d, norm: f.norm, tp: tp}
	return f, nil
}

// trainOnly trains D and measures V_D on held-out samples only.
func trainOnly(p, q Sampler, o Options) (*Report, error) {
	o.defaults()
	f, err := fit(p, q, o)
	if err != nil {
		return nil, err
	}
	r := &Report{P: name(p), Q: name(q), Steps: o.Steps, D: newEvaluator(f.mlp, f.norm).eval,
		batch: f.batch, started: f.start}
	r.VDTrained, r.VDTrainedSE = heldOutVD(p, q, f.batch, o.EvalN, f.rng)
	r.JSDEstimate = math.Ln2 - r.VDTrained/2
	r.Seconds = time.Since(f.start).Seconds()
	return r, nil
}

// Train trains an MLP discriminator on samples of p and q with the seed's
// loss eq. (1) and measures it against the exact figures.
func Train(p, q dist.Dist, exact Exact, o Options) (*Report, error) {
	o.defaults()
	r, err := trainOnly(p, q, o)
	if err != nil {
		return nil, err
	}
	r.Exact = exact
	dim := p.Dim()
	batch := r.batch
	// The D integrals on a grid and on the same grid with every panel split
	// in two; the difference is the error estimate.
	base := 400
	if dim == 2 {
		base = 48
	}
	var res [2]integrals
	for k, split := range []int{1, 2} {
		g := newGrid(p, q, base, split)
		res[k] = integrate(p, q, g, batch.eval(g.points))
	}
	fine, coarse := res[1], res[0]
	r.VDExcess = fine.vd - exact.VDStarEq1
	r.DRMSE, r.DRMSEMass = fine.dRMSE(), fine.massRegion
	r.PRMSE = math.Sqrt(fine.psq)
	r.DerivMaxAbs, r.DerivL1 = fine.derivMax, fine.derivL1
	r.QuadErr = math.Max(math.Abs(fine.vd-coarse.vd), math.Abs(fine.dRMSE()-coarse.dRMSE()))
	r.Seconds = time.Since(r.started).Seconds()
	return r, nil
}

// posterior is P/(P+Q) from log-densities, stable when both are tiny and
// defined as 1/2 where both vanish.
func posterior(lp, lq float64) float64 {
	if math.IsInf(lp, -1) && math.IsInf(lq, -1) {
		return 0.5
	}
	return sigmoid(lp - lq)
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// heldOutVD estimates V_D(G, D) = E_P softplus(-D) + E_Q softplus(D) on n
// fresh samples of each, with the standard error of the sum of two
// independent means.
func heldOutVD(p, q Sampler, d *batchEval, n int, rng *tensor.RNG) (vd, se float64) {
	dim := p.Dim()
	const chunk = 8192
	x := make([]float64, chunk*dim)
	moments := func(src Sampler, sign float64) (mean, variance float64) {
		var w welford
		for done := 0; done < n; done += chunk {
			k := min(chunk, n-done)
			sampleN(src, rng.Rand(), k, x)
			for _, v := range d.eval(x[:k*dim]) {
				w.add(softplus(sign * v))
			}
		}
		return w.mean, w.variance()
	}
	mp, vp := moments(p, -1)
	mq, vq := moments(q, +1)
	return mp + mq, math.Sqrt(vp/float64(n) + vq/float64(n))
}

// welford accumulates a mean and a variance in one pass by Welford's
// updates. The textbook one-pass sum of squares loses every digit, and can
// turn negative, when the values are large and nearly equal, as the losses
// of a D far from the data are.
type welford struct {
	n        int
	mean, m2 float64
}

func (w *welford) add(x float64) {
	w.n++
	delta := x - w.mean
	w.mean += delta / float64(w.n)
	w.m2 += delta * (x - w.mean)
}

// variance is the unbiased sample variance (0 for fewer than 2 values).
func (w *welford) variance() float64 {
	if w.n < 2 {
		return 0
	}
	return w.m2 / float64(w.n-1)
}

// batchEval evaluates the trained D at many points at once with the
// engine (GEMM), in chunks, on a tape that records nothing.
type batchEval struct {
	mlp  *nn.MLP
	norm affine
	tp   *autograd.Tape
	in   *tensor.Tensor
	out  []float64
}

func (b *batchEval) eval(points []float64) []float64 {
	dim := len(b.norm.mean)
	n := len(points) / dim
	const chunk = 16384
	b.out = slices.Grow(b.out[:0], n)[:n]
	for lo := 0; lo < n; lo += chunk {
		k := min(chunk, n-lo)
		b.tp.Reset()
		b.tp.SetRecording(false)
		if b.in == nil || b.in.Len() != k*dim {
			b.in = tensor.New(k, dim)
		}
		b.norm.apply(points[lo*dim:(lo+k)*dim], b.in.Data)
		y := b.mlp.Forward(&nn.Ctx{Tape: b.tp}, b.tp.Leaf(b.in))
		for i, v := range y.Data() {
			b.out[lo+i] = float64(v)
		}
	}
	b.tp.Reset()
	return b.out
}

// affine standardisation of inputs: x' = (x - mean) / sd per axis, with
// the moments of M = (P+Q)/2 estimated from a sample. It is part of D.
type affine struct {
	mean, inv []float64
}

func standardiser(p, q Sampler, dim int, rng *tensor.RNG) affine {
	const n = 20000
	a := affine{mean: make([]float64, dim), inv: make([]float64, dim)}
	x := make([]float64, dim)
	s2 := make([]float64, dim)
	for _, src := range []Sampler{p, q} {
		for i := 0; i < n; i++ {
			src.Sample(rng.Rand(), x)
			for j, v := range x {
				a.mean[j] += v
				s2[j] += v * v
			}
		}
	}
	for j := range a.mean {
		m := a.mean[j] / (2 * n)
		v := s2[j]/(2*n) - m*m
		a.mean[j] = m
		a.inv[j] = 1 / math.Sqrt(math.Max(v, 1e-12))
	}
	return a
}

func (a affine) apply(src []float64, dst []float32) {
	dim := len(a.mean)
	for i, v := range src {
		j := i % dim
		dst[i] = float32((v - a.mean[j]) * a.inv[j])
	}
}

// evaluator computes the trained D at one point in float64, from the
// float32 weights, without a tape: quadrature calls it ~10^5-10^6 times.
// Not safe for concurrent use.
type evaluator struct {
	norm     affine
	w, b     [][]float64
	in, out  []int
	cur, nxt []float64
}

func newEvaluator(m *nn.MLP, norm affine) *evaluator {
	ev := &evaluator{norm: norm}
	width := 0
	for _, l := range m.Layers {
		w := make([]float64, len(l.W.Value.Data))
		for i, v := range l.W.Value.Data {
			w[i] = float64(v)
		}
		b := make([]float64, l.Out)
		for i, v := range l.B.Value.Data {
			b[i] = float64(v)
		}
		ev.w, ev.b = append(ev.w, w), append(ev.b, b)
		ev.in, ev.out = append(ev.in, l.In), append(ev.out, l.Out)
		width = max(width, l.In, l.Out)
	}
	ev.cur, ev.nxt = make([]float64, width), make([]float64, width)
	return ev
}

func (ev *evaluator) eval(x []float64) float64 {
	cur := ev.cur[:len(x)]
	for j, v := range x {
		cur[j] = (v - ev.norm.mean[j]) * ev.norm.inv[j]
	}
	last := len(ev.w) - 1
	for l, w := range ev.w {
		in, out := ev.in[l], ev.out[l]
		nxt := ev.nxt[:out]
		for o := 0; o < out; o++ {
			s := ev.b[l][o]
			row := w[o*in : (o+1)*in]
			for i, v := range row {
				s += v * cur[i]
			}
			if l < last && s < 0 {
				s = 0 // ReLU
			}
			nxt[o] = s
		}
		ev.cur, ev.nxt = ev.nxt, ev.cur
		cur = ev.cur[:out]
	}
	return cur[0]
}

func name(s Sampler) string {
	if st, ok := s.(fmt.Stringer); ok {
		return st.String()
	}
	return fmt.Sprintf("%T", s)
}
