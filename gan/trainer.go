package gan

import (
	"fmt"
	"math"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
)

// Sampler draws batches of real data: n samples, each of Dim() numbers,
// into out (row-major, n×Dim).
type Sampler interface {
	Dim() int
	Sample(rng *tensor.RNG, n int, out []float32)
}

// Model is a network the trainer can play with: G maps latent codes to
// samples, D maps samples to one logit each.
type Model interface {
	Forward(t *autograd.Tape, x *autograd.Node) *autograd.Node
	Params() []*autograd.Param
}

// Trainable models switch between training and evaluation behaviour
// (batch norm statistics).
type Trainable interface {
	SetTraining(on bool)
}

// Buffered models have non-trained state that checkpoints must save.
type Buffered interface {
	Buffers() map[string]*tensor.Tensor
}

// Options are the knobs of the game itself.
type Options struct {
	Loss    Loss
	Batch   int
	Latent  int
	DSteps  int     // discriminator steps per generator step
	R1Gamma float64 // R1 penalty weight (0: off)
	// R1Every applies R1 only every this many steps, weighted by R1Every
	// so that its average pull is unchanged (the "lazy regularisation" of
	// Karras et al. 2020); 0 or 1 means every step.
	R1Every  int
	GPLambda float64 // gradient penalty weight (0: off; required by wasserstein)
}

// Trainer plays the game between G and D, alternately, as the seed
// describes: (1) D descends its loss with G fixed, then (2) G descends its
// loss through the updated D, whose parameters are not touched.
type Trainer struct {
	Opt        Options
	G, D       Model
	OptG, OptD optim.Optimizer
	Data       Sampler

	RNG     *tensor.RNG
	tp      *autograd.Tape
	evalTp  *autograd.Tape // Generate's and Discriminate's, reused between calls
	z, real *tensor.Tensor
	eps     *tensor.Tensor
	step    int
}

// Stats are the figures of one step.
type Stats struct {
	Step    int     `json:"step"`
	LossD   float64 `json:"loss_d"`            // D's loss (penalties excluded)
	LossG   float64 `json:"loss_g"`            // G's loss
	Penalty float64 `json:"penalty,omitempty"` // R1 or gradient penalty
	DReal   float64 `json:"d_real"`            // mean D(x) on the real batch
	DFake   float64 `json:"d_fake"`            // mean D(G(z)) on the generated batch
	GradD   float64 `json:"grad_norm_d"`       // L2 norm of D's gradient
	GradG   float64 `json:"grad_norm_g"`       // L2 norm of G's gradient
}

// NewTrainer wires a game. rng drives every random draw of training.
func NewTrainer(o Options, g, d Model, optG, optD optim.Optimizer, data Sampler, rng *tensor.RNG) (*Trainer, error) {
	switch {
	case o.Loss.D == nil:
		return nil, fmt.Errorf("no loss given")
	case o.Batch < 1:
		return nil, fmt.Errorf("batch size must be at least 1, got %d", o.Batch)
	case o.Latent < 1:
		return nil, fmt.Errorf("latent size must be at least 1, got %d", o.Latent)
	case o.DSteps < 1:
		return nil, fmt.Errorf("discriminator steps per generator step must be at least 1, got %d", o.DSteps)
	case o.R1Gamma < 0 || o.GPLambda < 0:
		return nil, fmt.Errorf("penalty weights must be >= 0, got R1 %g and GP %g", o.R1Gamma, o.GPLambda)
	case o.Loss.NeedsLipschitz && o.GPLambda == 0:
		return nil, fmt.Errorf("the %s loss needs a Lipschitz discriminator: set a gradient penalty (e.g. gp_lambda 0.1 to 10)", o.Loss.Name)
	}
	return &Trainer{
		Opt: o, G: g, D: d, OptG: optG, OptD: optD, Data: data, RNG: rng,
		tp:   autograd.NewTape(),
		z:    tensor.New(o.Batch, o.Latent),
		real: tensor.New(o.Batch, data.Dim()),
		eps:  tensor.New(o.Batch, 1),
	}, nil
}

// StepsDone is the number of completed generator steps.
func (t *Trainer) StepsDone() int { return t.step }

// SetStepsDone restores the step counter from a checkpoint.
func (t *Trainer) SetStepsDone(n int) { t.step = n }

func setTraining(m Model, on bool) {
	if tm, ok := m.(Trainable); ok {
		tm.SetTraining(on)
	}
}

