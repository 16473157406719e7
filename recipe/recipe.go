// Package recipe is the typed recipe of a training run: what a preset
// fills in, what a YAML file (--config) and the flags override, what a run
// saves as config.yaml, and what Build turns into a gan.Game.
//
// A recipe has five sections: data (where the samples come from), model
// (the architecture and its options), loss (the objective and its
// penalties), optim (optimisers, batch, length and schedule) and run
// (seed, evaluation, checkpoints). It is decoded and validated in one
// place; every error names the YAML key (or the flag that set it) and
// what was expected.
package recipe

import (
	"fmt"
	"strings"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/optim"
)

// Recipe is a complete recipe for a GAN run.
type Recipe struct {
	// Preset names the preset the recipe started from (informative).
	Preset string `yaml:"preset,omitempty"`
	Data   Data   `yaml:"data"`
	Model  Model  `yaml:"model"`
	Loss   Loss   `yaml:"loss"`
	Optim  Optim  `yaml:"optim"`
	Run    Run    `yaml:"run"`
}

// Data says where the real samples come from.
type Data struct {
	// Source is a distribution spec (docs/distributions.md) for points, or
	// for images a data set name (fashion-mnist, mnist, kmnist, cifar10,
	// stacked-mnist) or a path (IDX files, CIFAR-10 batches, a folder of
	// images), stored absolute.
	Source string `yaml:"source"`
	// ImageSize scales a folder of images to ImageSize×ImageSize pixels
	// (0: as stored, for data sets and IDX/CIFAR files).
	ImageSize int `yaml:"image_size,omitempty"`
	// Channels is 1 or 3 (0: as stored; a folder of images: 3).
	Channels int `yaml:"channels,omitempty"`
	// Subset, when > 0, trains on that many training images chosen at
	// random (with the run's seed) instead of all of them: the small-data
	// regime where DiffAugment matters.
	Subset int `yaml:"subset,omitempty"`
}

// Model is the architecture (a name registered in package arch), the
// latent size and the architecture's own options. In YAML the options sit
// beside arch and latent: {arch: dcgan, latent: 100, width: 64}.
type Model struct {
	Arch   string
	Latent int
	// Options is a pointer to the architecture's options struct
	// (arch.Spec.Defaults).
	Options any
}

// Loss is the objective and its penalties.
type Loss struct {
	// Name is minimax (the seed's eq. 1-2), nonsaturating, hinge,
	// wasserstein or leastsquares (docs/losses.md).
	Name string `yaml:"name"`
	// R1Gamma is the R1 penalty γ on real data (0: off), applied every
	// R1Every steps with R1Every times the weight (lazy regularisation).
	R1Gamma float64 `yaml:"r1_gamma"`
	R1Every int     `yaml:"r1_every,omitempty"`
	// GPLambda is the WGAN gradient penalty λ (needed by wasserstein).
	GPLambda float64 `yaml:"gp_lambda"`
	// OrthoReg is β of BigGAN's orthogonal regularisation of G's weights
	// (0: off; BigGAN uses 1e-4).
	OrthoReg float64 `yaml:"ortho_reg,omitempty"`
	// LeCam is λ of the LeCam regularisation of D (0: off).
	LeCam float64 `yaml:"lecam,omitempty"`
	// DiffAugment is the policy of DiffAugment on every image D sees:
	// "translation,cutout,color" or a subset ("": off).
	DiffAugment string `yaml:"diffaugment,omitempty"`
}

// Optim is how the players learn: batch, length, optimisers, schedule and
// the moving average of G.
type Optim struct {
	Batch int `yaml:"batch"`
	// Steps is the number of generator steps; Epochs, when > 0 and the
	// data are images, sets Steps from the data set's size instead.
	Steps  int     `yaml:"steps"`
	Epochs float64 `yaml:"epochs,omitempty"`
	// DSteps is the number of discriminator steps per generator step.
	DSteps int `yaml:"d_steps"`
	// G and D are the players' Adam settings.
	G Adam `yaml:"g"`
	D Adam `yaml:"d"`
	// Schedule is the learning-rate schedule: none, linear or cosine (to 0
	// at the last step).
	Schedule string `yaml:"lr_decay"`
	// GEMA is the decay of a moving average of G's weights, which then
	// generates every sample and evaluation (0: off); before step
	// GEMAStart the average copies the weights.
	GEMA      float64 `yaml:"g_ema,omitempty"`
	GEMAStart int     `yaml:"g_ema_start,omitempty"`
	// BigGANStep selects BigGAN-PyTorch's step (D judges a generated batch
	// from an unrecorded G pass together with the real one; G's move draws
	// a fresh batch) instead of PyTorch's DCGAN example's.
	BigGANStep bool `yaml:"biggan_step,omitempty"`
	// JointD makes D judge the real and generated batches as one batch in
	// the DCGAN step as well (one pass of D, one power iteration of its
	// spectral norms); only for a D without batch norm.
	JointD bool `yaml:"joint_d,omitempty"`
	// Precision is the arithmetic of the training step's matrix products
	// (convolutions included), forward and backward: fp32 (the default)
	// or bf16, their operands rounded to bfloat16 and their sums kept in
	// float32, on CPUs with AVX-512 BF16. Weights, gradients, optimiser
	// state, batch-norm statistics, losses and penalties stay float32.
	Precision string `yaml:"precision,omitempty"`
	// SyncBN makes batch norm of a data-parallel run (mpirun) take its
	// statistics over the whole global batch, every rank's rows, instead
	// of each rank's own (--sync-bn); a single process is unaffected.
	SyncBN bool `yaml:"sync_bn,omitempty"`
}

