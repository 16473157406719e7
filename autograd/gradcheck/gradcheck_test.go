package gradcheck

import (
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// Across a ReLU's kink the difference quotient measures the jump: plain
// checks fail there, checks with Kinks skip the element, and a wrong
// gradient is still caught.
func TestKinks(t *testing.T) {
	x := tensor.New(16)
	for i := range x.Data {
		x.Data[i] = float32(i) - 7.5
	}
	x.Data[3] = 0.004 // within Eps of the kink
	relu := func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node { return tp.ReLU(in[0]) }
	opt := Options{Eps: 1e-2}
	if err := Check(relu, []*tensor.Tensor{x}, opt); err == nil {
		t.Error("a kink inside the step went unnoticed without Kinks")
	}
	opt.Kinks = true
	if err := Check(relu, []*tensor.Tensor{x}, opt); err != nil {
		t.Errorf("with Kinks: %v", err)
	}
	// A function whose gradient is wrong (a scale hidden from backward)
	// fails even with Kinks.
	wrong := func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
		y := tp.ReLU(in[0])
		return tp.Add(y, tp.Leaf(tp.Scale(y, 0.5).Value()))
	}
	if err := Check(wrong, []*tensor.Tensor{x}, opt); err == nil || strings.Contains(err.Error(), "kink") {
		t.Errorf("a wrong gradient with Kinks: %v", err)
	}
	// Too many kinks is an error of the check, not a pass.
	for i := range x.Data {
		x.Data[i] = 0.001 * float32(i%3)
	}
	if err := Check(relu, []*tensor.Tensor{x}, opt); err == nil || !strings.Contains(err.Error(), "kink") {
		t.Errorf("all elements at kinks: %v", err)
	}
}

// A loss saturated so far that every gradient is within the tolerance of
// zero checks nothing (softplus(-30 - x): gradients under 1e-13, where
// any rule would pass): Check says so rather than passing.
func TestSaturatedLossIsAnError(t *testing.T) {
	x := tensor.New(5)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	saturated := func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
		return tp.Softplus(tp.AddScalar(tp.Neg(in[0]), -30))
	}
	err := Check(saturated, []*tensor.Tensor{x}, Options{})
	if err == nil || !strings.Contains(err.Error(), "within ATol") {
		t.Fatalf("a saturated loss: %v, want the error that nothing was checked", err)
	}
}
