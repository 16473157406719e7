package tboard

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/minmaxgan/minmax/tboard/tfpb"
)

// The CRC32C vectors of RFC 3720 (iSCSI), appendix B.4, and the check
// value of the CRC catalogue ("123456789").
func TestCRC32CVectors(t *testing.T) {
	asc, desc := make([]byte, 32), make([]byte, 32)
	for i := range asc {
		asc[i], desc[i] = byte(i), byte(31-i)
	}
	for _, c := range []struct {
		name string
		in   []byte
		want uint32
	}{
		{"32 bytes of zeros", make([]byte, 32), 0x8A9136AA},
		{"32 bytes of 0xFF", bytes.Repeat([]byte{0xFF}, 32), 0x62A8AB43},
		{"32 bytes ascending", asc, 0x46DD794E},
		{"32 bytes descending", desc, 0x113FDB5C},
		{"123456789", []byte("123456789"), 0xE3069283},
	} {
		if got := CRC32C(c.in); got != c.want {
			t.Errorf("CRC32C(%s) = %#08x, want %#08x", c.name, got, c.want)
		}
	}
}

func TestMaskCRC(t *testing.T) {
	for _, c := range []struct{ crc, masked uint32 }{
		{0, 0xa282ead8},          // the delta alone
		{1 << 15, 0xa282ead9},    // bit 15 rotates to bit 0
		{1, 0xa284ead8},          // bit 0 rotates to bit 17
		{0x12345678, 0x4f730f40}, // 0xacf02468 + 0xa282ead8 (mod 2³²)
		{0xE3069283, 0xc78ab0e5},
	} {
		if got := MaskCRC(c.crc); got != c.masked {
			t.Errorf("MaskCRC(%#08x) = %#08x, want %#08x", c.crc, got, c.masked)
		}
		if got := UnmaskCRC(c.masked); got != c.crc {
			t.Errorf("UnmaskCRC(%#08x) = %#08x, want %#08x", c.masked, got, c.crc)
		}
	}
}

// The framing of a 5-byte record, byte for byte (computed independently
// from the definition: length, masked CRC32C of the length, data, masked
// CRC32C of the data).
func TestAppendRecord(t *testing.T) {
	got := hex.EncodeToString(AppendRecord([]byte("x"), []byte("hello")))
	if want := "78" + "0500000000000000" + "eab2043e" + "68656c6c6f" + "bb1f1c19"; got != want {
		t.Fatalf("record of \"hello\" after \"x\":\n got %s\nwant %s", got, want)
	}
}

