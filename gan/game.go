package gan

import (
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/internal/gemm"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
)

// Sampler draws batches of real data: n samples, each of Dim() numbers,
// into x (row-major, n×Dim), and, when labels is not nil, the class of
// each into labels.
type Sampler interface {
	Dim() int
	Sample(rng *tensor.RNG, n int, x []float32, labels []int)
}

// StatefulSampler is a sampler whose position is part of a run's state
// (the epoch and the place in its permutation); checkpoints save it.
type StatefulSampler interface {
	Sampler
	// State returns the position as metadata strings.
	State() map[string]string
	// Restore sets the position from metadata written by State.
	Restore(meta map[string]string) error
}

// Adam are the settings of one player's optimiser.
type Adam struct {
	LR, Beta1, Beta2 float64
}

// Config is the game's recipe: what package recipe resolves a config.yaml
// into for the trainer.
type Config struct {
	Loss   Loss
	Batch  int
	Latent int
	DSteps int // discriminator steps per generator step
	// R1Gamma is the R1 penalty weight (0: off); R1Every applies it only
	// every this many steps, weighted by R1Every so that its average pull
	// is unchanged (the "lazy regularisation" of Karras et al. 2020); 0 or
	// 1 means every step.
	R1Gamma float64
	R1Every int
	// GPLambda is the gradient penalty weight (0: off; required by
	// wasserstein).
	GPLambda float64
	G, D     Adam
	// Steps is the length of the run, over which Schedule decays the
	// learning rates.
	Steps    int
	Schedule optim.Schedule
	// EMA is the decay of a moving average of G's weights (Yazıcı et al.
	// 2019; BigGAN), which then generates every sample; 0 turns it off.
	EMA float64
	// EMAStart is the step before which the average copies G's weights
	// (BigGAN starts it after the first phase of training).
	EMAStart int
	// StandingStats > 0 makes sampling normalise G's batch norms by
	// BigGAN's standing statistics: averages over this many batches of
	// Batch samples that the sampling weights (the moving average's, with
	// EMA) generate at the current step, rather than the running averages
	// the live G tracked in training (0: the running averages).
	StandingStats int
	// Classes > 0 makes the game class-conditional: real batches come with
	// their labels, generated ones with labels drawn uniformly, and both
	// players read them from nn.Ctx.Labels.
	Classes int
	// Joint selects BigGAN-PyTorch's step: D's generated batch comes from a
	// G pass that is not recorded, D judges the generated and the real
	// batch as one batch, and G's move draws a fresh batch. Otherwise the
	// step is PyTorch's DCGAN example's: one recorded G pass serves both
	// moves, and D judges each batch separately (which matters for batch
	// norm in D).
	Joint bool
	// JointD makes D judge the generated and the real batch as one batch in
	// PyTorch's DCGAN step too (Joint false): one pass of D, and one
	// power iteration of its spectral norms, instead of two, while G's
	// recorded batch still serves both moves. Only for a D whose rows do
	// not interact: NewGame refuses a D with batch norm.
	JointD bool
	// OrthoReg is β of BigGAN's orthogonal regularisation of G's linear and
	// convolution weights W (flattened to rows): G's loss gains
	// β/2 Σ ‖W Wᵀ ⊙ (1 − I)‖², BigGAN-PyTorch's update (0: off).
	OrthoReg float64
	// Precision is the arithmetic of the step's matrix products (see
	// Precision); the zero value is float32.
	Precision Precision
	// LeCam is λ of the LeCam regularisation of D (Tseng et al. 2021): D's
	// loss gains λ (E relu(D(x) − α_fake)² + E relu(α_real − D(G(z)))²),
	// α the moving averages (decay 0.99) of D's mean outputs (0: off).
	LeCam float64
	// Augment, when set, transforms every image D sees (DiffAugment).
	Augment *Augment
}

