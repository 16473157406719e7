package imgdata

import (
	"errors"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// mnistLike writes a small MNIST-like data set of 28×28 images (5 to train,
// 3 to test) into dir with the given file name ending (".gz" or "").
func mnistLike(t *testing.T, dir, ext string, labels ...byte) {
	t.Helper()
	if labels == nil {
		labels = []byte{5, 0, 4, 1, 9, 7, 2, 1}
	}
	put := func(name string, b []byte) {
		if ext == ".gz" {
			b = gz(b)
		}
		writeFile(t, dir, name+ext, b)
	}
	put("train-images-idx3-ubyte", idxBytes([]int{5, 28, 28}, seq(5*784, 0)))
	put("train-labels-idx1-ubyte", idxBytes([]int{5}, labels[:5]))
	put("t10k-images-idx3-ubyte", idxBytes([]int{3, 28, 28}, seq(3*784, 1)))
	put("t10k-labels-idx1-ubyte", idxBytes([]int{3}, labels[5:]))
}

func TestOpenNamed(t *testing.T) {
	root := t.TempDir()
	t.Setenv(EnvData, root)
	mnistLike(t, filepath.Join(root, "mnist"), ".gz")
	mnistLike(t, filepath.Join(root, "fashion-mnist"), "")

	s, err := Open("mnist", "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 5 || s.C != 1 || s.H != 28 || s.W != 28 || !slices.Equal(s.Labels, []int{5, 0, 4, 1, 9}) {
		t.Errorf("mnist train: %d×%d×%d×%d, labels %v", s.N, s.C, s.H, s.W, s.Labels)
	}
	if len(s.Classes) != 10 || s.Classes[9] != "9" || !strings.HasPrefix(s.Source, "mnist train (") {
		t.Errorf("classes %v, source %q", s.Classes, s.Source)
	}
	s, err = Open("mnist", "test", 28, 1)
	if err != nil || s.N != 3 || s.Labels[0] != 7 {
		t.Errorf("mnist test: %v, %v", s, err)
	}
	s, err = Open("fashion_mnist", "test", 0, 0)
	if err != nil || s.N != 3 || s.Classes[0] != "T-shirt/top" {
		t.Errorf("fashion-mnist test: %v, %v", s, err)
	}

	_, err = Open("mnist", "train", 32, 0)
	wantError(t, err, "the images are 28×28 with 1 channel; asked for size 32×32, but only image folders are resized")
	_, err = Open("mnist", "train", 0, 3)
	wantError(t, err, "with 1 channel; asked for 3 channels, but")
	_, err = Open("mnist", "validation", 0, 0)
	wantError(t, err, `split "validation"; expected train or test`)

	// Labels are checked against the 10 classes of a named set.
	mnistLike(t, filepath.Join(root, "kmnist"), ".gz", 1, 2, 3, 10, 4, 5, 6, 7)
	_, err = Open("kmnist", "train", 0, 0)
	wantFormatError(t, err, filepath.Join(root, "kmnist", "train-labels-idx1-ubyte.gz"), "label 3 (at byte 11) is 10; expected 0 to 9 for the 10 classes")

	// A named set without its test split.
	os.Remove(filepath.Join(root, "mnist", "t10k-images-idx3-ubyte.gz"))
	_, err = Open("mnist", "test", 0, 0)
	wantError(t, err, "without a test split", "t10k-images-idx3-ubyte[.gz]")
}

func TestOpenNamedCIFAR(t *testing.T) {
	root := t.TempDir()
	t.Setenv(EnvData, root)
	dir := filepath.Join(root, "cifar10", "cifar-10-batches-bin")
	for _, k := range []int{10, 2, 1} {
		writeFile(t, dir, "data_batch_"+strconv.Itoa(k)+".bin", cifarBatch(k, byte(k%10)))
	}
	writeFile(t, dir, "test_batch.bin", cifarBatch(0, 0, 1, 2))
	s, err := Open("cifar10", "train", 32, 3)
	if err != nil {
		t.Fatal(err)
	}
	// data_batch_1, _2, _10 in numeric order.
	if s.N != 3 || !slices.Equal(s.Labels, []int{1, 2, 0}) || s.Classes[9] != "truck" {
		t.Errorf("cifar10 train: N = %d, labels %v, classes %v", s.N, s.Labels, s.Classes)
	}
	s, err = Open("cifar-10", "test", 0, 0)
	if err != nil || s.N != 3 {
		t.Errorf("cifar10 test: %v, %v", s, err)
	}
	_, err = Open("cifar10", "train", 28, 0)
	wantError(t, err, "32×32 with 3 channels; asked for size 28×28, but")
}

func TestOpenNotFound(t *testing.T) {
	root := t.TempDir()
	t.Setenv(EnvData, root)
	os.MkdirAll(filepath.Join(root, "mnist"), 0o755) // empty: not the data set
	cases := map[string][]string{
		"mnist":         {"yann.lecun.com/exdb/mnist/", "train-images-idx3-ubyte.gz"},
		"fashion-mnist": {"apt-get install dataset-fashion-mnist", "fashion-mnist.s3-website"},
		"kmnist":        {"codh.rois.ac.jp/kmnist"},
		"cifar10":       {"https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", "cifar-10-batches-bin/"},
	}
	for name, subs := range cases {
		_, err := Open(name, "train", 0, 0)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: error %v does not match ErrNotFound", name, err)
		}
		dir := filepath.Join(root, name)
		wantError(t, err, append(subs, `data set "`+name+`" not found; looked in `+dir+" (the environment variable MINMAX_DATA is set", "into "+dir+string(filepath.Separator))...)
	}

	// Without MINMAX_DATA: the system folder (for fashion-mnist), then the
	// user cache.
	t.Setenv(EnvData, "")
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HOME", cache)
	_, err := Open("kmnist", "train", 0, 0)
	wantError(t, err, "looked in "+filepath.Join(cache, "minmax", "kmnist"), "set MINMAX_DATA=DIR")
	dirs, _ := searchDirs(&namedSets[1])
	if len(dirs) != 2 || dirs[0] != "/usr/share/datasets/fashion-mnist" {
		t.Errorf("fashion-mnist is searched for in %v", dirs)
	}
	mnistLike(t, filepath.Join(cache, "minmax", "kmnist"), ".gz")
	if s, err := Open("kmnist", "test", 0, 0); err != nil || s.N != 3 || s.Classes[1] != "ki" {
		t.Errorf("kmnist from the cache: %v, %v", s, err)
	}
}

