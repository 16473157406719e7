package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/minmaxgan/minmax/tensor"
	"gonum.org/v1/gonum/mat"
)

// Features are n feature vectors of dimension d, row-major: the
// penultimate-layer activations of an evaluator network for n images.
type Features struct {
	N, D int
	X    []float32
}

// NewFeatures checks that x holds n vectors of dimension d.
func NewFeatures(x []float32, n, d int) (Features, error) {
	if n < 1 || d < 1 || len(x) != n*d {
		return Features{}, fmt.Errorf("%d values do not make %d feature vectors of dimension %d", len(x), n, d)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return Features{}, fmt.Errorf("feature %d of vector %d is %v", i%d, i/d, v)
		}
	}
	return Features{N: n, D: d, X: x}, nil
}

func (f Features) row(i int) []float32 { return f.X[i*f.D : (i+1)*f.D] }

// momentBlock is the number of rows whose products moments sums in one
// float32 GEMM before adding them into float64.
const momentBlock = 256

// moments returns the mean and the unbiased covariance, in float64. The
// mean is summed in float64; the covariance's cross products of centred
// rows come from the float32 GEMM in blocks of momentBlock rows, each
// block's sums added into float64, so rounding grows with the block, not
// with N (relative error ~1e-7, tested against a float64 loop).
func (f Features) moments() ([]float64, *mat.SymDense) {
	d := f.D
	mu := make([]float64, d)
	for i := 0; i < f.N; i++ {
		for j, v := range f.row(i) {
			mu[j] += float64(v)
		}
	}
	for j := range mu {
		mu[j] /= float64(f.N)
	}
	c := make([]float64, d*d)
	xc := make([]float32, momentBlock*d)
	part := make([]float32, d*d)
	for i0 := 0; i0 < f.N; i0 += momentBlock {
		rows := min(momentBlock, f.N-i0)
		blk := xc[:rows*d]
		for r := 0; r < rows; r++ {
			src, dst := f.row(i0+r), blk[r*d:(r+1)*d]
			for j, v := range src {
				dst[j] = float32(float64(v) - mu[j])
			}
		}
		// part = blkᵀ blk (d×d), then accumulate in float64.
		tensor.MatMul(part, blk, blk, d, d, rows, true, false, false)
		for i, v := range part {
			c[i] += float64(v)
		}
	}
	den := float64(max(f.N-1, 1))
	for a := 0; a < d; a++ {
		for b := a; b < d; b++ {
			v := 0.5 * (c[a*d+b] + c[b*d+a]) / den
			c[a*d+b], c[b*d+a] = v, v
		}
	}
	return mu, mat.NewSymDense(d, c)
}

// FrechetDistance is the Fréchet (2-Wasserstein) distance between Gaussians
// fitted to two feature sets (Heusel et al. 2017, "GANs Trained by a Two
// Time-Scale Update Rule Converge to a Local Nash Equilibrium", NeurIPS; as
// FID, but on whatever network computed the features, so its values are not
// comparable with FID's):
//
//	FD = |μ_a − μ_b|² + tr(Σ_a + Σ_b − 2 (Σ_a^½ Σ_b Σ_a^½)^½).
//
// The trace of the root is the nuclear norm (the sum of the singular
// values) of Σ_b^½ Σ_a^½, whose singular values are the square roots of
// the eigenvalues of Σ_a^½ Σ_b Σ_a^½; the symmetric roots come from
// singular value decompositions (sqrtPSD). The result is real and stable
// even for singular covariances, where the general square root of Σ_a Σ_b
// used by common FID code can turn complex, and it is checked against the
// bound tr(·)^½ ≤ (tr Σ_a · tr Σ_b)^½ that every true value meets: a
// violation is an error, not a number.
//
// gonum's symmetric eigensolver (through v0.17.0) is not used: on the
// covariances of a 28×28 run's features (a few directions of variance
// 1e-13 among 256) it returned eigenvalues of 8.5e132 for a matrix whose
// entries are at most 5.1e4 (and FD −2.4e67), and its eigenvalues-only
// path panicked on the same matrix.
func FrechetDistance(a, b Features) (float64, error) {
	if a.D != b.D {
		return 0, fmt.Errorf("feature dimensions %d and %d differ", a.D, b.D)
	}
	if a.N < 2 || b.N < 2 {
		return 0, fmt.Errorf("the Fréchet distance needs at least 2 vectors per set, got %d and %d", a.N, b.N)
	}
	mua, sa := a.moments()
	mub, sb := b.moments()
	var d2 float64
	for i := range mua {
		d := mua[i] - mub[i]
		d2 += d * d
	}
	rootA, err := sqrtPSD(sa)
	if err != nil {
		return 0, err
	}
	rootB, err := sqrtPSD(sb)
	if err != nil {
		return 0, err
	}
	var p mat.Dense
	p.Mul(rootB, rootA)
	var svd mat.SVD
	if !svd.Factorize(&p, mat.SVDNone) {
		return 0, fmt.Errorf("the singular value decomposition for the Fréchet distance did not converge")
	}
	var trRoot float64
	for _, v := range svd.Values(nil) {
		trRoot += v
	}
	ta, tb := mat.Trace(sa), mat.Trace(sb)
	if bound := math.Sqrt(ta * tb); !(trRoot <= bound*(1+1e-9)+1e-300) {
		return 0, fmt.Errorf("the Fréchet distance's tr((Σ_a^½ Σ_b Σ_a^½)^½) came out as %g, above its bound (tr Σ_a · tr Σ_b)^½ = %g: the decomposition failed", trRoot, bound)
	}
	return d2 + ta + tb - 2*trRoot, nil
}

