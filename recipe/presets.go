package recipe

import (
	"fmt"
	"github.com/minmaxgan/minmax/gan"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/imgdata"
)

// toy is the recipe for points without a tuned preset: MLPs of two
// hidden layers of 128, the seed's loss, Adam 1e-3.
func toy(name, data string) Recipe {
	return Recipe{
		Preset: name,
		Data:   Data{Source: data},
		Model:  model("mlp", 8, nil),
		Loss:   Loss{Name: "minimax"},
		Optim: Optim{
			Batch: 256, Steps: 3000, DSteps: 1, Schedule: "none",
			G: Adam{LR: 1e-3, Beta1: 0.5, Beta2: 0.999},
			D: Adam{LR: 1e-3, Beta1: 0.5, Beta2: 0.999},
		},
		Run: Run{Seed: 1, EvalEvery: 500, JSDEvery: 1000, CheckpointEvery: 1000},
	}
}

// model returns a model section with the architecture's defaults, changed
// by set when given.
func model(archName string, latent int, set func(opts any)) Model {
	m := Model{Latent: latent}
	if err := m.SetArch(archName); err != nil {
		panic(err) // a preset naming an unregistered architecture is a programming error
	}
	if set != nil {
		set(m.Options)
	}
	return m
}

// dcgan is the image recipe: Radford et al. (2016) as in PyTorch's DCGAN
// example (batch 64, Adam 2e-4, β = (0.5, 0.999), N(0, 0.02) init, latent
// 100, width 64), 10 epochs, the seed's loss; its products in bfloat16 on
// CPUs with AVX-512 BF16 (ImagePrecision).
func dcgan(name, data string) Recipe {
	return Recipe{
		Preset: name,
		Data:   Data{Source: data},
		Model:  model("dcgan", 100, nil),
		Loss:   Loss{Name: "minimax"},
		Optim: Optim{
			Batch: 64, Epochs: 10, DSteps: 1, Schedule: "none",
			G:         Adam{LR: 2e-4, Beta1: 0.5, Beta2: 0.999},
			D:         Adam{LR: 2e-4, Beta1: 0.5, Beta2: 0.999},
			Precision: ImagePrecision(),
		},
		Run: Run{Seed: 1, EvalEvery: 500, CheckpointEvery: 2000},
	}
}

// ImagePrecision is the precision of the DCGAN and BigGAN presets'
// training step: bf16 where the CPU has AVX-512 BF16, fp32 elsewhere.
// Measured on dcgan-fashion-mnist (10 epochs, seed 1, 10,000 samples
// scored by the evaluator): FD 253.2 in bf16 against 254.3 in fp32, at
// 1.5x the steps per second on one thread; on biggan-fashion-mnist (3
// epochs, seed 1): FD 240.5 and 85.4% of samples in the class asked for
// in bf16 against 254.6 and 84.3% in fp32. `--precision fp32` trains in
// float32 anywhere.
func ImagePrecision() string {
	if gan.BFloat16.Available() == nil {
		return "bf16"
	}
	return ""
}

// biggan is the BigGAN recipe (Brock et al. 2019) scaled to two cores: the
// biggan architecture at width 32, latent 60 and a shared embedding of 64
// (every technique on: spectral norm,
// shared embedding and hierarchical z into conditional batch norm,
// self-attention at half the image size, a projection discriminator,
// orthogonal initialisation), hinge loss, BigGAN's orthogonal
// regularisation of G (β 1e-4), Adam with β = (0, 0.999) and separate
// learning rates, D's twice G's (G 3e-4, D 6e-4: the two time-scale rule,
// at the rates a short run on two cores wants; measured on Fashion-MNIST,
// seed 1, FD on 1,000 samples and share of samples in the class asked for
// at step 1,000: G 1e-4 and D 4e-4 (BigGAN's ImageNet rates) 1,204-1,274
// and 36-37% over two runs, G 2e-4 and D 4e-4 898 and 59%, G 3e-4 and D
// 6e-4 745 and 70%, G 4e-4 and D 8e-4 827 and 65%, G 3e-4 and D 9e-4 839
// and 66%; 2e-4 for both was worse than BigGAN's rates, 1,815 against
// 1,195), BigGAN-PyTorch's step (not on 28×28 data: see biggan28), and
// samples from an EMA of G with a short horizon (decay 0.99, from step
// 500). BigGAN's 0.9999 averages over 10,000 steps, 2% of its runs; at
// the horizon of 0.999 our short runs lag behind G: measured on a 2,500-step
// run (seed 1, 10,000 samples), the EMA (0.999 from step 1,000) scored FD
// 718 and 61% of classes as asked, G itself FD 453 and 75%. Three epochs
// (FD on 1,000 samples still falling by ~100 per 500 steps at the end of
// two: 533 at step 1,500, 413 at 2,000, 306 at 2,811).
func biggan(name, data, conditional string) Recipe {
	return Recipe{
		Preset: name,
		Data:   Data{Source: data},
		Model: model("biggan", 60, func(o any) {
			b := o.(*arch.BigGANOptions)
			b.Width, b.SharedDim, b.Conditional = 32, 64, conditional
		}),
		Loss: Loss{Name: "hinge", OrthoReg: 1e-4},
		Optim: Optim{
			Batch: 64, Epochs: 3, DSteps: 1, Schedule: "none",
			G:    Adam{LR: 3e-4, Beta1: 0, Beta2: 0.999},
			D:    Adam{LR: 6e-4, Beta1: 0, Beta2: 0.999},
			GEMA: 0.99, GEMAStart: 500, BigGANStep: true,
			Precision: ImagePrecision(),
		},
		Run: Run{Seed: 1, EvalEvery: 500, CheckpointEvery: 1000},
	}
}

