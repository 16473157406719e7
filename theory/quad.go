package theory

import (
	"math"
	"slices"
)

// Gauss–Kronrod 7-15 rule on [-1, 1]. xgk are the Kronrod abscissae in
// decreasing order (xgk[1], xgk[3], xgk[5] and 0 are the 7-point Gauss
// abscissae), wgk the Kronrod weights, wg the Gauss weights of
// xgk[1], xgk[3], xgk[5], 0. The values are the standard published ones
// (Kronrod 1965; Piessens et al., QUADPACK, 1983); TestGaussKronrodRule
// checks them against the polynomial degrees they must integrate exactly.
var (
	xgk = [8]float64{
		0.991455371120812639206854697526329,
		0.949107912342758524526189684047851,
		0.864864423359769072789712788640926,
		0.741531185599394439863864773280788,
		0.586087235467691130294144845693013,
		0.405845151377397166906606412076961,
		0.207784955007898467600689403773245,
		0,
	}
	wgk = [8]float64{
		0.022935322010529224963732008058970,
		0.063092092629978553290700663189204,
		0.104790010322250183839876322541518,
		0.140653259715525918745189590510238,
		0.169004726639267902826583426598550,
		0.190350578064785409913256402421014,
		0.204432940075298892414161999234649,
		0.209482141084727828012999174891714,
	}
	wg = [4]float64{
		0.129484966168869693270611432679082,
		0.279705391489276667901467771423780,
		0.381830050505118944950369775488975,
		0.417959183673469387755102040816327,
	}
)

// Seeding of the first panels around a landmark (centre c, scale s): panel
// edges at c + j·seedStep·s for |j·seedStep| <= seedReach, so every panel
// within seedReach·s of a landmark is at most seedStep·s wide.
const (
	seedReach = 8.0
	seedStep  = 2.0
)

const eps = 0x1p-52

// state is shared by the nested integrations of one computation.
type state struct {
	evals    int
	maxEvals int
	posInf   bool // the integrand was +Inf somewhere
	negInf   bool // the integrand was -Inf somewhere
	nan      bool // the integrand was NaN somewhere
	nanAt    []float64
	stop     bool // posInf, negInf or nan: further work is pointless
}

// note records a non-finite integrand value v at x.
func (st *state) note(v float64, x []float64) {
	switch {
	case v != v:
		if !st.nan {
			st.nan = true
			st.nanAt = slices.Clone(x)
		}
	case v > math.MaxFloat64:
		st.posInf = true
	case v < -math.MaxFloat64:
		st.negInf = true
	default:
		return
	}
	st.stop = true
}

// panel is one interval of an adaptive integration.
type panel struct {
	a, b float64
	v    float64 // Kronrod estimate
	e    float64 // quadrature error estimate: max(|K - G|, roundoff floor)
	ie   float64 // error carried in from the integrand (inner integrals)
	// A jump suspect: most of the variation among the panel's samples lies
	// between the neighbouring samples ju < jv, with values fu, fv.
	jump           bool
	ju, jv, fu, fv float64
}

// adaptive integrates a function of one variable over a union of
// intervals by global adaptive Gauss–Kronrod 7-15: it always bisects the
// panel with the largest error estimate. Its buffers are reused between
// calls, which matters for the inner integrals of a 2-D integration.
type adaptive struct {
	f    func(t float64) (v, e float64) // value and its own error estimate
	st   *state
	heap []panel // max-heap on e of the panels still worth splitting
	// minWidth is the narrowest panel worth splitting: 4 ulps of the
	// width of the whole interval of the current run.
	minWidth float64
}

