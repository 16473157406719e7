package imgdata

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// decodePNG reads a PNG file.
func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestSaveGridGray(t *testing.T) {
	dir := t.TempDir()
	const n, h, w = 5, 3, 4
	x := make([]float32, n*h*w)
	for i := range x {
		x[i] = float32(i%23)/11 - 1
	}
	p := filepath.Join(dir, "grid.png")
	if err := SaveGrid(p, x, n, 1, h, w, GridOptions{Cols: 2, Pad: 1, Scale: 2}); err != nil {
		t.Fatal(err)
	}
	noTemp(t, dir)
	img := decodePNG(t, p)
	// 2 columns of 8 pixels and 3 rows of 6, with 1-pixel borders.
	if b := img.Bounds(); b.Dx() != 2*(8+1)+1 || b.Dy() != 3*(6+1)+1 {
		t.Fatalf("grid is %v", b)
	}
	gray, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("grid decodes as %T, want *image.Gray", img)
	}
	s, _ := FromFloat(x, n, 1, h, w)
	// Image 3 is in row 1, column 1; its tile starts at (1+9, 1+7).
	src := s.Image(3)
	for y := range 2 * h {
		for xx := range 2 * w {
			if got, want := gray.GrayAt(10+xx, 8+y).Y, src[(y/2)*w+xx/2]; got != want {
				t.Fatalf("tile 3 pixel (%d, %d) is %d, want %d", xx, y, got, want)
			}
		}
	}
	// Borders and the empty sixth cell are background.
	for _, pt := range []image.Point{{0, 0}, {9, 5}, {18, 21}, {10, 15}, {17, 20}} {
		if got := gray.GrayAt(pt.X, pt.Y).Y; got != GridBackground {
			t.Errorf("pixel %v is %d, want the background %d", pt, got, GridBackground)
		}
	}
}

func TestSaveGridRGB(t *testing.T) {
	dir := t.TempDir()
	// Two 1×2 images: red then green, and blue then white.
	x := []float32{
		1, -1, -1, 1, -1, -1, // R plane, G plane, B plane of image 0
		-1, 1, -1, 1, 1, 1,
	}
	p := filepath.Join(dir, "rgb.png")
	if err := SaveGrid(p, x, 2, 3, 1, 2, GridOptions{Pad: -1, Scale: 1}); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, p)
	if b := img.Bounds(); b.Dx() != 4 || b.Dy() != 1 {
		t.Fatalf("grid is %v, want 4×1 (2 columns, no border)", b)
	}
	want := []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 255, 255}}
	for i, c := range want {
		r, g, b, a := img.At(i, 0).RGBA()
		if got := (color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}); got != c {
			t.Errorf("pixel %d is %v, want %v", i, got, c)
		}
	}
}

func TestGridDefaults(t *testing.T) {
	s := &Set{N: 10, C: 1, H: 28, W: 28, Pix: make([]uint8, 10*28*28)}
	img, err := GridImage(s, GridOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 4 columns (ceil √10), 3 rows, scale 3 (84 pixels), border 2.
	if b := img.Bounds(); b.Dx() != 4*86+2 || b.Dy() != 3*86+2 {
		t.Errorf("default grid of 10 28×28 images is %v", b)
	}
	big := &Set{N: 2, C: 3, H: 100, W: 50, Pix: make([]uint8, 2*3*100*50)}
	img, err = GridImage(big, GridOptions{Cols: 5})
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 2*52+2 || b.Dy() != 104 {
		t.Errorf("grid of 2 100×50 images in 5 columns is %v", b)
	}
	if _, ok := img.(*image.RGBA); !ok || !img.(*image.RGBA).Opaque() {
		t.Errorf("colour grid is %T, not an opaque *image.RGBA", img)
	}

	_, err = GridImage(s, GridOptions{Cols: -1})
	wantError(t, err, "Cols is -1")
	_, err = GridImage(s, GridOptions{Scale: -2})
	wantError(t, err, "Scale is -2")
	_, err = GridImage(s, GridOptions{Scale: 1 << 40})
	wantError(t, err, "too large a picture")
	_, err = GridImage(&Set{C: 1, H: 1, W: 1}, GridOptions{})
	wantError(t, err, "empty")
	err = SaveGrid(filepath.Join(t.TempDir(), "x.png"), make([]float32, 3), 1, 1, 2, 2, GridOptions{})
	wantError(t, err, "needs 4 values; x has 3")
}

func TestWritePNGFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "samples")
	gray := &Set{N: 3, C: 1, H: 2, W: 3, Pix: seq(18, 40)}
	if err := WritePNGFolder(dir, gray); err != nil {
		t.Fatal(err)
	}
	noTemp(t, dir)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 || ents[0].Name() != "00000.png" || ents[2].Name() != "00002.png" {
		t.Fatalf("folder holds %v", ents)
	}
	for i := range 3 {
		img := decodePNG(t, filepath.Join(dir, fmt.Sprintf("%05d.png", i)))
		g, ok := img.(*image.Gray)
		if !ok || !bytes.Equal(g.Pix, gray.Image(i)) {
			t.Errorf("image %d read back as %T %v", i, img, img)
		}
	}

	rgb := &Set{N: 1, C: 3, H: 1, W: 2, Pix: []uint8{10, 11, 20, 21, 30, 31}}
	dir2 := t.TempDir()
	if err := WritePNGFolder(dir2, rgb); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, filepath.Join(dir2, "00000.png"))
	r, g, b, _ := img.At(1, 0).RGBA()
	if r>>8 != 11 || g>>8 != 21 || b>>8 != 31 {
		t.Errorf("pixel (1, 0) is %d %d %d, want 11 21 31", r>>8, g>>8, b>>8)
	}

	// Names widen beyond 5 digits when needed.
	for _, c := range [][2]int{{1, 5}, {100000, 5}, {100001, 6}, {1234567, 7}} {
		if got := nameDigits(c[0]); got != c[1] {
			t.Errorf("nameDigits(%d) = %d, want %d", c[0], got, c[1])
		}
	}
}
