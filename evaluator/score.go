package evaluator

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/metrics"
	"github.com/minmaxgan/minmax/tensor"
)

// Scores are the image metrics of a set of samples against real data, with
// what is needed to compare them honestly: the evaluator's identity and
// accuracy, the sample counts and the seed.
type Scores struct {
	// FD is the Fréchet distance in the evaluator's feature space ("FD",
	// not FID: the features are not Inception's).
	FD  float64     `json:"fd"`
	KID metrics.KID `json:"kid"`
	// Precision and recall with k = 3 (Kynkäänniemi et al.), density and
	// coverage with k = 5 (Naeem et al.).
	Precision float64            `json:"precision"`
	Recall    float64            `json:"recall"`
	Density   float64            `json:"density"`
	Coverage  float64            `json:"coverage"`
	Classes   metrics.ClassStats `json:"classes"`
	// ConditionalAccuracy is, for samples of a class-conditional generator,
	// the share that the evaluator classifies as the class they were asked
	// for (unset otherwise).
	ConditionalAccuracy *float64 `json:"conditional_accuracy,omitempty"`
	// ClassAccuracy is ConditionalAccuracy class by class: for each class
	// of the evaluator, the share of the samples asked for it that it
	// classifies so (NaN-free: 0 for a class nobody asked for; unset
	// without labels and for Stacked MNIST's 1,000 triples).
	ClassAccuracy []float64 `json:"class_accuracy,omitempty"`
	// Stacked holds the Stacked MNIST mode counts; it is set only when the
	// samples are scored by a Stacked evaluator.
	Stacked *StackedModes `json:"stacked_mnist,omitempty"`

	Evaluator         string  `json:"evaluator"`
	EvaluatorData     string  `json:"evaluator_data"`
	EvaluatorAccuracy float64 `json:"evaluator_accuracy"`
	Real              string  `json:"real"`
	RealN             int     `json:"real_n"`
	FakeN             int     `json:"fake_n"`
	Seed              uint64  `json:"seed"`
	Seconds           float64 `json:"seconds"`
}

// StackedModes are the Stacked MNIST figures of VEEGAN and PacGAN: how
// many of the 1,000 digit triples the samples cover and KL(q || uniform)
// of their distribution over the triples, with the sample count.
type StackedModes struct {
	Modes   int     `json:"modes"`
	KL      float64 `json:"kl"`
	Samples int     `json:"samples"`
}

// Model is what the scores need of an evaluator: a *Net for a data set it
// was trained on, or a *Stacked applying an MNIST evaluator channel by
// channel.
type Model interface {
	// Apply returns the features (n×FeatureLen) and class probabilities
	// (n×len(ClassNames)) of n channel-last images in [-1, 1].
	Apply(x []float32, n int) (features, probs []float32, err error)
	// Shape gives the images it takes: size×size with channels.
	Shape() (size, channels int)
	// FeatureLen is the number of features per image.
	FeatureLen() int
	// ClassNames names the classes of the probabilities.
	ClassNames() []string
	// Identity is the hash of the evaluator's file, the data set it was
	// trained on and its test accuracy.
	Identity() (id, data string, accuracy float64)
}

// Real holds the evaluator's features of a set of real images, computed
// once and reused for every score against them.
type Real struct {
	Name     string
	Features metrics.Features
}

// RealFeatures computes the features of up to maxReal images of set
// (chosen at random with seed when it has more; all when maxReal <= 0).
func (e *Net) RealFeatures(set *imgdata.Set, name string, maxReal int, seed uint64) (*Real, error) {
	return realFeatures(e, set, name, maxReal, seed)
}

func realFeatures(e Model, set *imgdata.Set, name string, maxReal int, seed uint64) (*Real, error) {
	size, channels := e.Shape()
	if set.H != size || set.W != size || set.C != channels {
		return nil, fmt.Errorf("it takes %d×%d×%d images, the real data are %d×%d×%d", size, size, channels, set.H, set.W, set.C)
	}
	var idx []int
	if maxReal > 0 && set.N > maxReal {
		idx = tensor.NewRNG(seed^0x7ea1).Choose(set.N, maxReal)
	}
	x, err := Images(set, idx)
	if err != nil {
		return nil, err
	}
	n := len(x) / (size * size * channels)
	f, _, err := e.Apply(x, n)
	if err != nil {
		return nil, err
	}
	feats, err := metrics.NewFeatures(f, n, e.FeatureLen())
	if err != nil {
		return nil, err
	}
	return &Real{Name: name, Features: feats}, nil
}

// Score computes every metric of n samples (channel-last, in [-1, 1])
// against the real features. KID uses 100 subsets of up to 1,000 vectors
// (half the smaller set when that is under 2,000). When labels (the class
// each sample was asked for) are given, Scores.ConditionalAccuracy is the
// share of samples the evaluator classifies as asked, and
// Scores.ClassAccuracy that share class by class.
func (e *Net) Score(real *Real, fake []float32, labels []int, n int, seed uint64) (Scores, error) {
	start := time.Now()
	ff, fp, err := e.Apply(fake, n)
	if err != nil {
		return Scores{}, err
	}
	s, err := scoreFeatures(e, real, ff, fp, n, seed)
	if err == nil && labels != nil {
		s.ConditionalAccuracy, s.ClassAccuracy, err = conditionalAccuracy(fp, labels, n, len(e.Classes))
	}
	s.Seconds = time.Since(start).Seconds()
	return s, err
}

