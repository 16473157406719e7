package optim

import (
	"fmt"
	"math"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/tensor"
)

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	// Step applies one update using each parameter's Grad.
	Step()
	// Params returns the parameters the optimizer updates.
	Params() []*autograd.Param
	// State returns the optimizer's state tensors by name (for checkpoints);
	// the tensors alias the live state, so loading into them restores it.
	State() map[string]*tensor.Tensor
	// Steps is the number of updates taken (part of the state).
	Steps() int
	// SetSteps restores the update count from a checkpoint.
	SetSteps(n int)
}

// Adam is the optimizer of Kingma & Ba (2015) with bias correction, as in
// PyTorch's torch.optim.Adam: weight decay is added to the gradient (L2)
// unless Decoupled is set (AdamW, Loshchilov & Hutter 2019).
type Adam struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
	// Decoupled applies weight decay directly to the weights (AdamW).
	Decoupled bool

	params []*autograd.Param
	m, v   []*tensor.Tensor
	t      int

	chunks []adamChunk // the update cut into pieces for the worker pool
	job    adamJob
}

// adamChunk is a range [lo, hi) of parameter p's elements.
type adamChunk struct{ p, lo, hi int }

// adamChunkLen is the size of a piece of the update handed to a thread.
const adamChunkLen = 8192

// adamJob runs chunks [lo, hi) of one update; every element is updated
// exactly as the serial loop would, so the thread count changes nothing.
type adamJob struct {
	a *Adam
	c adamConsts
}

func (j *adamJob) Run(_, lo, hi int) {
	for _, ch := range j.a.chunks[lo:hi] {
		j.a.update(ch.p, ch.lo, ch.hi, &j.c)
	}
}

// NewAdam returns Adam over ps with the given learning rate and betas, eps
// 1e-8 and no weight decay.
func NewAdam(ps []*autograd.Param, lr, beta1, beta2 float64) *Adam {
	a := &Adam{LR: lr, Beta1: beta1, Beta2: beta2, Eps: 1e-8, params: ps}
	for i, p := range ps {
		a.m = append(a.m, tensor.New(p.Value.Shape()...))
		a.v = append(a.v, tensor.New(p.Value.Shape()...))
		for lo := 0; lo < p.Value.Len(); lo += adamChunkLen {
			a.chunks = append(a.chunks, adamChunk{i, lo, min(lo+adamChunkLen, p.Value.Len())})
		}
	}
	a.job.a = a
	return a
}

// Params returns the parameters Adam updates.
func (a *Adam) Params() []*autograd.Param { return a.params }

// Steps is the number of updates taken.
func (a *Adam) Steps() int { return a.t }

// SetSteps restores the update count (it drives the bias correction).
func (a *Adam) SetSteps(n int) { a.t = n }

// State returns the first and second moments by parameter name.
func (a *Adam) State() map[string]*tensor.Tensor {
	s := make(map[string]*tensor.Tensor, 2*len(a.params))
	for i, p := range a.params {
		s[p.Name+".adam_m"] = a.m[i]
		s[p.Name+".adam_v"] = a.v[i]
	}
	return s
}

// Step applies one Adam update.
func (a *Adam) Step() {
	a.t++
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	bc1 := 1 - math.Pow(a.Beta1, float64(a.t))
	bc2 := 1 - math.Pow(a.Beta2, float64(a.t))
	// PyTorch's form: w -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps).
	step := float32(a.LR / bc1)
	invSqrtBC2 := float32(1 / math.Sqrt(bc2))
	eps := float32(a.Eps)
	wd := float32(a.WeightDecay)
	decay := float32(1 - a.LR*a.WeightDecay)
	a.job.c = adamConsts{b1: b1, c1: 1 - b1, b2: b2, c2: 1 - b2, step: step, inv: invSqrtBC2, eps: eps, wd: wd, decay: decay}
	pool := parallel.Default()
	total := 0
	for _, p := range a.params {
		total += p.Value.Len()
	}
	pool.ForParts(len(a.chunks), pool.PartsFor(total, 4*adamChunkLen), &a.job)
}

