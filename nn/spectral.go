package nn

import (
	"fmt"
	"math"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// SpectralNorm is the weight transform of Miyato et al. (2018): the layer
// uses W/σ(W), where σ(W), the largest singular value of W seen as a matrix
// (its first axis by all the others, as PyTorch's spectral_norm), is
// estimated by power iteration with persistent vectors u and v. In training
// mode the iteration advances once per training step (nn.Ctx.Step: the
// first pass of a step iterates, the others reuse u and v; outside
// training, Step 0, every pass iterates); in evaluation mode u and v are
// used as they are. σ = uᵀWv is computed on the tape, so gradients flow
// through it as in PyTorch, to any order (R1 on a spectrally normalised D).
//
// Its buffers, saved with the layer, are PARAM_u and PARAM_v.
type SpectralNorm struct {
	// Eps floors the norms in the power iteration (1e-6, as BigGAN-PyTorch
	// and StudioGAN).
	Eps        float32
	U, V       *tensor.Tensor // (rows), (cols)
	rows, cols int
	uCol, vCol *tensor.Tensor // U and V as columns, sharing their data
	last       int
	sigma      float32
}

// NewSpectralNorm makes the transform for a weight of the given shape,
// with u and v drawn at random (unit norm) from rng.
func NewSpectralNorm(shape []int, rng *tensor.RNG) (*SpectralNorm, error) {
	if len(shape) < 2 {
		return nil, fmt.Errorf("spectral norm needs a weight of rank 2 or more, got shape %s", tensor.FormatShape(shape))
	}
	rows := shape[0]
	cols := tensor.NumElems(shape) / rows
	s := &SpectralNorm{Eps: 1e-6, rows: rows, cols: cols, U: tensor.New(rows), V: tensor.New(cols), last: -1}
	rng.Normal(s.U.Data, 0, 1)
	rng.Normal(s.V.Data, 0, 1)
	tensor.Normalize(s.U.Data, s.Eps)
	tensor.Normalize(s.V.Data, s.Eps)
	s.uCol, _ = tensor.FromData(s.U.Data, rows, 1)
	s.vCol, _ = tensor.FromData(s.V.Data, cols, 1)
	return s, nil
}

// AddSpectralNorm attaches spectral normalisation to m's parameter name
// ("weight").
func AddSpectralNorm(m Module, name string, rng *tensor.RNG) (*SpectralNorm, error) {
	for _, p := range m.base().params {
		if p.name == name {
			s, err := NewSpectralNorm(p.p.Value.Shape(), rng)
			if err != nil {
				return nil, err
			}
			return s, Parametrize(m, name, s)
		}
	}
	return nil, fmt.Errorf("the module has no parameter %q (it has %v)", name, paramNames(m.base()))
}

// Apply returns w/σ(w), advancing the power iteration as described.
func (s *SpectralNorm) Apply(c *Ctx, w *autograd.Node) *autograd.Node {
	t := c.Tape
	if c.Training && (c.Step == 0 || c.Step != s.last) {
		tensor.PowerIteration(s.U.Data, s.V.Data, w.Data(), s.rows, s.cols, s.Eps)
		s.last = c.Step
	}
	wm := t.Reshape(w, s.rows, s.cols)
	sigma := t.Sum(t.Mul(t.Leaf(s.uCol), t.MatMul(wm, t.Leaf(s.vCol), false, false)), false)
	s.sigma = sigma.Item()
	return t.Div(w, sigma)
}

// Buffers returns u and v.
func (s *SpectralNorm) Buffers() []Named { return []Named{{"u", s.U}, {"v", s.V}} }

// Sigma is the estimate σ = uᵀWv of the last pass (0 before any).
func (s *SpectralNorm) Sigma() float64 { return float64(s.sigma) }

// Estimate returns an estimate of the spectral norm of w, the raw weight
// (rows×cols as the layer sees it), from one power iteration started at the
// layer's u and v, on copies: the layer's vectors do not move. After the
// iteration u = Wv/‖Wv‖, so the estimate uᵀWv is ‖Wv‖: never negative, and
// meaningful even before the first training pass, when uᵀWv with the
// random initial vectors is not (it can be negative).
func (s *SpectralNorm) Estimate(w []float32) float64 {
	u := append([]float32(nil), s.U.Data...)
	v := append([]float32(nil), s.V.Data...)
	tensor.PowerIteration(u, v, w, s.rows, s.cols, s.Eps)
	wv := make([]float32, s.rows)
	tensor.MatMul(wv, w, v, s.rows, 1, s.cols, false, false, false)
	return math.Sqrt(tensor.SumSquares(wv))
}

// Sigmas returns an estimate of σ for every spectrally normalised weight of
// m (SpectralNorm.Estimate), by the weight's name (rooted as nn.Params
// names it): what metrics.jsonl logs.
func Sigmas(m Module) []NamedValue {
	var out []NamedValue
	Walk(m, func(path string, mm Module) {
		for _, p := range mm.base().params {
			if s, ok := p.t.(*SpectralNorm); ok {
				out = append(out, NamedValue{join(path, p.name), s.Estimate(p.p.Value.Data)})
			}
		}
	})
	return out
}

// NamedValue is a number with the name of what it measures.
type NamedValue struct {
	Name  string
	Value float64
}

// SpectralNormAll attaches spectral normalisation to the weight of every
// Linear, Conv2D and Embedding layer in m, except those in skip (by
// pointer), drawing each u and v from rng in the order of Walk. (A
// ConvTranspose2D's weight has its output channels last, where PyTorch
// normalises over them; it is left out.)
func SpectralNormAll(m Module, rng *tensor.RNG, skip ...Module) error {
	var err error
	Walk(m, func(path string, mm Module) {
		if err != nil {
			return
		}
		for _, s := range skip {
			if s == mm {
				return
			}
		}
		switch mm.(type) {
		case *Linear, *Conv2D, *Embedding:
			if _, e := AddSpectralNorm(mm, "weight", rng); e != nil {
				err = fmt.Errorf("%s: %w", path, e)
			}
		}
	})
	return err
}
