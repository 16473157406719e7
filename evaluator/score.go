package evaluator

import (
	"fmt"
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

	Evaluator         string  `json:"evaluator"`
	EvaluatorData     string  `json:"evaluator_data"`
	EvaluatorAccuracy float64 `json:"evaluator_accuracy"`
	Real              string  `json:"real"`
	RealN             int     `json:"real_n"`
	FakeN             int     `json:"fake_n"`
	Seed              uint64  `json:"seed"`
	Seconds           float64 `json:"seconds"`
}

// Score computes every metric of n samples (channel-last, in [-1, 1])
// against the real set, using up to maxReal of its images (chosen at random
// with seed when it has more). KID uses 100 subsets of up to 1,000.
func (e *Net) Score(real *imgdata.Set, realName string, maxReal int, fake []float32, n int, seed uint64) (Scores, error) {
	start := time.Now()
	if real.H != e.Size || real.W != e.Size || real.C != e.Channels {
		return Scores{}, fmt.Errorf("evaluator: it was trained on %d×%d×%d images, the real data are %d×%d×%d", e.Size, e.Size, e.Channels, real.H, real.W, real.C)
	}
	rng := tensor.NewRNG(seed)
	var idx []int
	if maxReal > 0 && real.N > maxReal {
		perm := make([]int, real.N)
		for i := range perm {
			perm[i] = i
		}
		for i := 0; i < maxReal; i++ {
			j := i + rng.IntN(real.N-i)
			perm[i], perm[j] = perm[j], perm[i]
		}
		idx = perm[:maxReal]
	}
	rx, err := Images(real, idx)
	if err != nil {
		return Scores{}, err
	}
	nr := len(rx) / e.Dim()
	rf, _, err := e.Apply(rx, nr)
	if err != nil {
		return Scores{}, err
	}
	ff, fp, err := e.Apply(fake, n)
	if err != nil {
		return Scores{}, err
	}
	rfeat, err := metrics.NewFeatures(rf, nr, FeatureDim)
	if err != nil {
		return Scores{}, err
	}
	ffeat, err := metrics.NewFeatures(ff, n, FeatureDim)
	if err != nil {
		return Scores{}, fmt.Errorf("generated samples: %w", err)
	}
	s := Scores{Evaluator: e.ID, EvaluatorData: e.Data, EvaluatorAccuracy: e.Accuracy, Real: realName, RealN: nr, FakeN: n, Seed: seed}
	if s.FD, err = metrics.FrechetDistance(rfeat, ffeat); err != nil {
		return s, err
	}
	if s.KID, err = metrics.KernelInceptionDistance(rfeat, ffeat, 100, 1000, rng); err != nil {
		return s, err
	}
	pr, err := metrics.PrecisionRecallDensityCoverage(rfeat, ffeat, 3)
	if err != nil {
		return s, err
	}
	dc, err := metrics.PrecisionRecallDensityCoverage(rfeat, ffeat, 5)
	if err != nil {
		return s, err
	}
	s.Precision, s.Recall, s.Density, s.Coverage = pr.Precision, pr.Recall, dc.Density, dc.Coverage
	if s.Classes, err = metrics.ClassStatistics(fp, n, len(e.Classes)); err != nil {
		return s, err
	}
	s.Seconds = time.Since(start).Seconds()
	return s, nil
}