// update applies the update to elements [lo, hi) of parameter i.
func (a *Adam) update(i, lo, hi int, c *adamConsts) {
	p := a.params[i]
	w, g, m, v := p.Value.Data[lo:hi], p.Grad.Data[lo:hi], a.m[i].Data[lo:hi], a.v[i].Data[lo:hi]
	if a.Decoupled && c.wd != 0 {
		for j := range w {
			w[j] *= c.decay
		}
	}
	start := 0
	if c.wd == 0 || a.Decoupled {
		start = adamSIMD(w, g, m, v, c) // bit-identical to the loop below
	}
	for j := start; j < len(g); j++ {
		gj := g[j]
		if !a.Decoupled && c.wd != 0 {
			gj += c.wd * w[j]
		}
		mj := c.b1*m[j] + c.c1*gj
		vj := c.b2*v[j] + c.c2*gj*gj
		m[j], v[j] = mj, vj
		w[j] -= c.step * mj / (float32(math.Sqrt(float64(vj)))*c.inv + c.eps)
	}
}

// SGD is stochastic gradient descent with optional momentum, Nesterov
// momentum and weight decay, as in torch.optim.SGD.
type SGD struct {
	LR, Momentum, WeightDecay float64
	Nesterov                  bool

	params []*autograd.Param
	buf    []*tensor.Tensor
	t      int
}

// NewSGD returns SGD over ps.
func NewSGD(ps []*autograd.Param, lr, momentum float64) *SGD {
	s := &SGD{LR: lr, Momentum: momentum, params: ps}
	for _, p := range ps {
		s.buf = append(s.buf, tensor.New(p.Value.Shape()...))
	}
	return s
}

// Params returns the parameters SGD updates.
func (s *SGD) Params() []*autograd.Param { return s.params }

// Steps is the number of updates taken.
func (s *SGD) Steps() int { return s.t }

// SetSteps restores the update count.
func (s *SGD) SetSteps(n int) { s.t = n }

// State returns the momentum buffers by parameter name.
func (s *SGD) State() map[string]*tensor.Tensor {
	st := make(map[string]*tensor.Tensor, len(s.params))
	for i, p := range s.params {
		st[p.Name+".sgd_momentum"] = s.buf[i]
	}
	return st
}

// Step applies one SGD update.
func (s *SGD) Step() {
	first := s.t == 0
	s.t++
	lr, mu, wd := float32(s.LR), float32(s.Momentum), float32(s.WeightDecay)
	for i, p := range s.params {
		w, g, b := p.Value.Data, p.Grad.Data, s.buf[i].Data
		for j, gj := range g {
			if wd != 0 {
				gj += wd * w[j]
			}
			if mu != 0 {
				if first {
					b[j] = gj
				} else {
					b[j] = mu*b[j] + gj
				}
				if s.Nesterov {
					gj += mu * b[j]
				} else {
					gj = b[j]
				}
			}
			w[j] -= lr * gj
		}
	}
}

// EMA keeps an exponential moving average of parameters (as BigGAN does for
// G's weights): shadow = decay*shadow + (1-decay)*value after each Update.
type EMA struct {
	Decay  float64
	params []*autograd.Param
	shadow []*tensor.Tensor
}

// NewEMA starts an average of ps at their current values.
func NewEMA(ps []*autograd.Param, decay float64) (*EMA, error) {
	if decay < 0 || decay >= 1 {
		return nil, fmt.Errorf("optim: EMA decay %g must be in [0, 1)", decay)
	}
	e := &EMA{Decay: decay, params: ps}
	for _, p := range ps {
		e.shadow = append(e.shadow, p.Value.Clone())
	}
	return e, nil
}

// Update folds the parameters' current values into the average.
func (e *EMA) Update() {
	d := float32(e.Decay)
	for i, p := range e.params {
		s := e.shadow[i].Data
		for j, v := range p.Value.Data {
			s[j] = d*s[j] + (1-d)*v
		}
	}
}

// Shadow returns the averaged tensors by parameter name (for checkpoints
// and for sampling with the averaged weights).
func (e *EMA) Shadow() map[string]*tensor.Tensor {
	s := make(map[string]*tensor.Tensor, len(e.params))
	for i, p := range e.params {
		s[p.Name] = e.shadow[i]
	}
	return s
}

// Swap exchanges the live weights and the averages: call it to evaluate or
// sample with the averaged weights, and again to swap back.
func (e *EMA) Swap() {
	for i, p := range e.params {
		a, b := p.Value.Data, e.shadow[i].Data
		for j := range a {
			a[j], b[j] = b[j], a[j]
		}
	}
}
