package gan

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
)

// Config is a complete recipe for a GAN run: data, models, loss and
// hyperparameters. It is what a preset fills in, what a YAML file and flags
// override, and what a run saves as config.yaml.
type Config struct {
	Preset string `yaml:"preset,omitempty"`
	// Model is "mlp" (toy data: 1-D or 2-D distributions) or "dcgan"
	// (images).
	Model string `yaml:"model,omitempty"`
	// Data is a distribution spec (docs/distributions.md) for an MLP, or an
	// image data set for a DCGAN: a name (fashion-mnist, mnist, kmnist,
	// cifar10, stacked-mnist) or a path (see imgdata.Open).
	Data string `yaml:"data"`
	Loss string `yaml:"loss"`

	// Images: the DCGAN's base width, the image size and channels (0:
	// those of the data; an image folder is resized to ImageSize), and the
	// length of the run in epochs (passes over the data; when > 0 it sets
	// Steps from the data set's size).
	Width     int     `yaml:"width,omitempty"`
	ImageSize int     `yaml:"image_size,omitempty"`
	Channels  int     `yaml:"channels,omitempty"`
	Epochs    float64 `yaml:"epochs,omitempty"`
	// Evaluator is the feature network that scores an image run at every
	// evaluation (FD, KID, precision/recall on EvalSamples samples; default
	// evaluators/DATA.safetensors when that file exists, and
	// evaluators/mnist.safetensors for stacked-mnist; see
	// evaluator.DefaultFor).
	Evaluator   string `yaml:"evaluator,omitempty"`
	EvalSamples int    `yaml:"eval_samples,omitempty"`

	Steps  int `yaml:"steps"`
	Batch  int `yaml:"batch"`
	Latent int `yaml:"latent"`

	GHidden     []int  `yaml:"g_hidden,omitempty"`
	DHidden     []int  `yaml:"d_hidden,omitempty"`
	GActivation string `yaml:"g_activation,omitempty"`
	DActivation string `yaml:"d_activation,omitempty"`
	GBatchNorm  bool   `yaml:"g_batchnorm,omitempty"`

	LRG    float64 `yaml:"lr_g"`
	LRD    float64 `yaml:"lr_d"`
	Beta1  float64 `yaml:"beta1"`
	Beta2  float64 `yaml:"beta2"`
	DSteps int     `yaml:"d_steps"`
	// LRDecay is the learning-rate schedule over the run: "none",
	// "linear" (to 0 at the last step) or "cosine" (to 0).
	LRDecay string `yaml:"lr_decay"`
	// GEMA is the decay of an exponential moving average of G's weights
	// (Yazıcı et al. 2019; BigGAN), which then generates every sample and
	// evaluation of the run; 0 turns it off.
	GEMA float64 `yaml:"g_ema,omitempty"`
	// R1Gamma is the R1 penalty γ (0: off); GPLambda the WGAN-GP λ.
	R1Gamma  float64 `yaml:"r1_gamma"`
	R1Every  int     `yaml:"r1_every,omitempty"`
	GPLambda float64 `yaml:"gp_lambda"`

	Seed uint64 `yaml:"seed"`

	// EvalEvery is how often (in steps) the run records samples, mode
	// coverage and pictures; JSDEvery how often it estimates JSD(P || Q_G)
	// with a freshly trained discriminator (0: only at the end).
	EvalEvery       int `yaml:"eval_every"`
	JSDEvery        int `yaml:"jsd_every,omitempty"`
	CheckpointEvery int `yaml:"checkpoint_every"`
}

// Defaults is the general recipe for data without a preset.
func Defaults() Config {
	return Config{
		Loss: "minimax", Steps: 3000, Batch: 256, Latent: 8,
		GHidden: []int{128, 128}, DHidden: []int{128, 128},
		GActivation: "relu", DActivation: "relu",
		LRG: 1e-3, LRD: 1e-3, Beta1: 0.5, Beta2: 0.999, DSteps: 1, LRDecay: "none",
		Seed: 1, EvalEvery: 500, JSDEvery: 1000, CheckpointEvery: 1000,
	}
}

