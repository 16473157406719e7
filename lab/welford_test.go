package lab

import (
	"math"
	"testing"

	"github.com/minmaxgan/minmax/tensor"
)

// The one-pass variance agrees with a two-pass one on the exact deviations
// from the offset, also for large, nearly equal values where a sum of
// squares loses every digit and turns negative.
func TestWelfordVariance(t *testing.T) {
	rng := tensor.NewRNG(3).Rand()
	for _, offset := range []float64{0, 1e3, 1e9} {
		const n = 10001
		var w welford
		dev := make([]float64, n)
		var s, s2 float64
		for i := range dev {
			x := offset + rng.NormFloat64()
			dev[i] = x - offset // exact: x and offset are within a factor 2 (Sterbenz), or offset is 0
			w.add(x)
			s += x
			s2 += x * x
		}
		var mean, ss float64
		for _, d := range dev {
			mean += d
		}
		mean /= n
		for _, d := range dev {
			ss += (d - mean) * (d - mean)
		}
		want := ss / (n - 1)
		naive := (s2/n - (s/n)*(s/n)) * n / (n - 1)
		// float64 keeps about 16 digits; an offset of 1e9 over a spread of
		// 1 leaves about 7 of them to the variance.
		if got := w.variance(); math.Abs(got-want) > 1e-6*want || math.Abs(w.mean-offset-mean) > 1e-6 {
			t.Errorf("offset %g: mean %v variance %v, want %v and %v (a sum of squares gives %v)",
				offset, w.mean, got, offset+mean, want, naive)
		}
		if offset == 1e9 && math.Abs(naive-want) < 0.1*want {
			t.Errorf("the sum of squares gives %v against %v: this case does not test what it should", naive, want)
		}
	}
	var w welford
	w.add(5)
	if w.variance() != 0 {
		t.Errorf("variance of one value = %v", w.variance())
	}
}
