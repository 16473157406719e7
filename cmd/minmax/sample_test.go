package main

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/internal/parallel"
)

// An image run trained on a copy of its data, which is then moved away,
// still samples: minmax sample reads only the generator file. A relative
// --data and a relative --run work from another working folder.
func TestSampleNeedsOnlyTheGeneratorFile(t *testing.T) {
	root := t.TempDir()
	fakeMNIST(t, root, 40)
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	if err := os.Chdir(root); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "train", "--data", "./mnist", "--model", "dcgan", "--width", "4", "--batch", "8", "--steps", "3",
		"--eval-every", "2", "--threads", "1", "--no-pictures", "--run", "runs/r"); err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(filepath.Join(root, "runs/r/config.yaml"))
	if !strings.Contains(string(cfg), "source: "+filepath.Join(root, "mnist")) {
		t.Fatalf("the data path is not stored absolute:\n%s", cfg)
	}
	if err := os.Rename(filepath.Join(root, "mnist"), filepath.Join(root, "moved")); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if err := os.Chdir(other); err != nil {
		t.Fatal(err)
	}
	grid := filepath.Join(other, "grid.png")
	if _, err := runCLI(t, "sample", "--run", filepath.Join(root, "runs/r"), "--n", "64", "--out", "grid.png"); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(grid)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() < 8*28 {
		t.Fatalf("grid: %v, %v", img.Bounds(), err)
	}
	// A grid has a readable size; more images go to a folder or a file.
	_, err = runCLI(t, "sample", "--run", filepath.Join(root, "runs/r"), "--n", "2501", "--out", "big.png")
	if err == nil || !strings.Contains(err.Error(), "at most 2500") {
		t.Fatalf("a grid of 2501 images: %v", err)
	}
	if _, serr := os.Stat(filepath.Join(other, "big.png")); serr == nil {
		t.Fatal("the refused grid was written")
	}
	// Resuming needs the data, and says which is missing.
	_, err = runCLI(t, "train", "--resume", filepath.Join(root, "runs/r"), "--steps", "4")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, "mnist")) {
		t.Fatalf("resume without its data: %v", err)
	}
}

// An architecture that does not fit the data is refused at the flag.
func TestArchitectureMustFitTheData(t *testing.T) {
	_, err := runCLI(t, "train", "--model", "dcgan", "--run", filepath.Join(t.TempDir(), "r"))
	if err == nil || !strings.Contains(err.Error(), "--model (model.arch): the dcgan architecture models images, not 2-D points; for points use mlp") {
		t.Fatalf("dcgan on ring8: %v", err)
	}
	_, err = runCLI(t, "train", "--opt", "width=3", "--run", filepath.Join(t.TempDir(), "r"))
	if err == nil || !strings.Contains(err.Error(), `--opt width (model.width): the mlp architecture has no option "width"`) {
		t.Fatalf("--opt width on mlp: %v", err)
	}
	out, err := runCLI(t, "train", "--help")
	if err != nil || !strings.Contains(out, "g_hidden ([]int, default [128, 128])") || !strings.Contains(out, "dcgan    the DCGAN") {
		t.Fatalf("train --help does not list the architectures and options:\n%s", out)
	}
}