// Presets are complete recipes chosen with --preset.
var Presets = map[string]func() Config{
	// 8 Gaussians on a circle of radius 2, sd 0.02 (Metz et al. 2017,
	// Srivastava et al. 2017, Lin et al. 2018).
	//
	// The modes are tight (a sample is high quality within 3 sd = 0.06 of a
	// mode; even samples of P itself pass only 98.9% of the time), so the
	// recipe trains long, anneals the learning rate linearly to 0, keeps D
	// smooth on the data with a small R1 penalty (applied every 4th step,
	// 4 times as strong: lazy regularisation) and samples from a moving
	// average of G's weights (decay 0.999). Measured: README (10 seeds).
	"ring8": func() Config {
		c := Defaults()
		c.Preset, c.Data = "ring8", "ring(8, r=2, sd=0.02)"
		c.Steps, c.LRDecay, c.R1Gamma, c.R1Every, c.GEMA = 30000, "linear", 0.01, 4, 0.999
		c.EvalEvery, c.JSDEvery, c.CheckpointEvery = 1000, 5000, 5000
		return c
	},
	// 5×5 Gaussians at {-4,-2,0,2,4}², sd 0.05.
	"grid25": func() Config {
		c := Defaults()
		c.Preset, c.Data = "grid25", "grid(5, spacing=2, sd=0.05)"
		// R1 0.1 rather than 0.01: with 0.01, 2 of 10 seeds lost modes.
		c.Steps, c.LRDecay, c.R1Gamma = 30000, "linear", 0.1
		c.LRG, c.LRD = 2e-3, 2e-3
		c.EvalEvery, c.JSDEvery, c.CheckpointEvery = 1000, 5000, 5000
		return c
	},
	// DCGAN on Fashion-MNIST (Debian's dataset-fashion-mnist), the
	// architecture and hyperparameters of PyTorch's DCGAN example at 28×28
	// (the dcgan28 benchmark's), 10 epochs, the seed's minimax loss.
	"dcgan-fashion-mnist": func() Config { return dcganPreset("dcgan-fashion-mnist", "fashion-mnist") },
	// MNIST with the non-saturating loss: with the seed's minimax loss D
	// wins at once and G stays stuck (measured, seed 1: D's loss below
	// 1e-4 from step ~2,000, mean logits ±12 at step 2,600 of 9,370, FD
	// on 1,000 samples 6,547 at step 0 and 8,888 at 2,500).
	"dcgan-mnist": func() Config {
		c := dcganPreset("dcgan-mnist", "mnist")
		c.Loss = "nonsaturating"
		return c
	},
	"dcgan-kmnist": func() Config { return dcganPreset("dcgan-kmnist", "kmnist") },
	// Stacked MNIST (three digits as RGB channels, 1,000 modes; the
	// mode-collapse benchmark of Metz et al., VEEGAN and PacGAN), built
	// from MNIST: the same DCGAN with 3 channels, and the non-saturating
	// loss of the GAN paper. With the seed's minimax loss D wins at once
	// and G never escapes the saturation (measured, seed 1: D's loss below
	// 0.01 from step 239 and below 1e-4 from step ~1,500 to the end of 10
	// epochs, mean logits ±16; one mode covered); --loss minimax shows it.
	"dcgan-stacked-mnist": func() Config {
		c := dcganPreset("dcgan-stacked-mnist", "stacked-mnist")
		c.Loss = "nonsaturating"
		return c
	},
	// CIFAR-10 at 32×32, 3 channels.
	"dcgan-cifar10": func() Config { return dcganPreset("dcgan-cifar10", "cifar10") },
	// A folder of PNG/JPEG images (give it with --data PATH), resized and
	// centre-cropped to 64×64 RGB.
	"dcgan-folder": func() Config {
		c := dcganPreset("dcgan-folder", "")
		c.ImageSize, c.Channels, c.Epochs = 64, 3, 25
		return c
	},
	// A 1-D mixture of three Gaussians of different weights and widths.
	"mix1d": func() Config {
		c := Defaults()
		c.Preset, c.Data = "mix1d", "mix(0.3:N(-3, 0.3), 0.5:N(0, 0.5), 0.2:N(3, 0.2))"
		// The moving average of G's weights took the final JSD estimate
		// of seed 1 from 0.105 to 0.044 nats (the modes' centres drifted
		// without it).
		c.Steps, c.LRDecay, c.R1Gamma, c.GEMA = 10000, "linear", 0.01, 0.999
		c.EvalEvery, c.JSDEvery, c.CheckpointEvery = 500, 2000, 5000
		return c
	},
}