func (c *Config) validate() error {
	switch {
	case c.Loss.D == nil:
		return fmt.Errorf("no loss given")
	case c.Batch < 1:
		return fmt.Errorf("batch size must be at least 1, got %d", c.Batch)
	case c.Latent < 1:
		return fmt.Errorf("latent size must be at least 1, got %d", c.Latent)
	case c.DSteps < 1:
		return fmt.Errorf("discriminator steps per generator step must be at least 1, got %d", c.DSteps)
	case c.R1Gamma < 0 || c.GPLambda < 0:
		return fmt.Errorf("penalty weights must be >= 0, got R1 %g and GP %g", c.R1Gamma, c.GPLambda)
	case c.Loss.NeedsLipschitz && c.GPLambda == 0:
		return fmt.Errorf("the %s loss needs a Lipschitz discriminator: set a gradient penalty (e.g. gp_lambda 0.1 to 10)", c.Loss.Name)
	case c.Steps < 1:
		return fmt.Errorf("steps must be at least 1, got %d", c.Steps)
	case c.EMA < 0 || c.EMA >= 1:
		return fmt.Errorf("EMA decay must be in [0, 1), got %g", c.EMA)
	case c.Classes < 0:
		return fmt.Errorf("classes must be >= 0, got %d", c.Classes)
	case c.OrthoReg < 0 || c.LeCam < 0:
		return fmt.Errorf("regularisation weights must be >= 0, got orthogonal %g and LeCam %g", c.OrthoReg, c.LeCam)
	case c.EMAStart < 0:
		return fmt.Errorf("the EMA's start step must be >= 0, got %d", c.EMAStart)
	case c.StandingStats < 0:
		return fmt.Errorf("standing statistics: the number of batches must be >= 0, got %d", c.StandingStats)
	}
	return nil
}

// Game is a GAN in training: the two players and everything their
// training changes. Its state (State) is one set of named tensors and
// metadata: G's and D's parameters and buffers, both Adam states, the
// moving average of G, the step, the RNG and the data order; checkpoints
// save and restore exactly that.
type Game struct {
	cfg        Config
	g, d       nn.Module
	optG, optD *optim.Adam
	ema        *optim.EMA // nil unless cfg.EMA > 0
	stand      *standing  // nil unless cfg.StandingStats > 0 and G has batch norm
	data       Sampler
	rng        *tensor.RNG
	step       int

	tp          *autograd.Tape
	ctx         nn.Ctx
	evalTp      *autograd.Tape // Generate's and Discriminate's, reused between calls
	z, real     *tensor.Tensor
	eps         *tensor.Tensor
	realLabels  []int
	fakeLabels  []int
	jointLabels []int // generated then real (when D judges them as one batch)

	ortho       []orthoTerm
	orthoSyncFn optim.Sync // g.orthoSync
	lecamReal   float64    // moving averages of D's mean outputs (LeCam)
	lecamFake   float64

	// This process's rows [lo, hi) of the global batch and views of them
	// in z, real and eps (the whole batch for a single process), and the
	// data-parallel group (distribute.go; nil for a single process).
	lo, hi                int
	zLoc, realLoc, epsLoc *tensor.Tensor
	shard                 *shard
	figures               [4]float64 // a move's losses and means, summed across the ranks
}

// orthoTerm is one weight under orthogonal regularisation, flattened to
// rows × cols.
type orthoTerm struct {
	w          *autograd.Param
	rows, cols int
	gram       *tensor.Tensor // W Wᵀ, scratch
}

// judgesJointly reports whether D judges the generated and the real batch
// as one batch (BigGAN-PyTorch's step, or JointD).
func (c *Config) judgesJointly() bool { return c.Joint || c.JointD }

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
	// Ranks is the number of processes of a data-parallel step (absent
	// for a single process).
	Ranks int `json:"ranks,omitempty"`
}

