package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/generator"

	"github.com/minmaxgan/minmax/imgdata"

	"github.com/minmaxgan/minmax/run"
	"github.com/spf13/cobra"
)

func newSampleCmd() *cobra.Command {
	var (
		dir, out, class, labelsOut string
		zOut, zIn                  string
		n                          int
		seed, to                   uint64
		truncation                 float64
		interpolate                bool
		threads                    int
	)
	c := &cobra.Command{
		Use:   "sample --run DIR --n N --out FILE",
		Short: "Draw samples from a trained run's generator",
		Long: `Draw N samples from the generator of a run (its generator.safetensors, written
with every checkpoint: no discriminator, optimiser state or training data is
needed; batch norm in evaluation mode) at latent codes drawn from --seed, and
write them to --out:

toy runs (points):
  FILE.csv   one sample per line
  FILE.npy   float32, N x dim (numpy.load)
image runs:
  FILE.png   one grid of all N images (8 per row, or fewer; a conditional
             generator cycling through its classes, with N a multiple of
             their number: one row per class)
  DIR/       a folder of PNGs, 00000.png, 00001.png, ... (a path ending in /
             or an existing folder)
  FILE.idx   uint8 IDX, N x H x W (grey) or N x H x W x C (colour): the MNIST
             format, readable by any IDX reader
  FILE.npy   float32 in [-1, 1], N x C x H x W (PyTorch's layout)

A class-conditional generator makes --class K (a number or a class name)
for every sample, or cycles through its classes (0, 1, ..., 0, 1, ...);
--labels-out FILE.idx writes the class asked for each sample (IDX uint8,
N). --truncation T redraws latent values beyond ±T (BigGAN's truncation
trick: less variety, more fidelity). --interpolate draws --n images along
the line from the code of --seed to the code of --to, at one class.

--z-out FILE.npy writes the latent codes the samples were made from
(float32, N x latent) and --z FILE.npy makes samples from such codes
instead of drawing them (N is then the file's number of codes): with the
same --class (or the same cycling through the classes) the samples are the
same, and a model written by minmax export gives them too.`,
		Example: `  minmax sample --run runs/ring8-20261126-120000 --n 10000 --out samples.npy
  minmax sample --run runs/dcgan-fashion-mnist-20261126-120000 --n 64 --out grid.png
  minmax sample --run runs/dcgan-fashion-mnist-20261126-120000 --n 10000 --out fake.idx
  minmax sample --run runs/biggan-fashion-mnist-20261205-120000 --n 10000 --out s.idx --labels-out l.idx
  minmax sample --run runs/biggan-fashion-mnist-20261205-120000 --n 100 --out classes.png
  minmax sample --run runs/biggan-fashion-mnist-20261205-120000 --n 64 --class Sneaker --truncation 0.5 --out sneakers.png
  minmax sample --run runs/biggan-fashion-mnist-20261205-120000 --interpolate --seed 1 --to 2 --n 8 --class 3 --out walk.png
  minmax sample --run runs/dcgan-fashion-mnist-20261126-120000 --n 16 --out x.npy --z-out z.npy
  minmax sample --run runs/dcgan-fashion-mnist-20261126-120000 --z z.npy --out again.npy`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if dir == "" || out == "" {
				return usageError{fmt.Errorf("sample: --run and --out are required")}
			}
			if n < 1 {
				return usageError{fmt.Errorf("sample: --n must be at least 1, got %d", n)}
			}
			if truncation < 0 {
				return usageError{fmt.Errorf("sample: --truncation must be >= 0 (0: none), got %g", truncation)}
			}
			if err := useThreads("sample", threads); err != nil {
				return err
			}
			folder := strings.HasSuffix(out, "/") || strings.HasSuffix(out, string(filepath.Separator))
			if fi, err := os.Stat(out); err == nil && fi.IsDir() {
				folder = true
			}
			for _, p := range []struct{ flag, path string }{{"--z", zIn}, {"--z-out", zOut}} {
				if p.path != "" && !strings.EqualFold(filepath.Ext(p.path), ".npy") {
					return usageError{fmt.Errorf("sample: %s %s: latent codes are read and written as .npy files", p.flag, p.path)}
				}
			}
			if zIn != "" && (interpolate || truncation > 0 || c.Flags().Changed("seed")) {
				return usageError{fmt.Errorf("sample: --z gives the latent codes; --seed, --truncation and --interpolate draw them and do not go with it")}
			}
			g, err := run.OpenGenerator(dir, func(msg string) { fmt.Fprintln(c.ErrOrStderr(), msg) })
			if err != nil {
				return fmt.Errorf("sample --run %s: %w", dir, err)
			}
			d := g.Info.Data
			var codes []float32
			if zIn != "" {
				shape, z, err := run.ReadNPY(zIn)
				if err != nil {
					return usageError{fmt.Errorf("sample: --z: %w", err)}
				}
				if lat := g.Info.Latent; len(shape) != 2 || shape[0] < 1 || shape[1] != lat {
					return usageError{fmt.Errorf("sample: --z %s: codes of shape %v, want [N, %d]: the generator of %s has latent size %d", zIn, shape, lat, dir, lat)}
				}
				if c.Flags().Changed("n") && n != shape[0] {
					return usageError{fmt.Errorf("sample: --n %d, but --z %s holds %d codes", n, zIn, shape[0])}
				}
				n, codes = shape[0], z
			}
			if zOut != "" && int64(n)*int64(g.Info.Latent) > maxCodes {
				return usageError{fmt.Errorf("sample: --z-out: %d codes of latent size %d are more than %d values; write fewer samples at a time", n, g.Info.Latent, maxCodes)}
			}
			format, err := run.SampleFormat(out, folder, d)
			if err != nil {
				return usageError{fmt.Errorf("sample: --out %w", err)}
			}
			if err := run.CheckSampleCount(out, format, n, d); err != nil {
				return usageError{fmt.Errorf("sample: --n: %w", err)}
			}
			opt := generator.Options{Seed: seed, Class: -1, Truncation: truncation, Z: codes}
			if class != "" {
				if !g.Info.Conditional() {
					return usageError{fmt.Errorf("sample: --class: the generator of %s is not class-conditional", dir)}
				}
				k, err := g.ClassIndex(class)
				if err != nil {
					return usageError{fmt.Errorf("sample: --class: %w", err)}
				}
				opt.Class = k
			}
			if labelsOut != "" && !g.Info.Conditional() {
				return usageError{fmt.Errorf("sample: --labels-out: the generator of %s is not class-conditional", dir)}
			}
			var asked []uint8
			if interpolate {
				if !c.Flags().Changed("to") {
					return usageError{fmt.Errorf("sample: --interpolate needs --to SEED, the code to go to")}
				}
				if format != run.FormatGrid && format != run.FormatFolder {
					return usageError{fmt.Errorf("sample: --interpolate writes a .png grid or a folder, not %s", out)}
				}
				pts, err := g.Interpolate(seed, to, n, opt)
				if err != nil {
					return usageError{fmt.Errorf("sample: %w", err)}
				}
				if zOut != "" {
					if codes, err = g.InterpolationCodes(seed, to, n, opt); err != nil {
						return usageError{fmt.Errorf("sample: %w", err)}
					}
				}
				set, err := run.ImageSet(d, pts, n)
				if err == nil {
					if format == run.FormatGrid {
						err = imgdata.SaveSetGrid(out, set, imgdata.GridOptions{Cols: min(8, n)})
					} else {
						err = imgdata.WritePNGFolder(out, set)
					}
				}
				if err != nil {
					return fmt.Errorf("sample: %w", err)
				}
				if g.Info.Conditional() {
					for range n {
						asked = append(asked, uint8(max(opt.Class, 0)))
					}
				}
			} else {
				if zOut != "" && codes == nil { // draw the codes first, then make the samples from them
					if codes, err = g.DrawCodes(n, opt); err != nil {
						return usageError{fmt.Errorf("sample: %w", err)}
					}
					opt.Z, opt.Truncation = codes, 0
				}
				st, err := g.Stream(n, opt)
				if err != nil {
					return usageError{fmt.Errorf("sample: %w", err)}
				}
				if asked, err = run.SampleTo(out, format, st, d, labelsOut != ""); err != nil {
					return fmt.Errorf("sample: %w", err)
				}
			}
			if labelsOut != "" {
				if err := imgdata.WriteIDX(labelsOut, []int{len(asked)}, asked); err != nil {
					return fmt.Errorf("sample: --labels-out: %w", err)
				}
			}
			if zOut != "" {
				if err := run.WriteNPYShape(zOut, codes, n, g.Info.Latent); err != nil {
					return fmt.Errorf("sample: --z-out: %w", err)
				}
			}
			dim := d.Dim
			what := fmt.Sprintf("samples of dimension %d", dim)
			if d.Kind == arch.Images {
				what = fmt.Sprintf("images of %dx%dx%d", d.Height, d.Width, d.Channels)
			}
			fmt.Fprintf(c.ErrOrStderr(), "wrote %d %s from step %d of %s to %s\n", n, what, g.Info.Step, dir, out)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&dir, "run", "", "the run directory")
	f.StringVar(&out, "out", "", "output: .csv or .npy (toy); .png grid, folder/, .idx or .npy (images)")
	f.IntVar(&n, "n", 1000, "number of samples")
	f.Uint64Var(&seed, "seed", 1, "seed of the latent codes")
	f.StringVar(&class, "class", "", "conditional generators: the class of every sample, a number or a name (default: cycle through the classes)")
	f.StringVar(&labelsOut, "labels-out", "", "conditional generators: write the class asked for each sample to this IDX file (uint8, N)")
	f.Float64Var(&truncation, "truncation", 0, "redraw latent values beyond ±T (the truncation trick; 0: none)")
	f.BoolVar(&interpolate, "interpolate", false, "draw --n images from the code of --seed to the code of --to")
	f.Uint64Var(&to, "to", 0, "with --interpolate: the seed of the code to go to")
	f.StringVar(&zOut, "z-out", "", "write the latent codes of the samples to this .npy file (float32, N x latent)")
	f.StringVar(&zIn, "z", "", "make the samples from the latent codes of this .npy file (float32, N x latent, as --z-out writes) instead of drawing them")
	f.IntVar(&threads, "threads", defaultThreads(), "worker threads for compute (the samples are the same at any number)")
	return c
}

