// Package evaluator trains and applies minmax's own feature network for
// image metrics. minmax cannot download Inception's weights, so each data
// set gets a small convolutional classifier trained with minmax's engine;
// its penultimate layer (256 features) feeds the Fréchet distance, KID and
// precision/recall of package metrics, and its softmax the class
// statistics. Scores computed with one evaluator are comparable with each
// other, not with published FIDs: results record the evaluator's identity
// (a hash of its file), its test accuracy and the sample counts.
package evaluator

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/checkpoint"
	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
)

// FeatureDim is the number of features the evaluator gives per image.
const FeatureDim = 256

// Net is the evaluator: three convolutions (3×3, then two 4×4 of stride 2,
// each with batch norm and ReLU), a 256-unit hidden layer (the features)
// and a linear classifier. Images are channel-last in [-1, 1].
type Net struct {
	nn.Base
	Size, Channels int
	Classes        []string
	Convs          []*nn.Conv2D
	Norms          []*nn.BatchNorm
	Hidden, Out    *nn.Linear

	// Data, Accuracy, Epochs and Seed describe how it was trained; ID is
	// the hash of its file (set by Load and Save).
	Data     string
	Accuracy float64
	Epochs   int
	Seed     uint64
	ID       string

	tape *autograd.Tape // Apply's, reused so that its memory is too
}

// New makes an untrained evaluator for size×size images with the given
// channels and class names.
func New(size, channels int, classes []string, rng *tensor.RNG) (*Net, error) {
	if size < 8 || size%4 != 0 || (channels != 1 && channels != 3) || len(classes) < 2 {
		return nil, fmt.Errorf("%d×%d×%d images with %d classes: want a size that is a multiple of 4 (at least 8), 1 or 3 channels and at least 2 classes", size, size, channels, len(classes))
	}
	e := &Net{Size: size, Channels: channels, Classes: classes}
	widths := []int{32, 64, 128}
	in := channels
	for i, w := range widths {
		k, s := 4, 2
		if i == 0 {
			k, s = 3, 1
		}
		e.Convs = append(e.Convs, nn.Add(&e.Base, fmt.Sprintf("conv%d", i+1), nn.NewConv2D(in, w, k, s, 1, false, rng)))
		e.Norms = append(e.Norms, nn.Add(&e.Base, fmt.Sprintf("bn%d", i+1), nn.NewBatchNorm(w)))
		in = w
	}
	q := size / 4
	e.Hidden = nn.Add(&e.Base, "fc", nn.NewLinear(q*q*in, FeatureDim, true, rng))
	e.Out = nn.Add(&e.Base, "out", nn.NewLinear(FeatureDim, len(classes), true, rng))
	if err := nn.Root(e, "E"); err != nil {
		return nil, err
	}
	return e, nil
}

// Forward returns the class logits of images x, shape (N,
// Size·Size·Channels), channel-last.
func (e *Net) Forward(c *nn.Ctx, x *autograd.Node) *autograd.Node {
	_, logits := e.Features(c, x)
	return logits
}

// Features returns the features (N, 256) and the class logits of images x.
func (e *Net) Features(c *nn.Ctx, x *autograd.Node) (features, logits *autograd.Node) {
	t := c.Tape
	n := x.Shape()[0]
	h := t.Reshape(x, n, e.Size, e.Size, e.Channels)
	for i, conv := range e.Convs {
		h = t.ReLU(e.Norms[i].Forward(c, conv.Forward(c, h)))
	}
	features = t.ReLU(e.Hidden.Forward(c, t.Reshape(h, n, -1)))
	return features, e.Out.Forward(c, features)
}

// Dim is the number of values in one image.
func (e *Net) Dim() int { return e.Size * e.Size * e.Channels }

// Options control training.
type Options struct {
	Epochs int
	Batch  int
	LR     float64
	Seed   uint64
	// Flip mirrors half the training images left to right (right for
	// clothing and objects, wrong for digits).
	Flip bool
	// Progress, when set, hears the end of every epoch.
	Progress func(epoch int, loss, testAccuracy float64)
}

