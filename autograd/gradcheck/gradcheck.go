// Package gradcheck verifies autograd's backward rules against central
// finite differences, to first and second order.
//
// A check builds y = f(x1, ..., xk) on a fresh tape and reduces it to the
// scalar L = Σ w⊙y with a fixed random w (so every output element carries a
// different upstream gradient). The analytic gradient of L from Tape.Grad is
// compared, element by element, with (L(x+h) - L(x-h)) / 2h, where L is
// summed in float64 from the float32 outputs. The second-order check does
// the same for H = Σ u⊙∂L/∂x (a random projection of the gradient, built
// with CreateGraph): its analytic gradient exercises every backward rule's
// own backward rule.
package gradcheck

import (
	"fmt"
	"math"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// Func builds the function under test on a tape from its inputs.
type Func func(t *autograd.Tape, in []*autograd.Node) *autograd.Node

// Options tunes a check. Zero values take the defaults.
type Options struct {
	Eps  float64 // finite-difference step (default 1e-2)
	ATol float64 // absolute tolerance (default 2e-3)
	RTol float64 // relative tolerance (default 2e-2)
	// MaxElems bounds how many elements of each input are perturbed
	// (default 64; chosen evenly spread when an input is larger).
	MaxElems int
	// Seed of the random projections w and u.
	Seed uint64
	// Kinks declares f piecewise smooth (ReLU networks, pooling by
	// maximum): a difference quotient across a kink measures the jump,
	// not the derivative. Each element is then also differenced at Eps/4;
	// where the two quotients disagree beyond the tolerance the element
	// straddles a kink and is skipped. The check fails if more than a
	// quarter of the elements of an input are skipped.
	Kinks bool
}

func (o *Options) defaults() {
	if o.Eps == 0 {
		o.Eps = 1e-2
	}
	if o.ATol == 0 {
		o.ATol = 2e-3
	}
	if o.RTol == 0 {
		o.RTol = 2e-2
	}
	if o.MaxElems == 0 {
		o.MaxElems = 64
	}
}

// Mismatch describes the worst disagreement found.
type Mismatch struct {
	Order, Input, Elem  int
	Analytic, Numerical float64
}

// Error describes the mismatch.
func (m *Mismatch) Error() string {
	return fmt.Sprintf("order-%d gradient of input %d element %d: analytic %.6g, numerical %.6g",
		m.Order, m.Input, m.Elem, m.Analytic, m.Numerical)
}

type harness struct {
	f      Func
	inputs []*tensor.Tensor
	w      *tensor.Tensor
	u      []*tensor.Tensor
	opt    Options

	lastLeaves []*autograd.Node
}

func newHarness(f Func, inputs []*tensor.Tensor, opt Options) (*harness, error) {
	opt.defaults()
	h := &harness{f: f, inputs: inputs, opt: opt}
	rng := tensor.NewRNG(opt.Seed + 1)
	// Probe the output shape.
	tp := autograd.NewTape()
	y := h.build(tp)
	if err := tp.Err(); err != nil {
		return nil, err
	}
	h.w = tensor.New(y.Shape()...)
	rng.Normal(h.w.Data, 0, 1)
	for _, x := range inputs {
		u := tensor.New(x.Shape()...)
		rng.Normal(u.Data, 0, 1)
		h.u = append(h.u, u)
	}
	return h, nil
}

func (h *harness) build(tp *autograd.Tape) *autograd.Node {
	nodes := make([]*autograd.Node, len(h.inputs))
	for i, x := range h.inputs {
		nodes[i] = tp.Leaf(x)
	}
	h.lastLeaves = nodes
	return h.f(tp, nodes)
}

// loss returns L = Σ w⊙y in float64.
func (h *harness) loss() (float64, error) {
	tp := autograd.NewTape()
	y := h.build(tp)
	if err := tp.Err(); err != nil {
		return 0, err
	}
	return tensor.Dot(h.w.Data, y.Data()), nil
}

// grads returns ∂L/∂x_i on tape tp, recorded when create is set.
func (h *harness) grads(tp *autograd.Tape, create bool) ([]*autograd.Node, []*autograd.Node, error) {
	y := h.build(tp)
	leaves := h.lastLeaves
	l := tp.Sum(tp.Mul(y, tp.Leaf(h.w)), false)
	gs, err := tp.Grad(l, leaves, create)
	if err != nil {
		return nil, nil, err
	}
	return append([]*autograd.Node(nil), gs...), leaves, nil
}

// second returns H = Σ_i u_i⊙∂L/∂x_i in float64.
func (h *harness) second() (float64, error) {
	tp := autograd.NewTape()
	gs, _, err := h.grads(tp, false)
	if err != nil {
		return 0, err
	}
	var s float64
	for i, g := range gs {
		if g != nil {
			s += tensor.Dot(h.u[i].Data, g.Data())
		}
	}
	return s, nil
}

func (h *harness) compare(order int, analytic []*autograd.Node, value func() (float64, error)) error {
	var worst *Mismatch
	worstExcess, largest := 0.0, 0.0
	for i, x := range h.inputs {
		n := len(x.Data)
		step := 1
		if n > h.opt.MaxElems {
			step = (n + h.opt.MaxElems - 1) / h.opt.MaxElems
		}
		checked, skipped := 0, 0
		for j := 0; j < n; j += step {
			num, err := h.quotient(x, j, h.opt.Eps, value)
			if err != nil {
				return err
			}
			tol := h.opt.ATol + h.opt.RTol*math.Abs(num)
			if h.opt.Kinks {
				fine, err := h.quotient(x, j, h.opt.Eps/4, value)
				if err != nil {
					return err
				}
				if math.Abs(fine-num) > tol {
					skipped++
					continue
				}
			}
			checked++
			var an float64
			if analytic[i] != nil {
				an = float64(analytic[i].Data()[j])
			}
			largest = max(largest, math.Abs(an), math.Abs(num))
			if excess := math.Abs(an-num) - tol; excess > worstExcess || math.IsNaN(an) || math.IsNaN(num) {
				worstExcess = excess
				worst = &Mismatch{Order: order, Input: i, Elem: j, Analytic: an, Numerical: num}
			}
		}
		if skipped > (checked+skipped)/4 {
			return fmt.Errorf("gradcheck: order %d, input %d: %d of %d elements straddle a kink; use a smaller Eps", order, i, skipped, checked+skipped)
		}
	}
	if worst != nil {
		return worst
	}
	if order == 1 && !(largest > h.opt.ATol) {
		// Every gradient is within the tolerance of zero (a saturated
		// loss, say): any rule would pass. (A second-order gradient may
		// be zero everywhere, as a linear op's is, and a rule that
		// gave anything else would be caught.)
		return fmt.Errorf("gradcheck: every first-order gradient checked is within ATol %g of zero (largest %g): the check would pass any rule; scale the inputs", h.opt.ATol, largest)
	}
	return nil
}

// quotient is the central difference quotient of value at element j of x
// with step eps (x is restored).
func (h *harness) quotient(x *tensor.Tensor, j int, eps float64, value func() (float64, error)) (float64, error) {
	orig := x.Data[j]
	defer func() { x.Data[j] = orig }()
	x.Data[j] = orig + float32(eps)
	hi := float64(x.Data[j])
	lp, err := value()
	if err != nil {
		return 0, err
	}
	x.Data[j] = orig - float32(eps)
	lo := float64(x.Data[j])
	lm, err := value()
	if err != nil {
		return 0, err
	}
	return (lp - lm) / (hi - lo), nil
}

// Check compares first-order gradients of f at inputs with finite
// differences. The inputs are perturbed in place and restored. It is an
// error, not a pass, when every gradient checked is within ATol of zero:
// such a check would pass any rule.
func Check(f Func, inputs []*tensor.Tensor, opt Options) error {
	h, err := newHarness(f, inputs, opt)
	if err != nil {
		return err
	}
	tp := autograd.NewTape()
	gs, _, err := h.grads(tp, false)
	if err != nil {
		return err
	}
	return h.compare(1, gs, h.loss)
}

// CheckSecond compares second-order gradients: the gradient of
// H = Σ u⊙∂L/∂x, computed through a recorded (CreateGraph) backward pass,
// against finite differences of H.
func CheckSecond(f Func, inputs []*tensor.Tensor, opt Options) error {
	h, err := newHarness(f, inputs, opt)
	if err != nil {
		return err
	}
	tp := autograd.NewTape()
	gs, leaves, err := h.grads(tp, true)
	if err != nil {
		return err
	}
	var hsum *autograd.Node
	for i, g := range gs {
		if g == nil {
			continue
		}
		term := tp.Sum(tp.Mul(g, tp.Leaf(h.u[i])), false)
		if hsum == nil {
			hsum = term
		} else {
			hsum = tp.Add(hsum, term)
		}
	}
	if hsum == nil {
		return fmt.Errorf("gradcheck: the function does not depend on its inputs")
	}
	hg, err := tp.Grad(hsum, leaves, false)
	if err != nil {
		return err
	}
	return h.compare(2, hg, h.second)
}