// Adam are one player's Adam settings.
type Adam struct {
	LR    float64 `yaml:"lr"`
	Beta1 float64 `yaml:"beta1"`
	Beta2 float64 `yaml:"beta2"`
}

// Run are the settings of the run around the training.
type Run struct {
	Seed uint64 `yaml:"seed"`
	// EvalEvery is how often (in steps) the run evaluates G and records
	// samples and pictures; JSDEvery how often toy runs estimate
	// JSD(P || Q_G) with a freshly trained discriminator (0: at the end
	// only); CheckpointEvery how often it saves a checkpoint.
	EvalEvery       int `yaml:"eval_every"`
	JSDEvery        int `yaml:"jsd_every,omitempty"`
	CheckpointEvery int `yaml:"checkpoint_every"`
	// Evaluator is the feature network that scores image runs (default
	// evaluators/DATA.safetensors when it exists); EvalSamples how many
	// images each evaluation scores (0: 1,000).
	Evaluator   string `yaml:"evaluator,omitempty"`
	EvalSamples int    `yaml:"eval_samples,omitempty"`
	// NoPictures skips the pictures at the end of the run (--no-pictures,
	// kept for --resume).
	NoPictures bool `yaml:"no_pictures,omitempty"`
	// Ranks is the number of MPI processes that trained the run (its last
	// session, when resumed with another number); set by the trainer, 0 or
	// absent for a single process.
	Ranks int `yaml:"ranks,omitempty"`
}

// Error names the setting (its YAML key, e.g. "optim.g.lr") that cannot
// work and says why.
type Error struct {
	Key string
	Msg string
}

// Error formats the error as "KEY: MSG".
func (e *Error) Error() string { return e.Key + ": " + e.Msg }

func bad(key, format string, args ...any) error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Spec returns the model's registered architecture.
func (m *Model) Spec() (*arch.Spec, error) { return arch.Lookup(m.Arch) }

// SetArch changes the architecture, resetting the options to its
// defaults (when it is another one).
func (m *Model) SetArch(name string) error {
	s, err := arch.Lookup(name)
	if err != nil {
		return err
	}
	if name != m.Arch || m.Options == nil {
		m.Arch, m.Options = name, s.Defaults()
	}
	return nil
}

// clone deep-copies the options (through YAML), so that two recipes do not
// share them.
func (m Model) clone() Model {
	s, err := m.Spec()
	if err != nil || m.Options == nil {
		return m
	}
	y, err := s.EncodeOptions(m.Options)
	if err != nil {
		return m
	}
	if o, err := s.DecodeOptions(y); err == nil {
		m.Options = o
	}
	return m
}

// Clone returns a deep copy of r.
func (r Recipe) Clone() Recipe {
	r.Model = r.Model.clone()
	return r
}