// Train fits a new evaluator to the labelled train set (cross-entropy,
// AdamW, the learning rate decayed linearly to 0) and measures its accuracy
// on test.
func Train(data string, train, test *imgdata.Set, o Options) (*Net, error) {
	if train.Labels == nil || test.Labels == nil {
		return nil, fmt.Errorf("%s has no labels: an evaluator is a classifier and needs them", data)
	}
	if train.H != train.W || test.H != train.H || test.C != train.C {
		return nil, fmt.Errorf("train images %d×%d×%d and test images %d×%d×%d must be square and alike", train.H, train.W, train.C, test.H, test.W, test.C)
	}
	if o.Epochs < 1 || o.Batch < 2 || o.LR <= 0 {
		return nil, fmt.Errorf("epochs %d, batch %d and learning rate %g must be positive (batch at least 2)", o.Epochs, o.Batch, o.LR)
	}
	rng := tensor.NewRNG(o.Seed)
	e, err := New(train.H, train.C, train.Classes, rng)
	if err != nil {
		return nil, err
	}
	e.Data, e.Epochs, e.Seed = data, o.Epochs, o.Seed
	opt := optim.NewAdam(nn.ParamList(e), o.LR, 0.9, 0.999)
	opt.WeightDecay, opt.Decoupled = 5e-4, true
	k := len(e.Classes)
	x := tensor.New(o.Batch, e.Dim())
	onehot := tensor.New(o.Batch, k)
	idx := make([]int, o.Batch)
	perm := make([]int, train.N)
	perEpoch := train.N / o.Batch
	if perEpoch < 1 {
		return nil, fmt.Errorf("%d training images make no batch of %d", train.N, o.Batch)
	}
	var sum float64
	loop := optim.Loop{
		Opt: opt, LR: o.LR, Schedule: optim.Linear, Steps: o.Epochs * perEpoch,
		// One batch of cross-entropy; each epoch starts with a fresh
		// permutation of the training images.
		Loss: func(tp *autograd.Tape, step int) (*autograd.Node, error) {
			b := step % perEpoch
			if b == 0 {
				for i := range perm {
					perm[i] = i
				}
				for i := len(perm) - 1; i > 0; i-- {
					j := rng.IntN(i + 1)
					perm[i], perm[j] = perm[j], perm[i]
				}
			}
			copy(idx, perm[b*o.Batch:(b+1)*o.Batch])
			if err := batch(train, idx, x.Data); err != nil {
				return nil, err
			}
			if o.Flip {
				for i := 0; i < o.Batch; i++ {
					if rng.Uint64()&1 == 1 {
						flip(x.Data[i*e.Dim():(i+1)*e.Dim()], e.Size, e.Channels)
					}
				}
			}
			clear(onehot.Data)
			for i, id := range idx {
				onehot.Data[i*k+train.Labels[id]] = 1
			}
			logits := e.Forward(&nn.Ctx{Tape: tp, Training: true}, tp.Leaf(x))
			return tp.Scale(tp.Sum(tp.Mul(tp.LogSoftmax(logits), tp.Leaf(onehot)), false), -1/float32(o.Batch)), nil
		},
		// At the end of each epoch, the test accuracy.
		After: func(step int, loss float64) error {
			sum += loss
			if (step+1)%perEpoch != 0 {
				return nil
			}
			epoch := (step + 1) / perEpoch
			if o.Progress != nil || epoch == o.Epochs {
				acc, err := e.TestAccuracy(test)
				if err != nil {
					return err
				}
				e.Accuracy = acc
				if o.Progress != nil {
					o.Progress(epoch, sum/float64(perEpoch), acc)
				}
			}
			sum = 0
			return nil
		},
	}
	if err := loop.Run(nil); err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	return e, nil
}

// batch gathers images idx of s into dst, channel-last in [-1, 1].
func batch(s *imgdata.Set, idx []int, dst []float32) error {
	if s.C == 1 {
		return s.Batch(idx, dst)
	}
	tmp := make([]float32, len(idx)*s.ImageLen())
	if err := s.Batch(idx, tmp); err != nil {
		return err
	}
	imgdata.CHWToHWC(dst, tmp, len(idx), s.C, s.H, s.W)
	return nil
}

// flip mirrors one channel-last image left to right.
func flip(img []float32, size, c int) {
	for y := 0; y < size; y++ {
		row := img[y*size*c : (y+1)*size*c]
		for a, b := 0, size-1; a < b; a, b = a+1, b-1 {
			for k := 0; k < c; k++ {
				row[a*c+k], row[b*c+k] = row[b*c+k], row[a*c+k]
			}
		}
	}
}

// applyChunk is how many images Apply runs through the network at a time:
// large enough for the GEMMs (measured as fast as 256 and 500 on Stacked
// MNIST), small enough that the tape stays near 150 MB for 28×28 images
// (the second convolution's columns alone are 51 MB).
const applyChunk = 128

