package imgdata

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// checkReadError checks that an error of a reader names one of paths, and
// if it is a *FormatError, that its File is one of them.
func checkReadError(t *testing.T, err error, paths ...string) {
	t.Helper()
	named := false
	for _, p := range paths {
		named = named || strings.Contains(err.Error(), p)
	}
	if !named {
		t.Fatalf("error %q names none of %v", err, paths)
	}
	var fe *FormatError
	if errors.As(err, &fe) && !slices.Contains(paths, fe.File) {
		t.Fatalf("FormatError for %q, want one of %v", fe.File, paths)
	}
}

func FuzzReadIDX(f *testing.F) {
	valid := idxBytes([]int{2, 3, 3}, seq(18, 0))
	f.Add(valid)
	f.Add(gz(valid))
	f.Add(idxBytes([]int{4}, []byte{0, 1, 2, 9}))
	f.Add(idxBytes([]int{1, 2, 2, 3}, seq(12, 5)))
	f.Add(valid[:20])
	f.Add(gz(valid)[:30])
	f.Add(append(gz(valid), 0x1f, 0x8b, 8))
	f.Add(append(slices.Clone(valid), 1))
	f.Add([]byte{0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 8, 0})
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		p := writeFile(t, dir, "fuzz-idx", data)

		dims, got, err := ReadIDX(p)
		if err != nil {
			checkReadError(t, err, p)
		} else {
			n, ok := product(dims...)
			if !ok || n != len(got) || len(dims) == 0 || len(dims) > MaxIDXDims || slices.Min(dims) < 1 {
				t.Fatalf("ReadIDX returned dims %v with %d bytes", dims, len(got))
			}
		}

		s, err := ReadIDXSet(p, "")
		if err != nil {
			checkReadError(t, err, p)
		} else if err := s.Validate(); err != nil || s.N < 1 {
			t.Fatalf("ReadIDXSet returned an invalid set (N = %d): %v", s.N, err)
		}

		// The input as the labels of 4 images.
		images := writeFile(t, dir, "images", idxBytes([]int{4, 2, 2}, seq(16, 0)))
		s, err = ReadIDXSet(images, p, "0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
		if err != nil {
			checkReadError(t, err, p)
		} else if err := s.Validate(); err != nil || len(s.Labels) != 4 {
			t.Fatalf("ReadIDXSet with labels returned an invalid set: %v", err)
		}
	})
}

// FuzzReadCIFAR10 reads a file made of data followed by pad zero bytes (so
// that small inputs reach whole 3073-byte records, which keeps the fuzzer
// fast), with meta as batches.meta.txt unless it is empty.
func FuzzReadCIFAR10(f *testing.F) {
	f.Add([]byte{3}, uint16(3072), "")
	f.Add([]byte{9, 1, 2, 3}, uint16(2*3073-4), "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n")
	f.Add(append(make([]byte, 3073), 10), uint16(3072), "")
	f.Add([]byte{1}, uint16(3071), "")
	f.Add(gz(cifarBatch(0, 1)), uint16(0), "x")
	f.Add([]byte{}, uint16(0), "")
	f.Add([]byte{0}, uint16(0), "\n\n")

	f.Fuzz(func(t *testing.T, data []byte, pad uint16, meta string) {
		dir := t.TempDir()
		data = append(data, make([]byte, pad)...)
		p := writeFile(t, dir, "data_batch_1.bin", data)
		metaPath := filepath.Join(dir, "batches.meta.txt")
		if meta != "" {
			writeFile(t, dir, "batches.meta.txt", []byte(meta))
		}
		s, err := ReadCIFAR10(p)
		if err != nil {
			checkReadError(t, err, p, metaPath)
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		if s.N != len(data)/3073 || s.N*3073 != len(data) || s.C != 3 || s.H != 32 || s.W != 32 || len(s.Classes) != 10 {
			t.Fatalf("set %d×%d×%d×%d with %d classes from %d bytes", s.N, s.C, s.H, s.W, len(s.Classes), len(data))
		}
		for i := range s.N {
			if s.Labels[i] != int(data[i*3073]) || s.Pix[i*3072] != data[i*3073+1] || s.Pix[i*3072+3071] != data[i*3073+3072] {
				t.Fatalf("record %d misread", i)
			}
		}
	})
}

// FuzzReadFolder reads a folder of two class sub-folders, one image each:
// a fixed valid PNG and the fuzzed bytes under the extension ext picks.
// The folder reads as a labelled set of two images at the size asked, or is
// refused naming the fuzzed file.
func FuzzReadFolder(f *testing.F) {
	gray := image.NewGray(image.Rect(0, 0, 5, 3))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 17)
	}
	rgba := image.NewNRGBA(image.Rect(0, 0, 2, 4))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 29)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 3, 3), color.Palette{color.Black, color.White, color.RGBA{200, 10, 10, 255}})
	pal.Pix[4] = 2
	encode := func(img image.Image, jpg bool) []byte {
		var b bytes.Buffer
		var err error
		if jpg {
			err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 80})
		} else {
			err = png.Encode(&b, img)
		}
		if err != nil {
			f.Fatal(err)
		}
		return b.Bytes()
	}
	valid := encode(gray, false)
	for _, img := range []image.Image{gray, rgba, pal} {
		p, j := encode(img, false), encode(img, true)
		f.Add(p, uint8(0), uint8(4), true)
		f.Add(j, uint8(1), uint8(7), false)
		f.Add(p[:len(p)/2], uint8(0), uint8(3), true)
		f.Add(j[:len(j)-4], uint8(2), uint8(8), false)
	}
	f.Add([]byte("not an image"), uint8(0), uint8(8), true)
	f.Add([]byte{}, uint8(1), uint8(1), false)

	f.Fuzz(func(t *testing.T, data []byte, ext, size uint8, grey bool) {
		dir := t.TempDir()
		for _, c := range []string{"cats", "dogs"} {
			if err := os.Mkdir(filepath.Join(dir, c), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		writeFile(t, filepath.Join(dir, "cats"), "a.png", valid)
		name := "b" + []string{".png", ".jpg", ".JPEG"}[int(ext)%3]
		bad := writeFile(t, filepath.Join(dir, "dogs"), name, data)
		side := 1 + int(size)%32
		channels := 3
		if grey {
			channels = 1
		}
		s, err := ReadFolder(dir, side, channels)
		if err != nil {
			checkReadError(t, err, bad)
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("ReadFolder returned an invalid set: %v", err)
		}
		if s.N != 2 || s.H != side || s.W != side || s.C != channels || len(s.Pix) != 2*side*side*channels ||
			!slices.Equal(s.Classes, []string{"cats", "dogs"}) || !slices.Equal(s.Labels, []int{0, 1}) {
			t.Fatalf("ReadFolder returned %d images of %dx%dx%d, classes %v, labels %v", s.N, s.H, s.W, s.C, s.Classes, s.Labels)
		}
	})
}