// NewGame sets up the game between g and d (named "G" and "D", see
// nn.Root) on data. rng drives every random draw of training; it should
// be the source the models were initialised from, continued, so that one
// seed gives one run.
func NewGame(cfg Config, g, d nn.Module, data Sampler, rng *tensor.RNG) (*Game, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if g == nil || d == nil || data == nil || rng == nil {
		return nil, fmt.Errorf("NewGame needs G, D, data and a random source")
	}
	gm := &Game{
		cfg: cfg, g: g, d: d, data: data, rng: rng,
		optG: optim.NewAdam(nn.ParamList(g), cfg.G.LR, cfg.G.Beta1, cfg.G.Beta2),
		optD: optim.NewAdam(nn.ParamList(d), cfg.D.LR, cfg.D.Beta1, cfg.D.Beta2),
		tp:   autograd.NewTape(),
		z:    tensor.New(cfg.Batch, cfg.Latent),
		real: tensor.New(cfg.Batch, data.Dim()),
		eps:  tensor.New(cfg.Batch, 1),
	}
	if cfg.Classes > 0 {
		gm.realLabels = make([]int, cfg.Batch)
		gm.fakeLabels = make([]int, cfg.Batch)
	}
	if cfg.JointD && !cfg.Joint { // BigGAN-PyTorch's step judges jointly anyway
		bn := ""
		nn.Walk(d, func(path string, m nn.Module) {
			switch m.(type) {
			case *nn.BatchNorm, *nn.ConditionalBatchNorm:
				if bn == "" {
					bn = path
				}
			}
		})
		if bn != "" {
			return nil, fmt.Errorf("D judges the real and generated batches together (joint_d), but its batch norm %q would mix their statistics; turn joint_d off", bn)
		}
	}
	gm.setRows(0, cfg.Batch)
	if cfg.OrthoReg > 0 {
		gm.ortho = orthoTerms(g)
		gm.orthoSyncFn = gm.orthoSync // made once: a method value allocates
	}
	if cfg.EMA > 0 {
		e, err := optim.NewEMA(nn.ParamList(g), cfg.EMA)
		if err != nil {
			return nil, err
		}
		gm.ema = e
	}
	if cfg.StandingStats > 0 {
		if s := newStanding(g); len(s.bns) > 0 {
			gm.stand = s
		}
	}
	return gm, nil
}

// Config returns the game's recipe.
func (g *Game) Config() Config { return g.cfg }

// G returns the generator (its live weights; see Generate for sampling).
func (g *Game) G() nn.Module { return g.g }

// D returns the discriminator.
func (g *Game) D() nn.Module { return g.d }

// Data returns the sampler of real data.
func (g *Game) Data() Sampler { return g.data }

// StepsDone is the number of completed steps.
func (g *Game) StepsDone() int { return g.step }

// SetSteps changes the length of the run (a resumed run trained longer),
// over which the learning rates decay.
func (g *Game) SetSteps(n int) error {
	if n < 1 {
		return fmt.Errorf("steps must be at least 1, got %d", n)
	}
	g.cfg.Steps = n
	return nil
}

