package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/minmaxgan/minmax/evaluator"
	"github.com/minmaxgan/minmax/imgdata"
	"github.com/spf13/cobra"
)

// holdOut is the share of a folder's images held out to test its
// evaluator, chosen with holdOutSeed.
const (
	holdOut     = 0.1
	holdOutSeed = 0x401d
)

func newEvaluatorCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "evaluator",
		Short: "Train the feature network that scores image GANs",
		Long: `minmax cannot download Inception's weights, so it trains its own evaluator per
data set: a small convolutional classifier whose 256 penultimate features
feed the Fréchet distance (FD), KID, precision/recall and density/coverage,
and whose softmax gives the class statistics of generated images. Scores
made with one evaluator compare with each other, not with published FIDs;
every score records the evaluator's identity (a hash of its file) and test
accuracy.`,
	}
	var (
		data, out  string
		epochs, bs int
		lr         float64
		seed       uint64
		threads    int
		flip       bool
		size       int
		channels   int
	)
	train := &cobra.Command{
		Use:   "train --data SET",
		Short: "Train and save the evaluator of a labelled data set",
		Example: `  minmax evaluator train --data fashion-mnist
  minmax evaluator train --data ~/cifar-10-batches-bin --epochs 20 --out evaluators/cifar10.safetensors
  minmax evaluator train --data ~/photos --size 64     # class sub-folders; 10% held out to test`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if data == "" {
				return usageError{fmt.Errorf("evaluator train: --data is required (%s or a path)", strings.Join(imgdata.NamedSets(), ", "))}
			}
			if imgdata.CanonicalName(data) == imgdata.StackedMNIST {
				return usageError{fmt.Errorf("evaluator train: stacked-mnist is scored with the MNIST evaluator applied to each channel; train that one: minmax evaluator train --data mnist")}
			}
			if err := useThreads("evaluator train", threads); err != nil {
				return err
			}
			if out == "" {
				out = evaluator.DefaultPath(imgdata.CanonicalName(data))
			}
			if size < 0 {
				return usageError{fmt.Errorf("evaluator train: --size must be 0 (as stored) or positive, got %d", size)}
			}
			tr, err := imgdata.Open(data, "train", size, channels)
			if errors.Is(err, imgdata.ErrNeedSize) {
				return usageError{fmt.Errorf("evaluator train --data %s: give --size N (the GAN's --image-size) to scale the folder's images to: %w", data, err)}
			}
			if err != nil {
				return fmt.Errorf("evaluator train --data %s: %w", data, err)
			}
			te, err := imgdata.Open(data, "test", size, channels)
			if errors.Is(err, imgdata.ErrNoSplit) {
				// A folder of images: set a fixed share aside for the test.
				tr, te, err = imgdata.HoldOut(tr, holdOut, holdOutSeed)
				if err == nil {
					fmt.Fprintf(c.ErrOrStderr(), "%s has no test split: %d of its %d images are held out to test the evaluator\n", data, te.N, tr.N+te.N)
				}
			}
			if err != nil {
				return fmt.Errorf("evaluator train --data %s (test split): %w", data, err)
			}
			doFlip := !strings.Contains(data, "mnist") || strings.Contains(data, "fashion")
			if c.Flags().Changed("flip") {
				doFlip = flip
			}
			errOut := c.ErrOrStderr()
			fmt.Fprintf(errOut, "training the evaluator of %s (%d train, %d test images of %dx%dx%d, %d classes) for %d epochs\n",
				data, tr.N, te.N, tr.H, tr.W, tr.C, len(tr.Classes), epochs)
			e, err := evaluator.Train(data, tr, te, evaluator.Options{Epochs: epochs, Batch: bs, LR: lr, Seed: seed, Flip: doFlip,
				Progress: func(ep int, loss, acc float64) {
					fmt.Fprintf(errOut, "epoch %d/%d  loss %.4f  test accuracy %.2f%%\n", ep, epochs, loss, 100*acc)
				}})
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			if err := e.Save(out); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "evaluator %s of %s: test accuracy %.2f%% (%d images); saved to %s\n", e.ID, data, 100*e.Accuracy, te.N, out)
			return nil
		},
	}
	f := train.Flags()
	f.StringVar(&data, "data", "", "labelled data set: a name or a path (its test split measures the evaluator; a folder of images has a tenth held out)")
	f.StringVar(&out, "out", "", "file to save it to (default evaluators/DATA.safetensors)")
	f.IntVar(&epochs, "epochs", 10, "passes over the training images")
	f.IntVar(&bs, "batch", 128, "batch size")
	f.Float64Var(&lr, "lr", 2e-3, "AdamW learning rate (decayed linearly to 0)")
	f.Uint64Var(&seed, "seed", 1, "random seed")
	f.IntVar(&threads, "threads", defaultThreads(), "worker threads for compute")
	f.BoolVar(&flip, "flip", true, "mirror half the training images (default: on, except for digit sets)")
	f.IntVar(&size, "size", 0, "a folder of images: the size to scale them to, as the GAN's --image-size (other sets: as stored)")
	f.IntVar(&channels, "channels", 0, "a folder of images: 1 or 3 channels (0: 3)")
	root.AddCommand(train)
	return root
}

