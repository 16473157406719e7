package evaluator

import (
	"path/filepath"
	"testing"

	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/tensor"
)

// twoClasses makes n 28×28 images: class 0 has a bright bar on the left,
// class 1 on the right, with noise.
func twoClasses(n int, seed uint64) *imgdata.Set {
	rng := tensor.NewRNG(seed)
	s := &imgdata.Set{N: n, C: 1, H: 28, W: 28, Pix: make([]uint8, n*784), Labels: make([]int, n), Classes: []string{"left", "right"}}
	for i := 0; i < n; i++ {
		c := i % 2
		s.Labels[i] = c
		x0 := 3 + rng.IntN(6)
		if c == 1 {
			x0 = 19 + rng.IntN(6)
		}
		for y := 0; y < 28; y++ {
			for x := 0; x < 28; x++ {
				v := rng.IntN(60)
				if x >= x0 && x < x0+4 && y > 4 && y < 24 {
					v = 200 + rng.IntN(55)
				}
				s.Pix[i*784+y*28+x] = uint8(v)
			}
		}
	}
	return s
}

func TestTrainSaveLoadApply(t *testing.T) {
	train, test := twoClasses(256, 1), twoClasses(100, 2)
	e, err := Train("toy-bars", train, test, Options{Epochs: 2, Batch: 32, LR: 2e-3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if e.Accuracy < 0.95 {
		t.Fatalf("test accuracy %.3f on two separable classes", e.Accuracy)
	}
	path := filepath.Join(t.TempDir(), "e.safetensors")
	if err := e.Save(path); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != e.ID || len(f.ID) != 12 || f.Accuracy != e.Accuracy || f.Data != "toy-bars" {
		t.Fatalf("loaded %q %v %q, saved %q %v", f.ID, f.Accuracy, f.Data, e.ID, e.Accuracy)
	}
	x, _ := Images(test, []int{0, 1, 2})
	fa, pa, err := e.Apply(x, 3)
	if err != nil {
		t.Fatal(err)
	}
	fb, pb, _ := f.Apply(x, 3)
	for i := range fa {
		if fa[i] != fb[i] {
			t.Fatal("the loaded evaluator's features differ")
		}
	}
	if len(fa) != 3*FeatureDim || len(pa) != 6 || pb[0]+pb[1] < 0.999 || pb[0]+pb[1] > 1.001 {
		t.Fatalf("%d features, %d probabilities (%v)", len(fa), len(pa), pb)
	}
	if _, err := Train("x", &imgdata.Set{N: 4, C: 1, H: 28, W: 28, Pix: make([]uint8, 4*784)}, test, Options{Epochs: 1, Batch: 2, LR: 1e-3}); err == nil {
		t.Fatal("training on an unlabelled set was accepted")
	}
}

// The sanity checks of the issue on small generated data: real against
// real scores well, noise badly, and a generator of one image has recall
// and coverage near 0 and one class.
func TestScoreSanity(t *testing.T) {
	train, test := twoClasses(256, 1), twoClasses(300, 3)
	e, err := Train("toy-bars", train, train, Options{Epochs: 2, Batch: 32, LR: 2e-3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	real, err := e.RealFeatures(test, "bars (test)", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	other := twoClasses(300, 4)
	x, _ := Images(other, nil)
	same, err := e.Score(real, x, nil, 300, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := tensor.NewRNG(5)
	noise := make([]float32, 300*784)
	rng.Uniform(noise, -1, 1)
	bad, _ := e.Score(real, noise, nil, 300, 1)
	one := make([]float32, 300*784)
	for i := 0; i < 300; i++ {
		copy(one[i*784:(i+1)*784], x[:784])
	}
	single, _ := e.Score(real, one, nil, 300, 1)
	t.Logf("real: FD %.3f P %.3f R %.3f C %.3f; noise: FD %.3f; one image: R %.3f C %.3f shares %v",
		same.FD, same.Precision, same.Recall, same.Coverage, bad.FD, single.Recall, single.Coverage, single.Classes.Shares)
	if same.FD*20 > bad.FD || same.Precision < 0.7 || same.Recall < 0.7 || same.Coverage < 0.7 {
		t.Errorf("real against real: FD %.3f (noise %.3f), precision %.3f, recall %.3f, coverage %.3f", same.FD, bad.FD, same.Precision, same.Recall, same.Coverage)
	}
	if single.Recall > 0.05 || single.Coverage > 0.05 || single.Classes.MaxShare != 1 {
		t.Errorf("one image: recall %.3f, coverage %.3f, largest class share %.3f", single.Recall, single.Coverage, single.Classes.MaxShare)
	}
}
