package run

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/evaluator"
	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/recipe"
	"github.com/minmaxgan/minmax/tensor"
)

// tinyImages writes an IDX file of n 28×28 images (bright squares at
// random places) and returns its path.
func tinyImages(t *testing.T, n int) string {
	t.Helper()
	rng := tensor.NewRNG(9)
	pix := make([]uint8, n*28*28)
	for i := 0; i < n; i++ {
		x, y := rng.IntN(20), rng.IntN(20)
		for dy := 0; dy < 8; dy++ {
			for dx := 0; dx < 8; dx++ {
				pix[i*784+(y+dy)*28+x+dx] = 255
			}
		}
	}
	path := filepath.Join(t.TempDir(), "train-images-idx3-ubyte")
	if err := imgdata.WriteIDX(path, []int{n, 28, 28}, pix); err != nil {
		t.Fatal(err)
	}
	return path
}

func imageConfig(data string) recipe.Recipe {
	c, _ := recipe.Preset("dcgan-fashion-mnist")
	c.Data.Source, c.Optim.Batch, c.Optim.Epochs = data, 16, 2 // 96 images: 6 batches an epoch
	c.Model.Options = &arch.DCGANOptions{Width: 4}
	c.Run.EvalEvery, c.Run.CheckpointEvery = 4, 5
	return c
}

