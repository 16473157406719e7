package optim

import (
	"fmt"

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

// adamJob runs chunks [lo, hi) of one update through the tensor.Adam
// kernel; every element is updated exactly as the serial loop would, so
// the thread count changes nothing.
type adamJob struct {
	a *Adam
	c tensor.AdamConsts
}

func (j *adamJob) Run(_, lo, hi int) {
	for _, ch := range j.a.chunks[lo:hi] {
		p := j.a.params[ch.p]
		tensor.Adam(p.Value.Data[ch.lo:ch.hi], p.Grad.Data[ch.lo:ch.hi], j.a.m[ch.p].Data[ch.lo:ch.hi], j.a.v[ch.p].Data[ch.lo:ch.hi], &j.c)
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
	a.job.c = tensor.NewAdamConsts(a.LR, a.Beta1, a.Beta2, a.Eps, a.WeightDecay, a.Decoupled, a.t)
	pool := parallel.Default()
	total := 0
	for _, p := range a.params {
		total += p.Value.Len()
	}
	pool.ForParts(len(a.chunks), pool.PartsFor(total, 4*adamChunkLen), &a.job)
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
	c := tensor.SGDConsts{LR: float32(s.LR), Momentum: float32(s.Momentum), WD: float32(s.WeightDecay), Nesterov: s.Nesterov, First: s.t == 0}
	s.t++
	for i, p := range s.params {
		tensor.SGD(p.Value.Data, p.Grad.Data, s.buf[i].Data, &c)
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
		return nil, fmt.Errorf("EMA decay %g must be in [0, 1)", decay)
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
		tensor.Lerp(e.shadow[i].Data, p.Value.Data, d)
	}
}

// Copy sets the average to the parameters' current values (an average
// that has not started yet follows them).
func (e *EMA) Copy() {
	for i, p := range e.params {
		tensor.Copy(e.shadow[i].Data, p.Value.Data)
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
		tensor.Swap(p.Value.Data, e.shadow[i].Data)
	}
}