// gk15 evaluates one panel; final reports that its error is at the
// roundoff floor, so splitting it cannot help.
//
// Besides the 15 nodes it evaluates f just inside both ends, at the
// neighbouring float64 values (the limits from inside the panel, so a break
// at an end is no trouble). The outermost nodes are 0.0085·h from the ends,
// and a jump inside that sliver (the edge of a region, say) would otherwise
// be invisible to |K - G|: every node sees the same smooth piece. If an end
// value departs from the linear extrapolation of the two outermost nodes by
// more than the variation among the three outermost nodes, the panel is
// taken to hold a jump there and the jump times the sliver's width is added
// to its error, so that the panel is split.
//
// It also notes whether most of the variation among the 17 samples lies
// between two neighbouring ones: then the panel probably holds a jump
// there, and run will locate it by bisection before splitting.
func (ad *adaptive) gk15(a, b float64) (p panel, final bool) {
	c, h := 0.5*(a+b), 0.5*(b-a)
	// xs, fs: the 17 samples in increasing order: a⁺, the 15 nodes, b⁻.
	var xs, fs [17]float64
	fc, ec := ad.f(c)
	xs[8], fs[8] = c, fc
	resK := wgk[7] * fc
	resG := wg[3] * fc
	resAbs := wgk[7] * math.Abs(fc)
	inner := wgk[7] * ec
	for j := range 7 {
		dx := h * xgk[j]
		f1, e1 := ad.f(c - dx)
		f2, e2 := ad.f(c + dx)
		xs[1+j], fs[1+j] = c-dx, f1
		xs[15-j], fs[15-j] = c+dx, f2
		resK += wgk[j] * (f1 + f2)
		resAbs += wgk[j] * (math.Abs(f1) + math.Abs(f2))
		inner += wgk[j] * (e1 + e2)
		if j%2 == 1 {
			resG += wg[j/2] * (f1 + f2)
		}
	}
	xs[0], xs[16] = math.Nextafter(a, b), math.Nextafter(b, a)
	fa, ea := ad.f(xs[0])
	fb, eb := ad.f(xs[16])
	fs[0], fs[16] = fa, fb
	sliver := h * (1 - xgk[0])
	jump := endJump(fs[0], fs[1], fs[2], fs[3]) + endJump(fs[16], fs[15], fs[14], fs[13])
	p = panel{a: a, b: b, v: resK * h, ie: inner*h + (ea+eb)*sliver}
	diff := math.Abs(resK-resG)*h + jump*sliver
	floor := 50 * eps * resAbs * h
	if diff <= floor {
		p.e = floor
		return p, true
	}
	p.e = diff
	// A panel too narrow to split in float64 is final too.
	m := 0.5 * (a + b)
	if !(m > a && m < b) || b-a <= max(64*eps*max(math.Abs(a), math.Abs(b)), ad.minWidth) {
		return p, true
	}
	var total, big float64
	at := 0
	for i := range 16 {
		d := math.Abs(fs[i+1] - fs[i])
		total += d
		if d > big {
			big, at = d, i
		}
	}
	if big > 0.5*total {
		p.jump = true
		p.ju, p.jv, p.fu, p.fv = xs[at], xs[at+1], fs[at], fs[at+1]
	}
	return p, false
}

// endJump returns the size of a suspected jump between the end value fe
// and the outermost nodes f0, f1, f2 on that side (nearest first), or 0 if
// fe is consistent with a smooth function through them.
func endJump(fe, f0, f1, f2 float64) float64 {
	// Linear extrapolation from the two outermost nodes to the end: the
	// distances are (1 - xgk[0])·h and (xgk[0] - xgk[1])·h.
	const t = (1 - 0.991455371120812639206854697526329) / (0.991455371120812639206854697526329 - 0.949107912342758524526189684047851)
	pred := f0 + t*(f0-f1)
	dev := math.Abs(fe - pred)
	scale := math.Abs(f0-f1) + math.Abs(f1-f2) + 1e-13*max(math.Abs(fe), math.Abs(f0))
	if dev > scale {
		return dev
	}
	return 0
}

// locate narrows the bracket [u, v] (values fu, fv) around a jump by
// bisection, keeping the half across which f changes most. It stops when
// neither half carries at least 3/4 of the change (f is smooth there, not
// jumping) or the bracket cannot be halved; isJump reports the latter: a
// jump pinned down to a few ulps.
func (ad *adaptive) locate(u, v, fu, fv float64) (nu, nv, nfu, nfv, eu, ev float64, isJump bool) {
	for range 80 {
		w := 0.5 * (u + v)
		if !(w > u && w < v) {
			return u, v, fu, fv, eu, ev, true
		}
		fw, ew := ad.f(w)
		if ad.st.stop {
			return u, v, fu, fv, eu, ev, false
		}
		dl, dr := math.Abs(fw-fu), math.Abs(fv-fw)
		if max(dl, dr) < 0.75*math.Abs(fv-fu) {
			return u, v, fu, fv, eu, ev, false
		}
		if dl >= dr {
			v, fv, ev = w, fw, ew
		} else {
			u, fu, eu = w, fw, ew
		}
	}
	return u, v, fu, fv, eu, ev, false
}

