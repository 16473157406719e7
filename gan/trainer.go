package gan

import (
	"fmt"
	"math"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
)

// Sampler draws batches of real data: n points of dimension Dim into out
// (row-major, n×Dim).
type Sampler interface {
	Dim() int
	Sample(rng *tensor.RNG, n int, out []float32)
}

// Config is a toy GAN's recipe.
type Config struct {
	Batch            int
	Latent           int
	Hidden           []int // hidden layer widths of both G and D
	LRG, LRD         float64
	Beta1, Beta2     float64
	DSteps           int // discriminator steps per generator step
	Seed             uint64
	HiddenActivation nn.Activation
}

// Validate reports the first field that cannot work.
func (c *Config) Validate() error {
	switch {
	case c.Batch < 1:
		return fmt.Errorf("batch size must be at least 1, got %d", c.Batch)
	case c.Latent < 1:
		return fmt.Errorf("latent size must be at least 1, got %d", c.Latent)
	case c.LRG <= 0 || c.LRD <= 0:
		return fmt.Errorf("learning rates must be positive, got G %g and D %g", c.LRG, c.LRD)
	case c.DSteps < 1:
		return fmt.Errorf("discriminator steps per generator step must be at least 1, got %d", c.DSteps)
	}
	return nil
}

// Trainer plays the seed's game between an MLP generator and an MLP
// discriminator.
type Trainer struct {
	Cfg        Config
	G, D       *nn.MLP
	OptG, OptD *optim.Adam
	Data       Sampler

	rng     *tensor.RNG
	tp      *autograd.Tape
	z, real *tensor.Tensor
	step    int
}

// Stats are the figures of one step.
type Stats struct {
	Step         int
	LossD, LossG float64 // V_D (eq. 1) and V_G = -V_D (eq. 2), per batch
	DReal, DFake float64 // mean D(x) on real and on generated points
}

// NewTrainer builds G, D and their optimizers from cfg.
func NewTrainer(cfg Config, data Sampler) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := tensor.NewRNG(cfg.Seed)
	dim := data.Dim()
	gs := append(append([]int{cfg.Latent}, cfg.Hidden...), dim)
	ds := append(append([]int{dim}, cfg.Hidden...), 1)
	g, err := nn.NewMLP("G", gs, cfg.HiddenActivation, nn.Activation{}, rng)
	if err != nil {
		return nil, err
	}
	d, err := nn.NewMLP("D", ds, cfg.HiddenActivation, nn.Activation{}, rng)
	if err != nil {
		return nil, err
	}
	return &Trainer{
		Cfg: cfg, G: g, D: d, Data: data, rng: rng, tp: autograd.NewTape(),
		OptG: optim.NewAdam(g.Params(), cfg.LRG, cfg.Beta1, cfg.Beta2),
		OptD: optim.NewAdam(d.Params(), cfg.LRD, cfg.Beta1, cfg.Beta2),
		z:    tensor.New(cfg.Batch, cfg.Latent), real: tensor.New(cfg.Batch, dim),
	}, nil
}

// Step plays one round: DSteps updates of D on eq. (1), then one update of
// G on eq. (2) through the updated D.
func (t *Trainer) Step() (Stats, error) {
	tp := t.tp
	st := Stats{Step: t.step + 1}
	// (1) Update D: minimise V_D = E_P softplus(-D(x)) + E_Q softplus(D(G(z))).
	for k := 0; k < t.Cfg.DSteps; k++ {
		tp.Reset()
		t.Data.Sample(t.rng, t.Cfg.Batch, t.real.Data)
		t.rng.Normal(t.z.Data, 0, 1)
		prev := tp.SetRecording(false) // G is fixed in this move: no graph through it
		fake := t.G.Forward(tp, tp.Leaf(t.z))
		tp.SetRecording(prev)
		dReal := t.D.Forward(tp, tp.Leaf(t.real))
		dFake := t.D.Forward(tp, fake)
		lossD := tp.Add(tp.Mean(tp.Softplus(tp.Neg(dReal)), false), tp.Mean(tp.Softplus(dFake), false))
		autograd.ZeroGrads(t.OptD.Params())
		if err := tp.Backward(lossD, t.OptD.Params()); err != nil {
			return st, err
		}
		t.OptD.Step()
		st.LossD = float64(lossD.Item())
		st.DReal, st.DFake = mean(dReal.Data()), mean(dFake.Data())
	}
	// (2) Update G: minimise V_G = -V_D, i.e. -E_Q softplus(D(G(z))) (the E_P
	// term does not depend on G), through the updated and frozen D.
	tp.Reset()
	t.rng.Normal(t.z.Data, 0, 1)
	dFake := t.D.Forward(tp, t.G.Forward(tp, tp.Leaf(t.z)))
	lossG := tp.Neg(tp.Mean(tp.Softplus(dFake), false))
	autograd.ZeroGrads(t.OptG.Params())
	if err := tp.Backward(lossG, t.OptG.Params()); err != nil {
		return st, err
	}
	t.OptG.Step()
	st.LossG = float64(lossG.Item())
	t.step++
	if math.IsNaN(st.LossD) || math.IsNaN(st.LossG) {
		return st, fmt.Errorf("step %d: loss is NaN (D %g, G %g)", st.Step, st.LossD, st.LossG)
	}
	return st, nil
}

// Generate writes n generated points into out (n×dim) using G.
func (t *Trainer) Generate(n int, out []float32) error {
	tp := autograd.NewTape()
	tp.SetRecording(false)
	z := tensor.New(n, t.Cfg.Latent)
	t.rng.Normal(z.Data, 0, 1)
	y := t.G.Forward(tp, tp.Leaf(z))
	if err := tp.Err(); err != nil {
		return err
	}
	copy(out, y.Data())
	return nil
}

func mean(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s / float64(len(x))
}