// Step sets the scheduled learning rates, plays one round (Config.DSteps
// updates of D, then one of G) and updates the moving average of G.
//
// As in PyTorch's DCGAN example, the generated batch of the last D update
// is the one G then learns from: G's forward pass is recorded once and
// used by both moves (D's update only asks for D's gradients, so nothing
// flows into G there), and G's move runs D afresh, with its updated
// weights, on that batch. With Config.Joint the step is BigGAN-PyTorch's
// instead (see Config).
func (g *Game) Step() (Stats, error) {
	c := &g.cfg
	if c.Precision == BFloat16 {
		// The step's products, forward and backward, in bfloat16; the
		// rest of the process (evaluation, sampling) as it was.
		prev := gemm.CurrentPrecision()
		if err := gemm.SetPrecision(gemm.BFloat16); err != nil {
			return Stats{}, err
		}
		defer gemm.SetPrecision(prev)
	}
	g.optG.LR = c.Schedule.LR(c.G.LR, g.step, c.Steps)
	g.optD.LR = c.Schedule.LR(c.D.LR, g.step, c.Steps)
	tp := g.tp
	st := Stats{Step: g.step + 1}
	if g.shard != nil {
		st.Ranks = g.shard.comm.Size()
	}
	ctx := &g.ctx
	*ctx = nn.Ctx{Tape: tp, Training: true, Step: st.Step, SyncBN: g.shard != nil && g.shard.syncBN}
	b := g.hi - g.lo // this process's rows of the batch
	fakeLabels, realLabels := g.rowsOf(g.fakeLabels), g.rowsOf(g.realLabels)
	tp.Reset()
	var fake *autograd.Node
	var mark autograd.Mark
	// (1) Update D network: minimise the loss of D (eq. 1 for the seed's
	// minimax game) with G fixed.
	for k := 0; k < c.DSteps; k++ {
		last := k == c.DSteps-1 && !c.Joint
		if k > 0 || c.Joint {
			tp.Reset()
		}
		g.data.Sample(g.rng, c.Batch, g.real.Data, g.realLabels)
		g.rng.Normal(g.z.Data, 0, 1)
		g.drawLabels()
		prev := tp.SetRecording(last) // G's graph is kept only for the batch G learns from
		ctx.Labels = fakeLabels
		fake = g.g.Forward(ctx, tp.Leaf(g.zLoc))
		tp.SetRecording(prev)
		mark = tp.Mark()
		xReal := tp.Leaf(g.realLoc)
		var dReal, dFake *autograd.Node
		if c.judgesJointly() {
			// D judges generated and real images as one batch. In the
			// DCGAN step the generated batch keeps G's graph for G's
			// move; D's update does not reach it.
			ctx.Labels = nil
			if c.Classes > 0 {
				copy(g.jointLabels, fakeLabels)
				copy(g.jointLabels[b:], realLabels)
				ctx.Labels = g.jointLabels
			}
			gen := fake
			if c.Joint {
				gen = tp.Leaf(fake.Value())
			}
			out := g.d.Forward(ctx, g.augment(tp.Concat(0, gen, xReal), true))
			dFake, dReal = tp.Slice(out, 0, 0, b), tp.Slice(out, 0, b, 2*b)
		} else {
			ctx.Labels = realLabels
			dReal = g.d.Forward(ctx, g.augment(xReal, false))
			ctx.Labels = fakeLabels
			dFake = g.d.Forward(ctx, g.augment(fake, false))
		}
		lossD := c.Loss.D(tp, dReal, dFake)
		total := lossD
		if every := max(c.R1Every, 1); c.R1Gamma > 0 && g.step%every == 0 {
			pen, err := R1(tp, dReal, xReal, float32(c.R1Gamma*float64(every)))
			if err != nil {
				return st, err
			}
			total = tp.Add(total, pen)
			st.Penalty = float64(pen.Item())
		}
		if c.GPLambda > 0 {
			// x̂ = ε x + (1-ε) G(z), ε ~ U[0,1] per sample.
			g.rng.Uniform(g.eps.Data, 0, 1)
			e := tp.Leaf(g.epsLoc)
			xHat := tp.Add(tp.Mul(e, xReal), tp.Mul(tp.Affine(e, -1, 1), tp.Leaf(fake.Value())))
			xHat = tp.Leaf(xHat.Value()) // a fresh leaf: the penalty's gradient is taken at x̂
			ctx.Labels = realLabels
			pen, err := GradientPenalty(tp, g.d.Forward(ctx, xHat), xHat, float32(c.GPLambda))
			if err != nil {
				return st, err
			}
			total = tp.Add(total, pen)
			st.Penalty = float64(pen.Item())
		}
		st.LossD = float64(lossD.Item())
		st.DReal, st.DFake = tensor.Mean(dReal.Data()), tensor.Mean(dFake.Data())
		g.figures = [4]float64{st.LossD, st.Penalty, st.DReal, st.DFake}
		figures := g.figures[:]
		if c.LeCam > 0 {
			// LeCam's moving averages are of the whole batch's means.
			m := figures[2:]
			if err := g.allMeans(m); err != nil {
				return st, err
			}
			st.DReal, st.DFake = m[0], m[1]
			total = tp.Add(total, g.lecam(tp, dReal, dFake, st.DReal, st.DFake))
			figures = figures[:2]
		}
		var err error
		st.GradD, err = optim.DescendSynced(tp, g.scaleLoss(tp, total), g.optD, g.sync(figures))
		st.LossD, st.Penalty = figures[0], figures[1]
		if len(figures) == 4 {
			st.DReal, st.DFake = figures[2], figures[3]
		}
		if err != nil {
			return st, fmt.Errorf("step %d: D's update %w (D loss %g, penalty %g)", st.Step, err, st.LossD, st.Penalty)
		}
	}
	if c.Joint {
		// G's move draws a fresh batch, recorded.
		tp.Reset()
		g.rng.Normal(g.z.Data, 0, 1)
		g.drawLabels()
		ctx.Labels = fakeLabels
		fake = g.g.Forward(ctx, tp.Leaf(g.zLoc))
	} else if err := tp.Rewind(mark); err != nil { // D's activations are dead now: G's move reuses their memory
		return st, err
	}
	// (2) Update G network: minimise G's loss (eq. 2, V_G = -V_D, for the
	// minimax game) through the updated D; D's parameters stay untouched.
	ctx.Labels = fakeLabels
	dFake := g.d.Forward(ctx, g.augment(fake, false))
	lossG := c.Loss.G(tp, dFake)
	st.LossG = float64(lossG.Item())
	g.figures[0] = st.LossG
	figures := g.figures[:1]
	sync := g.sync(figures) // also hands figures to the ranks' sum
	if len(g.ortho) > 0 {
		sync = g.orthoSyncFn // that sum, then the orthogonal gradient
	}
	var err error
	st.GradG, err = optim.DescendSynced(tp, g.scaleLoss(tp, lossG), g.optG, sync)
	st.LossG = figures[0]
	if err != nil {
		return st, fmt.Errorf("step %d: G's update %w (G loss %g)", st.Step, err, st.LossG)
	}
	if err := g.averageBN(); err != nil {
		return st, err
	}
	g.step++
	if g.ema != nil {
		if g.step <= c.EMAStart {
			g.ema.Copy()
		} else {
			g.ema.Update()
		}
	}
	return st, nil
}