func TestOpenPaths(t *testing.T) {
	root := t.TempDir()
	t.Setenv(EnvData, t.TempDir())

	idx := filepath.Join(root, "idx")
	mnistLike(t, idx, "")
	s, err := Open(idx, "test", 0, 0)
	if err != nil || s.N != 3 || len(s.Classes) != 8 { // labels up to 7
		t.Errorf("IDX folder: %v, %v", s, err)
	}

	// Kaggle's names: train-images.idx3-ubyte.
	kaggle := filepath.Join(root, "kaggle")
	writeFile(t, kaggle, "train-images.idx3-ubyte", idxBytes([]int{2, 4, 4}, seq(32, 0)))
	writeFile(t, kaggle, "train-labels.idx1-ubyte", idxBytes([]int{2}, []byte{1, 0}))
	if s, err := Open(kaggle, "train", 4, 1); err != nil || s.N != 2 || s.Labels[0] != 1 {
		t.Errorf("Kaggle names: %v, %v", s, err)
	}

	// A single IDX file, with its labels found next to it.
	s, err = Open(filepath.Join(idx, "t10k-images-idx3-ubyte"), "train", 0, 0)
	if err != nil || s.N != 3 || s.Labels == nil {
		t.Errorf("IDX file: %v, %v", s, err)
	}
	lone := writeFile(t, root, "samples.idx", idxBytes([]int{1, 2, 2}, seq(4, 0)))
	if s, err := Open(lone, "", 0, 0); err != nil || s.N != 1 || s.Labels != nil {
		t.Errorf("lone IDX file: %v, %v", s, err)
	}

	// CIFAR-10 batches directly in the folder, and a single batch.
	cifar := filepath.Join(root, "cifar")
	writeFile(t, cifar, "data_batch_1.bin", cifarBatch(0, 1, 2))
	writeFile(t, cifar, "test_batch.bin", cifarBatch(0, 3))
	if s, err := Open(cifar, "train", 0, 3); err != nil || s.N != 2 {
		t.Errorf("CIFAR folder: %v, %v", s, err)
	}
	if s, err := Open(filepath.Join(cifar, "test_batch.bin"), "", 0, 0); err != nil || s.N != 1 || s.Labels[0] != 3 {
		t.Errorf("CIFAR file: %v, %v", s, err)
	}
	onlyTest := filepath.Join(root, "cifar-test")
	writeFile(t, onlyTest, "test_batch.bin", cifarBatch(0, 3))
	_, err = Open(onlyTest, "train", 0, 0)
	wantError(t, err, "without a train split", "data_batch_1.bin")

	// A folder of images.
	imgs := filepath.Join(root, "imgs")
	writeFile(t, imgs, "a/1.png", pngBytes(t, solid(10, 12, color.White)))
	writeFile(t, imgs, "b/2.jpg", jpegBytes(t, solid(10, 12, color.Black)))
	if s, err := Open(imgs, "train", 8, 1); err != nil || s.N != 2 || s.H != 8 || s.C != 1 || !slices.Equal(s.Classes, []string{"a", "b"}) {
		t.Errorf("image folder: %v, %v", s, err)
	}
	_, err = Open(imgs, "test", 8, 1)
	wantError(t, err, "has only a train split")
	_, err = Open(imgs, "train", 0, 3)
	wantError(t, err, "needs an image size")
	empty := filepath.Join(root, "empty")
	os.Mkdir(empty, 0o755)
	_, err = Open(empty, "train", 8, 3)
	wantError(t, err, empty, "no data found: no IDX files")

	_, err = Open("no-such-set", "train", 0, 0)
	wantError(t, err, `"no-such-set" is neither a data set name (mnist, fashion-mnist, kmnist, cifar10, stacked-mnist) nor an existing file or folder`)
	_, err = Open(filepath.Join(root, "missing"), "train", 0, 0)
	wantError(t, err, "missing", "no such file")
	_, err = Open("", "train", 0, 0)
	wantError(t, err, "no data given")
	single := writeFile(t, root, "one.png", pngBytes(t, solid(2, 2, color.White)))
	_, err = Open(single, "train", 8, 3)
	wantError(t, err, "is a single image")
	text := writeFile(t, root, "notes.txt", []byte("hello"))
	_, err = Open(text, "train", 0, 0)
	wantFormatError(t, err, text, "not a data set file")
}

// TestFashionMNISTDebian reads the real Fashion-MNIST of Debian's
// dataset-fashion-mnist package when it is installed.
func TestFashionMNISTDebian(t *testing.T) {
	const dir = "/usr/share/datasets/fashion-mnist"
	if _, err := os.Stat(filepath.Join(dir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skip("dataset-fashion-mnist is not installed")
	}
	if testing.Short() {
		t.Skip("reads 60000 images")
	}
	t.Setenv(EnvData, "")
	for split, n := range map[string]int{"train": 60000, "test": 10000} {
		s, err := Open("fashion-mnist", split, 28, 1)
		if err != nil {
			t.Fatal(err)
		}
		if s.N != n || s.C != 1 || s.H != 28 || s.W != 28 || len(s.Classes) != 10 {
			t.Fatalf("%s: %d×%d×%d×%d, %d classes", split, s.N, s.C, s.H, s.W, len(s.Classes))
		}
		var count [10]int
		for _, l := range s.Labels {
			count[l]++
		}
		for k, c := range count {
			if c != n/10 { // Fashion-MNIST is balanced
				t.Errorf("%s: class %d has %d images, want %d", split, k, c, n/10)
			}
		}
		if err := s.Validate(); err != nil {
			t.Error(err)
		}
	}
}
