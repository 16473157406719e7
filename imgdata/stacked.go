package imgdata

import (
	"fmt"
	"strings"

	"github.com/minmaxgan/minmax/tensor"
)

// StackedMNIST is the name of the data set Open builds from MNIST by
// stacking three digits as the red, green and blue channels (Metz et al.
// 2017, "Unrolled Generative Adversarial Networks"; the mode-collapse
// benchmark of VEEGAN and PacGAN): 1,000 classes, one per digit triple.
const StackedMNIST = "stacked-mnist"

// Sizes and seeds of the splits of Stacked MNIST, fixed so that the name
// always means the same images: the train split stacks 60,000 triples of
// MNIST's training digits, the test split 10,000 triples of its test
// digits.
const (
	StackedTrainN    = 60000
	StackedTestN     = 10000
	stackedTrainSeed = 0x57ac4ed1
	stackedTestSeed  = 0x57ac4ed2
)

// Stack builds n images of three channels from a one-channel labelled set
// with K classes: channel k of image i is the image idx[i][k] of src, with
// the three indices drawn uniformly and independently with seed. The label
// of a stacked image is a·K² + b·K + c for channel labels a, b, c (so K³
// classes, 1,000 for MNIST, and the digits can be read off the label);
// class names are the three channel classes written one after the other
// ("472" for MNIST), or joined by " | " when a name is longer than one
// character.
func Stack(src *Set, n int, seed uint64) (*Set, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	switch {
	case src.C != 1:
		return nil, fmt.Errorf("Stack: %s has %d channels; expected a one-channel set", src.Source, src.C)
	case src.Labels == nil:
		return nil, fmt.Errorf("Stack: %s has no labels; a stacked set's classes come from them", src.Source)
	case src.N < 1 || n < 1:
		return nil, fmt.Errorf("Stack: %d images from a set of %d; expected at least 1 of each", n, src.N)
	}
	k := len(src.Classes)
	if k > 100 {
		return nil, fmt.Errorf("Stack: %s has %d classes; at most 100 are stacked (%d³ classes)", src.Source, k, k)
	}
	plane := src.H * src.W
	size, ok := product(n, 3, plane)
	if !ok {
		return nil, fmt.Errorf("Stack: %d images of 3×%d×%d are too many", n, src.H, src.W)
	}
	out := &Set{N: n, C: 3, H: src.H, W: src.W, Pix: make([]uint8, size), Labels: make([]int, n),
		Source: fmt.Sprintf("%d stacked triples of %s (seed %#x)", n, src.Source, seed)}
	short := true
	for _, c := range src.Classes {
		short = short && len(c) == 1
	}
	sep := " | "
	if short {
		sep = ""
	}
	out.Classes = make([]string, k*k*k)
	for a := range k {
		for b := range k {
			for c := range k {
				out.Classes[(a*k+b)*k+c] = strings.Join([]string{src.Classes[a], src.Classes[b], src.Classes[c]}, sep)
			}
		}
	}
	rng := tensor.NewRNG(seed)
	for i := range n {
		label := 0
		for ch := range 3 {
			j := rng.IntN(src.N)
			copy(out.Pix[(i*3+ch)*plane:(i*3+ch+1)*plane], src.Pix[j*plane:(j+1)*plane])
			label = label*k + src.Labels[j]
		}
		out.Labels[i] = label
	}
	return out, nil
}

// openStacked builds split of Stacked MNIST from the MNIST data set.
func openStacked(split string, size, channels int) (*Set, error) {
	if (size != 0 && size != 28) || (channels != 0 && channels != 3) {
		return nil, fmt.Errorf("%s: the images are 28×28 with 3 channels; asked for size %d and %d channels, but only image folders are resized or converted (0 means as stored)", StackedMNIST, size, channels)
	}
	mnist, err := Open("mnist", split, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("%s is built from MNIST: %w", StackedMNIST, err)
	}
	if len(mnist.Classes) != 10 {
		return nil, fmt.Errorf("%s: MNIST (%s) has %d classes; expected 10", StackedMNIST, mnist.Source, len(mnist.Classes))
	}
	n, seed := StackedTrainN, uint64(stackedTrainSeed)
	if split == "test" {
		n, seed = StackedTestN, stackedTestSeed
	}
	s, err := Stack(mnist, n, seed)
	if err != nil {
		return nil, err
	}
	s.Source = StackedMNIST + " " + split + " (" + s.Source + ")"
	return s, nil
}