// A class-conditional run samples a class asked by number or name, writes
// the classes asked for, truncates, and interpolates at a class.
func TestConditionalSampling(t *testing.T) {
	root := t.TempDir()
	fakeMNIST(t, root, 40)
	dir := filepath.Join(root, "r")
	if _, err := runCLI(t, "train", "--data", filepath.Join(root, "mnist"), "--model", "biggan", "--opt", "width=8", "--opt", "shared_dim=4",
		"--latent", "12", "--batch", "8", "--steps", "2", "--eval-every", "2", "--threads", "1", "--no-pictures", "--run", dir); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "s.idx")
	labels := filepath.Join(root, "l.idx")
	if _, err := runCLI(t, "sample", "--run", dir, "--n", "25", "--out", out, "--labels-out", labels); err != nil {
		t.Fatal(err)
	}
	dims, l, err := imgdata.ReadIDX(labels)
	if err != nil || len(dims) != 1 || dims[0] != 25 {
		t.Fatalf("labels file: %v %v", dims, err)
	}
	for i, v := range l {
		if int(v) != i%10 {
			t.Fatalf("label %d is %d, want the classes cycling", i, v)
		}
	}
	// A grid of a multiple of the classes has one row per class; any other
	// count, 8 images per row. 28×28 images are drawn at 3× with 2-pixel
	// borders.
	for _, c := range []struct{ n, w, h int }{{30, 3*84 + 4*2, 10*84 + 11*2}, {25, 8*84 + 9*2, 4*84 + 5*2}} {
		png := filepath.Join(root, fmt.Sprintf("grid%d.png", c.n))
		if _, err := runCLI(t, "sample", "--run", dir, "--n", strconv.Itoa(c.n), "--out", png); err != nil {
			t.Fatal(err)
		}
		if w, h := pngSize(t, png); w != c.w || h != c.h {
			t.Errorf("grid of %d samples: %dx%d pixels, want %dx%d", c.n, w, h, c.w, c.h)
		}
	}
	if _, err := runCLI(t, "sample", "--run", dir, "--n", "4", "--class", "7", "--truncation", "0.5", "--out", out, "--labels-out", labels); err != nil {
		t.Fatal(err)
	}
	if _, l, _ := imgdata.ReadIDX(labels); l[0] != 7 || l[3] != 7 {
		t.Errorf("--class 7 wrote labels %v", l)
	}
	// The samples are the same at any number of threads (200 images: the
	// products and elementwise passes are big enough to be split).
	prev := parallel.Default().Threads()
	t.Cleanup(func() { parallel.SetThreads(prev) })
	var drawn [2][]byte
	for i, th := range []string{"1", "2"} {
		npy := filepath.Join(root, "t"+th+".npy")
		if _, err := runCLI(t, "sample", "--run", dir, "--n", "200", "--threads", th, "--truncation", "1.5", "--out", npy); err != nil {
			t.Fatal(err)
		}
		if drawn[i], err = os.ReadFile(npy); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(drawn[0], drawn[1]) {
		t.Errorf("sample --threads 1 and --threads 2 wrote different samples")
	}
	if _, err := runCLI(t, "sample", "--run", dir, "--n", "4", "--threads", "0", "--out", out); err == nil || !strings.Contains(err.Error(), "--threads") {
		t.Errorf("--threads 0: %v", err)
	}
	if _, err := runCLI(t, "sample", "--run", dir, "--n", "4", "--class", "eleven", "--out", out); err == nil || !strings.Contains(err.Error(), "not a class") {
		t.Errorf("an unknown class: %v", err)
	}
	grid := filepath.Join(root, "walk.png")
	if _, err := runCLI(t, "sample", "--run", dir, "--interpolate", "--seed", "1", "--to", "2", "--n", "6", "--class", "3", "--out", grid); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "sample", "--run", dir, "--interpolate", "--n", "6", "--out", grid); err == nil || !strings.Contains(err.Error(), "--to") {
		t.Errorf("--interpolate without --to: %v", err)
	}
}

// pngSize returns the width and height of a PNG file.
func pngSize(t *testing.T, path string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cfg.Width, cfg.Height
}

// The BigGAN presets' joint step trains conditional and unconditional
// models (an unconditional BigGAN on labelled data panicked at its first
// step).
func TestBigGANPresetTrains(t *testing.T) {
	root := t.TempDir()
	fakeMNIST(t, root, 40)
	for _, cond := range []string{"true", "false"} {
		dir := filepath.Join(root, "r"+cond)
		if _, err := runCLI(t, "train", "--preset", "biggan-mnist", "--data", filepath.Join(root, "mnist"), "--opt", "width=8", "--opt", "shared_dim=4",
			"--opt", "conditional="+cond, "--batch", "8", "--steps", "2", "--eval-every", "2", "--threads", "1", "--no-pictures", "--run", dir); err != nil {
			t.Fatalf("conditional=%s: %v", cond, err)
		}
	}
}
