package metrics

import (
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/minmaxgan/minmax/tensor"
	"gonum.org/v1/gonum/mat"
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

// The covariance from float32 GEMM blocks agrees with a float64 loop, also
// for features far from zero (post-ReLU features have large means).
func TestMomentsMatchFloat64(t *testing.T) {
	rng := tensor.NewRNG(11)
	const n, d = 3001, 37
	mean, sd := make([]float64, d), make([]float64, d)
	for j := range mean {
		mean[j], sd[j] = 5+float64(j), 0.1+float64(j%5)
	}
	f := gauss(rng, n, d, mean, sd)
	mu, cov := f.moments()
	ref := make([]float64, d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			ref[j] += float64(f.X[i*d+j]) / n
		}
	}
	var worst float64
	defer func() { t.Logf("largest covariance error %.2g of sqrt(var_a var_b)", worst) }()
	for a := 0; a < d; a++ {
		if math.Abs(mu[a]-ref[a]) > 1e-9*math.Abs(ref[a]) {
			t.Fatalf("mean %d: %v, want %v", a, mu[a], ref[a])
		}
		for b := 0; b < d; b++ {
			var want float64
			for i := 0; i < n; i++ {
				want += (float64(f.X[i*d+a]) - ref[a]) * (float64(f.X[i*d+b]) - ref[b])
			}
			want /= n - 1
			scale := math.Sqrt(cov.At(a, a) * cov.At(b, b))
			worst = math.Max(worst, math.Abs(cov.At(a, b)-want)/scale)
			if got := cov.At(a, b); math.Abs(got-want) > 2e-6*scale || got != cov.At(b, a) {
				t.Fatalf("covariance (%d, %d): %v, want %v (scale %v)", a, b, got, want, scale)
			}
		}
	}
}

// PRDCs agrees with the definitions computed by brute force in float64,
// for several k at once.
func TestPRDCsMatchBruteForce(t *testing.T) {
	rng := tensor.NewRNG(12)
	real := gauss(rng, 300, 5, fill(5, 0), fill(5, 1))
	fake := gauss(rng, 250, 5, fill(5, 0.4), fill(5, 0.8))
	d2 := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			x := float64(a[i]) - float64(b[i])
			s += x * x
		}
		return s
	}
	radius := func(f Features, i, k int) float64 {
		var ds []float64
		for j := 0; j < f.N; j++ {
			if j != i {
				ds = append(ds, d2(f.row(i), f.row(j)))
			}
		}
		slices.Sort(ds)
		return ds[k-1]
	}
	ks := []int{1, 3, 5}
	got, err := PRDCs(real, fake, ks...)
	if err != nil {
		t.Fatal(err)
	}
	for q, k := range ks {
		rr, rf := make([]float64, real.N), make([]float64, fake.N)
		for i := range rr {
			rr[i] = radius(real, i, k)
		}
		for j := range rf {
			rf[j] = radius(fake, j, k)
		}
		var prec, dens, cov, rec int
		for j := 0; j < fake.N; j++ {
			in := 0
			for i := 0; i < real.N; i++ {
				if d2(real.row(i), fake.row(j)) <= rr[i] {
					in++
				}
			}
			dens += in
			if in > 0 {
				prec++
			}
		}
		for i := 0; i < real.N; i++ {
			c, r := false, false
			for j := 0; j < fake.N; j++ {
				dd := d2(real.row(i), fake.row(j))
				c = c || dd <= rr[i]
				r = r || dd <= rf[j]
			}
			if c {
				cov++
			}
			if r {
				rec++
			}
		}
		want := PRDC{K: k, Precision: float64(prec) / 250, Recall: float64(rec) / 300, Density: float64(dens) / float64(k*250), Coverage: float64(cov) / 300}
		// float32 distances may flip a comparison at a ball's edge: allow
		// one sample either way.
		g := got[q]
		if g.K != k || math.Abs(g.Precision-want.Precision) > 1.0/250 || math.Abs(g.Recall-want.Recall) > 1.0/300 ||
			math.Abs(g.Density-want.Density) > 1.0/float64(k*250) || math.Abs(g.Coverage-want.Coverage) > 1.0/300 {
			t.Errorf("k = %d: got %+v, want %+v", k, g, want)
		}
	}
}