// biggan28 is the BigGAN recipe as tuned for 28×28 data on two cores,
// measured on Fashion-MNIST (class-conditional) (seed 1, 3 epochs unless
// said, 10,000 samples scored by the evaluator; README):
//
//   - PyTorch's DCGAN step rather than BigGAN-PyTorch's: G's move reuses
//     the batch D judged, a pass of G fewer (6 min 59 s against 8 min 0 s,
//     FD 236.8 against 239.4, 83.2% against 84.4% as asked);
//   - D judges the real and generated batches as one (joint_d: one pass of
//     D and one power iteration of its spectral norms);
//   - batches of 32, twice the steps over the same epochs (FD 151.4 and
//     89.5% as asked against 231.6 and 81.4% in batches of 64);
//   - no self-attention: at 14×14 it took a third of the step (16.6
//     against 10.9 steps/s on 2 threads), and without it the run scored FD
//     121.7 and 86.0% as asked against 148.8 and 82.7% with it;
//   - D's learning rate 9e-4 rather than 6e-4: FD 104.3 and 88.0% as
//     asked against 121.7 and 86.0% (1.2e-3: 134.3 and 83.9%; G at 2e-4
//     rather than 3e-4: 179.7 and 84.3%; at 4.5e-4: 138.4 and 87.1%);
//   - 4 epochs rather than 3: FD 85.1 and 91.3% as asked (shirts 72.9%)
//     against 105.3 and 88.4% (shirts 51.5%) (FD was still falling fast
//     at the end of 3 epochs); seeds 2 and 3 scored 107.4 and 88.8%, 92.3
//     and 88.1%.
func biggan28(name, data, conditional string) Recipe {
	r := biggan(name, data, conditional)
	r.Model.Options.(*arch.BigGANOptions).Attention = 0
	r.Optim.BigGANStep, r.Optim.JointD, r.Optim.Batch = false, true, 32
	r.Optim.D.LR = 9e-4
	r.Optim.Epochs = 4
	return r
}

