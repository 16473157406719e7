package evaluator

import (
	"math"
	"testing"

	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/tensor"
)

// barDigits makes n 28×28 images of ten "digits": class c is a bright
// horizontal bar two rows high at row 3+2c, over noise.
func barDigits(n int, seed uint64) *imgdata.Set {
	rng := tensor.NewRNG(seed)
	s := &imgdata.Set{N: n, C: 1, H: 28, W: 28, Pix: make([]uint8, n*784), Labels: make([]int, n), Source: "bars"}
	for c := range 10 {
		s.Classes = append(s.Classes, string(rune('0'+c)))
	}
	for i := range n {
		c := rng.IntN(10)
		s.Labels[i] = c
		x0, x1 := 2+rng.IntN(6), 20+rng.IntN(6)
		for y := range 28 {
			for x := range 28 {
				v := rng.IntN(50)
				if (y == 3+2*c || y == 4+2*c) && x >= x0 && x < x1 {
					v = 190 + rng.IntN(65)
				}
				s.Pix[i*784+y*28+x] = uint8(v)
			}
		}
	}
	return s
}

// The Stacked MNIST scorer applies the digit evaluator to each channel: its
// features are the channels' features side by side and its class
// probabilities their products; real stacked images cover nearly every
// triple, a generator of one image covers one.
func TestStackedScoresChannelByChannel(t *testing.T) {
	digits, err := Train("bar-digits", barDigits(1000, 1), barDigits(300, 2), Options{Epochs: 2, Batch: 25, LR: 2e-3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if digits.Accuracy < 0.98 {
		t.Fatalf("the bar-digit evaluator reached only %.3f", digits.Accuracy)
	}
	if _, err := NewStacked(&Net{Size: 32, Channels: 3, Classes: make([]string, 10)}); err == nil {
		t.Fatal("a 32×32×3 evaluator was accepted for Stacked MNIST")
	}
	st, err := NewStacked(digits)
	if err != nil {
		t.Fatal(err)
	}
	real, err := imgdata.Stack(barDigits(600, 3), 2000, 4)
	if err != nil {
		t.Fatal(err)
	}
	x, err := Images(real, nil) // channel-last
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	f, p, err := st.Apply(x[:n*3*784], n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		var sum float64
		best := 0
		for c, v := range p[i*1000 : (i+1)*1000] {
			sum += float64(v)
			if v > p[i*1000+best] {
				best = c
			}
		}
		if math.Abs(sum-1) > 1e-3 || best != real.Labels[i] {
			t.Errorf("image %d: probabilities sum to %v, argmax %03d, label %03d", i, sum, best, real.Labels[i])
		}
		for k := range 3 {
			gray, _ := Images(&imgdata.Set{N: 1, C: 1, H: 28, W: 28, Pix: real.Image(i)[k*784 : (k+1)*784]}, nil)
			want, _, _ := digits.Apply(gray, 1)
			got := f[(i*3+k)*FeatureDim : (i*3+k+1)*FeatureDim]
			for j := range want {
				if math.Abs(float64(got[j]-want[j])) > 1e-4*(1+math.Abs(float64(want[j]))) {
					t.Fatalf("image %d channel %d feature %d: %v, the digit evaluator gives %v", i, k, j, got[j], want[j])
				}
			}
		}
	}

	ref, err := st.RealFeatures(real, "stacked bars", 500, 1)
	if err != nil {
		t.Fatal(err)
	}
	same, err := st.Score(ref, x, nil, real.N, 1)
	if err != nil {
		t.Fatal(err)
	}
	one := make([]float32, len(x))
	for i := range real.N {
		copy(one[i*3*784:(i+1)*3*784], x[:3*784])
	}
	single, err := st.Score(ref, one, nil, real.N, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("real: %d modes, KL %.4f, FD %.2f, recall %.3f; one image: %d modes, KL %.4f, FD %.2f, recall %.3f",
		same.Stacked.Modes, same.Stacked.KL, same.FD, same.Recall, single.Stacked.Modes, single.Stacked.KL, single.FD, single.Recall)
	// 2,000 uniform draws over 1,000 triples cover 1000(1 - e⁻²) ≈ 865 of them
	// with an expected KL to uniform of about 0.28.
	if same.FakeN != 500 || same.RealN != 500 {
		t.Errorf("feature metrics on %d samples against %d real; want the first 500 against 500", same.FakeN, same.RealN)
	}
	if same.Stacked.Modes < 820 || same.Stacked.KL > 0.4 || same.Stacked.Samples != real.N {
		t.Errorf("real stacked images: %+v", *same.Stacked)
	}
	if single.Stacked.Modes != 1 || math.Abs(single.Stacked.KL-math.Log(1000)) > 1e-9 || single.Recall > 0.01 || single.FD < 20*same.FD {
		t.Errorf("one image: %+v, recall %.3f, FD %.2f (real %.2f)", *single.Stacked, single.Recall, single.FD, same.FD)
	}
	if _, _, acc := st.Identity(); acc != digits.Accuracy {
		t.Errorf("identity accuracy %v, the digit evaluator's %v", acc, digits.Accuracy)
	}
}
