package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/tensor"
)

// fakeMNIST writes a small MNIST-like data set into root/mnist/.
func fakeMNIST(t *testing.T, root string, n int) {
	t.Helper()
	dir := filepath.Join(root, "mnist")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{"train", "t10k"} {
		pix := make([]uint8, n*784)
		lab := make([]uint8, n)
		for i := range n {
			lab[i] = uint8(i % 10)
			for p := range 784 {
				pix[i*784+p] = uint8(25 * (i % 10))
			}
		}
		if err := imgdata.WriteIDX(filepath.Join(dir, split+"-images-idx3-ubyte"), []int{n, 28, 28}, pix); err != nil {
			t.Fatal(err)
		}
		if err := imgdata.WriteIDX(filepath.Join(dir, split+"-labels-idx1-ubyte"), []int{n}, lab); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDataListExportAndGet(t *testing.T) {
	root := t.TempDir()
	t.Setenv("MINMAX_DATA", root)
	out, err := runCLI(t, "data", "list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "minmax data get mnist") || !strings.Contains(out, "stacked-mnist  needs mnist") {
		t.Errorf("data list without data:\n%s", out)
	}
	fakeMNIST(t, root, 40)
	out, _ = runCLI(t, "data", "list")
	if !strings.Contains(out, "mnist          "+filepath.Join(root, "mnist")) || !strings.Contains(out, "stacked-mnist  built from mnist") {
		t.Errorf("data list with mnist:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "real.idx")
	if _, err := runCLI(t, "data", "export", "stacked-mnist", "--n", "50", "--out", file); err != nil {
		t.Fatal(err)
	}
	dims, pix, err := imgdata.ReadIDX(file)
	if err != nil || len(dims) != 4 || dims[0] != 50 || dims[1] != 28 || dims[3] != 3 || len(pix) != 50*784*3 {
		t.Fatalf("exported %v (%d bytes): %v", dims, len(pix), err)
	}
	// The file holds the images --seed 1 chooses, channel-last.
	set, err := imgdata.Open("stacked-mnist", "test", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	chosen, _ := set.Subset(tensor.NewRNG(1).Choose(set.N, 50))
	if want := chosen.HWC(); string(pix) != string(want) {
		t.Error("the exported pixels are not the chosen images, channel-last")
	}
	differ := false
	for p := 0; p+2 < len(pix); p += 3 {
		differ = differ || pix[p] != pix[p+1] || pix[p+1] != pix[p+2]
	}
	if !differ {
		t.Error("every exported pixel has three equal channels: not three stacked digits")
	}
	var ue0 usageError
	if _, err := runCLI(t, "data", "export", "mnist", "--split", "val", "--out", file); !errors.As(err, &ue0) || !strings.Contains(err.Error(), "--split") {
		t.Errorf("export --split val: %v", err)
	}
	if _, err := runCLI(t, "data", "export", "mnist", "--out", file+".txt"); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Errorf("export to .txt: %v", err)
	}
	if _, err := runCLI(t, "data", "get", "kmnist"); !errors.Is(err, imgdata.ErrNoInstaller) {
		t.Errorf("data get kmnist: %v", err)
	}
	var ue usageError
	if _, err := runCLI(t, "evaluator", "train", "--data", "stacked-mnist"); !errors.As(err, &ue) || !strings.Contains(err.Error(), "--data mnist") {
		t.Errorf("evaluator train --data stacked-mnist: %v", err)
	}
	// Scoring Stacked MNIST without the MNIST evaluator says which to train.
	if _, err := runCLI(t, "eval", "--samples", file, "--data", "stacked-mnist", "--evaluator", filepath.Join(root, "none.safetensors")); err == nil || !strings.Contains(err.Error(), "evaluator train --data mnist ") {
		t.Errorf("eval without evaluator: %v", err)
	}
}

// An image folder with class sub-folders gets an evaluator too: a tenth of
// its images are held out to test it, and samples are scored against all
// its images.
func TestEvaluatorOfAnImageFolder(t *testing.T) {
	dir := t.TempDir()
	for c, name := range []string{"dark", "light"} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range 30 {
			img := image.NewRGBA(image.Rect(0, 0, 20, 20))
			for p := range img.Pix {
				img.Pix[p] = uint8(40 + 150*c + (i*13+p)%40)
			}
			f, err := os.Create(filepath.Join(dir, name, fmt.Sprintf("%02d.png", i)))
			if err != nil {
				t.Fatal(err)
			}
			png.Encode(f, img)
			f.Close()
		}
	}
	ev := filepath.Join(t.TempDir(), "folder.safetensors")
	var ue usageError
	if _, err := runCLI(t, "evaluator", "train", "--data", dir, "--epochs", "2", "--batch", "9", "--threads", "1", "--out", ev); !errors.As(err, &ue) || !strings.Contains(err.Error(), "--size") {
		t.Errorf("a folder evaluator without --size: %v", err)
	}
	out, err := runCLI(t, "evaluator", "train", "--data", dir, "--size", "16", "--epochs", "3", "--batch", "9", "--threads", "1", "--out", ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "(6 images)") {
		t.Errorf("the evaluator was not tested on 6 held-out images: %s", out)
	}
	fake := make([]uint8, 20*16*16*3)
	for i := range fake {
		fake[i] = uint8(200 + i%30)
	}
	file := filepath.Join(t.TempDir(), "fake.idx")
	if err := imgdata.WriteIDX(file, []int{20, 16, 16, 3}, fake); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "eval", "--samples", file, "--data", dir, "--evaluator", ev, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Real  string `json:"real"`
		RealN int    `json:"real_n"`
		FakeN int    `json:"fake_n"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if s.RealN != 60 || s.FakeN != 20 || !strings.Contains(s.Real, "all images") {
		t.Errorf("scored %d samples against %d real images (%s)", s.FakeN, s.RealN, s.Real)
	}
	// The classes asked for, with one outside the folder's two classes.
	asked := make([]uint8, 20)
	asked[13] = 2
	labels := filepath.Join(t.TempDir(), "asked.idx")
	if err := imgdata.WriteIDX(labels, []int{20}, asked); err != nil {
		t.Fatal(err)
	}
	_, err = runCLI(t, "eval", "--samples", file, "--labels", labels, "--data", dir, "--evaluator", ev)
	if err == nil || !strings.Contains(err.Error(), labels) || !strings.Contains(err.Error(), "the label at index 13 is 2; the 2 classes") {
		t.Errorf("a label outside the classes: %v", err)
	}
}

// Other spellings of the data set names lead to the same preset.
func TestDataAliasesPickThePreset(t *testing.T) {
	root := t.TempDir()
	t.Setenv("MINMAX_DATA", root)
	fakeMNIST(t, root, 20)
	dir := filepath.Join(t.TempDir(), "r")
	if _, err := runCLI(t, "train", "--data", "stacked_mnist", "--steps", "1", "--threads", "1", "--no-pictures", "--run", dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil || !strings.Contains(string(b), "preset: dcgan-stacked-mnist") || !strings.Contains(string(b), "source: stacked-mnist") {
		t.Errorf("config.yaml of --data stacked_mnist:\n%s (%v)", b, err)
	}
}