// augment applies DiffAugment to images D is about to see, if configured:
// this process's rows of a batch (joint: of the generated and real batches
// judged together), drawn as for the whole batch.
func (g *Game) augment(x *autograd.Node, joint bool) *autograd.Node {
	a := g.cfg.Augment
	switch {
	case a == nil:
		return x
	case g.shard == nil:
		return a.Apply(g.tp, g.rng, x)
	case joint:
		return a.ApplyRows(g.tp, g.rng, x, g.shard.jointRowOf)
	default:
		return a.ApplyRows(g.tp, g.rng, x, g.shard.rowOf)
	}
}

// rowsOf is this process's part of a batch's labels (nil stays nil).
func (g *Game) rowsOf(labels []int) []int {
	if labels == nil {
		return nil
	}
	return labels[g.lo:g.hi]
}

// lecam updates the moving averages of D's mean outputs and returns the
// LeCam penalty of this batch.
func (g *Game) lecam(tp *autograd.Tape, dReal, dFake *autograd.Node, mReal, mFake float64) *autograd.Node {
	const decay = 0.99
	g.lecamReal = decay*g.lecamReal + (1-decay)*mReal
	g.lecamFake = decay*g.lecamFake + (1-decay)*mFake
	r := tp.Mean(tp.Square(tp.ReLU(tp.AddScalar(dReal, float32(-g.lecamFake)))), false)
	f := tp.Mean(tp.Square(tp.ReLU(tp.Affine(dFake, -1, float32(g.lecamReal)))), false)
	return tp.Scale(tp.Add(r, f), float32(g.cfg.LeCam))
}

// orthoTerms lists G's linear and convolution weights, with scratch for
// their Gram matrices.
func orthoTerms(m nn.Module) []orthoTerm {
	var out []orthoTerm
	nn.Walk(m, func(_ string, mm nn.Module) {
		var w *autograd.Param
		switch l := mm.(type) {
		case *nn.Linear:
			w = l.W
		case *nn.Conv2D:
			w = l.W
		default:
			return
		}
		rows := w.Value.Dim(0)
		out = append(out, orthoTerm{w: w, rows: rows, cols: w.Value.Len() / rows, gram: tensor.New(rows, rows)})
	})
	return out
}