// Validate reports the first setting that cannot work, as an *Error naming
// its key. It checks every setting that does not need the data; Build
// checks the rest (the data exist, the architecture fits them).
func (r *Recipe) Validate() error {
	if strings.TrimSpace(r.Data.Source) == "" {
		return bad("data.source", "no data given: a distribution spec, a data set name or a path")
	}
	switch {
	case r.Data.ImageSize < 0:
		return bad("data.image_size", "must be 0 (as stored) or a size in pixels, got %d", r.Data.ImageSize)
	case r.Data.Channels != 0 && r.Data.Channels != 1 && r.Data.Channels != 3:
		return bad("data.channels", "must be 1 or 3 (0: as stored), got %d", r.Data.Channels)
	}
	spec, err := r.Model.Spec()
	if err != nil {
		return bad("model.arch", "%v", err)
	}
	if r.Model.Options == nil {
		r.Model.Options = spec.Defaults()
	}
	if r.Model.Latent < 1 || r.Model.Latent > arch.MaxLatent {
		return bad("model.latent", "must be 1 to %d, got %d", arch.MaxLatent, r.Model.Latent)
	}
	loss, err := gan.LossByName(r.Loss.Name)
	if err != nil {
		return bad("loss.name", "%v", err)
	}
	o := &r.Optim
	switch {
	case r.Loss.R1Gamma < 0:
		return bad("loss.r1_gamma", "must be >= 0, got %g", r.Loss.R1Gamma)
	case r.Loss.R1Every < 0:
		return bad("loss.r1_every", "must be >= 0, got %d", r.Loss.R1Every)
	case r.Loss.GPLambda < 0:
		return bad("loss.gp_lambda", "must be >= 0, got %g", r.Loss.GPLambda)
	case loss.NeedsLipschitz && r.Loss.GPLambda == 0:
		return bad("loss.gp_lambda", "the %s loss needs a Lipschitz discriminator: set a gradient penalty (e.g. 0.1 to 10)", r.Loss.Name)
	case o.Batch < 1:
		return bad("optim.batch", "must be at least 1, got %d", o.Batch)
	case o.Epochs < 0:
		return bad("optim.epochs", "must be >= 0, got %g", o.Epochs)
	case o.Steps < 1 && o.Epochs == 0:
		return bad("optim.steps", "must be at least 1, got %d (or give optim.epochs for images)", o.Steps)
	case o.DSteps < 1:
		return bad("optim.d_steps", "must be at least 1, got %d", o.DSteps)
	case o.GEMA < 0 || o.GEMA >= 1:
		return bad("optim.g_ema", "must be in [0, 1) (0: off), got %g", o.GEMA)
	case o.GEMAStart < 0:
		return bad("optim.g_ema_start", "must be >= 0, got %d", o.GEMAStart)
	case r.Loss.OrthoReg < 0:
		return bad("loss.ortho_reg", "must be >= 0, got %g", r.Loss.OrthoReg)
	case r.Loss.LeCam < 0:
		return bad("loss.lecam", "must be >= 0, got %g", r.Loss.LeCam)
	case r.Data.Subset < 0:
		return bad("data.subset", "must be 0 (all images) or a number of images, got %d", r.Data.Subset)
	}
	if _, err := gan.ParseAugment(r.Loss.DiffAugment, 1, 1, 1); err != nil {
		return bad("loss.diffaugment", "%v", err)
	}
	for _, p := range []struct {
		key string
		a   Adam
	}{{"optim.g", o.G}, {"optim.d", o.D}} {
		switch {
		case !(p.a.LR > 0):
			return bad(p.key+".lr", "must be positive, got %g", p.a.LR)
		case p.a.Beta1 < 0 || p.a.Beta1 >= 1:
			return bad(p.key+".beta1", "must be in [0, 1), got %g", p.a.Beta1)
		case p.a.Beta2 < 0 || p.a.Beta2 >= 1:
			return bad(p.key+".beta2", "must be in [0, 1), got %g", p.a.Beta2)
		}
	}
	if _, err := optim.ParseSchedule(o.Schedule); err != nil {
		return bad("optim.lr_decay", "%v", err)
	}
	if _, err := gan.ParsePrecision(o.Precision); err != nil {
		return bad("optim.precision", "%v", err)
	}
	run := &r.Run
	switch {
	case run.EvalEvery < 0:
		return bad("run.eval_every", "must be >= 0, got %d", run.EvalEvery)
	case run.JSDEvery < 0:
		return bad("run.jsd_every", "must be >= 0, got %d", run.JSDEvery)
	case run.CheckpointEvery < 0:
		return bad("run.checkpoint_every", "must be >= 0, got %d", run.CheckpointEvery)
	case run.EvalSamples < 0 || run.EvalSamples == 1:
		return bad("run.eval_samples", "must be 0 (the default, 1000) or at least 2, got %d", run.EvalSamples)
	case run.Ranks < 0:
		return bad("run.ranks", "must be >= 0 (the MPI processes that trained the run; the trainer sets it), got %d", run.Ranks)
	}
	return nil
}

// optionError turns an architecture's complaint into an *Error: at the
// option's key when the message starts with one ("width: ..."), else at
// model.arch.
func optionError(spec *arch.Spec, err error) error {
	msg := err.Error()
	if k, rest, ok := strings.Cut(msg, ": "); ok && (spec.HasOption(k) || k == "latent") {
		return bad("model."+k, "%s", rest)
	}
	return bad("model.arch", "%s", msg)
}