// sqrtPSD returns the symmetric square root of a positive semi-definite
// matrix S from its singular value decomposition U Σ Vᵀ: the sum of
// σ^½ u uᵀ over the pairs whose u and v agree (for a symmetric matrix
// the singular values are the eigenvalues' magnitudes, and v = −u marks
// a negative eigenvalue, which round-off makes of a zero one: it is
// dropped). The sum of the kept values is checked against the trace.
func sqrtPSD(s *mat.SymDense) (*mat.Dense, error) {
	var svd mat.SVD
	if !svd.Factorize(s, mat.SVDThin) {
		return nil, fmt.Errorf("the singular value decomposition of a covariance did not converge")
	}
	vals := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	n := len(vals)
	scaled := mat.NewDense(n, n, nil)
	var sum, neg float64
	for j, l := range vals {
		var dot float64
		for i := 0; i < n; i++ {
			dot += u.At(i, j) * v.At(i, j)
		}
		if dot < 0 {
			neg += l
			continue
		}
		sum += l
		r := math.Sqrt(l)
		for i := 0; i < n; i++ {
			scaled.Set(i, j, u.At(i, j)*r)
		}
	}
	if tr := mat.Trace(s); math.Abs(sum-neg-tr) > 1e-8*math.Max(tr, 1e-300)+1e-300 {
		return nil, fmt.Errorf("the decomposition of a covariance is inconsistent: its eigenvalues sum to %g, its trace is %g", sum-neg, tr)
	}
	var out mat.Dense
	out.Mul(scaled, u.T())
	return &out, nil
}

// KID is the kernel inception distance of Bińkowski et al. (2018,
// "Demystifying MMD GANs", ICLR): the unbiased estimate of the squared
// maximum mean discrepancy with the cubic polynomial kernel
// k(x, y) = (x·y/d + 1)³, averaged over Subsets random subsets of SubsetSize
// vectors from each set (as in their code), with the standard deviation
// over subsets and the standard error of the mean (SD/√Subsets; subsets
// overlap when the sets are small, which makes this an underestimate).
type KID struct {
	Mean       float64 `json:"mean"`
	SD         float64 `json:"sd"`
	SE         float64 `json:"se"`
	Subsets    int     `json:"subsets"`
	SubsetSize int     `json:"subset_size"`
}