// presets are the complete recipes chosen with --preset.
var presets = map[string]func() Recipe{
	// 8 Gaussians on a circle of radius 2, sd 0.02 (Metz et al. 2017,
	// Srivastava et al. 2017, Lin et al. 2018). The tuned recipe for 2-D
	// points: --data SPEC without a preset uses it.
	//
	// The modes are tight (a sample is high quality within 3 sd = 0.06 of a
	// mode; even samples of P itself pass only 98.9% of the time), so the
	// recipe trains long, anneals the learning rate linearly to 0, keeps D
	// smooth on the data with a small R1 penalty (applied every 4th step,
	// 4 times as strong: lazy regularisation) and samples from a moving
	// average of G's weights (decay 0.999). Measured: README (10 seeds).
	"ring8": func() Recipe {
		r := toy("ring8", "ring(8, r=2, sd=0.02)")
		r.Optim.Steps, r.Optim.Schedule, r.Loss.R1Gamma, r.Loss.R1Every, r.Optim.GEMA = 30000, "linear", 0.01, 4, 0.999
		r.Run.EvalEvery, r.Run.JSDEvery, r.Run.CheckpointEvery = 1000, 5000, 5000
		return r
	},
	// 5×5 Gaussians at {-4,-2,0,2,4}², sd 0.05.
	"grid25": func() Recipe {
		r := toy("grid25", "grid(5, spacing=2, sd=0.05)")
		// R1 0.1 rather than 0.01: with 0.01, 2 of 10 seeds lost modes.
		r.Optim.Steps, r.Optim.Schedule, r.Loss.R1Gamma = 30000, "linear", 0.1
		r.Optim.G.LR, r.Optim.D.LR = 2e-3, 2e-3
		r.Run.EvalEvery, r.Run.JSDEvery, r.Run.CheckpointEvery = 1000, 5000, 5000
		return r
	},
	// BigGAN on Fashion-MNIST, class-conditional, as tuned for 28×28 on
	// two cores (biggan28).
	"biggan-fashion-mnist": func() Recipe { return biggan28("biggan-fashion-mnist", "fashion-mnist", "true") },
	// BigGAN on MNIST, class-conditional, the same recipe.
	"biggan-mnist": func() Recipe { return biggan28("biggan-mnist", "mnist", "true") },
	// BigGAN on Stacked MNIST, unconditional (the 1,000 modes must be found
	// without labels): the 28×28 recipe with LeCam regularisation (λ 0.3)
	// and G at 1e-4, D at 6e-4. With the seed's minimax loss D saturates
	// without LeCam (loss 0.0000 and mean logits +20 / −35 by step 562 in
	// the 28×28 recipe); with it and G's slower rate the runs cover
	// 947-950 of 1,000 modes after 3 epochs and 986-997 after 6 (26,000
	// samples; docs/stabilisation.md), with FD 3,310-4,192 against
	// 6,226-7,378: 6 epochs, twice the time, for digits rather than blobs.
	"biggan-stacked-mnist": func() Recipe {
		r := biggan28("biggan-stacked-mnist", imgdata.StackedMNIST, "false")
		r.Loss.LeCam = 0.3
		r.Optim.G.LR, r.Optim.D.LR = 1e-4, 6e-4
		r.Optim.Epochs = 6
		return r
	},
	// BigGAN on CIFAR-10 at 32×32 RGB, class-conditional.
	"biggan-cifar10": func() Recipe { return biggan("biggan-cifar10", "cifar10", "true") },
	// BigGAN on a folder of images (--data PATH), resized to 64×64 RGB:
	// conditional on the sub-folders when there are at least two, else
	// unconditional (conditional: auto).
	"biggan-folder": func() Recipe {
		r := biggan("biggan-folder", "", "auto")
		r.Data.ImageSize, r.Data.Channels, r.Optim.Epochs = 64, 3, 25
		return r
	},
	// A 1-D mixture of three Gaussians of different weights and widths.
	// The tuned recipe for 1-D points.
	"mix1d": func() Recipe {
		r := toy("mix1d", "mix(0.3:N(-3, 0.3), 0.5:N(0, 0.5), 0.2:N(3, 0.2))")
		// The moving average of G's weights took the final JSD estimate
		// of seed 1 from 0.105 to 0.044 nats (the modes' centres drifted
		// without it).
		r.Optim.Steps, r.Optim.Schedule, r.Loss.R1Gamma, r.Optim.GEMA = 10000, "linear", 0.01, 0.999
		r.Run.EvalEvery, r.Run.JSDEvery, r.Run.CheckpointEvery = 500, 2000, 5000
		return r
	},
	// DCGAN on Fashion-MNIST (Debian's dataset-fashion-mnist), the
	// architecture and hyperparameters of PyTorch's DCGAN example at 28×28
	// (the dcgan28 benchmark's), 10 epochs, the seed's minimax loss. The
	// recipe for IDX files given by path.
	"dcgan-fashion-mnist": func() Recipe { return dcgan("dcgan-fashion-mnist", "fashion-mnist") },
	// MNIST with the non-saturating loss: with the seed's minimax loss D
	// wins at once and G stays stuck (measured, seed 1: D's loss below
	// 1e-4 from step ~2,000, mean logits ±12 at step 2,600 of 9,370, FD
	// on 1,000 samples 6,547 at step 0 and 8,888 at 2,500).
	"dcgan-mnist": func() Recipe {
		r := dcgan("dcgan-mnist", "mnist")
		r.Loss.Name = "nonsaturating"
		return r
	},
	"dcgan-kmnist": func() Recipe { return dcgan("dcgan-kmnist", "kmnist") },
	// Stacked MNIST (three digits as RGB channels, 1,000 modes; the
	// mode-collapse benchmark of Metz et al., VEEGAN and PacGAN), built
	// from MNIST: the same DCGAN with 3 channels, and the non-saturating
	// loss of the GAN paper. With the seed's minimax loss D wins at once
	// and G never escapes the saturation (measured, seed 1: D's loss below
	// 0.01 from step 239 and below 1e-4 from step ~1,500 to the end of 10
	// epochs, mean logits ±16; one mode covered); --loss minimax shows it.
	"dcgan-stacked-mnist": func() Recipe {
		r := dcgan("dcgan-stacked-mnist", imgdata.StackedMNIST)
		r.Loss.Name = "nonsaturating"
		return r
	},
	// CIFAR-10 at 32×32, 3 channels; the recipe for CIFAR-10 batches given
	// by path.
	"dcgan-cifar10": func() Recipe { return dcgan("dcgan-cifar10", "cifar10") },
	// A folder of PNG/JPEG images (give it with --data PATH), resized and
	// centre-cropped to 64×64 RGB.
	"dcgan-folder": func() Recipe {
		r := dcgan("dcgan-folder", "")
		r.Data.ImageSize, r.Data.Channels, r.Optim.Epochs = 64, 3, 25
		return r
	},
}

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	out := make([]string, 0, len(presets))
	for k := range presets {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Preset returns the named preset's recipe.
func Preset(name string) (Recipe, error) {
	f, ok := presets[name]
	if !ok {
		return Recipe{}, fmt.Errorf("unknown preset %q; want one of %s", name, strings.Join(PresetNames(), ", "))
	}
	return f(), nil
}

// Default is the recipe of `minmax train` without arguments: the ring8
// preset, the seed's minimax game on 8 Gaussians in a ring.
func Default() Recipe { r, _ := Preset("ring8"); return r }

// ForData returns the tuned recipe for data given without a preset (a
// --data value), with that data:
//
//   - a preset's name: that preset, with its own data;
//   - a data set name (fashion-mnist, mnist, ...): its dcgan-NAME preset;
//   - a path: dcgan-folder for a folder of images, dcgan-cifar10 for
//     CIFAR-10 batches, dcgan-fashion-mnist for IDX files (stored
//     absolute);
//   - a distribution spec: ring8's recipe for 2-D points, mix1d's for 1-D.
//
// A path that does not exist and is not a valid spec is an error naming
// it and listing the data set names.
func ForData(source string) (Recipe, error) {
	if _, ok := presets[source]; ok {
		return Preset(source)
	}
	name := imgdata.CanonicalName(source)
	if _, ok := presets["dcgan-"+name]; ok {
		r, _ := Preset("dcgan-" + name)
		r.Data.Source = name
		return r, nil
	}
	if fi, err := os.Stat(source); err == nil {
		abs, err := filepath.Abs(source)
		if err != nil {
			return Recipe{}, bad("data.source", "%v", err)
		}
		preset := "dcgan-fashion-mnist"
		switch imgdata.Layout(source) {
		case imgdata.LayoutFolder:
			preset = "dcgan-folder"
		case imgdata.LayoutCIFAR:
			preset = "dcgan-cifar10"
		}
		if !fi.IsDir() && strings.EqualFold(filepath.Ext(source), ".bin") {
			preset = "dcgan-cifar10"
		}
		r, _ := Preset(preset)
		r.Data.Source = abs
		return r, nil
	}
	p, err := dist.Parse(source)
	if err != nil {
		return Recipe{}, sourceError(source, err)
	}
	base := "ring8"
	if p.Dim() == 1 {
		base = "mix1d"
	}
	r, _ := Preset(base)
	r.Data.Source = source
	return r, nil
}

// sourceError explains a data source that is neither image data nor a
// valid distribution spec (parseErr is the spec's error).
func sourceError(source string, parseErr error) error {
	if g := imgdata.Suggest(source, append(imgdata.NamedSets(), PresetNames()...)...); g != "" && !strings.Contains(source, "(") {
		return bad("data.source", "no data set, preset or file %q: did you mean %s? (data sets: %s; presets: %s; or a path, or a distribution spec, docs/distributions.md)",
			source, g, strings.Join(imgdata.NamedSets(), ", "), strings.Join(PresetNames(), ", "))
	}
	if looksLikePath(source) {
		return bad("data.source", "no such file, folder or data set: %s (data sets: %s; presets: %s; or a distribution spec, docs/distributions.md)",
			source, strings.Join(imgdata.NamedSets(), ", "), strings.Join(PresetNames(), ", "))
	}
	return bad("data.source", "%v (or a data set: %s; or a file or folder of images)", parseErr, strings.Join(imgdata.NamedSets(), ", "))
}

// looksLikePath reports whether a --data value that is not a valid spec
// was meant as a path.
func looksLikePath(s string) bool {
	return strings.ContainsAny(s, `/\`) || strings.HasPrefix(s, "~") || strings.HasPrefix(s, ".") ||
		(!strings.Contains(s, "(") && strings.Contains(s, "."))
}

// kindOf says whether a data source holds images or points, without
// reading it.
func kindOf(source string) arch.Kind {
	if imgdata.Layout(source) != imgdata.LayoutNone {
		return arch.Images
	}
	return arch.Points
}
