package imgdata

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cifarPixel is the test value of channel c at position j of record r.
func cifarPixel(r, c, j int) byte { return byte(r*7 + c*50 + j) }

// cifarBatch makes records with the given labels; record r starts at
// record index first.
func cifarBatch(first int, labels ...byte) []byte {
	var b []byte
	for k, l := range labels {
		b = append(b, l)
		for c := range 3 {
			for j := range 1024 {
				b = append(b, cifarPixel(first+k, c, j))
			}
		}
	}
	return b
}

func TestReadCIFAR10(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "data_batch_1.bin", cifarBatch(0, 3, 9, 0))
	b := writeFile(t, dir, "data_batch_2.bin", cifarBatch(3, 5))
	s, err := ReadCIFAR10(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 4 || s.C != 3 || s.H != 32 || s.W != 32 || len(s.Pix) != 4*3072 {
		t.Fatalf("set %d×%d×%d×%d with %d values", s.N, s.C, s.H, s.W, len(s.Pix))
	}
	if !slices.Equal(s.Labels, []int{3, 9, 0, 5}) {
		t.Errorf("labels %v", s.Labels)
	}
	if !slices.Equal(s.Classes, cifar10Classes) || s.Classes[3] != "cat" {
		t.Errorf("classes %v", s.Classes)
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
	// Red, green and blue planes of 32×32, row-major.
	for i := range s.N {
		img := s.Image(i)
		for c := range 3 {
			for _, yx := range [][2]int{{0, 0}, {0, 31}, {1, 0}, {17, 5}, {31, 31}} {
				j := yx[0]*32 + yx[1]
				if got, want := img[c*1024+j], cifarPixel(i, c, j); got != want {
					t.Fatalf("image %d channel %d (y, x) = %v: %d, want %d", i, c, yx, got, want)
				}
			}
		}
	}
	if !strings.Contains(s.Source, a) || !strings.Contains(s.Source, b) {
		t.Errorf("source %q", s.Source)
	}
}

func TestCIFAR10Meta(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "test_batch.bin", cifarBatch(0, 1))
	names := "plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"
	writeFile(t, dir, "batches.meta.txt", []byte(names))
	s, err := ReadCIFAR10(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Classes) != 10 || s.Classes[0] != "plane" || s.Classes[1] != "car" {
		t.Errorf("classes %q", s.Classes)
	}
	meta := writeFile(t, dir, "batches.meta.txt", []byte("a\nb\n"))
	_, err = ReadCIFAR10(p)
	wantFormatError(t, err, meta, "has 2 class names; expected 10, one per line")
}

func TestCIFAR10Malformed(t *testing.T) {
	dir := t.TempDir()
	good := cifarBatch(0, 1, 2)
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"empty", nil, []string{"the file is empty; expected CIFAR-10 records of 3073 bytes"}},
		{"short", good[:3000], []string{"the file is 3000 bytes: 0 whole records of 3073 bytes (1 label byte, then 3072 pixel bytes) and 3000 bytes left over; expected a multiple of 3073 (truncated?)"}},
		{"long", append(slices.Clone(good), 1, 2, 3, 4, 5), []string{"the file is 6151 bytes: 2 whole records", "and 5 bytes left over"}},
		{"bad label", cifarBatch(0, 4, 10), []string{"record 1 (at byte 3073) has label 10; CIFAR-10 labels are 0 to 9"}},
		{"gzip", gz(good), []string{"is gzip-compressed", "tar xzf cifar-10-binary.tar.gz"}},
		{"cifar100", make([]byte, 2*3074), []string{"CIFAR-100"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, dir, c.name+".bin", c.data)
			// The bad file second: the good one must not hide it.
			ok := writeFile(t, dir, "ok.bin", good)
			s, err := ReadCIFAR10(ok, p)
			if err == nil {
				t.Fatalf("read %d images, want an error", s.N)
			}
			wantFormatError(t, err, p, c.want...)
		})
	}

	tar := make([]byte, 3073)
	copy(tar, "cifar-10-batches-bin/")
	copy(tar[257:], "ustar")
	p := writeFile(t, dir, "archive.tar", tar)
	_, err := ReadCIFAR10(p)
	wantFormatError(t, err, p, "is a tar archive")

	_, err = ReadCIFAR10()
	wantError(t, err, "no files given")
	_, err = ReadCIFAR10(dir)
	wantError(t, err, dir, "is a folder")
	_, err = ReadCIFAR10(filepath.Join(dir, "missing.bin"))
	wantError(t, err, "missing.bin", "no such file")
}

func TestCIFAR10Order(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.bin", cifarBatch(0, 0))
	b := writeFile(t, dir, "b.bin", cifarBatch(1, 1))
	ab, err := ReadCIFAR10(a, b)
	if err != nil {
		t.Fatal(err)
	}
	ba, err := ReadCIFAR10(b, a)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ab.Image(0), ba.Image(1)) || !bytes.Equal(ab.Image(1), ba.Image(0)) || ab.Labels[0] != ba.Labels[1] {
		t.Error("the images are not in the order of the files")
	}
}
