package recipe

import (
	"errors"
	"math"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
)

// Built is a recipe made real: the game ready to train and what the run
// around it needs to know of the data.
type Built struct {
	// Recipe is the recipe as built: optim.steps set from optim.epochs for
	// images.
	Recipe Recipe
	Game   *gan.Game
	// Data is the shape of the samples (and the class names).
	Data arch.Data
	// P is the distribution of a toy run (nil for images); Images the
	// sampler of an image run (nil for points).
	P      dist.Dist
	Images *gan.ImageSampler
}

// Build validates the recipe, reads the data (the training split of an
// image set), checks that the architecture fits them, and builds G, D and
// the game, all from the recipe's seed. Every error is an *Error naming
// the key at fault.
func (r Recipe) Build() (*Built, error) {
	r = r.Clone()
	if err := r.Validate(); err != nil {
		return nil, err
	}
	spec, _ := r.Model.Spec()
	b := &Built{}
	var sampler gan.Sampler
	if kindOf(r.Data.Source) == arch.Images {
		set, err := openImages(&r.Data)
		if err != nil {
			return nil, err
		}
		if n := r.Data.Subset; n > 0 {
			if n > set.N {
				return nil, bad("data.subset", "%d images asked for, %s has %d", n, r.Data.Source, set.N)
			}
			if set, err = set.Subset(tensor.NewRNG(r.Run.Seed^0x5b5e7).Choose(set.N, n)); err != nil {
				return nil, bad("data.subset", "%v", err)
			}
		}
		s, err := gan.NewImageSampler(set)
		if err != nil {
			return nil, bad("data.source", "%v", err)
		}
		sampler, b.Images = s, s
		b.Data = arch.ImageData(set.H, set.W, set.C, set.Classes)
		if r.Optim.Epochs > 0 {
			r.Optim.Steps = max(1, int(math.Ceil(r.Optim.Epochs*float64(set.N/r.Optim.Batch))))
		}
	} else {
		p, err := dist.Parse(r.Data.Source)
		if err != nil {
			return nil, sourceError(r.Data.Source, err)
		}
		b.P, sampler = p, &gan.PointSampler{D: p}
		b.Data = arch.PointData(p.Dim())
	}
	if err := spec.Check(r.Model.Options, b.Data); err != nil {
		return nil, optionError(spec, err)
	}
	rng := tensor.NewRNG(r.Run.Seed)
	g, d, err := spec.Build(r.Model.Options, r.Model.Latent, b.Data, rng)
	if err != nil {
		return nil, optionError(spec, err)
	}
	cfg, err := r.GameConfig(spec, b.Data)
	if err != nil {
		return nil, err
	}
	if b.Game, err = gan.NewGame(cfg, g, d, sampler, rng); err != nil {
		return nil, err
	}
	b.Recipe = r
	return b, nil
}

// GameConfig is the part of the recipe the trainer reads.
func (r *Recipe) GameConfig(spec *arch.Spec, d arch.Data) (gan.Config, error) {
	loss, err := gan.LossByName(r.Loss.Name)
	if err != nil {
		return gan.Config{}, bad("loss.name", "%v", err)
	}
	sched, err := optim.ParseSchedule(r.Optim.Schedule)
	if err != nil {
		return gan.Config{}, bad("optim.lr_decay", "%v", err)
	}
	o := &r.Optim
	cfg := gan.Config{
		Loss: loss, Batch: o.Batch, Latent: r.Model.Latent, DSteps: o.DSteps,
		R1Gamma: r.Loss.R1Gamma, R1Every: r.Loss.R1Every, GPLambda: r.Loss.GPLambda,
		G:     gan.Adam{LR: o.G.LR, Beta1: o.G.Beta1, Beta2: o.G.Beta2},
		D:     gan.Adam{LR: o.D.LR, Beta1: o.D.Beta1, Beta2: o.D.Beta2},
		Steps: o.Steps, Schedule: sched, EMA: o.GEMA,
	}
	if spec.IsConditional(r.Model.Options, d) {
		cfg.Classes = len(d.Classes)
	}
	cfg.EMAStart, cfg.Joint, cfg.JointD = o.GEMAStart, o.BigGANStep, o.JointD
	cfg.StandingStats = o.StandingStats
	cfg.OrthoReg, cfg.LeCam = r.Loss.OrthoReg, r.Loss.LeCam
	if cfg.Precision, err = gan.ParsePrecision(o.Precision); err != nil {
		return cfg, bad("optim.precision", "%v", err)
	}
	if err := cfg.Precision.Available(); err != nil {
		return cfg, bad("optim.precision", "%v", err)
	}
	if r.Loss.DiffAugment != "" {
		if d.Kind != arch.Images {
			return cfg, bad("loss.diffaugment", "DiffAugment transforms images; the data are %s", d)
		}
		if cfg.Augment, err = gan.ParseAugment(r.Loss.DiffAugment, d.Height, d.Width, d.Channels); err != nil {
			return cfg, bad("loss.diffaugment", "%v", err)
		}
	}
	return cfg, nil
}

// openImages reads the training split of the data's images: a folder of
// images scaled to image_size with channels, other sets as stored, which
// image_size and channels (when not 0) must match.
func openImages(d *Data) (*imgdata.Set, error) {
	if imgdata.Layout(d.Source) == imgdata.LayoutFolder {
		set, err := imgdata.Open(d.Source, "train", d.ImageSize, d.Channels)
		if errors.Is(err, imgdata.ErrNeedSize) {
			return nil, bad("data.image_size", "%s is a folder of images: give the size to scale them to (e.g. 64)", d.Source)
		}
		if err != nil {
			return nil, bad("data.source", "%v", err)
		}
		return set, nil
	}
	set, err := imgdata.Open(d.Source, "train", 0, 0)
	if err != nil {
		return nil, bad("data.source", "%v", err)
	}
	switch {
	case d.ImageSize != 0 && (d.ImageSize != set.H || d.ImageSize != set.W):
		return nil, bad("data.image_size", "%s is stored at %d×%d pixels and only a folder of images is resized; use 0 (as stored) or %d", d.Source, set.H, set.W, set.H)
	case d.Channels != 0 && d.Channels != set.C:
		return nil, bad("data.channels", "%s is stored with %d channel(s) and only a folder of images is converted; use 0 (as stored) or %d", d.Source, set.C, set.C)
	}
	return set, nil
}