func TestKIDReadsOldAndNewKeys(t *testing.T) {
	for _, js := range []string{
		`{"mean": 1.5, "sd": 0.2, "se": 0.02, "subsets": 100, "subset_size": 1000}`,
		`{"Mean": 1.5, "SD": 0.2, "SE": 0.02, "Subsets": 100, "SubsetSize": 1000}`,
	} {
		var k KID
		if err := json.Unmarshal([]byte(js), &k); err != nil {
			t.Fatal(err)
		}
		if k != (KID{Mean: 1.5, SD: 0.2, SE: 0.02, Subsets: 100, SubsetSize: 1000}) {
			t.Errorf("%s read as %+v", js, k)
		}
	}
	b, _ := json.Marshal(KID{Mean: 1, SubsetSize: 7})
	if string(b) != `{"mean":1,"sd":0,"se":0,"subsets":0,"subset_size":7}` {
		t.Errorf("written as %s", b)
	}
}

// sqrtPSD's root squares back to the matrix: a positive definite one, a
// singular one (rank 3 of 6) and one with a block of norm 1e-130 (gonum's
// eigenvalues-only solver panicked on such a block).
func TestSqrtPSD(t *testing.T) {
	rng := tensor.NewRNG(3)
	psd := func(n, rank int) *mat.SymDense {
		x := make([]float64, n*rank)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		g := mat.NewDense(n, rank, x)
		var s mat.SymDense
		s.SymOuterK(1, g)
		return &s
	}
	tiny := mat.NewSymDense(4, []float64{1, 0.5, 0, 0, 0.5, 2, 0, 0, 0, 0, 1e-130, 3e-131, 0, 0, 3e-131, 2e-130})
	for name, s := range map[string]*mat.SymDense{"full rank": psd(6, 8), "rank 3": psd(6, 3), "tiny block": tiny} {
		r, err := sqrtPSD(s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var sq mat.Dense
		sq.Mul(r, r)
		n := s.SymmetricDim()
		scale := mat.Norm(s, math.Inf(1))
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if d := math.Abs(sq.At(i, j) - s.At(i, j)); d > 1e-9*scale {
					t.Fatalf("%s: root² [%d, %d] = %g, want %g", name, i, j, sq.At(i, j), s.At(i, j))
				}
			}
		}
	}
}

// The Fréchet distance of feature sets with many constant components
// (fewer vectors than dimensions, and dead features, as a 28×28 run's
// evaluator features have) is non-negative, 0 for a set against itself,
// and equals the distance of the varying components alone.
func TestFrechetDistanceDegenerate(t *testing.T) {
	rng := tensor.NewRNG(4)
	const n, d, live = 40, 64, 12
	make1 := func(shift float64) (full, part Features) {
		x, y := make([]float32, n*d), make([]float32, n*live)
		for i := 0; i < n; i++ {
			for j := 0; j < d; j++ {
				v := float32(0.25)
				if j < live {
					v = float32(rng.NormFloat64()*(1+float64(j)/4) + shift)
					y[i*live+j] = v
				}
				x[i*d+j] = v
			}
		}
		return Features{N: n, D: d, X: x}, Features{N: n, D: live, X: y}
	}
	a, ap := make1(0)
	b, bp := make1(0.5)
	self, err := FrechetDistance(a, a)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(self) > 1e-9*float64(d) {
		t.Fatalf("FD of a set against itself = %g, want 0", self)
	}
	full, err := FrechetDistance(a, b)
	if err != nil {
		t.Fatal(err)
	}
	part, err := FrechetDistance(ap, bp)
	if err != nil {
		t.Fatal(err)
	}
	if full < 0 || math.Abs(full-part) > 1e-9*part {
		t.Fatalf("FD with constant components %g, of the varying ones alone %g", full, part)
	}
}