func testPNG(t testing.TB, w, h int) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeTestFile writes an event file with scalars at steps 0..2 and an
// image at step 2, and returns its path.
func writeTestFile(t testing.TB, dir string) string {
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Unix(1700000000, 250_000_000)
	for step := int64(0); step < 3; step++ {
		if err := w.AddScalars(step, wall, []Scalar{{"loss_d", float32(step) + 0.5}, {"eval/images/fd", -float32(step)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.AddScalar("nan", 2, float32(math.NaN()), wall); err != nil {
		t.Fatal(err)
	}
	if err := w.AddImage("samples", 2, testPNG(t, 5, 3), 3, 5, 1, wall); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.Path()
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tb")
	before := time.Now().Unix()
	path := writeTestFile(t, dir)
	name := filepath.Base(path)
	host, _ := os.Hostname()
	if !strings.HasPrefix(name, FilePrefix) || !strings.Contains(name, "."+strings.ReplaceAll(host, "/", "_")) {
		t.Errorf("file name %q, want %s<seconds>.<host>", name, FilePrefix)
	}
	evs, err := ReadEvents(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 6 {
		t.Fatalf("%d events, want 6", len(evs))
	}
	if v := evs[0].GetFileVersion(); v != "brain.Event:2" || evs[0].GetWallTime() < float64(before) {
		t.Fatalf("first event: file_version %q, wall time %v", v, evs[0].GetWallTime())
	}
	for step := range 3 {
		ev := evs[1+step]
		vals := ev.GetSummary().GetValue()
		if ev.GetStep() != int64(step) || ev.GetWallTime() != 1700000000.25 || len(vals) != 2 {
			t.Fatalf("event %d: step %d, wall time %v, %d values", 1+step, ev.GetStep(), ev.GetWallTime(), len(vals))
		}
		if vals[0].GetTag() != "loss_d" || vals[0].GetSimpleValue() != float32(step)+0.5 ||
			vals[1].GetTag() != "eval/images/fd" || vals[1].GetSimpleValue() != -float32(step) {
			t.Errorf("step %d: values %v", step, vals)
		}
	}
	if v := evs[4].GetSummary().GetValue()[0]; v.GetTag() != "nan" || !math.IsNaN(float64(v.GetSimpleValue())) {
		t.Errorf("NaN scalar read back as %v", v)
	}
	img := evs[5].GetSummary().GetValue()[0]
	im := img.GetImage()
	if img.GetTag() != "samples" || evs[5].GetStep() != 2 || im.GetHeight() != 3 || im.GetWidth() != 5 || im.GetColorspace() != 1 {
		t.Fatalf("image event: %v", evs[5])
	}
	dec, err := png.Decode(bytes.NewReader(im.GetEncodedImageString()))
	if err != nil {
		t.Fatal(err)
	}
	if b := dec.Bounds(); b.Dx() != 5 || b.Dy() != 3 || dec.At(1, 0).(color.Gray).Y != 7 {
		t.Errorf("decoded image %v, pixel (1,0) %v", b, dec.At(1, 0))
	}

	// A second writer in the same folder (a resumed run, maybe in the same
	// second) gets a file of its own.
	w2, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if w2.Path() == path {
		t.Fatalf("the second writer reuses %s", path)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w2.AddScalar("late", 3, 1, time.Time{}); err == nil || !strings.Contains(err.Error(), w2.Path()) {
		t.Errorf("AddScalar after Close: %v", err)
	}
	if evs, err := ReadEvents(w2.Path()); err != nil || len(evs) != 1 {
		t.Errorf("an empty file: %d events, %v", len(evs), err)
	}
}

func TestWriterRefusesBadInput(t *testing.T) {
	w, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, err := range []error{
		w.AddScalar("", 1, 1, time.Time{}),
		w.AddImage("x", 1, []byte{1}, 0, 4, 1, time.Time{}),
		w.AddImage("x", 1, []byte{1}, 4, 4, 5, time.Time{}),
		w.AddImage("", 1, []byte{1}, 4, 4, 3, time.Time{}),
	} {
		if err == nil || !strings.Contains(err.Error(), w.Path()) {
			t.Errorf("bad input: err = %v", err)
		}
	}
	// Refusals are not sticky.
	if err := w.AddScalar("ok", 1, 1, time.Time{}); err != nil {
		t.Fatal(err)
	}
}

// recordOffsets returns the byte offsets of the records of a valid file.
func recordOffsets(t *testing.T, b []byte) []int64 {
	r := NewReader(bytes.NewReader(b), "x")
	var offs []int64
	for {
		off := r.Offset()
		if _, err := r.ReadRecord(); err == io.EOF {
			return offs
		} else if err != nil {
			t.Fatal(err)
		}
		offs = append(offs, off)
	}
}

func TestCorruptFiles(t *testing.T) {
	path := writeTestFile(t, t.TempDir())
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	offs := recordOffsets(t, good)
	if len(offs) != 6 || offs[0] != 0 {
		t.Fatalf("record offsets %v", offs)
	}
	bad := filepath.Join(t.TempDir(), "events.out.tfevents.bad")
	check := func(name string, b []byte, wantEvents int, wantOff int64, truncated bool, reason string) {
		t.Helper()
		if err := os.WriteFile(bad, b, 0o644); err != nil {
			t.Fatal(err)
		}
		evs, err := ReadEvents(bad)
		var ce *CorruptError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: err = %v, want a CorruptError", name, err)
		}
		if ce.Offset != wantOff || ce.Truncated != truncated || ce.Name != bad || len(evs) != wantEvents ||
			!strings.Contains(err.Error(), reason) || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: %d events and %v (offset %d, truncated %v); want %d events, offset %d, truncated %v, %q",
				name, len(evs), err, ce.Offset, ce.Truncated, wantEvents, wantOff, truncated, reason)
		}
	}
	flip := func(i int64) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x10
		return b
	}
	// A flipped bit in the third record's length, its length CRC, its data
	// and its data CRC.
	third := offs[2]
	check("length", flip(third+1), 2, third, false, "CRC of the length")
	check("length CRC", flip(third+9), 2, third, false, "CRC of the length")
	check("data", flip(third+14), 2, third, false, "CRC of the")
	check("data CRC", flip(offs[3]-2), 2, third, false, "CRC of the")
	// Cut inside the last record's data, and inside its header.
	last := offs[5]
	check("cut in data", good[:len(good)-10], 5, last, true, "the file ends after")
	check("cut in header", good[:last+5], 5, last, true, "5 bytes into the 12-byte header")
	// A record whose CRCs match but whose data is not an Event.
	check("not an event", AppendRecord(bytes.Clone(good), []byte{0xff, 0xff}), 6, int64(len(good)), false, "not a tensorflow.Event")
	// A length of 2⁶² with a matching CRC: refused before any allocation.
	hdr := binary.LittleEndian.AppendUint64(nil, 1<<62)
	hdr = binary.LittleEndian.AppendUint32(hdr, MaskCRC(CRC32C(hdr)))
	check("huge length", append(bytes.Clone(good), hdr...), 6, int64(len(good)), false, "larger than")
	// A length that says more than the file holds: truncated, not allocated.
	long := AppendRecord(nil, make([]byte, 1<<20))[:100]
	check("long record", append(bytes.Clone(good), long...), 6, int64(len(good)), true, "1048576 bytes of data")
}

// fuzzSeeds are the seed corpus of FuzzReadEvents: a whole file, cuts and
// flips of it, and odd records.
func fuzzSeeds(t testing.TB) [][]byte {
	var b bytes.Buffer
	enc := NewEncoder(&b)
	for _, ev := range []*tfpb.Event{
		{WallTime: 1, What: &tfpb.Event_FileVersion{FileVersion: FileVersion}},
		{WallTime: 2, Step: 3, What: &tfpb.Event_Summary{Summary: &tfpb.Summary{Value: []*tfpb.Summary_Value{
			{Tag: "loss_d", Value: &tfpb.Summary_Value_SimpleValue{SimpleValue: 0.5}},
			{Tag: "samples", Value: &tfpb.Summary_Value_Image{Image: &tfpb.Summary_Image{Height: 3, Width: 5, Colorspace: 1, EncodedImageString: testPNG(t, 5, 3)}}},
		}}}},
	} {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	good := b.Bytes()
	flipped := bytes.Clone(good)
	flipped[40] ^= 1
	return [][]byte{
		good, good[:len(good)-3], good[:7], flipped, nil,
		AppendRecord(nil, []byte("hello")), AppendRecord(nil, nil),
		AppendRecord(nil, []byte{0x1a, 0x03, 'a', 'b'}), // a truncated string field
	}
}

// FuzzReadEvents feeds arbitrary bytes to the reader: it must not panic,
// must report an error as a CorruptError at a record boundary, and the
// events it reads must survive encoding and reading again.
func FuzzReadEvents(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), "fuzz")
		evs, err := r.ReadAll()
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a CorruptError", err)
			}
			if ce.Offset != r.Offset() || ce.Offset < 0 || ce.Offset >= int64(len(data)) {
				t.Fatalf("corrupt record at %d, reader at %d, input of %d bytes", ce.Offset, r.Offset(), len(data))
			}
		} else if r.Offset() != int64(len(data)) {
			t.Fatalf("read %d of %d bytes without an error", r.Offset(), len(data))
		}
		var b bytes.Buffer
		enc := NewEncoder(&b)
		for _, ev := range evs {
			if err := enc.Encode(ev); err != nil {
				t.Fatal(err)
			}
		}
		again, err := NewReader(&b, "again").ReadAll()
		if err != nil || len(again) != len(evs) {
			t.Fatalf("re-encoded events: %d of %d, %v", len(again), len(evs), err)
		}
		for i := range evs {
			if !proto.Equal(evs[i], again[i]) {
				t.Fatalf("event %d changed: %v, then %v", i, evs[i], again[i])
			}
		}
	})
}
