package optim

import (
	"errors"
	"fmt"
	"math"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// ErrDiverged is matched (errors.Is) by Descend's error when the loss or
// the gradient is not finite.
var ErrDiverged = errors.New("diverged")

// Descend takes one step of opt down loss, which must have been recorded
// on tp: it sets the gradients of opt's parameters by back-propagation
// (Tape.SetGradients) and applies the update. It returns the L2 norm of the gradient,
// and an error if the loss or the gradient is not finite (the update is
// then not applied).
//
// Every training loop of minmax is made of it: each player's move in the
// GAN trainer (package gan), the theory lab's discriminator and the
// evaluator's classifier (through Loop).
func Descend(tp *autograd.Tape, loss *autograd.Node, opt Optimizer) (gradNorm float64, err error) {
	return DescendSynced(tp, loss, opt, nil)
}

// Sync combines the gradients of a data-parallel group between the
// backward pass and the update: it replaces the parameters' gradients by
// the group's, and this process's loss by the group's (whose finiteness
// then decides for every process alike).
type Sync func(ps []*autograd.Param, loss float64) (float64, error)

// DescendSynced is Descend with the gradients passed through sync (nil:
// none) before the norm is taken and the update applied.
func DescendSynced(tp *autograd.Tape, loss *autograd.Node, opt Optimizer, sync Sync) (gradNorm float64, err error) {
	ps := opt.Params()
	if err := tp.SetGradients(loss, ps); err != nil {
		return 0, err
	}
	l := float64(loss.Item())
	if sync != nil {
		if l, err = sync(ps, l); err != nil {
			return 0, err
		}
	}
	gradNorm = GradNorm(ps)
	if math.IsNaN(l) || math.IsInf(l, 0) || math.IsNaN(gradNorm) || math.IsInf(gradNorm, 0) {
		return gradNorm, fmt.Errorf("%w: loss %g, gradient norm %g", ErrDiverged, l, gradNorm)
	}
	opt.Step()
	return gradNorm, nil
}

// GradNorm is the L2 norm of the gradients of ps, accumulated in float64
// parameter by parameter, in order.
func GradNorm(ps []*autograd.Param) float64 {
	var s float64
	for _, p := range ps {
		s += tensor.SumSquares(p.Grad.Data)
	}
	return math.Sqrt(s)
}

// Loop minimises a loss by Steps descents of Opt, with the learning rate
// set by Schedule from LR before each one; the same loop serves every
// single-player training in minmax (the theory lab's discriminator, the
// evaluator's classifier).
type Loop struct {
	Opt      *Adam
	LR       float64
	Schedule Schedule
	Steps    int
	// Loss records the loss of step (0-based) on tp, which has been reset.
	Loss func(tp *autograd.Tape, step int) (*autograd.Node, error)
	// After, when set, hears every step's loss; an error stops the loop.
	After func(step int, loss float64) error
}

// Run runs the loop on tp (a fresh tape when nil) and returns the first
// error, naming the step.
func (l *Loop) Run(tp *autograd.Tape) error {
	if l.Opt == nil || l.Loss == nil || l.Steps < 0 {
		return fmt.Errorf("Loop needs an optimiser, a loss and a step count >= 0")
	}
	if tp == nil {
		tp = autograd.NewTape()
	}
	for step := 0; step < l.Steps; step++ {
		l.Opt.LR = l.Schedule.LR(l.LR, step, l.Steps)
		tp.Reset()
		loss, err := l.Loss(tp, step)
		if err != nil {
			return fmt.Errorf("step %d: %w", step+1, err)
		}
		if _, err := Descend(tp, loss, l.Opt); err != nil {
			return fmt.Errorf("step %d: %w", step+1, err)
		}
		if l.After != nil {
			if err := l.After(step, float64(loss.Item())); err != nil {
				return err
			}
		}
	}
	return nil
}