// imageScores evaluates n samples (channel-last, [-1, 1]) of data's images
// with the evaluator at path and prints them.
func imageScores(w io.Writer, asJSON bool, evalPath, data string, fake []float32, labels []int, labelsFile string, n int, seed uint64, extra map[string]any) error {
	j, err := evaluator.NewJudge(data, evalPath, 10000, seed)
	if err != nil {
		return err
	}
	if labelsFile != "" {
		k := len(j.Scorer.ClassNames())
		for i, l := range labels {
			if l < 0 || l >= k {
				return fmt.Errorf("eval --labels %s: the label at index %d is %d; the %d classes of %s are 0 to %d", labelsFile, i, l, k, data, k-1)
			}
		}
	}
	s, err := j.Score(fake, labels, n, seed)
	if err != nil {
		return err
	}
	if asJSON {
		m := map[string]any{}
		b, _ := json.Marshal(s)
		json.Unmarshal(b, &m)
		for k, v := range extra {
			m[k] = v
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, string(b))
		return nil
	}
	fmt.Fprintf(w, "%d samples against %d real images of %s, evaluator %s (%s, test accuracy %.2f%%), seed %d, %.1f s\n",
		s.FakeN, s.RealN, s.Real, s.Evaluator, s.EvaluatorData, 100*s.EvaluatorAccuracy, s.Seed, s.Seconds)
	fmt.Fprintf(w, "FD (Fréchet distance of evaluator features; not FID)  %.3f\n", s.FD)
	fmt.Fprintf(w, "KID (unbiased MMD², cubic kernel)                     %.5f ± %.5f (s.e.; s.d. %.5f over %d subsets of %d)\n", s.KID.Mean, s.KID.SE, s.KID.SD, s.KID.Subsets, s.KID.SubsetSize)
	fmt.Fprintf(w, "precision / recall (k = 3)                            %.4f / %.4f\n", s.Precision, s.Recall)
	fmt.Fprintf(w, "density / coverage (k = 5)                            %.4f / %.4f\n", s.Density, s.Coverage)
	k := len(j.Scorer.ClassNames())
	fmt.Fprintf(w, "classes: entropy %.3f of %.3f, largest share %.3f, smallest %.3f; score (IS analogue) %.2f of %d\n",
		s.Classes.Entropy, logf(k), s.Classes.MaxShare, s.Classes.MinShare, s.Classes.Score, k)
	if a := s.ConditionalAccuracy; a != nil {
		fmt.Fprintf(w, "conditional accuracy (the evaluator's class is the class asked for)  %.4f\n", *a)
	}
	if len(s.ClassAccuracy) == k && k <= 100 {
		names := j.Scorer.ClassNames()
		fmt.Fprint(w, "  class by class:")
		for c, a := range s.ClassAccuracy {
			sep := ","
			if c == 0 {
				sep = ""
			}
			fmt.Fprintf(w, "%s %s %.3f", sep, names[c], a)
		}
		fmt.Fprintln(w)
	}
	if st := s.Stacked; st != nil {
		fmt.Fprintf(w, "Stacked MNIST: %d of 1000 modes covered, KL(q || uniform) %.4f (%d samples)\n", st.Modes, st.KL, st.Samples)
	}
	return nil
}

func logf(k int) float64 { return math.Log(float64(k)) }
