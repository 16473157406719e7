package imgdata

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

func TestIDXRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"raw-idx3-ubyte", "packed-idx3-ubyte.gz", "PACKED.GZ"} {
		dims := []int{3, 4, 5}
		data := seq(60, 7)
		p := filepath.Join(dir, name)
		if err := WriteIDX(p, dims, data); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if compressed := bytes.HasPrefix(raw, []byte{0x1f, 0x8b}); compressed != (name != "raw-idx3-ubyte") {
			t.Errorf("%s: gzip-compressed = %v", name, compressed)
		}
		gotDims, got, err := ReadIDX(p)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(gotDims, dims) || !bytes.Equal(got, data) {
			t.Errorf("%s: read back %v %v, want %v %v", name, gotDims, got, dims, data)
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm()&0o044 == 0 {
			t.Errorf("%s: mode %v, %v; want readable by others", name, fi.Mode(), err)
		}
	}
	noTemp(t, dir)
}

func TestWriteIDXHeader(t *testing.T) {
	dir := t.TempDir()
	gray := &Set{N: 2, C: 1, H: 2, W: 3, Pix: seq(12, 0)}
	p := filepath.Join(dir, "gray-idx3-ubyte")
	if err := WriteSetIDX(p, gray); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(p)
	wantHdr := []byte{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3}
	if !bytes.Equal(raw[:16], wantHdr) || !bytes.Equal(raw[16:], gray.Pix) || len(raw) != 28 {
		t.Errorf("grayscale file is % x; want header % x then the pixels", raw, wantHdr)
	}

	// Colour: N×H×W×C, channels last.
	colour := &Set{N: 1, C: 3, H: 1, W: 2, Pix: []uint8{10, 11, 20, 21, 30, 31}}
	p = filepath.Join(dir, "colour-idx4-ubyte")
	if err := WriteSetIDX(p, colour); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(p)
	want := []byte{0, 0, 8, 4, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 10, 20, 30, 11, 21, 31}
	if !bytes.Equal(raw, want) {
		t.Errorf("colour file is % x, want % x", raw, want)
	}
	back, err := ReadIDXSet(p, "")
	if err != nil {
		t.Fatal(err)
	}
	if back.N != 1 || back.C != 3 || back.H != 1 || back.W != 2 || !bytes.Equal(back.Pix, colour.Pix) {
		t.Errorf("colour set read back as %d×%d×%d×%d %v", back.N, back.C, back.H, back.W, back.Pix)
	}
}

func TestWriteIDXErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x")
	wantError(t, WriteIDX(p, nil, nil), "0 dimensions")
	wantError(t, WriteIDX(p, []int{2, 0}, nil), "dimension 2 is 0")
	wantError(t, WriteIDX(p, []int{2, 3}, make([]byte, 5)), "2×3 do not match the 5")
	wantError(t, WriteIDX(filepath.Join(dir, "no", "such", "dir", "x"), []int{1}, []byte{1}), "no such file")
	wantError(t, WriteSetIDX(p, &Set{N: 1, C: 2, H: 1, W: 1, Pix: []uint8{1, 2}}), "2 channels")
	if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed WriteIDX left %s: %v", p, err)
	}
	noTemp(t, dir)
}