func TestImageRunResumesBitIdenticallyAndExports(t *testing.T) {
	cfg := imageConfig(tinyImages(t, 96))
	opt := Options{NoPictures: false}
	whole, err := New(cfg, filepath.Join(t.TempDir(), "whole"), opt)
	if err != nil {
		t.Fatal(err)
	}
	if whole.Steps() != 12 {
		t.Fatalf("2 epochs of 96 images in batches of 16 gave %d steps, want 12", whole.Steps())
	}
	if _, err := whole.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	whole.Close()
	for _, f := range []string{"samples/step_000000.png", "samples/step_000008.png", "samples/step_000012.png", GridFile, "curves.png", CheckpointFile} {
		if _, err := os.Stat(filepath.Join(whole.Dir, f)); err != nil {
			t.Errorf("the run has no %s: %v", f, err)
		}
	}
	fg, err := os.Open(filepath.Join(whole.Dir, GridFile))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(fg)
	fg.Close()
	if err != nil {
		t.Fatalf("%s: %v", GridFile, err)
	}
	if b := img.Bounds(); b.Dx() < 8*28 || b.Dy() < 8*28 {
		t.Errorf("the 8×8 grid of 28×28 images is %d×%d pixels", b.Dx(), b.Dy())
	}

	// Interrupt at step 7 (mid-epoch: the sampler's position must be saved)
	// and resume.
	dir := filepath.Join(t.TempDir(), "cut")
	ctx, cancel := context.WithCancel(context.Background())
	o2 := Options{NoPictures: true, Progress: &cancelAt{step: 7, cancel: cancel}}
	cut, err := New(cfg, dir, o2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cut.Train(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v", err)
	}
	cut.Close()
	resumed, err := Resume(dir, 0, Options{NoPictures: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resumed.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	resumed.Close()
	sameState(t, whole, resumed)

	// Export: an IDX file of the samples has the right header.
	pts, err := resumed.Generate(10, 3)
	if err != nil {
		t.Fatal(err)
	}
	set, err := resumed.ImageSet(pts, 10)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "fake.idx")
	if err := imgdata.WriteSetIDX(out, set); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(out)
	want := []byte{0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28}
	if len(raw) != 16+10*784 || string(raw[:16]) != string(want) {
		t.Fatalf("IDX export: %d bytes, header % x; want %d bytes, header % x", len(raw), raw[:16], 16+10*784, want)
	}
}

func TestImageSamplerVisitsEveryImageOncePerEpoch(t *testing.T) {
	path := tinyImages(t, 50)
	set, err := imgdata.Open(path, "train", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Tag each image by its first pixel.
	for i := 0; i < set.N; i++ {
		set.Pix[i*784] = uint8(i)
	}
	s, err := gan.NewImageSampler(set)
	if err != nil {
		t.Fatal(err)
	}
	rng := tensor.NewRNG(1)
	out := make([]float32, 10*784)
	seen := map[int]int{}
	for k := 0; k < 5; k++ { // one epoch of 5 batches of 10
		s.Sample(rng, 10, out, nil)
		for i := 0; i < 10; i++ {
			seen[int((out[i*784]+1)*127.5+0.5)]++
		}
	}
	if len(seen) != 50 || s.Epoch != 0 {
		t.Fatalf("one epoch saw %d distinct images (epoch counter %d), want all 50", len(seen), s.Epoch)
	}
	s.Sample(rng, 10, out, nil)
	if s.Epoch != 1 || s.Pos != 10 {
		t.Fatalf("after the epoch: epoch %d, position %d; want 1, 10", s.Epoch, s.Pos)
	}
}

func TestNPYRoundTripAndImageFiles(t *testing.T) {
	dir := t.TempDir()
	x := []float32{-1, -0.5, 0, 0.5, 1, 0.25, -0.25, 0.75} // 2 images, 1×2×2 (NCHW = NHWC for one channel)
	p := filepath.Join(dir, "x.npy")
	if err := WriteNPYShape(p, x, 2, 1, 2, 2); err != nil {
		t.Fatal(err)
	}
	shape, got, err := ReadNPY(p)
	if err != nil || len(shape) != 4 || shape[0] != 2 || shape[3] != 2 {
		t.Fatalf("shape %v, %v", shape, err)
	}
	for i := range x {
		if got[i] != x[i] {
			t.Fatalf("value %d: %v, want %v", i, got[i], x[i])
		}
	}
	imgs, n, err := ReadImages(p)
	if err != nil || n != 2 || len(imgs) != 8 {
		t.Fatalf("ReadImages: %d images, %d values, %v", n, len(imgs), err)
	}
	os.WriteFile(filepath.Join(dir, "bad.npy"), []byte("\x93NUMPY\x01\x00\x10\x00{'descr': '<f8'}"), 0o644)
	if _, _, err := ReadNPY(filepath.Join(dir, "bad.npy")); err == nil {
		t.Fatal("a float64 .npy was accepted")
	}
}

// An image run with an evaluator scores every evaluation and plots it.
func TestImageRunWithEvaluatorScoresEvaluations(t *testing.T) {
	path := tinyImages(t, 96)
	labels := make([]uint8, 96)
	for i := range labels {
		labels[i] = uint8(i % 2)
	}
	if err := imgdata.WriteIDX(filepath.Join(filepath.Dir(path), "train-labels-idx1-ubyte"), []int{96}, labels); err != nil {
		t.Fatal(err)
	}
	set, err := imgdata.Open(path, "train", 0, 0)
	if err != nil || set.Labels == nil {
		t.Fatalf("labelled set: %v (labels %v)", err, set.Labels != nil)
	}
	e, err := evaluator.Train("tiny", set, set, evaluator.Options{Epochs: 1, Batch: 16, LR: 1e-3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	evPath := filepath.Join(t.TempDir(), "e.safetensors")
	if err := e.Save(evPath); err != nil {
		t.Fatal(err)
	}
	cfg := imageConfig(path)
	cfg.Optim.Epochs, cfg.Optim.Steps, cfg.Run.EvalEvery = 0, 6, 3
	cfg.Run.Evaluator, cfg.Run.EvalSamples = evPath, 40
	r, err := New(cfg, filepath.Join(t.TempDir(), "r"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	final, err := r.Train(context.Background())
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := final.Images
	if s == nil || s.Evaluator != e.ID || s.FakeN != 40 || s.RealN != 40 || s.FD <= 0 || len(s.Classes.Shares) != 2 {
		t.Fatalf("final evaluation's scores: %+v", s)
	}
	b, _ := os.ReadFile(filepath.Join(r.Dir, MetricsFile))
	if n := strings.Count(string(b), `"fd"`); n != 3 { // steps 0, 3, 6
		t.Fatalf("metrics.jsonl has %d scored evaluations, want 3", n)
	}
}

// The folder recipe trains colour DCGANs at 32 and 64 pixels from a folder
// of PNGs of another size (resized and centre-cropped).
func TestFolderRecipeTrainsColourImages(t *testing.T) {
	dir := t.TempDir()
	rng := tensor.NewRNG(3)
	for i := 0; i < 12; i++ {
		img := image.NewRGBA(image.Rect(0, 0, 50, 40))
		for p := range img.Pix {
			img.Pix[p] = uint8(rng.IntN(256))
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%02d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, img)
		f.Close()
	}
	for _, size := range []int{32, 64} {
		c, _ := recipe.Preset("dcgan-folder")
		c.Data.Source, c.Data.ImageSize, c.Optim.Batch, c.Optim.Epochs, c.Optim.Steps, c.Run.EvalEvery = dir, size, 4, 0, 3, 2
		c.Model.Options = &arch.DCGANOptions{Width: 4}
		r, err := New(c, filepath.Join(t.TempDir(), "r"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Train(context.Background()); err != nil {
			t.Fatal(err)
		}
		r.Close()
		f, err := os.Open(filepath.Join(r.Dir, GridFile))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := img.(*image.Gray); ok {
			t.Fatalf("%d×%d colour run wrote a grey grid", size, size)
		}
		if b := img.Bounds(); b.Dx() < 8*size {
			t.Fatalf("%d×%d grid is %d pixels wide", size, size, b.Dx())
		}
	}
}

// ClassRows puts sample i (of class i mod c) at row i mod c, column i / c.
func TestClassRows(t *testing.T) {
	const n, c, dim = 6, 3, 2
	x := make([]float32, n*dim)
	for i := range n {
		x[i*dim], x[i*dim+1] = float32(i), float32(-i)
	}
	got := ClassRows(x, n, c)
	want := []int{0, 3, 1, 4, 2, 5} // row 0: class 0 (samples 0, 3), ...
	for p, i := range want {
		if got[p*dim] != float32(i) || got[p*dim+1] != float32(-i) {
			t.Fatalf("position %d holds sample %v, want %d (all: %v)", p, got[p*dim], i, got)
		}
	}
	if !cycles([]int{0, 1, 2, 0, 1, 2}, 3) || cycles([]int{0, 1, 2, 0, 2, 1}, 3) || cycles(nil, 3) {
		t.Error("cycles")
	}
}