// dcganPreset is the image recipe: Radford et al. (2016) as in PyTorch's
// DCGAN example (batch 64, Adam 2e-4, β = (0.5, 0.999), N(0, 0.02) init,
// latent 100, width 64).
func dcganPreset(name, data string) Config {
	return Config{
		Preset: name, Model: "dcgan", Data: data, Loss: "minimax",
		Width: 64, Epochs: 10, Batch: 64, Latent: 100,
		LRG: 2e-4, LRD: 2e-4, Beta1: 0.5, Beta2: 0.999, DSteps: 1, LRDecay: "none",
		Seed: 1, EvalEvery: 500, CheckpointEvery: 2000,
	}
}

// IsImage reports whether the recipe trains on images.
func (c *Config) IsImage() bool { return c.Model == "dcgan" }

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	var names []string
	for k := range Presets {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Preset returns the named preset's recipe.
func Preset(name string) (Config, error) {
	f, ok := Presets[name]
	if !ok {
		return Config{}, fmt.Errorf("unknown preset %q; want one of %s", name, strings.Join(PresetNames(), ", "))
	}
	return f(), nil
}

// ConfigError names the setting (its YAML key) that cannot work.
type ConfigError struct {
	Key string
	Msg string
}

// Error names the key and what is wrong with it.
func (e *ConfigError) Error() string { return e.Key + ": " + e.Msg }

// Validate reports the first setting that cannot work, as a *ConfigError
// naming it as in the YAML file.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return &ConfigError{Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	switch c.Model {
	case "", "mlp":
		if _, err := dist.Parse(c.Data); err != nil {
			return bad("data", "%v", err)
		}
	case "dcgan":
		switch {
		case c.Data == "":
			return bad("data", "an image data set is needed: a name (%s) or a path to IDX files, CIFAR-10 batches or a folder of images", strings.Join(imgdata.NamedSets(), ", "))
		case c.Width < 1:
			return bad("width", "must be at least 1, got %d", c.Width)
		case c.ImageSize != 0 && c.ImageSize != 28 && c.ImageSize != 32 && c.ImageSize != 64:
			return bad("image_size", "the DCGAN takes 28, 32 or 64 pixels, got %d", c.ImageSize)
		case c.Channels != 0 && c.Channels != 1 && c.Channels != 3:
			return bad("channels", "must be 1 or 3, got %d", c.Channels)
		case c.Epochs < 0:
			return bad("epochs", "must be >= 0, got %g", c.Epochs)
		case c.EvalSamples < 0 || c.EvalSamples == 1:
			return bad("eval_samples", "must be 0 (the default, 1000) or at least 2, got %d", c.EvalSamples)
		}
	default:
		return bad("model", "%q is not a model; want mlp (toy data) or dcgan (images)", c.Model)
	}
	if _, err := LossByName(c.Loss); err != nil {
		return bad("loss", "%v", err)
	}
	switch {
	case c.Steps < 1 && !(c.IsImage() && c.Epochs > 0):
		return bad("steps", "must be at least 1, got %d (or give epochs for images)", c.Steps)
	case c.Batch < 1:
		return bad("batch", "must be at least 1, got %d", c.Batch)
	case c.Latent < 1:
		return bad("latent", "must be at least 1, got %d", c.Latent)
	case c.LRG <= 0:
		return bad("lr_g", "must be positive, got %g", c.LRG)
	case c.LRD <= 0:
		return bad("lr_d", "must be positive, got %g", c.LRD)
	case c.Beta1 < 0 || c.Beta1 >= 1:
		return bad("beta1", "must be in [0, 1), got %g", c.Beta1)
	case c.Beta2 < 0 || c.Beta2 >= 1:
		return bad("beta2", "must be in [0, 1), got %g", c.Beta2)
	case c.DSteps < 1:
		return bad("d_steps", "must be at least 1, got %d", c.DSteps)
	case c.R1Gamma < 0:
		return bad("r1_gamma", "must be >= 0, got %g", c.R1Gamma)
	case c.GEMA < 0 || c.GEMA >= 1:
		return bad("g_ema", "must be in [0, 1) (0: off), got %g", c.GEMA)
	case c.R1Every < 0:
		return bad("r1_every", "must be >= 0, got %d", c.R1Every)
	case c.GPLambda < 0:
		return bad("gp_lambda", "must be >= 0, got %g", c.GPLambda)
	case c.EvalEvery < 0:
		return bad("eval_every", "must be >= 0, got %d", c.EvalEvery)
	case c.JSDEvery < 0:
		return bad("jsd_every", "must be >= 0, got %d", c.JSDEvery)
	case c.CheckpointEvery < 0:
		return bad("checkpoint_every", "must be >= 0, got %d", c.CheckpointEvery)
	}
	if l, _ := LossByName(c.Loss); l.NeedsLipschitz && c.GPLambda == 0 {
		return bad("gp_lambda", "the %s loss needs a Lipschitz discriminator: set a gradient penalty (e.g. 0.1 to 10)", c.Loss)
	}
	switch c.LRDecay {
	case "none", "linear", "cosine", "":
	default:
		return bad("lr_decay", "%q is not a schedule; want none, linear or cosine", c.LRDecay)
	}
	for _, a := range []struct{ name, v string }{{"g_activation", c.GActivation}, {"d_activation", c.DActivation}} {
		if _, err := nn.ParseActivation(a.v); err != nil {
			return bad(a.name, "%v", err)
		}
	}
	for _, h := range []struct {
		key string
		v   []int
	}{{"g_hidden", c.GHidden}, {"d_hidden", c.DHidden}} {
		for _, w := range h.v {
			if w < 1 {
				return bad(h.key, "layer widths must be at least 1, got %v", h.v)
			}
		}
	}
	return nil
}