// maxCodes bounds the latent values --z-out holds in memory (1 GiB).
const maxCodes = 1 << 28

// stackedSamples is how many samples eval scores for Stacked MNIST by
// default: 26,000, the count of the VEEGAN and PacGAN papers.
const stackedSamples = 26000

// evalCount is --n, or stackedSamples for Stacked MNIST when --n is not
// given.
func evalCount(c *cobra.Command, n int, data string) int {
	if !c.Flags().Changed("n") && imgdata.CanonicalName(data) == imgdata.StackedMNIST {
		return stackedSamples
	}
	return n
}

func newEvalCmd() *cobra.Command {
	var (
		dir      string
		asJSON   bool
		jsdSteps int
		threads  int
		seed     uint64
		evalPath string
		samples  string
		labelsIn string
		data     string
		n        int
		profile  string
	)
	c := &cobra.Command{
		Use:   "eval --run DIR | --samples FILE --data SET",
		Short: "Evaluate a generator: mode coverage and JSD (toy runs), FD, KID, precision/recall (images)",
		Long: `Evaluate the generator of a run (its latest checkpoint) by the protocol of
the VEEGAN and PacGAN papers: 2,500 samples; a sample is high quality if it
lies within 3 standard deviations of its nearest mode; a mode is covered if
at least one high-quality sample is nearest to it; and the reverse KL
between the distribution of high-quality samples over the modes and the
modes' weights. It also trains a discriminator afresh against the generator
and reports the theory lab's estimate of JSD(P || Q_G) = log 2 - V_D/2.

For an image run (or --samples FILE --data SET: an .idx or .npy file of
images, e.g. one written by minmax sample, or a data set's own IDX file for
real-against-real figures, or one of minmax data export) it scores --n samples
against the data set's test images (all the images of a folder, which has no
test split) with the evaluator network of ` + "`minmax evaluator train`" + `: the
Fréchet distance of its features (FD), KID with its standard error, precision
and recall (k = 3), density and coverage (k = 5), and the class statistics
of the samples, recording the evaluator's identity, the counts and the seed.
Stacked MNIST is scored with the MNIST evaluator, channel by channel: the
features of the three channels side by side, the classes the 1,000 digit
triples, and the number of triples covered with the KL divergence of their
distribution from the uniform one, over 26,000 samples unless --n says
otherwise.`,
		Example: `  minmax eval --run runs/ring8-20261126-120000
  minmax eval --run runs/dcgan-fashion-mnist-20261126-120000 --json
  minmax eval --samples fake.idx --data fashion-mnist`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if (dir == "") == (samples == "") {
				return usageError{fmt.Errorf("eval: give --run DIR, or --samples FILE with --data SET")}
			}
			if n < 2 || n > run.MaxSamples {
				return usageError{fmt.Errorf("eval: --n must be 2 to %d, got %d", run.MaxSamples, n)}
			}
			if jsdSteps < 0 {
				return usageError{fmt.Errorf("eval: --jsd-steps must be >= 0 (0: no JSD estimate), got %d", jsdSteps)}
			}
			if err := useThreads("eval", threads); err != nil {
				return err
			}
			if profile != "" {
				stopProfile, err := startProfile(profile)
				if err != nil {
					return fmt.Errorf("eval: --cpuprofile: %w", err)
				}
				defer stopProfile()
			}
			if samples != "" {
				if data == "" {
					return usageError{fmt.Errorf("eval --samples: --data is required (the data set to compare with)")}
				}
				x, count, err := run.ReadImages(samples)
				if err != nil {
					return fmt.Errorf("eval --samples: %w", err)
				}
				n = evalCount(c, n, data)
				m := min(n, count)
				dim := len(x) / count
				var labels []int
				if labelsIn != "" {
					dims, b, err := imgdata.ReadIDX(labelsIn)
					if err != nil {
						return fmt.Errorf("eval --labels: %w", err)
					}
					if len(dims) != 1 || dims[0] != count {
						return usageError{fmt.Errorf("eval --labels %s: IDX dimensions %v, want one label for each of the %d samples of %s", labelsIn, dims, count, samples)}
					}
					for _, v := range b[:m] {
						labels = append(labels, int(v))
					}
				}
				return imageScores(c.OutOrStdout(), asJSON, evalPath, data, x[:m*dim], labels, labelsIn, m, seed, map[string]any{"samples": samples})
			}
			g, err := run.OpenGenerator(dir, func(msg string) { fmt.Fprintln(c.ErrOrStderr(), msg) })
			if err != nil {
				return fmt.Errorf("eval --run %s: %w", dir, err)
			}
			if g.Info.Data.Kind == arch.Images {
				n = evalCount(c, n, g.Info.Source)
				x, labels, err := g.Sample(n, generator.Options{Seed: seed, Class: -1})
				if err != nil {
					return err
				}
				return imageScores(c.OutOrStdout(), asJSON, evalPath, g.Info.Source, x, labels, "", n, seed,
					map[string]any{"run": dir, "step": g.Info.Step, "loss": g.Info.Loss, "data": g.Info.Source})
			}
			e, err := run.EvaluatePoints(g, jsdSteps, seed)
			if err != nil {
				return fmt.Errorf("eval: %w", err)
			}
			out := c.OutOrStdout()
			if asJSON {
				m := run.Summary(&e, g.Info.Source, g.Info.Loss, g.Info.Seed)
				m["run"] = dir
				delete(m, "seed")
				b, err := json.Marshal(m)
				if err != nil {
					return err
				}
				fmt.Fprintln(out, string(b))
				return nil
			}
			fmt.Fprintf(out, "run %s at step %d (%s, loss %s)\n", dir, e.Step, g.Info.Source, g.Info.Loss)
			if cv := e.Coverage; cv != nil {
				fmt.Fprintf(out, "modes covered %d/%d, high-quality samples %.2f%%, reverse KL %.4f (%d samples)\n",
					cv.ModesCovered, cv.ModesTotal, 100*cv.HQFraction, cv.ReverseKL, cv.Samples)
			} else {
				fmt.Fprintln(out, "mode coverage: the data's modes are not known (not a Gaussian mixture)")
			}
			if e.JSDEstimate != nil {
				fmt.Fprintf(out, "JSD(P || Q_G) estimate %.4f ± %.4f nats\n", *e.JSDEstimate, *e.JSDSE)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&dir, "run", "", "the run directory")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	f.IntVar(&jsdSteps, "jsd-steps", 2000, "training steps of the JSD-estimating discriminator (0: skip)")
	f.IntVar(&threads, "threads", defaultThreads(), "worker threads for compute")
	f.Uint64Var(&seed, "seed", 1, "seed of the evaluation")
	f.StringVar(&evalPath, "evaluator", "", "images: the evaluator network (default evaluators/DATA.safetensors; stacked-mnist: evaluators/mnist.safetensors)")
	f.StringVar(&samples, "samples", "", "images: score this .idx or .npy file of images instead of a run")
	f.StringVar(&labelsIn, "labels", "", "with --samples: the class each sample was asked for (IDX uint8, as sample --labels-out writes), for the conditional accuracy")
	f.StringVar(&data, "data", "", "images, with --samples: the data set to compare with")
	f.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the evaluation to this file (go tool pprof)")
	f.IntVar(&n, "n", 10000, "images: number of samples to score (stacked-mnist: 26000, as in VEEGAN and PacGAN)")
	return c
}