func (ad *adaptive) push(p panel) {
	h := append(ad.heap, p)
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if h[parent].e >= h[i].e {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
	ad.heap = h
}

func (ad *adaptive) pop() panel {
	h := ad.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l, r, big := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].e > h[big].e {
			big = l
		}
		if r < len(h) && h[r].e > h[big].e {
			big = r
		}
		if big == i {
			break
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
	ad.heap = h
	return top
}

// run integrates over [pts[0], pts[len-1]] with initial panels between
// consecutive points (sorted, distinct), until the error estimate is at
// most max(absTol, relTol·|value|), every panel is final, or the shared
// evaluation count reaches budget. It returns the value and the error
// estimate (quadrature error plus the integrand's own).
func (ad *adaptive) run(pts []float64, absTol, relTol float64, budget int) (v, e float64) {
	ad.heap = ad.heap[:0]
	if ad.st.stop {
		return math.NaN(), math.Inf(1)
	}
	if ad.st.evals >= budget {
		return 0, math.Inf(1)
	}
	ad.minWidth = 4 * eps * (pts[len(pts)-1] - pts[0])
	var hv, he float64 // sums over the heap
	var fv, fe float64 // sums over final panels
	add := func(p panel, final bool) {
		if final {
			fv += p.v
			fe += p.e + p.ie
			return
		}
		hv += p.v
		he += p.e + p.ie
		ad.push(p)
	}
	for i := 0; i+1 < len(pts); i++ {
		p, final := ad.gk15(pts[i], pts[i+1])
		if ad.st.stop {
			return math.NaN(), math.Inf(1)
		}
		add(p, final)
		if ad.st.evals >= budget && i+2 < len(pts) {
			return hv + fv, math.Inf(1) // the budget ran out before the first panels did
		}
	}
	for {
		target := max(absTol, relTol*math.Abs(hv+fv))
		if he+fe <= target {
			// The running sums drift; confirm with exact ones.
			hv, he = 0, 0
			for _, p := range ad.heap {
				hv += p.v
				he += p.e + p.ie
			}
			if he+fe <= max(absTol, relTol*math.Abs(hv+fv)) {
				break
			}
		}
		if len(ad.heap) == 0 || ad.st.evals >= budget {
			break
		}
		p := ad.pop()
		hv -= p.v
		he -= p.e + p.ie
		m := 0.5 * (p.a + p.b)
		if p.jump {
			ju, jv, jfu, jfv, jeu, jev, isJump := ad.locate(p.ju, p.jv, p.fu, p.fv)
			if ad.st.stop {
				return math.NaN(), math.Inf(1)
			}
			if isJump && ju > p.a && jv < p.b {
				// Split into [a, ju], the few-ulp panel [ju, jv] holding
				// the jump (its trapezoid is as good as any rule), and
				// [jv, b].
				w := jv - ju
				add(panel{a: ju, b: jv, v: 0.5 * (jfu + jfv) * w, e: math.Abs(jfu-jfv) * w, ie: 0.5 * (jeu + jev) * w}, true)
				l, lf := ad.gk15(p.a, ju)
				r, rf := ad.gk15(jv, p.b)
				if ad.st.stop {
					return math.NaN(), math.Inf(1)
				}
				add(l, lf)
				add(r, rf)
				continue
			}
			// Not a jump: split inside the steep part, unless that is
			// too close to an end to be useful.
			if s := 0.5 * (ju + jv); s > p.a+0.01*(p.b-p.a) && s < p.b-0.01*(p.b-p.a) {
				m = s
			}
		}
		l, lf := ad.gk15(p.a, m)
		r, rf := ad.gk15(m, p.b)
		if ad.st.stop {
			return math.NaN(), math.Inf(1)
		}
		add(l, lf)
		add(r, rf)
	}
	hv, he = 0, 0
	for _, p := range ad.heap {
		hv += p.v
		he += p.e + p.ie
	}
	return hv + fv, he + fe
}

// lm1 is a landmark projected on one axis.
type lm1 struct{ c, s float64 }

// seedPoints returns the sorted initial panel edges on [lo, hi]: the ends,
// the breaks inside, and the seeds of every landmark, with points closer
// than a tiny fraction of the interval merged. It appends to dst[:0].
func seedPoints(dst []float64, lo, hi float64, breaks []float64, lms []lm1) []float64 {
	dst = append(dst[:0], lo, hi)
	for _, b := range breaks {
		if b > lo && b < hi {
			dst = append(dst, b)
		}
	}
	for _, l := range lms {
		for j := -seedReach; j <= seedReach; j += seedStep {
			if x := l.c + j*l.s; x > lo && x < hi {
				dst = append(dst, x)
			}
		}
	}
	slices.Sort(dst)
	tiny := 1e-14 * (hi - lo)
	out := dst[:1]
	for _, x := range dst[1:] {
		if x-out[len(out)-1] > tiny {
			out = append(out, x)
		}
	}
	// Keep hi itself as the last edge.
	if out[len(out)-1] != hi {
		if len(out) > 1 && hi-out[len(out)-1] <= tiny {
			out[len(out)-1] = hi
		} else {
			out = append(out, hi)
		}
	}
	return out
}
