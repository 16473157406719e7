package imgdata

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// pngBytes encodes img as PNG.
func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// jpegBytes encodes img as JPEG at high quality.
func jpegBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// solid returns a w×h image of one colour.
func solid(w, h int, c color.Color) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

// thirds returns a w×h grayscale image whose middle third (across the
// longer side) is white and the rest black.
func thirds(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			t := x * 3 / w
			if h > w {
				t = y * 3 / h
			}
			if t == 1 {
				img.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	return img
}

func TestReadFolderClasses(t *testing.T) {
	dir := t.TempDir()
	red := color.NRGBA{R: 255, A: 255}
	writeFile(t, dir, "cats/a.png", pngBytes(t, solid(40, 20, red)))
	writeFile(t, dir, "dogs/b.JPG", jpegBytes(t, solid(64, 64, color.NRGBA{R: 200, G: 100, B: 50, A: 255})))
	writeFile(t, dir, "dogs/deeper/c.Png", pngBytes(t, solid(5, 9, color.NRGBA{B: 255, A: 255})))
	writeFile(t, dir, "birds/notes.txt", []byte("not an image"))
	writeFile(t, dir, "readme.md", []byte("not an image"))
	writeFile(t, dir, ".hidden/x.png", []byte("skipped, not decoded"))
	writeFile(t, dir, "cats/._a.png", []byte("macOS resource fork, skipped"))

	s, err := ReadFolder(dir, 16, 3)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 3 || s.C != 3 || s.H != 16 || s.W != 16 || len(s.Pix) != 3*3*16*16 {
		t.Fatalf("set %d×%d×%d×%d with %d values", s.N, s.C, s.H, s.W, len(s.Pix))
	}
	if !slices.Equal(s.Classes, []string{"cats", "dogs"}) || !slices.Equal(s.Labels, []int{0, 1, 1}) {
		t.Errorf("classes %v labels %v", s.Classes, s.Labels)
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
	// Image 0 is pure red, image 1 a JPEG of (200, 100, 50), image 2 blue.
	want := [][3]int{{255, 0, 0}, {200, 100, 50}, {0, 0, 255}}
	tol := []int{0, 6, 0}
	for i, w := range want {
		img := s.Image(i)
		for c := range 3 {
			for j := range 256 {
				if d := int(img[c*256+j]) - w[c]; d > tol[i] || d < -tol[i] {
					t.Fatalf("image %d channel %d pixel %d is %d, want %d", i, c, j, img[c*256+j], w[c])
				}
			}
		}
	}

	g, err := ReadFolder(dir, 8, 1)
	if err != nil {
		t.Fatal(err)
	}
	// BT.601 luma of pure red is 0.299×255 = 76.2; of pure blue 0.114×255 = 29.1.
	if g.C != 1 || g.H != 8 || g.Image(0)[0] != 76 || g.Image(2)[63] != 29 {
		t.Errorf("grayscale: C = %d, H = %d, luma of red %d, of blue %d", g.C, g.H, g.Image(0)[0], g.Image(2)[63])
	}
	again, err := ReadFolder(dir, 8, 0)
	if err != nil || again.C != 3 {
		t.Errorf("channels 0: %v, %v", again, err)
	}
}

func TestReadFolderCentreCrop(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "wide.png", pngBytes(t, thirds(90, 30)))
	writeFile(t, dir, "tall.jpeg", jpegBytes(t, thirds(30, 90)))
	writeFile(t, dir, "small.png", pngBytes(t, thirds(12, 4)))
	s, err := ReadFolder(dir, 24, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Labels != nil || s.Classes != nil {
		t.Errorf("images directly in the folder have labels %v, classes %v", s.Labels, s.Classes)
	}
	// small.png, tall.jpeg, wide.png: the middle third is the central square.
	for i := range s.N {
		white := 0
		for _, v := range s.Image(i) {
			if v >= 240 {
				white++
			}
		}
		if white < 24*24*95/100 {
			t.Errorf("image %d: %d of %d pixels white after the centre crop", i, white, 24*24)
		}
	}
}

func TestReadFolderUnlabelledMixture(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "top.png", pngBytes(t, solid(4, 4, color.White)))
	writeFile(t, dir, "class/a.png", pngBytes(t, solid(4, 4, color.Black)))
	s, err := ReadFolder(dir, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 2 || s.Labels != nil || s.Classes != nil {
		t.Errorf("N = %d, labels %v, classes %v; want 2 unlabelled images", s.N, s.Labels, s.Classes)
	}
	// Walk order: class/a.png, then top.png.
	if s.Image(0)[0] != 0 || s.Image(1)[0] != 255 {
		t.Errorf("order: %d, %d", s.Image(0)[0], s.Image(1)[0])
	}
}

func TestReadFolderErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadFolder(dir, 8, 3)
	wantError(t, err, dir, "no images found")
	writeFile(t, dir, "a/readme.txt", []byte("x"))
	_, err = ReadFolder(dir, 8, 3)
	wantError(t, err, dir, "no images found")

	_, err = ReadFolder(dir, 0, 3)
	wantError(t, err, "image size 0; expected 1 to 4096")
	_, err = ReadFolder(dir, 8, 2)
	wantError(t, err, "2 channels; expected 1 (grayscale) or 3 (RGB)")
	_, err = ReadFolder(filepath.Join(dir, "missing"), 8, 3)
	wantError(t, err, "missing", "no such file")
	f := writeFile(t, dir, "file.png", pngBytes(t, solid(2, 2, color.White)))
	_, err = ReadFolder(f, 8, 3)
	wantError(t, err, f, "is not a folder")

	// Several bad files: the first in walk order is reported, every time.
	good := pngBytes(t, solid(3, 3, color.White))
	for i := range 40 {
		writeFile(t, dir, filepath.Join("b", string(rune('a'+i/26))+string(rune('a'+i%26))+".png"), good)
	}
	bad1 := writeFile(t, dir, "b/bq.png", []byte("this is not a PNG"))
	writeFile(t, dir, "b/bz.jpg", []byte("neither is this a JPEG"))
	writeFile(t, dir, "c/x.jpeg", good[:len(good)/2])
	for range 5 {
		_, err = ReadFolder(dir, 8, 3)
		wantFormatError(t, err, bad1, "has the extension .png but is not a PNG or JPEG image that can be decoded")
	}
	os.Remove(bad1)
	os.Remove(filepath.Join(dir, "b/bz.jpg"))
	_, err = ReadFolder(dir, 8, 3)
	wantFormatError(t, err, filepath.Join(dir, "c/x.jpeg"), "the png image (3×3) does not decode")
}

// TestReadFolderHugeHeader checks that an image whose header claims to be
// enormous is refused before it is decoded.
func TestReadFolderHugeHeader(t *testing.T) {
	dir := t.TempDir()
	b := pngBytes(t, solid(1, 1, color.White))
	// The IHDR chunk: length at 8, "IHDR" at 12, width at 16, height at 20,
	// CRC of type and data at 29.
	binary.BigEndian.PutUint32(b[16:], 100000)
	binary.BigEndian.PutUint32(b[20:], 100000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	p := writeFile(t, dir, "huge.png", b)
	_, err := ReadFolder(dir, 8, 3)
	wantFormatError(t, err, p, "the png image is 100000×100000 pixels, more than the 67108864 this package decodes")
}

func TestReadFolderTransparent(t *testing.T) {
	dir := t.TempDir()
	img := solid(4, 4, color.NRGBA{R: 255, G: 255, B: 255, A: 0})
	img.Set(0, 0, color.NRGBA{R: 255, G: 255, B: 255, A: 255})
	writeFile(t, dir, "t.png", pngBytes(t, img))
	s, err := ReadFolder(dir, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Image(0); p[0] != 255 || p[1] != 0 || p[16+5] != 0 {
		t.Errorf("transparent pixels are not composed onto black: %v", p)
	}
}