// Apply runs the evaluator (in evaluation mode) on n channel-last images
// x in [-1, 1] and returns their features (n×256) and class probabilities
// (n×classes), in batches of applyChunk. It reuses one tape across calls,
// so a Net must not be applied from several goroutines at once.
func (e *Net) Apply(x []float32, n int) (features, probs []float32, err error) {
	if len(x) != n*e.Dim() {
		return nil, nil, fmt.Errorf("%d values are not %d images of %d×%d×%d", len(x), n, e.Size, e.Size, e.Channels)
	}
	k := len(e.Classes)
	features = make([]float32, n*FeatureDim)
	probs = make([]float32, n*k)
	if e.tape == nil {
		e.tape = autograd.NewTape()
	}
	tp := e.tape
	defer tp.Reset() // drop the last chunk's nodes; keep the memory
	for lo := 0; lo < n; lo += applyChunk {
		hi := min(lo+applyChunk, n)
		tp.Reset()
		tp.SetRecording(false)
		xt, err := tensor.FromData(x[lo*e.Dim():hi*e.Dim()], hi-lo, e.Dim())
		if err != nil {
			return nil, nil, err
		}
		f, logits := e.Features(&nn.Ctx{Tape: tp}, tp.Leaf(xt))
		lp := tp.LogSoftmax(logits)
		if err := tp.Err(); err != nil {
			return nil, nil, err
		}
		copy(features[lo*FeatureDim:], f.Data())
		for i, v := range lp.Data() {
			probs[lo*k+i] = float32(math.Exp(float64(v)))
		}
	}
	return features, probs, nil
}

// TestAccuracy is the share of s's images whose argmax class is their label.
func (e *Net) TestAccuracy(s *imgdata.Set) (float64, error) {
	if s.Labels == nil {
		return 0, fmt.Errorf("%s has no labels", s.Source)
	}
	x, err := Images(s, nil)
	if err != nil {
		return 0, err
	}
	_, probs, err := e.Apply(x, s.N)
	if err != nil {
		return 0, err
	}
	k := len(e.Classes)
	right := 0
	for i := 0; i < s.N; i++ {
		row := probs[i*k : (i+1)*k]
		best := 0
		for c := range row {
			if row[c] > row[best] {
				best = c
			}
		}
		if best == s.Labels[i] {
			right++
		}
	}
	return float64(right) / float64(s.N), nil
}

// Images returns images idx of s (all of them when idx is nil),
// channel-last in [-1, 1].
func Images(s *imgdata.Set, idx []int) ([]float32, error) {
	if idx == nil {
		idx = make([]int, s.N)
		for i := range idx {
			idx[i] = i
		}
	}
	x := make([]float32, len(idx)*s.ImageLen())
	return x, batch(s, idx, x)
}

const format = "minmax-evaluator-1"

// Save writes the evaluator to path (safetensors, atomically) and sets its
// ID to the hash of the file.
func (e *Net) Save(path string) error {
	meta := map[string]string{
		"format": format, "data": e.Data, "size": strconv.Itoa(e.Size), "channels": strconv.Itoa(e.Channels),
		"classes": strings.Join(e.Classes, "\n"), "accuracy": strconv.FormatFloat(e.Accuracy, 'g', -1, 64),
		"epochs": strconv.Itoa(e.Epochs), "seed": strconv.FormatUint(e.Seed, 10),
	}
	if err := checkpoint.Save(path, nn.StateMap(e, "E"), meta); err != nil {
		return err
	}
	id, err := fileID(path)
	e.ID = id
	return err
}

// Load reads an evaluator saved by Save.
func Load(path string) (*Net, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, err
	}
	if f.Meta["format"] != format {
		return nil, fmt.Errorf("%s: not a minmax evaluator (format %q)", path, f.Meta["format"])
	}
	size, err1 := strconv.Atoi(f.Meta["size"])
	ch, err2 := strconv.Atoi(f.Meta["channels"])
	acc, err3 := strconv.ParseFloat(f.Meta["accuracy"], 64)
	epochs, _ := strconv.Atoi(f.Meta["epochs"])
	seed, _ := strconv.ParseUint(f.Meta["seed"], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("%s: bad evaluator metadata: %w", path, err)
	}
	e, err := New(size, ch, strings.Split(f.Meta["classes"], "\n"), tensor.NewRNG(0))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Restore(nn.StateMap(e, "E"), false); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	e.Data, e.Accuracy, e.Epochs, e.Seed = f.Meta["data"], acc, epochs, seed
	if e.ID, err = fileID(path); err != nil {
		return nil, err
	}
	return e, nil
}

func fileID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:6]), nil
}

// Shape gives the images the evaluator takes: Size×Size with Channels.
func (e *Net) Shape() (size, channels int) { return e.Size, e.Channels }

// FeatureLen is FeatureDim.
func (e *Net) FeatureLen() int { return FeatureDim }

// ClassNames returns Classes.
func (e *Net) ClassNames() []string { return e.Classes }

// Identity returns ID, Data and Accuracy.
func (e *Net) Identity() (id, data string, accuracy float64) { return e.ID, e.Data, e.Accuracy }