// conditionalAccuracy is the share of the n samples whose most probable
// class (probs, n×k) is the one they were asked for, and that share
// class by class (0 for a class no sample was asked for).
func conditionalAccuracy(probs []float32, labels []int, n, k int) (*float64, []float64, error) {
	if len(labels) != n {
		return nil, nil, fmt.Errorf("%d labels for %d samples", len(labels), n)
	}
	asked, right := make([]int, k), make([]int, k)
	total := 0
	for i, l := range labels {
		if l < 0 || l >= k {
			return nil, nil, fmt.Errorf("label %d of sample %d is not one of the evaluator's %d classes", l, i, k)
		}
		asked[l]++
		if argmax(probs[i*k:(i+1)*k]) == l {
			right[l]++
			total++
		}
	}
	perClass := make([]float64, k)
	for c := range perClass {
		if asked[c] > 0 {
			perClass[c] = float64(right[c]) / float64(asked[c])
		}
	}
	acc := float64(total) / float64(n)
	return &acc, perClass, nil
}

// argmax is the index of the largest value (the first of equal ones).
func argmax(row []float32) int {
	best := 0
	for c, p := range row {
		if p > row[best] {
			best = c
		}
	}
	return best
}

// scoreFeatures computes the metrics from the features ff and class
// probabilities fp of n samples.
func scoreFeatures(e Model, real *Real, ff, fp []float32, n int, seed uint64) (Scores, error) {
	ffeat, err := metrics.NewFeatures(ff, n, e.FeatureLen())
	if err != nil {
		return Scores{}, fmt.Errorf("generated samples: %w", err)
	}
	rfeat := real.Features
	id, data, acc := e.Identity()
	s := Scores{Evaluator: id, EvaluatorData: data, EvaluatorAccuracy: acc, Real: real.Name, RealN: rfeat.N, FakeN: n, Seed: seed}
	if s.FD, err = metrics.FrechetDistance(rfeat, ffeat); err != nil {
		return s, err
	}
	size := min(1000, max(2, min(rfeat.N, n)/2))
	if s.KID, err = metrics.KernelInceptionDistance(rfeat, ffeat, 100, size, tensor.NewRNG(seed)); err != nil {
		return s, err
	}
	prdc, err := metrics.PRDCs(rfeat, ffeat, 3, 5)
	if err != nil {
		return s, err
	}
	s.Precision, s.Recall, s.Density, s.Coverage = prdc[0].Precision, prdc[0].Recall, prdc[1].Density, prdc[1].Coverage
	if s.Classes, err = metrics.ClassStatistics(fp, n, len(e.ClassNames())); err != nil {
		return s, err
	}
	return s, nil
}

// DefaultPath is where `minmax evaluator train` saves the evaluator of a
// data set and where scoring looks for it: evaluators/NAME.safetensors.
func DefaultPath(data string) string {
	name := strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, data), "_")
	return filepath.Join("evaluators", name+".safetensors")
}

// Scorer is a Model that also computes features of real sets and scores
// samples: a *Net or a *Stacked.
type Scorer interface {
	Model
	// RealFeatures computes the features of up to maxReal images of set
	// (chosen at random with seed when it has more), named name in scores.
	RealFeatures(set *imgdata.Set, name string, maxReal int, seed uint64) (*Real, error)
	// Score computes the metrics of n channel-last samples in [-1, 1]
	// against real; labels (or nil) are the classes the samples were
	// asked for.
	Score(real *Real, fake []float32, labels []int, n int, seed uint64) (Scores, error)
}

// DefaultFor returns where the evaluator that scores data lives by default
// and the data set it is trained on: evaluators/DATA.safetensors, except
// for Stacked MNIST, which is scored with the MNIST evaluator
// (evaluators/mnist.safetensors).
func DefaultFor(data string) (path, trainedOn string) {
	data = imgdata.CanonicalName(data)
	if data == imgdata.StackedMNIST {
		return DefaultPath("mnist"), "mnist"
	}
	return DefaultPath(data), data
}

// ForData loads the evaluator that scores images of data from path (the
// default of DefaultFor when path is ""): for Stacked MNIST an MNIST
// evaluator, wrapped by NewStacked.
func ForData(data, path string) (Scorer, error) {
	if path == "" {
		path, _ = DefaultFor(data)
	}
	e, err := Load(path)
	if err != nil {
		return nil, err
	}
	if imgdata.CanonicalName(data) == imgdata.StackedMNIST {
		st, err := NewStacked(e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return st, nil
	}
	return e, nil
}

// RealSet opens the real images that samples of data are scored against:
// its test split, or, for data without one (a folder of images), all its
// images. name describes which, for the scores' records.
func RealSet(data string, size, channels int) (set *imgdata.Set, name string, err error) {
	set, err = imgdata.Open(data, "test", size, channels)
	if errors.Is(err, imgdata.ErrNoSplit) {
		if set, err = imgdata.Open(data, "train", size, channels); err != nil {
			return nil, "", err
		}
		return set, data + " (all images)", nil
	}
	if err != nil {
		return nil, "", err
	}
	return set, data + " (test)", nil
}