// TestIDXMalformed checks that each kind of malformed file, raw and
// gzip-compressed, is a *FormatError that names the file and says what is
// wrong.
func TestIDXMalformed(t *testing.T) {
	max32 := []byte{0xff, 0xff, 0xff, 0xff}
	cases := []struct {
		name   string
		data   []byte
		want   string // in the message, raw and compressed
		raw    string // in the message of the raw file only
		packed string // in the message of the compressed file only
	}{
		{name: "empty", data: nil, want: "has 0 bytes; an IDX file starts with a 4-byte magic number"},
		{name: "short magic", data: []byte{0, 0, 8}, want: "has 3 bytes"},
		{name: "wrong magic", data: []byte{'P', 'K', 3, 4, 0, 0}, want: "not an IDX file: it starts with the bytes 50 4b 03 04; expected 00 00"},
		{name: "float type", data: []byte{0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0}, want: "IDX data type 0x0d (32-bit float) is not supported; expected 0x08 (unsigned byte)"},
		{name: "unknown type", data: []byte{0, 0, 0x42, 1, 0, 0, 0, 1, 7}, want: "unknown IDX data type 0x42"},
		{name: "no dims", data: []byte{0, 0, 8, 0}, want: "declares 0 dimensions; expected 1 to 16"},
		{name: "too many dims", data: []byte{0, 0, 8, 200}, want: "declares 200 dimensions; expected 1 to 16"},
		{name: "dims cut", data: []byte{0, 0, 8, 3, 0, 0, 0, 9, 0, 0}, want: "declares 3 dimensions (12 bytes of sizes) but", raw: "the file has only 6 bytes", packed: "the decompressed data has only 6 bytes"},
		{name: "zero dim", data: idxBytes([]int{5, 0, 2}, nil), want: "the header says 5×0×2: dimension 2 is 0; every dimension must be at least 1"},
		{name: "absurd dims", data: append([]byte{0, 0, 8, 3}, slices.Concat(max32, max32, max32)...), want: "4294967295×4294967295×4294967295, more than the 17179869184 bytes (16 GiB)"},
		{name: "truncated", data: idxBytes([]int{3, 4, 5}, seq(10, 0)), want: "the header says 3×4×5 = 60 bytes of data but", raw: "the file has 10 after its 16-byte header (truncated?)", packed: "the decompressed data has 10 after its 16-byte header (truncated?)"},
		{name: "too long", data: idxBytes([]int{3, 4, 5}, seq(61, 0)), want: "the header says 3×4×5 = 60 bytes of data but", raw: "the file has 61 after its 16-byte header, 1 too many", packed: "the decompressed data has more after its 16-byte header"},
		{name: "labels too long", data: idxBytes([]int{3}, seq(4, 0)), want: "the header says 3 bytes of data but"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		for _, packed := range []bool{false, true} {
			name, data, extra := c.name, c.data, c.raw
			if packed {
				name, data, extra = c.name+".gz", gz(c.data), c.packed
			}
			t.Run(name, func(t *testing.T) {
				p := writeFile(t, dir, name, data)
				dims, got, err := ReadIDX(p)
				if err == nil {
					t.Fatalf("read %v %v, want an error", dims, got)
				}
				subs := []string{c.want}
				if extra != "" {
					subs = append(subs, extra)
				}
				wantFormatError(t, err, p, subs...)
			})
		}
	}
}

func TestIDXTruncatedGzip(t *testing.T) {
	dir := t.TempDir()
	whole := gz(idxBytes([]int{100, 28, 28}, seq(100*28*28, 3)))
	for _, cut := range []int{len(whole) / 2, len(whole) - 4, 12} {
		p := writeFile(t, dir, "cut.gz", whole[:cut])
		_, _, err := ReadIDX(p)
		wantFormatError(t, err, p, "gzip stream is truncated")
	}
	p := writeFile(t, dir, "header-cut.gz", whole[:5])
	_, _, err := ReadIDX(p)
	wantFormatError(t, err, p, "gzip stream is truncated")

	// A flipped bit in the CRC-32 of the gzip trailer.
	bad := slices.Clone(whole)
	bad[len(bad)-8] ^= 1
	p = writeFile(t, dir, "crc.gz", bad)
	_, _, err = ReadIDX(p)
	wantFormatError(t, err, p, "corrupt gzip data", "checksum")

	// Garbage after the gzip member.
	p = writeFile(t, dir, "trailing.gz", append(slices.Clone(whole), "junk"...))
	_, _, err = ReadIDX(p)
	wantFormatError(t, err, p, fmt.Sprintf("data at byte %d, after the end of the gzip stream, is not another gzip member", len(whole)))

	// Several gzip members make one stream (as gzip -c a b does).
	data := idxBytes([]int{2, 3}, seq(6, 1))
	p = writeFile(t, dir, "members.gz", slices.Concat(gz(data[:9]), gz(data[9:13]), gz(nil), gz(data[13:])))
	dims, got, err := ReadIDX(p)
	if err != nil || !slices.Equal(dims, []int{2, 3}) || !bytes.Equal(got, seq(6, 1)) {
		t.Errorf("multi-member gzip: %v %v %v", dims, got, err)
	}
}

// TestIDXLyingHeader checks that a header declaring gigabytes over a small
// file is refused without allocating for the declared size.
func TestIDXLyingHeader(t *testing.T) {
	dir := t.TempDir()
	data := idxBytes([]int{100000, 1000, 100}, seq(5000, 0)) // says 10 GB
	for _, p := range []string{writeFile(t, dir, "raw", data), writeFile(t, dir, "packed.gz", gz(data))} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := ReadIDX(p)
		runtime.ReadMemStats(&after)
		wantFormatError(t, err, p, "100000×1000×100 = 10000000000 bytes of data", "(truncated?)")
		if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
			t.Errorf("%s: reading allocated %d bytes", p, got)
		}
	}
}

