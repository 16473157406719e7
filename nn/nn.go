package nn

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// Module is anything with trainable parameters.
type Module interface {
	// Params returns the module's parameters in a fixed order.
	Params() []*autograd.Param
}

// Linear is a fully connected layer y = x Wᵀ + b with W of shape (out, in),
// PyTorch's layout.
type Linear struct {
	In, Out int
	W, B    *autograd.Param // B is nil without bias
}

// NewLinear makes a Linear layer initialised as PyTorch's nn.Linear:
// W and b uniform in ±1/sqrt(in).
func NewLinear(name string, in, out int, bias bool, rng *tensor.RNG) *Linear {
	l := &Linear{In: in, Out: out}
	l.W = autograd.NewParam(name+".weight", tensor.New(out, in))
	bound := float32(1 / math.Sqrt(float64(in)))
	rng.Uniform(l.W.Value.Data, -bound, bound)
	if bias {
		l.B = autograd.NewParam(name+".bias", tensor.New(out))
		rng.Uniform(l.B.Value.Data, -bound, bound)
	}
	return l
}

// Forward applies the layer to x of shape (batch, in).
func (l *Linear) Forward(t *autograd.Tape, x *autograd.Node) *autograd.Node {
	var b *autograd.Node
	if l.B != nil {
		b = t.Param(l.B)
	}
	return t.Linear(x, t.Param(l.W), b)
}

// Params returns W and, if present, b.
func (l *Linear) Params() []*autograd.Param {
	if l.B == nil {
		return []*autograd.Param{l.W}
	}
	return []*autograd.Param{l.W, l.B}
}

// Activation is an elementwise nonlinearity chosen by name.
type Activation struct {
	Kind  string  // "relu", "leakyrelu", "tanh", "sigmoid", "softplus" or "" / "none"
	Slope float32 // LeakyReLU's negative slope
}

// ParseActivation reads "relu", "leakyrelu", "leakyrelu:0.1" (slope),
// "tanh", "sigmoid", "softplus" or "none".
func ParseActivation(s string) (Activation, error) {
	name, arg, hasArg := strings.Cut(strings.ToLower(strings.TrimSpace(s)), ":")
	a := Activation{Kind: name}
	switch name {
	case "relu", "tanh", "sigmoid", "softplus", "none", "":
		if hasArg {
			return a, fmt.Errorf("activation %q takes no argument", s)
		}
	case "leakyrelu", "lrelu":
		a.Kind, a.Slope = "leakyrelu", 0.2
		if hasArg {
			v, err := strconv.ParseFloat(arg, 32)
			if err != nil || v < 0 || v >= 1 {
				return a, fmt.Errorf("activation %q: slope %q must be a number in [0, 1)", s, arg)
			}
			a.Slope = float32(v)
		}
	default:
		return a, fmt.Errorf("unknown activation %q: want relu, leakyrelu[:slope], tanh, sigmoid, softplus or none", s)
	}
	return a, nil
}

// String returns the name ParseActivation accepts back.
func (a Activation) String() string {
	if a.Kind == "leakyrelu" {
		return "leakyrelu:" + strconv.FormatFloat(float64(a.Slope), 'g', -1, 32)
	}
	if a.Kind == "" {
		return "none"
	}
	return a.Kind
}

// Apply records the activation of x on t.
func (a Activation) Apply(t *autograd.Tape, x *autograd.Node) *autograd.Node {
	switch a.Kind {
	case "relu":
		return t.ReLU(x)
	case "leakyrelu":
		return t.LeakyReLU(x, a.Slope)
	case "tanh":
		return t.Tanh(x)
	case "sigmoid":
		return t.Sigmoid(x)
	case "softplus":
		return t.Softplus(x)
	default:
		return x
	}
}

// MLP is a stack of Linear layers with an activation between them (none
// after the last, unless Out is set), optionally with batch normalisation
// before each hidden activation.
type MLP struct {
	Layers []*Linear
	Hidden Activation // between layers
	Out    Activation // after the last layer (none for a logit)
	// Norms, when set (see WithBatchNorm), normalise each hidden layer.
	Norms []*BatchNorm
	// Training selects batch statistics (true) or running averages (false)
	// in the Norms.
	Training bool
}

// WithBatchNorm adds batch normalisation after every hidden Linear layer
// (before its activation) and returns m; the layers are named
// name.bn1, name.bn2, ...
func (m *MLP) WithBatchNorm(name string) *MLP {
	m.Norms = nil
	for i := 0; i+1 < len(m.Layers); i++ {
		m.Norms = append(m.Norms, NewBatchNorm(fmt.Sprintf("%s.bn%d", name, i+1), m.Layers[i].Out))
	}
	m.Training = true
	return m
}

// Buffers returns the running statistics of the batch norms by name.
func (m *MLP) Buffers() map[string]*tensor.Tensor {
	out := map[string]*tensor.Tensor{}
	for _, n := range m.Norms {
		for k, v := range n.Buffers() {
			out[k] = v
		}
	}
	return out
}

// SetTraining switches the batch norms between training and evaluation mode.
func (m *MLP) SetTraining(on bool) { m.Training = on }

// NewMLP builds an MLP with layer sizes sizes[0] -> sizes[1] -> ... ; the
// layers are named name.fc1, name.fc2, ...
func NewMLP(name string, sizes []int, hidden, out Activation, rng *tensor.RNG) (*MLP, error) {
	if len(sizes) < 2 {
		return nil, fmt.Errorf("nn: MLP %s needs at least an input and an output size, got %v", name, sizes)
	}
	for i, s := range sizes {
		if s < 1 {
			return nil, fmt.Errorf("nn: MLP %s: layer size %d is %d, want >= 1", name, i, s)
		}
	}
	m := &MLP{Hidden: hidden, Out: out}
	for i := 0; i+1 < len(sizes); i++ {
		m.Layers = append(m.Layers, NewLinear(fmt.Sprintf("%s.fc%d", name, i+1), sizes[i], sizes[i+1], true, rng))
	}
	return m, nil
}

// Forward applies the MLP to x of shape (batch, sizes[0]).
func (m *MLP) Forward(t *autograd.Tape, x *autograd.Node) *autograd.Node {
	for i, l := range m.Layers {
		x = l.Forward(t, x)
		if i+1 < len(m.Layers) {
			if m.Norms != nil {
				x = m.Norms[i].Forward(t, x, m.Training)
			}
			x = m.Hidden.Apply(t, x)
		}
	}
	return m.Out.Apply(t, x)
}

// Params returns every layer's parameters in order.
func (m *MLP) Params() []*autograd.Param {
	var ps []*autograd.Param
	for i, l := range m.Layers {
		ps = append(ps, l.Params()...)
		if m.Norms != nil && i < len(m.Norms) {
			ps = append(ps, m.Norms[i].Params()...)
		}
	}
	return ps
}

// InitNormal sets every element of p to N(mean, std²), e.g. DCGAN's
// N(0, 0.02) initialisation.
func InitNormal(p *autograd.Param, mean, std float32, rng *tensor.RNG) {
	rng.Normal(p.Value.Data, mean, std)
}

// InitZero sets p to zero.
func InitZero(p *autograd.Param) { clear(p.Value.Data) }

// NumParams counts the scalar parameters of a module.
func NumParams(m Module) int {
	n := 0
	for _, p := range m.Params() {
		n += p.Value.Len()
	}
	return n
}