// DistSampler draws real data from a distribution.
type DistSampler struct {
	D   dist.Dist
	buf []float64
}

// Dim is the distribution's dimension.
func (s *DistSampler) Dim() int { return s.D.Dim() }

// Sample draws n points into out.
func (s *DistSampler) Sample(rng *tensor.RNG, n int, out []float32) {
	k := n * s.D.Dim()
	if cap(s.buf) < k {
		s.buf = make([]float64, k)
	}
	buf := s.buf[:k]
	dist.SampleN(s.D, rng.Rand(), n, buf)
	for i, v := range buf {
		out[i] = float32(v)
	}
}

// Network is a model the runs can train, save and switch between training
// and evaluation behaviour: nn.MLP, nn.DCGANGenerator, nn.DCGANDiscriminator.
type Network interface {
	Model
	Trainable
	Buffered
}

// Game is everything a run trains: the trainer and its parts.
type Game struct {
	Cfg Config
	// P is the data distribution of a toy run (nil for images).
	P dist.Dist
	// Images is the image sampler of an image run (nil for toy data);
	// Shape the images' shape.
	Images *ImageSampler
	Shape  nn.DCGANShape
	G, D   Network
	// Dim is the number of values in one sample.
	Dim     int
	Trainer *Trainer
	OptG    *optim.Adam
	OptD    *optim.Adam
	// EMA averages G's weights when Cfg.GEMA > 0 (nil otherwise).
	EMA *optim.EMA
}

// withEMA starts the average of G's weights if the recipe asks for one.
func (g *Game) withEMA() (*Game, error) {
	if g.Cfg.GEMA > 0 {
		e, err := optim.NewEMA(g.G.Params(), g.Cfg.GEMA)
		if err != nil {
			return nil, &ConfigError{Key: "g_ema", Msg: err.Error()}
		}
		g.EMA = e
	}
	return g, nil
}

// Generate maps latent codes z (n×Latent) to samples in out (n×Dim) with G
// in evaluation mode, using the averaged weights when the game keeps them.
func (g *Game) Generate(z *tensor.Tensor, out []float32) error {
	if g.EMA != nil {
		g.EMA.Swap()
		defer g.EMA.Swap()
	}
	return g.Trainer.Generate(z, out)
}

