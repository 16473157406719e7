package tensor

import "math"

// This file holds the kernels that update training state in place: the
// optimisers' updates, moving averages and batch-norm running statistics.
// Packages above autograd change tensors only through kernels like these
// (never by looping over Data themselves), so that a second backend has
// one place to implement each of them (docs/architecture.md).

// AdamConsts are the per-step constants of an Adam update (see Adam).
type AdamConsts struct {
	B1, C1, B2, C2, Step, Inv, Eps float32 // read by the assembly: keep first, in this order
	// WD is the weight decay; Decay = 1 - lr·WD multiplies the weights
	// first when Decoupled (AdamW).
	WD, Decay float32
	Decoupled bool
}

// NewAdamConsts returns the constants of update number t (from 1) at
// learning rate lr, in PyTorch's form: w -= lr/bc1 · m / (sqrt(v)/sqrt(bc2)
// + eps), with bc1 = 1 - β1^t and bc2 = 1 - β2^t.
func NewAdamConsts(lr, beta1, beta2, eps, weightDecay float64, decoupled bool, t int) AdamConsts {
	bc1 := 1 - math.Pow(beta1, float64(t))
	bc2 := 1 - math.Pow(beta2, float64(t))
	b1, b2 := float32(beta1), float32(beta2)
	return AdamConsts{
		B1: b1, C1: 1 - b1, B2: b2, C2: 1 - b2,
		Step: float32(lr / bc1), Inv: float32(1 / math.Sqrt(bc2)), Eps: float32(eps),
		WD: float32(weightDecay), Decay: float32(1 - lr*weightDecay), Decoupled: decoupled,
	}
}

// Adam applies one Adam update to the weights w from their gradient g and
// moments m and v (all of one length), in place:
//
//	m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;  w -= step·m / (sqrt(v)·inv + eps)
//
// with L2 weight decay added to g, or, when c.Decoupled, w scaled by
// c.Decay first. The AVX2 path is bit-identical to the loop.
func Adam(w, g, m, v []float32, c *AdamConsts) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	if c.Decoupled && c.WD != 0 {
		for j := range w {
			w[j] *= c.Decay
		}
	}
	start := 0
	if c.WD == 0 || c.Decoupled {
		start = adamSIMD(w, g, m, v, c)
	}
	for j := start; j < n; j++ {
		gj := g[j]
		if !c.Decoupled && c.WD != 0 {
			gj += c.WD * w[j]
		}
		mj := c.B1*m[j] + c.C1*gj
		vj := c.B2*v[j] + c.C2*gj*gj
		m[j], v[j] = mj, vj
		w[j] -= c.Step * mj / (float32(math.Sqrt(float64(vj)))*c.Inv + c.Eps)
	}
}

// SGDConsts are the per-step constants of an SGD update (see SGD).
type SGDConsts struct {
	LR, Momentum, WD float32
	Nesterov, First  bool // First: the first update, which starts the momentum buffer at g
}

// SGD applies one update of stochastic gradient descent with optional
// momentum (buffer buf), Nesterov momentum and L2 weight decay to w, in
// place, as torch.optim.SGD.
func SGD(w, g, buf []float32, c *SGDConsts) {
	for j, gj := range g[:len(w)] {
		if c.WD != 0 {
			gj += c.WD * w[j]
		}
		if c.Momentum != 0 {
			if c.First {
				buf[j] = gj
			} else {
				buf[j] = c.Momentum*buf[j] + gj
			}
			if c.Nesterov {
				gj += c.Momentum * buf[j]
			} else {
				gj = buf[j]
			}
		}
		w[j] -= c.LR * gj
	}
}

// Lerp moves avg toward x: avg = d·avg + (1-d)·x elementwise (a moving
// average with decay d).
func Lerp(avg, x []float32, d float32) {
	x = x[:len(avg)]
	for j, v := range x {
		avg[j] = d*avg[j] + (1-d)*v
	}
}

// MomentumUpdate folds a batch statistic into a running one:
// run = (1-m)·run + m·batch·scale elementwise (batch norm's running mean
// with scale 1, its running variance with scale n/(n-1)).
func MomentumUpdate(run, batch []float32, m, scale float32) {
	batch = batch[:len(run)]
	for j, b := range batch {
		run[j] = (1-m)*run[j] + m*b*scale
	}
}

// Swap exchanges the elements of a and b (of one length).
func Swap(a, b []float32) {
	b = b[:len(a)]
	for j := range a {
		a[j], b[j] = b[j], a[j]
	}
}

// Mean returns the mean of x accumulated in float64, in order (0 for an
// empty x).
func Mean(x []float32) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s / float64(len(x))
}

// PowerIteration takes one step of the power method for the largest
// singular value of w (rows×cols, row-major): v = wᵀu/‖wᵀu‖, then
// u = wv/‖wv‖, each norm floored at eps (PyTorch's normalize). u has rows
// elements, v cols; both are updated in place.
func PowerIteration(u, v, w []float32, rows, cols int, eps float32) {
	MatMul(v, w, u, cols, 1, rows, true, false, false)
	Normalize(v, eps)
	MatMul(u, w, v, rows, 1, cols, false, false, false)
	Normalize(u, eps)
}

// Normalize scales x to unit L2 norm (the norm floored at eps).
func Normalize(x []float32, eps float32) {
	n := float32(math.Sqrt(SumSquares(x)))
	if n < eps {
		n = eps
	}
	inv := 1 / n
	for i := range x {
		x[i] *= inv
	}
}

// Copy copies src into dst (of one length).
func Copy(dst, src []float32) { copy(dst, src[:len(dst)]) }
