package nn

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// Linear is a fully connected layer y = x Wᵀ + b with W of shape (out, in),
// PyTorch's layout. Its state: "weight", and "bias" unless made without.
type Linear struct {
	Base
	In, Out int
	W, B    *autograd.Param // B is nil without bias
}

// NewLinear makes a Linear layer initialised as PyTorch's nn.Linear:
// W and then b uniform in ±1/sqrt(in), drawn from rng.
func NewLinear(in, out int, bias bool, rng *tensor.RNG) *Linear {
	l := &Linear{In: in, Out: out}
	l.W = l.NewParam("weight", out, in)
	bound := float32(1 / math.Sqrt(float64(in)))
	rng.Uniform(l.W.Value.Data, -bound, bound)
	if bias {
		l.B = l.NewParam("bias", out)
		rng.Uniform(l.B.Value.Data, -bound, bound)
	}
	return l
}

// Forward applies the layer to x of shape (batch, in).
func (l *Linear) Forward(c *Ctx, x *autograd.Node) *autograd.Node {
	b := c.optParam(l.B)
	return c.Tape.Linear(x, l.Weight(c, l.W), b)
}

// ForwardReLU is ReLU(Forward(x)) as one op (autograd's LinearReLU): the
// product's threads apply the ReLU as they finish its tiles, and the
// gradient reaching it through the next Linear comes masked from that
// product. The values and gradients are those of Forward then ReLU.
func (l *Linear) ForwardReLU(c *Ctx, x *autograd.Node) *autograd.Node {
	b := c.optParam(l.B)
	return c.Tape.LinearReLU(x, l.Weight(c, l.W), b)
}

// Activation is an elementwise nonlinearity chosen by name. It has no
// state, so it is a value applied by the modules that use it rather than a
// module.
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
// before each hidden activation. Its children are fc1, fc2, ... and, with
// batch norm, bn1, bn2, ... (bn_i after fc_i).
type MLP struct {
	Base
	Layers []*Linear
	Norms  []*BatchNorm // nil without batch norm
	Hidden Activation   // between layers
	Out    Activation   // after the last layer (none for a logit)
}

// MaxMLPWeights bounds the weights of an MLP (2^28 values, 1 GiB), so
// that sizes read from a file cannot ask for more memory than a machine
// has.
const MaxMLPWeights = 1 << 28

// NewMLP builds an MLP with layer sizes sizes[0] -> sizes[1] -> ..., with
// batch normalisation after every hidden layer when batchNorm is set.
func NewMLP(sizes []int, hidden, out Activation, batchNorm bool, rng *tensor.RNG) (*MLP, error) {
	if len(sizes) < 2 {
		return nil, fmt.Errorf("an MLP needs at least an input and an output size, got %v", sizes)
	}
	var weights int64
	for i, s := range sizes {
		if s < 1 {
			return nil, fmt.Errorf("MLP layer size %d is %d, want >= 1", i, s)
		}
		if i > 0 {
			weights += int64(sizes[i-1]) * int64(min(s, MaxMLPWeights))
			if weights > MaxMLPWeights {
				return nil, fmt.Errorf("an MLP of sizes %v has more than %d weights", sizes, MaxMLPWeights)
			}
		}
	}
	m := &MLP{Hidden: hidden, Out: out}
	for i := 0; i+1 < len(sizes); i++ {
		m.Layers = append(m.Layers, NewLinear(sizes[i], sizes[i+1], true, rng))
	}
	for i, l := range m.Layers {
		Add(&m.Base, fmt.Sprintf("fc%d", i+1), l)
		if batchNorm && i+1 < len(m.Layers) {
			m.Norms = append(m.Norms, Add(&m.Base, fmt.Sprintf("bn%d", i+1), NewBatchNorm(l.Out)))
		}
	}
	return m, nil
}

// Forward applies the MLP to x of shape (batch, sizes[0]).
func (m *MLP) Forward(c *Ctx, x *autograd.Node) *autograd.Node {
	for i, l := range m.Layers {
		if i+1 < len(m.Layers) && m.Norms == nil && m.Hidden.Kind == "relu" {
			x = l.ForwardReLU(c, x)
			continue
		}
		x = l.Forward(c, x)
		if i+1 < len(m.Layers) {
			if m.Norms != nil {
				x = m.Norms[i].Forward(c, x)
			}
			x = m.Hidden.Apply(c.Tape, x)
		}
	}
	return m.Out.Apply(c.Tape, x)
}

// InitNormal sets every element of p to N(mean, std²), e.g. DCGAN's
// N(0, 0.02) initialisation.
func InitNormal(p *autograd.Param, mean, std float32, rng *tensor.RNG) {
	rng.Normal(p.Value.Data, mean, std)
}

// InitZero sets p to zero.
func InitZero(p *autograd.Param) { clear(p.Value.Data) }
