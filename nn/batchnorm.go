package nn

import (
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// BatchNorm normalises each feature of a (batch, features) input by the
// batch's mean and variance in training mode, and by running averages of
// them in evaluation mode, then scales by γ and shifts by β (Ioffe &
// Szegedy 2015; PyTorch's BatchNorm1d with momentum 0.1, eps 1e-5). Training
// mode is autograd's fused BatchNorm op, which differentiates to any order.
type BatchNorm struct {
	Features    int
	Eps         float32
	Momentum    float32
	Gamma, Beta *autograd.Param
	// RunningMean and RunningVar are buffers (not trained), saved in
	// checkpoints.
	RunningMean, RunningVar *tensor.Tensor
	name                    string
}

// NewBatchNorm makes a BatchNorm over the given number of features with
// γ = 1, β = 0.
func NewBatchNorm(name string, features int) *BatchNorm {
	b := &BatchNorm{Features: features, Eps: 1e-5, Momentum: 0.1, name: name,
		Gamma:       autograd.NewParam(name+".weight", tensor.New(features)),
		Beta:        autograd.NewParam(name+".bias", tensor.New(features)),
		RunningMean: tensor.New(features), RunningVar: tensor.New(features)}
	b.Gamma.Value.Fill(1)
	b.RunningVar.Fill(1)
	return b
}

// Forward normalises x (batch, features). In training mode it uses the
// batch statistics and updates the running averages.
func (b *BatchNorm) Forward(t *autograd.Tape, x *autograd.Node, training bool) *autograd.Node {
	gamma, beta := t.Param(b.Gamma), t.Param(b.Beta)
	if !training {
		// y = (x - μ)/σ·γ + β as x·s + (β - μ·s) with s = γ/σ: the
		// per-feature work is done on vectors and only two passes go over
		// the batch (four, written out), still differentiable in x, γ, β.
		scale := t.Div(gamma, t.Sqrt(t.AddScalar(t.Leaf(b.RunningVar), b.Eps)))
		shift := t.Sub(beta, t.Mul(t.Leaf(b.RunningMean), scale))
		return t.Add(t.Mul(x, scale), shift)
	}
	y := t.BatchNorm(x, gamma, beta, b.Eps)
	if mean, v := autograd.BatchNormStats(y); mean != nil {
		n := float32(x.Shape()[0])
		m := b.Momentum
		unbias := float32(1)
		if n > 1 {
			unbias = n / (n - 1)
		}
		for j, mv := range mean {
			b.RunningMean.Data[j] = (1-m)*b.RunningMean.Data[j] + m*mv
			b.RunningVar.Data[j] = (1-m)*b.RunningVar.Data[j] + m*v[j]*unbias
		}
	}
	return y
}

// Params returns γ and β.
func (b *BatchNorm) Params() []*autograd.Param { return []*autograd.Param{b.Gamma, b.Beta} }

// Buffers returns the running statistics by name.
func (b *BatchNorm) Buffers() map[string]*tensor.Tensor {
	return map[string]*tensor.Tensor{b.name + ".running_mean": b.RunningMean, b.name + ".running_var": b.RunningVar}
}