func TestIDXNotFound(t *testing.T) {
	p := filepath.Join(t.TempDir(), "missing")
	_, _, err := ReadIDX(p)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not match fs.ErrNotExist", err)
	}
	wantError(t, err, p)
	_, _, err = ReadIDX(filepath.Dir(p))
	wantError(t, err, "is a folder")
}

func TestReadIDXSet(t *testing.T) {
	dir := t.TempDir()
	pix := seq(4*2*3, 0)
	img := writeFile(t, dir, "train-images-idx3-ubyte.gz", gz(idxBytes([]int{4, 2, 3}, pix)))
	lab := writeFile(t, dir, "train-labels-idx1-ubyte", idxBytes([]int{4}, []byte{3, 0, 1, 3}))
	s, err := ReadIDXSet(img, lab)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 4 || s.C != 1 || s.H != 2 || s.W != 3 || !bytes.Equal(s.Pix, pix) || s.Source != img {
		t.Errorf("set %d×%d×%d×%d from %q", s.N, s.C, s.H, s.W, s.Source)
	}
	if !slices.Equal(s.Labels, []int{3, 0, 1, 3}) || !slices.Equal(s.Classes, []string{"0", "1", "2", "3"}) {
		t.Errorf("labels %v classes %v", s.Labels, s.Classes)
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}

	s, err = ReadIDXSet(img, lab, "a", "b", "c", "d", "e")
	if err != nil || len(s.Classes) != 5 || s.Classes[4] != "e" {
		t.Errorf("with classes: %v, %v", s, err)
	}
	s, err = ReadIDXSet(img, "")
	if err != nil || s.Labels != nil || s.Classes != nil {
		t.Errorf("without labels: %v, %v", s, err)
	}

	_, err = ReadIDXSet(img, lab, "a", "b", "c")
	wantFormatError(t, err, lab, "label 0 (at byte 8) is 3; expected 0 to 2 for the 3 classes")

	short := writeFile(t, dir, "short-labels", idxBytes([]int{3}, []byte{0, 1, 2}))
	_, err = ReadIDXSet(img, short)
	wantFormatError(t, err, short, "has 3 labels but "+img+" has 4 images; expected one label per image")

	twoD := writeFile(t, dir, "2d-labels", idxBytes([]int{4, 1}, []byte{0, 1, 2, 3}))
	_, err = ReadIDXSet(img, twoD)
	wantFormatError(t, err, twoD, "a labels file has 1 dimension (N); this one has 2 (4×1)")

	_, err = ReadIDXSet(lab, "")
	wantFormatError(t, err, lab, "an images file has 3 dimensions (N×H×W) or 4 (N×H×W×C); this one has 1 (4)")

	twoCh := writeFile(t, dir, "2ch", idxBytes([]int{1, 2, 2, 2}, seq(8, 0)))
	_, err = ReadIDXSet(twoCh, "")
	wantFormatError(t, err, twoCh, "have 2 channels (the last dimension); expected 1 or 3")

	oneCh := writeFile(t, dir, "1ch", idxBytes([]int{2, 2, 2, 1}, seq(8, 0)))
	s, err = ReadIDXSet(oneCh, "")
	if err != nil || s.C != 1 || s.N != 2 || !bytes.Equal(s.Pix, seq(8, 0)) {
		t.Errorf("N×H×W×1: %v, %v", s, err)
	}
}