// Step plays one round: Opt.DSteps updates of D, then one update of G.
//
// As in PyTorch's DCGAN example, the generated batch of the last D update
// is the one G then learns from: G's forward pass is recorded once and
// used by both moves (D's update only asks for D's gradients, so nothing
// flows into G there), and G's move runs D afresh, with its updated
// weights, on that batch.
func (t *Trainer) Step() (Stats, error) {
	tp := t.tp
	st := Stats{Step: t.step + 1}
	setTraining(t.G, true)
	tp.Reset()
	var fake *autograd.Node
	var mark autograd.Mark
	// (1) Update D network: minimise the loss of D (eq. 1 for the seed's
	// minimax game) with G fixed.
	for k := 0; k < t.Opt.DSteps; k++ {
		last := k == t.Opt.DSteps-1
		if !last {
			tp.Reset()
		}
		t.Data.Sample(t.RNG, t.Opt.Batch, t.real.Data)
		t.RNG.Normal(t.z.Data, 0, 1)
		prev := tp.SetRecording(last) // G's graph is kept only for the batch G learns from
		fake = t.G.Forward(tp, tp.Leaf(t.z))
		tp.SetRecording(prev)
		mark = tp.Mark()
		xReal := tp.Leaf(t.real)
		dReal := t.D.Forward(tp, xReal)
		dFake := t.D.Forward(tp, fake)
		lossD := t.Opt.Loss.D(tp, dReal, dFake)
		total := lossD
		if every := max(t.Opt.R1Every, 1); t.Opt.R1Gamma > 0 && t.step%every == 0 {
			pen, err := R1(tp, dReal, xReal, float32(t.Opt.R1Gamma*float64(every)))
			if err != nil {
				return st, err
			}
			total = tp.Add(total, pen)
			st.Penalty = float64(pen.Item())
		}
		if t.Opt.GPLambda > 0 {
			// x̂ = ε x + (1-ε) G(z), ε ~ U[0,1] per sample.
			t.RNG.Uniform(t.eps.Data, 0, 1)
			e := tp.Leaf(t.eps)
			xHat := tp.Add(tp.Mul(e, xReal), tp.Mul(tp.Affine(e, -1, 1), tp.Leaf(fake.Value())))
			xHat = tp.Leaf(xHat.Value()) // a fresh leaf: the penalty's gradient is taken at x̂
			pen, err := GradientPenalty(tp, t.D.Forward(tp, xHat), xHat, float32(t.Opt.GPLambda))
			if err != nil {
				return st, err
			}
			total = tp.Add(total, pen)
			st.Penalty = float64(pen.Item())
		}
		autograd.ZeroGrads(t.OptD.Params())
		if err := tp.Backward(total, t.OptD.Params()); err != nil {
			return st, err
		}
		st.GradD = gradNorm(t.OptD.Params())
		t.OptD.Step()
		st.LossD = float64(lossD.Item())
		st.DReal, st.DFake = mean(dReal.Data()), mean(dFake.Data())
	}
	// D's activations are dead now: G's move reuses their memory.
	if err := tp.Rewind(mark); err != nil {
		return st, err
	}
	// (2) Update G network: minimise G's loss (eq. 2, V_G = -V_D, for the
	// minimax game) through the updated D; D's parameters stay untouched.
	dFake := t.D.Forward(tp, fake)
	lossG := t.Opt.Loss.G(tp, dFake)
	autograd.ZeroGrads(t.OptG.Params())
	if err := tp.Backward(lossG, t.OptG.Params()); err != nil {
		return st, err
	}
	st.GradG = gradNorm(t.OptG.Params())
	t.OptG.Step()
	st.LossG = float64(lossG.Item())
	t.step++
	if bad(st.LossD) || bad(st.LossG) || bad(st.GradD) || bad(st.GradG) {
		return st, fmt.Errorf("step %d: training diverged (D loss %g, G loss %g, |∇D| %g, |∇G| %g)",
			st.Step, st.LossD, st.LossG, st.GradD, st.GradG)
	}
	return st, nil
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

// Generate maps the latent codes z (n×Latent) through G in evaluation mode
// and writes the samples into out (n×Dim).
func (t *Trainer) Generate(z *tensor.Tensor, out []float32) error {
	setTraining(t.G, false)
	defer setTraining(t.G, true)
	tp := t.evalTape()
	defer tp.Reset()
	y := t.G.Forward(tp, tp.Leaf(z))
	if err := tp.Err(); err != nil {
		return err
	}
	copy(out, y.Data())
	return nil
}

// Discriminate evaluates D on x (n×Dim) and writes its logits into out.
func (t *Trainer) Discriminate(x *tensor.Tensor, out []float32) error {
	tp := t.evalTape()
	defer tp.Reset()
	y := t.D.Forward(tp, tp.Leaf(x))
	if err := tp.Err(); err != nil {
		return err
	}
	copy(out, y.Data())
	return nil
}

// evalTape returns the trainer's tape for evaluation, reset and not
// recording. Reusing it keeps the memory of one forward pass instead of
// allocating a new arena at every call.
func (t *Trainer) evalTape() *autograd.Tape {
	if t.evalTp == nil {
		t.evalTp = autograd.NewTape()
	}
	t.evalTp.Reset()
	t.evalTp.SetRecording(false)
	return t.evalTp
}

func gradNorm(ps []*autograd.Param) float64 {
	var s float64
	for _, p := range ps {
		s += tensor.SumSquares(p.Grad.Data)
	}
	return math.Sqrt(s)
}

func mean(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s / float64(len(x))
}
