package metrics

import (
	"fmt"
	"math"
)

// ClassStats describes how an evaluator classifies generated images: the
// share of each class among the argmax predictions, its entropy (log K for a
// perfectly balanced generator, 0 for one that makes one class), the largest
// and smallest shares, and an Inception Score analogue computed from the
// evaluator's softmax instead of Inception's (Salimans et al. 2016,
// "Improved Techniques for Training GANs"): exp(E_x KL(p(y|x) || p(y))),
// between 1 and K, high when each image is classified confidently and the
// classes are used evenly. It is comparable only between runs scored by the
// same evaluator.
type ClassStats struct {
	Shares   []float64 `json:"shares"`
	Entropy  float64   `json:"entropy"`
	MaxShare float64   `json:"max_share"`
	MinShare float64   `json:"min_share"`
	Score    float64   `json:"score"`
}

// ClassStatistics computes ClassStats from n rows of k class probabilities
// (each row a softmax, summing to 1).
func ClassStatistics(probs []float32, n, k int) (ClassStats, error) {
	if n < 1 || k < 2 || len(probs) != n*k {
		return ClassStats{}, fmt.Errorf("%d probabilities do not make %d rows of %d classes", len(probs), n, k)
	}
	counts := make([]float64, k)
	marg := make([]float64, k)
	for i := 0; i < n; i++ {
		row := probs[i*k : (i+1)*k]
		best := 0
		for c, p := range row {
			if p < 0 || math.IsNaN(float64(p)) {
				return ClassStats{}, fmt.Errorf("probability %d of row %d is %v", c, i, p)
			}
			if p > row[best] {
				best = c
			}
			marg[c] += float64(p)
		}
		counts[best]++
	}
	s := ClassStats{Shares: make([]float64, k), MinShare: 1}
	for c := range counts {
		sh := counts[c] / float64(n)
		s.Shares[c] = sh
		if sh > 0 {
			s.Entropy -= sh * math.Log(sh)
		}
		s.MaxShare = math.Max(s.MaxShare, sh)
		s.MinShare = math.Min(s.MinShare, sh)
		marg[c] /= float64(n)
	}
	var kl float64
	for i := 0; i < n; i++ {
		for c, p := range probs[i*k : (i+1)*k] {
			if p > 0 && marg[c] > 0 {
				kl += float64(p) * math.Log(float64(p)/marg[c])
			}
		}
	}
	s.Score = math.Exp(kl / float64(n))
	return s, nil
}

// StackedModes counts the modes of Stacked MNIST (Metz et al. 2017; the
// protocol of VEEGAN and PacGAN): each generated image is three digits
// stacked as channels, classified channel by channel, so there are 1,000
// modes. It returns how many modes the samples' digit triples cover and
// the KL divergence KL(q || uniform) of their distribution q over modes from
// the uniform one (log 1000 ≈ 6.91 for a single mode, 0 for a perfectly even
// generator).
func StackedModes(digits [][3]int) (covered int, kl float64, err error) {
	if len(digits) == 0 {
		return 0, 0, fmt.Errorf("no samples")
	}
	var counts [1000]int
	for i, d := range digits {
		for _, v := range d {
			if v < 0 || v > 9 {
				return 0, 0, fmt.Errorf("sample %d has digit %d, want 0 to 9", i, v)
			}
		}
		counts[100*d[0]+10*d[1]+d[2]]++
	}
	n := float64(len(digits))
	for _, c := range counts {
		if c > 0 {
			covered++
			q := float64(c) / n
			kl += q * math.Log(q*1000)
		}
	}
	return covered, kl, nil
}
