package metrics

import (
	"math"
	"testing"

	"github.com/minmaxgan/minmax/tensor"
)

func gauss(rng *tensor.RNG, n, d int, mean, sd []float64) Features {
	x := make([]float32, n*d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			x[i*d+j] = float32(mean[j] + sd[j]*rng.NormFloat64())
		}
	}
	f, _ := NewFeatures(x, n, d)
	return f
}

func fill(d int, v float64) []float64 {
	s := make([]float64, d)
	for i := range s {
		s[i] = v
	}
	return s
}

// For Gaussians with diagonal covariances the Fréchet distance is
// Σ (μa − μb)² + Σ (σa − σb)²; with 20,000 samples in 8 dimensions the
// estimate must land within a few percent.
func TestFrechetDistanceOfGaussians(t *testing.T) {
	rng := tensor.NewRNG(1)
	const n, d = 20000, 8
	ma, mb := fill(d, 0), fill(d, 0.5)
	sa, sb := fill(d, 1), fill(d, 2)
	want := float64(d)*0.25 + float64(d)*1.0
	fd, err := FrechetDistance(gauss(rng, n, d, ma, sa), gauss(rng, n, d, mb, sb))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(fd-want) > 0.05*want {
		t.Fatalf("FD = %g, want %g", fd, want)
	}
	same, _ := FrechetDistance(gauss(rng, n, d, ma, sa), gauss(rng, n, d, ma, sa))
	if same > 0.01 || same < -1e-9 {
		t.Fatalf("FD of two samples of one Gaussian = %g, want ≈ 0", same)
	}
	// A singular covariance (one constant feature) stays real and finite.
	sz := fill(d, 1)
	sz[3] = 0
	fz, err := FrechetDistance(gauss(rng, 500, d, ma, sz), gauss(rng, 500, d, ma, sz))
	if err != nil || math.IsNaN(fz) || fz < -1e-9 || fz > 0.2 {
		t.Fatalf("FD with a singular covariance = %g, %v", fz, err)
	}
}

func TestKIDIsUnbiasedAndSeparates(t *testing.T) {
	rng := tensor.NewRNG(2)
	const d = 16
	a, b := gauss(rng, 3000, d, fill(d, 0), fill(d, 1)), gauss(rng, 3000, d, fill(d, 0), fill(d, 1))
	k, err := KernelInceptionDistance(a, b, 20, 500, tensor.NewRNG(3))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(k.Mean) > 4*k.SD/math.Sqrt(20)+1e-4 {
		t.Fatalf("KID between samples of one distribution: %+v, want ≈ 0", k)
	}
	c := gauss(rng, 3000, d, fill(d, 0.5), fill(d, 1))
	k2, _ := KernelInceptionDistance(a, c, 20, 500, tensor.NewRNG(3))
	if k2.Mean < 10*k2.SE || k2.Mean <= k.Mean {
		t.Fatalf("KID of shifted data %+v is not clearly positive", k2)
	}
}

func TestPRDCSanity(t *testing.T) {
	rng := tensor.NewRNG(4)
	const d = 8
	real := gauss(rng, 2000, d, fill(d, 0), fill(d, 1))
	other := gauss(rng, 2000, d, fill(d, 0), fill(d, 1))
	p, err := PrecisionRecallDensityCoverage(real, other, 3)
	if err != nil {
		t.Fatal(err)
	}
	if p.Precision < 0.7 || p.Recall < 0.7 || p.Coverage < 0.8 || math.Abs(p.Density-1) > 0.25 {
		t.Fatalf("real against real: %+v, want precision, recall and coverage near 1 and density ≈ 1", p)
	}
	// A generator that outputs one image (here: one point of the data).
	one := make([]float32, 2000*d)
	for i := 0; i < 2000; i++ {
		copy(one[i*d:(i+1)*d], real.row(7))
	}
	f, _ := NewFeatures(one, 2000, d)
	q, _ := PrecisionRecallDensityCoverage(real, f, 3)
	if q.Recall > 0.01 || q.Coverage > 0.01 || q.Precision < 0.99 {
		t.Fatalf("a one-image generator: %+v, want recall and coverage ≈ 0 (and precision 1)", q)
	}
	// Noise far from the data: precision and density 0.
	far := gauss(rng, 2000, d, fill(d, 10), fill(d, 1))
	r, _ := PrecisionRecallDensityCoverage(real, far, 3)
	if r.Precision != 0 || r.Density != 0 || r.Recall != 0 || r.Coverage != 0 {
		t.Fatalf("distant noise: %+v, want all 0", r)
	}
}

func TestClassStatistics(t *testing.T) {
	// Confident and balanced over 4 classes: score 4, entropy log 4.
	probs := make([]float32, 8*4)
	for i := 0; i < 8; i++ {
		probs[i*4+i%4] = 1
	}
	s, err := ClassStatistics(probs, 8, 4)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.Score-4) > 1e-9 || math.Abs(s.Entropy-math.Log(4)) > 1e-12 || s.MaxShare != 0.25 || s.MinShare != 0.25 {
		t.Fatalf("balanced confident classes: %+v", s)
	}
	// One class only: score 1, entropy 0, the smallest share 0.
	for i := range probs {
		probs[i] = 0
	}
	for i := 0; i < 8; i++ {
		probs[i*4+2] = 1
	}
	s, _ = ClassStatistics(probs, 8, 4)
	if math.Abs(s.Score-1) > 1e-9 || s.Entropy != 0 || s.MaxShare != 1 || s.MinShare != 0 {
		t.Fatalf("one class: %+v", s)
	}
}

func TestStackedModes(t *testing.T) {
	var all [][3]int
	for m := 0; m < 1000; m++ {
		all = append(all, [3]int{m / 100, m / 10 % 10, m % 10})
	}
	c, kl, err := StackedModes(all)
	if err != nil || c != 1000 || math.Abs(kl) > 1e-12 {
		t.Fatalf("every mode once: %d modes, KL %g, %v", c, kl, err)
	}
	c, kl, _ = StackedModes([][3]int{{1, 2, 3}, {1, 2, 3}})
	if c != 1 || math.Abs(kl-math.Log(1000)) > 1e-12 {
		t.Fatalf("one mode: %d modes, KL %g", c, kl)
	}
	if _, _, err := StackedModes([][3]int{{1, 2, 10}}); err == nil {
		t.Fatal("digit 10 accepted")
	}
}
