package evaluator

import (
	"fmt"
	"time"

	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/metrics"
)

// Stacked scores Stacked MNIST images (three digits as the red, green and
// blue channels; see imgdata.Stack) with an MNIST evaluator applied to each
// channel, as VEEGAN and PacGAN count its modes with a pretrained MNIST
// classifier. Its features are the three channels' features side by side
// (3×256); its class probabilities, over the 1,000 digit triples, are the
// products of the channels' digit probabilities, so the argmax class is
// the triple of the channels' argmax digits. Make one with NewStacked. Like
// the Net it wraps, a Stacked must not be used from several goroutines at
// once.
type Stacked struct {
	// Digits is the MNIST evaluator (28×28, one channel, ten classes).
	Digits *Net
	names  []string
}

// NewStacked wraps an MNIST evaluator for Stacked MNIST.
func NewStacked(digits *Net) (*Stacked, error) {
	if digits.Size != 28 || digits.Channels != 1 || len(digits.Classes) != 10 {
		return nil, fmt.Errorf("Stacked MNIST needs an MNIST evaluator (28×28, 1 channel, 10 classes); this one (%s, trained on %s) takes %d×%d×%d images with %d classes",
			digits.ID, digits.Data, digits.Size, digits.Size, digits.Channels, len(digits.Classes))
	}
	st := &Stacked{Digits: digits, names: make([]string, 1000)}
	for i := range st.names {
		st.names[i] = fmt.Sprintf("%03d", i)
	}
	return st, nil
}

// Shape is 28×28 with 3 channels.
func (st *Stacked) Shape() (size, channels int) { return 28, 3 }

// FeatureLen is 3×FeatureDim.
func (st *Stacked) FeatureLen() int { return 3 * FeatureDim }

// ClassNames are the digit triples "000" … "999".
func (st *Stacked) ClassNames() []string { return st.names }

// Identity is that of the MNIST evaluator, its data described as applied
// per channel.
func (st *Stacked) Identity() (id, data string, accuracy float64) {
	return st.Digits.ID, st.Digits.Data + ", per channel", st.Digits.Accuracy
}

// stackedChunk is how many stacked images Apply handles at a time.
const stackedChunk = 2000

// Apply returns the features (n×768) and the probabilities of the 1,000
// digit triples (n×1000) of n channel-last 28×28×3 images in [-1, 1].
func (st *Stacked) Apply(x []float32, n int) (features, probs []float32, err error) {
	const plane = 28 * 28
	if st.Digits == nil || len(st.names) != 1000 || st.Digits.Size != 28 || st.Digits.Channels != 1 || len(st.Digits.Classes) != 10 {
		return nil, nil, fmt.Errorf("a Stacked scorer must be made by NewStacked from an MNIST evaluator (28×28, 1 channel, 10 classes)")
	}
	if n < 0 || len(x) != n*3*plane {
		return nil, nil, fmt.Errorf("%d values are not %d images of 28×28×3", len(x), n)
	}
	features = make([]float32, n*3*FeatureDim)
	probs = make([]float32, n*1000)
	gray := make([]float32, min(n, stackedChunk)*3*plane)
	for lo := 0; lo < n; lo += stackedChunk {
		m := min(n-lo, stackedChunk)
		// Channel k of image i becomes digit image 3i+k, so the digits'
		// features of image i lie side by side in rows 3i … 3i+2.
		src := x[lo*3*plane : (lo+m)*3*plane]
		g := gray[:m*3*plane]
		for i := range m {
			for p := range plane {
				for k := range 3 {
					g[(i*3+k)*plane+p] = src[(i*plane+p)*3+k]
				}
			}
		}
		f, dp, err := st.Digits.Apply(g, 3*m)
		if err != nil {
			return nil, nil, err
		}
		copy(features[lo*3*FeatureDim:], f)
		for i := range m {
			r, gr, b := dp[(3*i)*10:(3*i+1)*10], dp[(3*i+1)*10:(3*i+2)*10], dp[(3*i+2)*10:(3*i+3)*10]
			out := probs[(lo+i)*1000 : (lo+i+1)*1000]
			for a, pa := range r {
				for c, pc := range gr {
					pac := pa * pc
					row := out[(a*10+c)*10 : (a*10+c+1)*10]
					for d, pd := range b {
						row[d] = pac * pd
					}
				}
			}
		}
	}
	return features, probs, nil
}

// RealFeatures computes the features of up to maxReal stacked images of
// set (chosen at random with seed when it has more; all when maxReal <= 0).
func (st *Stacked) RealFeatures(set *imgdata.Set, name string, maxReal int, seed uint64) (*Real, error) {
	return realFeatures(st, set, name, maxReal, seed)
}

// Score computes the Stacked MNIST mode counts of the n samples (n =
// 26,000 in VEEGAN and PacGAN) and every metric of Net.Score, over the 768
// features and the 1,000 triples. The feature metrics (FD, KID,
// precision/recall, density/coverage) and the class statistics use the
// first min(n, real count) samples, so that they compare equal numbers of
// real and generated images, as those metrics assume; Scores.FakeN says
// how many, Scores.Stacked.Samples how many were counted for the modes.
func (st *Stacked) Score(real *Real, fake []float32, labels []int, n int, seed uint64) (Scores, error) {
	start := time.Now()
	ff, fp, err := st.Apply(fake, n)
	if err != nil {
		return Scores{}, err
	}
	m := min(n, real.Features.N)
	s, err := scoreFeatures(st, real, ff[:m*st.FeatureLen()], fp[:m*1000], m, seed)
	if err != nil {
		return s, err
	}
	if labels != nil {
		if s.ConditionalAccuracy, _, err = conditionalAccuracy(fp, labels, n, 1000); err != nil {
			return s, err
		}
	}
	digits := make([][3]int, n)
	for i := range digits {
		row := fp[i*1000 : (i+1)*1000]
		best := 0
		for c, p := range row {
			if p > row[best] {
				best = c
			}
		}
		digits[i] = [3]int{best / 100, best / 10 % 10, best % 10}
	}
	modes, kl, err := metrics.StackedModes(digits)
	if err != nil {
		return s, err
	}
	s.Stacked = &StackedModes{Modes: modes, KL: kl, Samples: n}
	s.Seconds = time.Since(start).Seconds()
	return s, nil
}