// NewGame builds G, D, optimizers and trainer from a validated config. An
// image recipe loads its data set (the training split) here; its Epochs,
// when set, become Steps.
func NewGame(c Config) (*Game, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.IsImage() {
		set, err := imgdata.Open(c.Data, "train", c.ImageSize, c.Channels)
		if err != nil {
			return nil, &ConfigError{Key: "data", Msg: err.Error()}
		}
		return NewImageGame(c, set)
	}
	p, _ := dist.Parse(c.Data)
	loss, _ := LossByName(c.Loss)
	gAct, _ := nn.ParseActivation(c.GActivation)
	dAct, _ := nn.ParseActivation(c.DActivation)
	rng := tensor.NewRNG(c.Seed)
	dim := p.Dim()
	g, err := nn.NewMLP("G", append(append([]int{c.Latent}, c.GHidden...), dim), gAct, nn.Activation{}, rng)
	if err != nil {
		return nil, err
	}
	if c.GBatchNorm {
		g.WithBatchNorm("G")
	}
	d, err := nn.NewMLP("D", append(append([]int{dim}, c.DHidden...), 1), dAct, nn.Activation{}, rng)
	if err != nil {
		return nil, err
	}
	optG := optim.NewAdam(g.Params(), c.LRG, c.Beta1, c.Beta2)
	optD := optim.NewAdam(d.Params(), c.LRD, c.Beta1, c.Beta2)
	tr, err := NewTrainer(Options{Loss: loss, Batch: c.Batch, Latent: c.Latent, DSteps: c.DSteps,
		R1Gamma: c.R1Gamma, R1Every: c.R1Every, GPLambda: c.GPLambda}, g, d, optG, optD, &DistSampler{D: p}, rng)
	if err != nil {
		return nil, err
	}
	return (&Game{Cfg: c, P: p, G: g, D: d, Dim: dim, Trainer: tr, OptG: optG, OptD: optD}).withEMA()
}

// NewImageGame builds a DCGAN game on an image set already loaded.
func NewImageGame(c Config, set *imgdata.Set) (*Game, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if !c.IsImage() {
		return nil, &ConfigError{Key: "model", Msg: fmt.Sprintf("%q does not train on images; want dcgan", c.Model)}
	}
	if set.H != set.W {
		return nil, &ConfigError{Key: "data", Msg: fmt.Sprintf("%s has %d×%d images; the DCGAN needs square ones", set.Source, set.H, set.W)}
	}
	shape := nn.DCGANShape{Size: set.H, Channels: set.C, Width: c.Width}
	sampler, err := NewImageSampler(set)
	if err != nil {
		return nil, &ConfigError{Key: "data", Msg: err.Error()}
	}
	if c.Epochs > 0 {
		c.Steps = int(math.Ceil(c.Epochs * float64(set.N/c.Batch)))
		if c.Steps < 1 {
			c.Steps = 1
		}
	}
	loss, _ := LossByName(c.Loss)
	rng := tensor.NewRNG(c.Seed)
	g, err := nn.NewDCGANGenerator("G", c.Latent, shape, rng)
	if err != nil {
		return nil, &ConfigError{Key: "data", Msg: err.Error()}
	}
	d, err := nn.NewDCGANDiscriminator("D", shape, rng)
	if err != nil {
		return nil, &ConfigError{Key: "data", Msg: err.Error()}
	}
	optG := optim.NewAdam(g.Params(), c.LRG, c.Beta1, c.Beta2)
	optD := optim.NewAdam(d.Params(), c.LRD, c.Beta1, c.Beta2)
	tr, err := NewTrainer(Options{Loss: loss, Batch: c.Batch, Latent: c.Latent, DSteps: c.DSteps,
		R1Gamma: c.R1Gamma, R1Every: c.R1Every, GPLambda: c.GPLambda}, g, d, optG, optD, sampler, rng)
	if err != nil {
		return nil, err
	}
	return (&Game{Cfg: c, Images: sampler, Shape: shape, G: g, D: d, Dim: shape.Dim(), Trainer: tr, OptG: optG, OptD: optD}).withEMA()
}

// LRFactor is the learning-rate multiplier of the schedule at step (0-based)
// of steps.
func (c *Config) LRFactor(step int) float64 {
	f := float64(step) / float64(c.Steps)
	switch c.LRDecay {
	case "linear":
		return 1 - f
	case "cosine":
		return 0.5 * (1 + math.Cos(math.Pi*f))
	}
	return 1
}

// Step sets the scheduled learning rates and plays one round.
func (g *Game) Step() (Stats, error) {
	f := g.Cfg.LRFactor(g.Trainer.StepsDone())
	g.OptG.LR, g.OptD.LR = g.Cfg.LRG*f, g.Cfg.LRD*f
	st, err := g.Trainer.Step()
	if err == nil && g.EMA != nil {
		g.EMA.Update()
	}
	return st, err
}