// UnmarshalJSON reads a KID, also as written before its keys were lower
// case (Mean, SD, SE, Subsets, SubsetSize), so that metrics.jsonl files of
// older runs still load.
func (k *KID) UnmarshalJSON(b []byte) error {
	type plain KID
	var v struct {
		plain
		OldSubsetSize int `json:"SubsetSize"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*k = KID(v.plain)
	if k.SubsetSize == 0 {
		k.SubsetSize = v.OldSubsetSize
	}
	return nil
}

// KernelInceptionDistance computes KID with the given number of subsets
// and subset size (the size is capped at the smaller set), drawing the
// subsets from rng.
func KernelInceptionDistance(a, b Features, subsets, size int, rng *tensor.RNG) (KID, error) {
	if a.D != b.D {
		return KID{}, fmt.Errorf("feature dimensions %d and %d differ", a.D, b.D)
	}
	size = min(size, a.N, b.N)
	if size < 2 || subsets < 1 {
		return KID{}, fmt.Errorf("KID needs subsets of at least 2 vectors and at least 1 subset, got %d and %d", size, subsets)
	}
	d := a.D
	xs, ys := make([]float32, size*d), make([]float32, size*d)
	kxx, kyy, kxy := make([]float32, size*size), make([]float32, size*size), make([]float32, size*size)
	vals := make([]float64, subsets)
	for s := range vals {
		pick(rng, a, size, xs)
		pick(rng, b, size, ys)
		tensor.MatMul(kxx, xs, xs, size, size, d, false, true, false)
		tensor.MatMul(kyy, ys, ys, size, size, d, false, true, false)
		tensor.MatMul(kxy, xs, ys, size, size, d, false, true, false)
		var sxx, syy, sxy float64
		for i := 0; i < size; i++ {
			for j := 0; j < size; j++ {
				if i != j {
					sxx += cubic(kxx[i*size+j], d)
					syy += cubic(kyy[i*size+j], d)
				}
				sxy += cubic(kxy[i*size+j], d)
			}
		}
		m := float64(size)
		vals[s] = sxx/(m*(m-1)) + syy/(m*(m-1)) - 2*sxy/(m*m)
	}
	var mean, v float64
	for _, x := range vals {
		mean += x
	}
	mean /= float64(subsets)
	for _, x := range vals {
		v += (x - mean) * (x - mean)
	}
	sd := 0.0
	if subsets > 1 {
		sd = math.Sqrt(v / float64(subsets-1))
	}
	return KID{Mean: mean, SD: sd, SE: sd / math.Sqrt(float64(subsets)), Subsets: subsets, SubsetSize: size}, nil
}

func cubic(dot float32, d int) float64 {
	k := float64(dot)/float64(d) + 1
	return k * k * k
}

// pick copies size distinct random rows of f into dst.
func pick(rng *tensor.RNG, f Features, size int, dst []float32) {
	for i, r := range rng.Choose(f.N, size) {
		copy(dst[i*f.D:(i+1)*f.D], f.row(r))
	}
}

// PRDC holds improved precision and recall (Kynkäänniemi et al. 2019,
// "Improved Precision and Recall Metric for Assessing Generative Models",
// NeurIPS) and density and coverage (Naeem et al. 2020, "Reliable Fidelity
// and Diversity Metrics for Generative Models", ICML), all with k nearest
// neighbours in feature space.
//
// With B(x, r_k(x)) the ball around a sample reaching its k-th nearest
// neighbour in its own set: precision is the share of generated samples
// inside some ball of a real sample; recall the share of real samples inside
// some ball of a generated one; density = (1/(k·M)) Σ_j #{real i: y_j in
// B(x_i)} (can exceed 1); coverage the share of real samples whose ball holds
// at least one generated sample.
type PRDC struct {
	Precision, Recall, Density, Coverage float64
	K                                    int
}

// PrecisionRecallDensityCoverage computes PRDC between real and fake
// features with k nearest neighbours (k = 3 in Kynkäänniemi et al.; Naeem
// et al. use 5). Distances come from the GEMM in blocks of rows, so 10,000
// against 10,000 vectors take a few seconds and little memory.
func PrecisionRecallDensityCoverage(real, fake Features, k int) (PRDC, error) {
	ps, err := PRDCs(real, fake, k)
	if err != nil {
		return PRDC{}, err
	}
	return ps[0], nil
}

// PRDCs computes PRDC for each of ks at the cost of one: the distances,
// which dominate, are computed once for all of them.
func PRDCs(real, fake Features, ks ...int) ([]PRDC, error) {
	if real.D != fake.D {
		return nil, fmt.Errorf("feature dimensions %d and %d differ", real.D, fake.D)
	}
	if len(ks) == 0 {
		return nil, fmt.Errorf("no k given for precision and recall")
	}
	for _, k := range ks {
		if k < 1 || real.N <= k || fake.N <= k {
			return nil, fmt.Errorf("k = %d nearest neighbours need more than k vectors per set, got %d real and %d generated", k, real.N, fake.N)
		}
	}
	rReal := kthRadii(real, ks)
	rFake := kthRadii(fake, ks)
	// For every fake sample: is it in some real ball (precision), how many
	// (density); for every real sample: does some fake fall in its ball
	// (coverage), is it in some fake ball (recall).
	type counts struct {
		inReal            []int  // real balls containing fake j
		covered, recalled []bool // real ball i holds some fake; real i lies in some fake ball
	}
	cs := make([]counts, len(ks))
	for q := range cs {
		cs[q] = counts{make([]int, fake.N), make([]bool, real.N), make([]bool, real.N)}
	}
	sqDistBlocks(real, fake, func(i0 int, d2 []float32, rows int) {
		for q := range ks {
			c, rr, rf := &cs[q], rReal[q], rFake[q]
			for r := 0; r < rows; r++ {
				i := i0 + r
				row := d2[r*fake.N : (r+1)*fake.N]
				ri := rr[i]
				cov, rec := false, false
				for j, v := range row {
					dd := float64(v)
					if dd <= ri {
						c.inReal[j]++
						cov = true
					}
					if dd <= rf[j] {
						rec = true
					}
				}
				c.covered[i] = c.covered[i] || cov
				c.recalled[i] = c.recalled[i] || rec
			}
		}
	})
	out := make([]PRDC, len(ks))
	for q, k := range ks {
		c := cs[q]
		var prec, dens, cov, rec int
		for _, n := range c.inReal {
			if n > 0 {
				prec++
			}
			dens += n
		}
		for i := range c.covered {
			if c.covered[i] {
				cov++
			}
			if c.recalled[i] {
				rec++
			}
		}
		out[q] = PRDC{K: k,
			Precision: float64(prec) / float64(fake.N),
			Density:   float64(dens) / float64(k*fake.N),
			Coverage:  float64(cov) / float64(real.N),
			Recall:    float64(rec) / float64(real.N)}
	}
	return out, nil
}

// kthRadii returns, for each k of ks and each vector, the squared distance
// to its k-th nearest neighbour among the others of its set.
func kthRadii(f Features, ks []int) [][]float64 {
	kmax := slices.Max(ks)
	out := make([][]float64, len(ks))
	for q := range out {
		out[q] = make([]float64, f.N)
	}
	best := make([]float32, kmax)
	sqDistBlocks(f, f, func(i0 int, d2 []float32, rows int) {
		for r := 0; r < rows; r++ {
			i := i0 + r
			row := d2[r*f.N : (r+1)*f.N]
			// best holds the kmax smallest distances seen, in order.
			n := 0
			for j, v := range row {
				if j == i {
					continue
				}
				if n < kmax {
					best[n] = v
					n++
					for q := n - 1; q > 0 && best[q] < best[q-1]; q-- {
						best[q], best[q-1] = best[q-1], best[q]
					}
					continue
				}
				if v < best[kmax-1] {
					best[kmax-1] = v
					for q := kmax - 1; q > 0 && best[q] < best[q-1]; q-- {
						best[q], best[q-1] = best[q-1], best[q]
					}
				}
			}
			for q, k := range ks {
				out[q][i] = float64(best[k-1])
			}
		}
	})
	return out
}

// sqDistBlocks calls fn with the squared distances between blocks of rows
// of a and all of b: |x|² + |y|² − 2 x·y, the dot products by the GEMM,
// clamped at 0.
func sqDistBlocks(a, b Features, fn func(i0 int, d2 []float32, rows int)) {
	na := norms(a)
	nb := norms(b)
	const block = 512
	buf := make([]float32, block*b.N)
	for i0 := 0; i0 < a.N; i0 += block {
		rows := min(block, a.N-i0)
		d2 := buf[:rows*b.N]
		tensor.MatMul(d2, a.X[i0*a.D:(i0+rows)*a.D], b.X, rows, b.N, a.D, false, true, false)
		for r := 0; r < rows; r++ {
			row := d2[r*b.N : (r+1)*b.N]
			x := na[i0+r]
			for j := range row {
				v := x + nb[j] - 2*row[j]
				if v < 0 {
					v = 0
				}
				row[j] = v
			}
		}
		fn(i0, d2, rows)
	}
}

func norms(f Features) []float32 {
	out := make([]float32, f.N)
	for i := range out {
		var s float32
		for _, v := range f.row(i) {
			s += v * v
		}
		out[i] = s
	}
	return out
}