// addOrthoGrad adds the gradient of BigGAN's orthogonal regularisation,
// β/2 Σ ‖W Wᵀ ⊙ (1 − I)‖² over the regularised weights, to their
// gradients: 2β (W Wᵀ ⊙ (1 − I)) W each. As BigGAN-PyTorch's utils.ortho,
// it goes straight into the gradients rather than through the tape (two
// products per weight instead of the penalty's graph and its backward
// pass), after the ranks' gradients are summed, so every rank adds it once.
func (g *Game) addOrthoGrad() {
	pool := parallel.Default()
	beta := float32(2 * g.cfg.OrthoReg)
	for i := range g.ortho {
		o := &g.ortho[i]
		w := o.w.Value.Data
		gram := o.gram.Data
		gemm.Sgemm(pool, false, true, o.rows, o.rows, o.cols, 1, w, o.cols, w, o.cols, 0, gram, o.rows)
		for r := 0; r < o.rows; r++ {
			gram[r*o.rows+r] = 0
		}
		gemm.Sgemm(pool, false, false, o.rows, o.cols, o.rows, beta, gram, o.rows, w, o.cols, 1, o.w.Grad.Data, o.cols)
	}
}

// orthoSync is the gradient synchronisation of G's move with the
// orthogonal regularisation: the ranks' sum (if any), then addOrthoGrad.
func (g *Game) orthoSync(ps []*autograd.Param, loss float64) (float64, error) {
	if g.shard != nil {
		var err error
		if loss, err = g.shard.sum(ps, loss); err != nil {
			return loss, err
		}
	}
	g.addOrthoGrad()
	return loss, nil
}

// drawLabels draws the classes of a generated batch, uniformly.
func (g *Game) drawLabels() {
	for i := range g.fakeLabels {
		g.fakeLabels[i] = g.rng.IntN(g.cfg.Classes)
	}
}

// Generate maps the latent codes z (n×Latent), with classes labels (n, or
// nil for an unconditional G), through G in evaluation mode, with the
// moving average of G's weights when the game keeps one, and writes the
// samples into out (n×Dim).
func (g *Game) Generate(z *tensor.Tensor, labels []int, out []float32) error {
	if g.stand != nil {
		if err := g.standingStats(); err != nil {
			return err
		}
		g.stand.swap()
		defer g.stand.swap()
	}
	if g.ema != nil {
		g.ema.Swap()
		defer g.ema.Swap()
	}
	tp := g.evalTape()
	defer tp.Reset()
	y := g.g.Forward(&nn.Ctx{Tape: tp, Labels: labels}, tp.Leaf(z))
	if err := tp.Err(); err != nil {
		return err
	}
	copy(out, y.Data())
	return nil
}

// Discriminate evaluates D (in evaluation mode) on x (n×Dim) with classes
// labels (nil if unconditional) and writes its logits into out.
func (g *Game) Discriminate(x *tensor.Tensor, labels []int, out []float32) error {
	tp := g.evalTape()
	defer tp.Reset()
	y := g.d.Forward(&nn.Ctx{Tape: tp, Labels: labels}, tp.Leaf(x))
	if err := tp.Err(); err != nil {
		return err
	}
	copy(out, y.Data())
	return nil
}

// evalTape returns the game's tape for evaluation, reset and not
// recording. Reusing it keeps the memory of one forward pass instead of
// allocating a new arena at every call.
func (g *Game) evalTape() *autograd.Tape {
	if g.evalTp == nil {
		g.evalTp = autograd.NewTape()
	}
	g.evalTp.Reset()
	g.evalTp.SetRecording(false)
	return g.evalTp
}

// State is a game's state by name: tensors (aliasing the live ones, so
// that loading into them restores the game) and metadata strings.
type State struct {
	Tensors map[string]*tensor.Tensor
	Meta    map[string]string
}

// State returns everything that training changes, by name: "G.*" and
// "D.*" (parameters and buffers, nn.State), "optG.*" and "optD.*" (Adam's
// moments), "G_ema.*" (the moving average); and in the metadata the step,
// each optimiser's update count, the RNG and the data sampler's position.
func (g *Game) State() (State, error) {
	ts := nn.StateMap(g.g, "G")
	for k, v := range nn.StateMap(g.d, "D") {
		ts[k] = v
	}
	for k, v := range g.optG.State() {
		ts["optG."+k] = v
	}
	for k, v := range g.optD.State() {
		ts["optD."+k] = v
	}
	if g.ema != nil {
		for k, v := range g.ema.Shadow() {
			ts["G_ema."+k] = v
		}
	}
	rs, err := g.rng.MarshalBinary()
	if err != nil {
		return State{}, err
	}
	meta := map[string]string{
		"step":       strconv.Itoa(g.step),
		"optG.steps": strconv.Itoa(g.optG.Steps()),
		"optD.steps": strconv.Itoa(g.optD.Steps()),
		"rng":        base64.StdEncoding.EncodeToString(rs),
	}
	if s, ok := g.data.(StatefulSampler); ok {
		for k, v := range s.State() {
			meta["data."+k] = v
		}
	}
	if g.cfg.LeCam > 0 {
		meta["lecam.real"] = strconv.FormatFloat(g.lecamReal, 'g', -1, 64)
		meta["lecam.fake"] = strconv.FormatFloat(g.lecamFake, 'g', -1, 64)
	}
	return State{Tensors: ts, Meta: meta}, nil
}

// Restore sets the game's metadata state (the step, the optimisers'
// counts, the RNG, the data position) from meta, as written by State; the
// tensors are restored by copying into State's Tensors.
func (g *Game) Restore(meta map[string]string) error {
	ints := map[string]int{}
	for _, k := range []string{"step", "optG.steps", "optD.steps"} {
		v, err := strconv.Atoi(meta[k])
		if err != nil || v < 0 {
			return fmt.Errorf("metadata %q is %q, want a step count", k, meta[k])
		}
		ints[k] = v
	}
	rs, err := base64.StdEncoding.DecodeString(meta["rng"])
	if err != nil {
		return fmt.Errorf("metadata \"rng\" is not base64: %w", err)
	}
	if err := g.rng.UnmarshalBinary(rs); err != nil {
		return fmt.Errorf("bad RNG state: %w", err)
	}
	if s, ok := g.data.(StatefulSampler); ok {
		dm := map[string]string{}
		for k, v := range meta {
			if len(k) > 5 && k[:5] == "data." {
				dm[k[5:]] = v
			}
		}
		if err := s.Restore(dm); err != nil {
			return err
		}
	}
	if g.cfg.LeCam > 0 {
		r, err1 := strconv.ParseFloat(meta["lecam.real"], 64)
		f, err2 := strconv.ParseFloat(meta["lecam.fake"], 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("metadata lecam.real and lecam.fake (%q, %q) do not give LeCam's averages", meta["lecam.real"], meta["lecam.fake"])
		}
		g.lecamReal, g.lecamFake = r, f
	}
	g.optG.SetSteps(ints["optG.steps"])
	g.optD.SetSteps(ints["optD.steps"])
	g.step = ints["step"]
	return nil
}

// GeneratorState returns G's state as sampling should use it: with the
// moving average's weights in place of the live ones when the game keeps
// one (BigGAN samples from G's EMA), and with the standing statistics in
// place of the batch norms' running averages when the game computes them
// (Config.StandingStats), named as nn.StateMap(G, "G").
func (g *Game) GeneratorState() (map[string]*tensor.Tensor, error) {
	ts := nn.StateMap(g.g, "G")
	if g.stand != nil {
		if err := g.standingStats(); err != nil {
			return nil, err
		}
		byTensor := make(map[*tensor.Tensor]*tensor.Tensor, 2*len(g.stand.bns))
		for i, b := range g.stand.bns {
			byTensor[b.RunningMean], byTensor[b.RunningVar] = g.stand.mean[i], g.stand.vari[i]
		}
		for k, v := range ts {
			if s, ok := byTensor[v]; ok {
				ts[k] = s
			}
		}
	}
	if g.ema != nil {
		for k, v := range g.ema.Shadow() {
			ts[k] = v
		}
	}
	return ts, nil
}
