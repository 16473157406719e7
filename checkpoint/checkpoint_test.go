package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/internal/atomicfile"
	"github.com/minmaxgan/minmax/tensor"
)

// mk builds a tensor or fails the test.
func mk(t testing.TB, data []float32, shape ...int) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromData(data, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// seq returns n distinct values.
func seq(n int, start float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = start + float32(i)*0.25
	}
	return out
}

// sampleTensors covers rank 0 to MaxRank, empty tensors and special values.
func sampleTensors(t testing.TB) map[string]*tensor.Tensor {
	return map[string]*tensor.Tensor{
		"scalar":       mk(t, []float32{3.5}),
		"zero_scalar":  mk(t, []float32{float32(math.Copysign(0, -1))}),
		"empty":        mk(t, []float32{}, 0),
		"empty.3d":     mk(t, nil, 3, 0, 2),
		"G.fc1.bias":   mk(t, seq(5, -1), 5),
		"G.fc1.weight": mk(t, seq(6, 10), 2, 3),
		"D.rank6":      mk(t, seq(8, 100), 1, 2, 1, 2, 1, 2),
		"special": mk(t, []float32{
			float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
			math.Float32frombits(0x7fa00001), // signalling NaN with a payload
			math.SmallestNonzeroFloat32, math.MaxFloat32,
		}, 6),
		"名前/ü \"quoted\"\n": mk(t, []float32{1, 2}, 2, 1),
	}
}

var sampleMeta = map[string]string{
	"step":        "1200",
	"description": "Générateur — 生成对抗网络 🎲",
	"quote\"\\":   "tab\tnewline\ncontrol\x01\x1f\r\b\f\x7f<&>",
	"":            "empty key",
	"empty":       "",
}

// equalFiles reports the first difference between two checkpoints,
// comparing float bits so that NaNs compare equal to themselves.
func equalFiles(tensors map[string]*tensor.Tensor, meta map[string]string, f *File) error {
	if len(f.Tensors) != len(tensors) {
		return fmt.Errorf("%d tensors, want %d", len(f.Tensors), len(tensors))
	}
	for name, want := range tensors {
		got, ok := f.Tensors[name]
		if !ok {
			return fmt.Errorf("tensor %q missing", name)
		}
		if !tensor.SameShape(got.Shape(), want.Shape()) {
			return fmt.Errorf("tensor %q: shape %v, want %v", name, got.Shape(), want.Shape())
		}
		if len(got.Data) != len(want.Data) {
			return fmt.Errorf("tensor %q: %d elements, want %d", name, len(got.Data), len(want.Data))
		}
		for i := range want.Data {
			if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
				return fmt.Errorf("tensor %q[%d] = %v, want %v", name, i, got.Data[i], want.Data[i])
			}
		}
	}
	if len(f.Meta) != len(meta) {
		return fmt.Errorf("metadata %q, want %q", f.Meta, meta)
	}
	for k, v := range meta {
		if got, ok := f.Meta[k]; !ok || got != v {
			return fmt.Errorf("metadata[%q] = %q, want %q", k, got, v)
		}
	}
	return nil
}

// dirNames lists a directory.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	tensors := sampleTensors(t)
	if err := Save(path, tensors, sampleMeta); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := equalFiles(tensors, sampleMeta, f); err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"model.safetensors"}) {
		t.Errorf("directory holds %q, want only the checkpoint", got)
	}
	// The loaded tensors own their data.
	f.Tensors["scalar"].Data[0] = 99
	if tensors["scalar"].Data[0] != 3.5 {
		t.Error("loaded tensor aliases the saved one")
	}

	// No tensors and no metadata is a valid file too.
	empty := filepath.Join(dir, "empty.safetensors")
	if err := Save(empty, nil, nil); err != nil {
		t.Fatal(err)
	}
	f, err = Load(empty)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != 0 || len(f.Meta) != 0 || f.Tensors == nil || f.Meta == nil {
		t.Errorf("empty checkpoint loaded as %+v", f)
	}
}

func TestLayout(t *testing.T) {
	data, err := os.ReadFile(saveTemp(t, sampleTensors(t), sampleMeta))
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data)
	if (8+n)%8 != 0 {
		t.Errorf("data section starts at %d, not a multiple of 8", 8+n)
	}
	if h := data[8 : 8+n]; h[0] != '{' || bytes.Contains(bytes.TrimRight(h, " "), []byte("  ")) {
		t.Errorf("header is not compact JSON padded with spaces: %q", h)
	}
}

// saveTemp saves to a new temporary file and returns its path.
func saveTemp(t *testing.T, tensors map[string]*tensor.Tensor, meta map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	if err := Save(path, tensors, meta); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExactBytes checks the bytes of a tiny file against the format,
// computed by hand.
func TestExactBytes(t *testing.T) {
	tensors := map[string]*tensor.Tensor{
		"b": mk(t, []float32{-2.5}),      // rank 0
		"a": mk(t, []float32{1, 0.5}, 2), // laid out first: names are sorted
		"e": mk(t, []float32{}, 0, 3),    // empty: zero bytes at the end
	}
	meta := map[string]string{"k": "v"}
	header := `{"__metadata__":{"k":"v"},` + // 26 bytes
		`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` + // 53
		`"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]},` + // 53
		`"e":{"dtype":"F32","shape":[0,3],"data_offsets":[12,12]}` + // 56
		`}` // 1: 189 bytes in all
	// 8 + 189 = 197; padding to 200 takes 3 spaces, so N = 192 = 0xc0.
	var want []byte
	want = append(want, 0xc0, 0, 0, 0, 0, 0, 0, 0)
	want = append(want, header...)
	want = append(want, "   "...)
	want = append(want,
		0x00, 0x00, 0x80, 0x3f, // 1.0 = 0x3f800000, little-endian
		0x00, 0x00, 0x00, 0x3f, // 0.5 = 0x3f000000
		0x00, 0x00, 0x20, 0xc0, // -2.5 = 0xc0200000
	)
	if len(header) != 189 {
		t.Fatalf("test bug: header is %d bytes", len(header))
	}

	got, err := os.ReadFile(saveTemp(t, tensors, meta))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("file bytes:\n got %q\nwant %q", got, want)
	}
	f, err := Read("want", want)
	if err != nil {
		t.Fatal(err)
	}
	if err := equalFiles(tensors, meta, f); err != nil {
		t.Fatal(err)
	}

	// No metadata: no "__metadata__" key at all, and no comma before "a".
	got, err = os.ReadFile(saveTemp(t, map[string]*tensor.Tensor{"x": mk(t, []float32{1})}, nil))
	if err != nil {
		t.Fatal(err)
	}
	h := `{"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}` // 53 bytes
	want = append([]byte{56, 0, 0, 0, 0, 0, 0, 0}, h+"   "...)   // 8+53+3 = 64
	want = append(want, 0x00, 0x00, 0x80, 0x3f)
	if !bytes.Equal(got, want) {
		t.Fatalf("file bytes:\n got %q\nwant %q", got, want)
	}
}

// build makes a file from a header and a data section, with the length
// prefix computed (and no padding, which readers must not require).
func build(header string, data ...byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// ent is a tensor entry of a crafted header.
func ent(name, shape string, begin, end int) string {
	return fmt.Sprintf(`%q:{"dtype":"F32","shape":%s,"data_offsets":[%d,%d]}`, name, shape, begin, end)
}

func TestReadErrors(t *testing.T) {
	z := func(n int) []byte { return make([]byte, n) }
	huge := binary.LittleEndian.AppendUint64(nil, 1<<40)
	huge = append(huge, "{}"...)
	long := binary.LittleEndian.AppendUint64(nil, 100)
	long = append(long, "{}"...)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty file", nil, "file is 0 bytes, shorter than the 8-byte header length"},
		{"7 bytes", z(7), "file is 7 bytes, shorter"},
		{"header length absurd", huge, "header length 1099511627776 is absurd"},
		{"header length past end", long, "header length 100 is larger than the file: only 2 bytes follow"},
		{"empty header", build(""), "header: not valid JSON: unexpected end of input"},
		{"not JSON", build("{not json}"), "header: not valid JSON: invalid character 'n'"},
		{"unterminated", build(`{"a":{"dtype":"F32"`), "not valid JSON"},
		{"array", build(`[]`), "header: not a JSON object"},
		{"string", build(`"x"`), "header: not a JSON object"},
		{"null", build(`null`), "header: not a JSON object"},
		{"two objects", build(`{} {}`), "data after the closing brace"},
		{"garbage after", build(`{}x`), "not valid JSON"},
		{"NUL padding", build("{}\x00\x00"), "not valid JSON"},
		{"bad UTF-8", build("{\"\xff\":1}"), "header is not valid UTF-8"},
		{"lone high surrogate", build(`{"a\ud800":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, z(4)...), `header: lone UTF-16 surrogate \ud800 in a string (at byte 3)`},
		{"lone low surrogate", build(`{"__metadata__":{"k":"\\\udc00"}}`), `lone UTF-16 surrogate \udc00`},
		{"high then non-low", build(`{"__metadata__":{"k":"\ud83d\u0041"}}`), `lone UTF-16 surrogate \ud83d`},
		{"high then high", build(`{"__metadata__":{"k":"\ud83d\ud83d\ude00"}}`), `lone UTF-16 surrogate \ud83d in a string (at byte 22)`},
		{"entry not object", build(`{"a":5}`), `tensor "a": must be an object with dtype, shape and data_offsets, got a number`},
		{"missing dtype", build(`{"a":{"shape":[],"data_offsets":[0,4]}}`, z(4)...), `tensor "a": missing dtype`},
		{"missing shape", build(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, z(4)...), `tensor "a": missing shape`},
		{"missing offsets", build(`{"a":{"dtype":"F32","shape":[]}}`, z(4)...), `tensor "a": missing data_offsets`},
		{"unknown field", build(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":1}}`, z(4)...), `tensor "a": unknown field "x"`},
		{"field case", build(`{"a":{"DTYPE":"F32","shape":[],"data_offsets":[0,4]}}`, z(4)...), `unknown field "DTYPE"`},
		{"duplicate field", build(`{"a":{"dtype":"F32","dtype":"F32","shape":[],"data_offsets":[0,4]}}`, z(4)...), `tensor "a": duplicate key "dtype"`},
		{"dtype number", build(`{"a":{"dtype":32,"shape":[],"data_offsets":[0,4]}}`, z(4)...), `tensor "a": dtype must be a string, got a number`},
		{"dtype F16", build(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, z(4)...), `tensor "a": dtype "F16" is not supported: only F32 is`},
		{"dtype lower", build(`{"a":{"dtype":"f32","shape":[],"data_offsets":[0,4]}}`, z(4)...), `dtype "f32" is not supported`},
		{"shape string", build(`{"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}`, z(8)...), `tensor "a": shape must be an array of integers, got a string`},
		{"shape null", build(`{"a":{"dtype":"F32","shape":null,"data_offsets":[0,4]}}`, z(4)...), `shape must be an array of integers, got null`},
		{"dim string", build(`{"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}`, z(8)...), `shape must be an array of integers, element 0 is a string`},
		{"dim fraction", build(`{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}`, z(8)...), `shape element 0 (2.0) is not an integer`},
		{"dim exponent", build(`{"a":{"dtype":"F32","shape":[2e0],"data_offsets":[0,8]}}`, z(8)...), `shape element 0 (2e0) is not an integer`},
		{"dim huge", build(`{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}}`, z(8)...), `shape element 0 (99999999999999999999) is out of range`},
		{"negative dim", build(`{"a":{"dtype":"F32","shape":[2,-3],"data_offsets":[0,0]}}`), `tensor "a": shape [2 -3] has negative dimension -3 at axis 1`},
		{"rank 7", build(`{"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1],"data_offsets":[0,4]}}`, z(4)...), `shape [1 1 1 1 1 1 1] has 7 dimensions, at most 6 are supported`},
		{"shape overflow", build(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`), `shape [4294967296 4294967296] is too large`},
		{"offsets object", build(`{"a":{"dtype":"F32","shape":[],"data_offsets":{"b":0}}}`, z(4)...), `data_offsets must be an array of integers, got an object`},
		{"one offset", build(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0]}}`, z(4)...), `data_offsets must be [begin, end], got 1 numbers`},
		{"three offsets", build(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4,8]}}`, z(4)...), `got 3 numbers`},
		{"negative offset", build(`{"a":{"dtype":"F32","shape":[],"data_offsets":[-4,0]}}`, z(4)...), `data_offsets [-4 0] are negative`},
		{"offset huge", build(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,18446744073709551616]}}`, z(4)...), `data_offsets element 1 (18446744073709551616) is out of range`},
		{"reversed", build(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}`, z(8)...), `tensor "a": data_offsets [8 4] are reversed`},
		{"wrong length", build(`{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}`, z(20)...), `tensor "a": data_offsets [0 20] span 20 bytes, but shape [2 3] of F32 needs 24`},
		{"past end", build(`{`+ent("a", "[2]", 1000000, 1000008)+`}`, z(8)...), `tensor "a" starts at byte 1000000 of the data section, but the first tensor must start at 0`},
		{"not at 0", build(`{`+ent("a", "[1]", 4, 8)+`}`, z(8)...), `tensor "a" starts at byte 4 of the data section, but the first tensor must start at 0`},
		{"gap", build(`{`+ent("a", "[1]", 0, 4)+","+ent("b", "[1]", 8, 12)+`}`, z(12)...), `gap of 4 bytes in the data section between tensor "a" (ends at 4) and tensor "b" (starts at 8)`},
		{"overlap", build(`{`+ent("a", "[2]", 0, 8)+","+ent("b", "[2]", 4, 12)+`}`, z(12)...), `tensor "b" (bytes 4 to 12) overlaps tensor "a" (bytes 0 to 8)`},
		{"same offsets", build(`{`+ent("a", "[2]", 0, 8)+","+ent("b", "[2]", 0, 8)+`}`, z(16)...), `tensor "b" (bytes 0 to 8) overlaps tensor "a" (bytes 0 to 8)`},
		{"empty inside another", build(`{`+ent("a", "[2]", 0, 8)+","+ent("e", "[0]", 4, 4)+`}`, z(8)...), `tensor "e" (bytes 4 to 4) overlaps tensor "a"`},
		{"trailing bytes", build(`{`+ent("a", "[1]", 0, 4)+`}`, z(6)...), `the file holds 6 bytes of tensor data but the header describes only 4: 2 trailing bytes`},
		{"data without tensors", build(`{}`, z(1)...), `1 trailing bytes`},
		{"truncated", build(`{`+ent("a", "[3]", 0, 12)+`}`, z(5)...), `truncated: the header describes 12 bytes of tensor data but the file holds 5`},
		{"duplicate name", build(`{`+ent("a", "[1]", 0, 4)+","+ent("a", "[1]", 4, 8)+`}`, z(8)...), `header: duplicate name "a"`},
		{"empty name", build(`{`+ent("", "[1]", 0, 4)+`}`, z(4)...), `a tensor has an empty name`},
		{"metadata not object", build(`{"__metadata__":["a"]}`), `__metadata__: must be an object of strings, got an array`},
		{"metadata number", build(`{"__metadata__":{"step":12}}`), `__metadata__: value of "step" must be a string, got a number`},
		{"metadata null value", build(`{"__metadata__":{"step":null}}`), `value of "step" must be a string, got null`},
		{"metadata object value", build(`{"__metadata__":{"x":{}}}`), `value of "x" must be a string, got an object`},
		{"metadata duplicate key", build(`{"__metadata__":{"k":"a","k":"b"}}`), `__metadata__: duplicate key "k"`},
		{"metadata twice", build(`{"__metadata__":{},"__metadata__":{}}`), `duplicate name "__metadata__"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const name = "crafted.safetensors"
			f, err := Read(name, c.file)
			if err == nil {
				t.Fatalf("Read accepted the file: %+v", f)
			}
			if f != nil {
				t.Error("Read returned a File along with an error")
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FormatError", err, err)
			}
			if fe.File != name {
				t.Errorf("FormatError.File = %q, want %q", fe.File, name)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "checkpoint "+name+": ") {
				t.Errorf("message does not name the file: %s", msg)
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("message\n  %s\ndoes not contain\n  %s", msg, c.want)
			}
		})
	}
}

// TestReadAccepts covers valid files that no writer of ours produces.
func TestReadAccepts(t *testing.T) {
	cases := []struct {
		name string
		file []byte
	}{
		{"unpadded", build(`{`+ent("a", "[1]", 0, 4)+`}`, 0, 0, 0x80, 0x3f)},
		{"whitespace", build(" {\n\t\"a\" : { \"shape\" : [ 1 ] , \"data_offsets\" : [ 0 , 4 ], \"dtype\" : \"F32\" } } \n\t ", 0, 0, 0x80, 0x3f)},
		{"tensors out of name order", build(`{`+ent("b", "[1]", 4, 8)+","+ent("a", "[1]", 0, 4)+`}`, 0, 0, 0x80, 0x3f, 0, 0, 0, 0)},
		{"null metadata", build(`{"__metadata__":null,`+ent("a", "[1]", 0, 4)+`}`, 0, 0, 0x80, 0x3f)},
		{"metadata last", build(`{`+ent("a", "[1]", 0, 4)+`,"__metadata__":{}}`, 0, 0, 0x80, 0x3f)},
		{"surrogate pair", build(`{"__metadata__":{"k":"\ud83d\ude00 \"\\ud800\""},`+ent("a", "[1]", 0, 4)+`}`, 0, 0, 0x80, 0x3f)},
		{"escaped name", build(`{"\u0061":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 0, 0, 0x80, 0x3f)},
		{"empty tensors anywhere", build(`{`+ent("z", "[0]", 0, 0)+","+ent("a", "[1]", 0, 4)+","+ent("y", "[5,0]", 4, 4)+`}`, 0, 0, 0x80, 0x3f)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Read(c.name, c.file)
			if err != nil {
				t.Fatal(err)
			}
			a := f.Tensors["a"]
			if a == nil || len(a.Data) != 1 || a.Data[0] != 1 || !tensor.SameShape(a.Shape(), []int{1}) {
				t.Errorf("tensor a = %v", a)
			}
		})
	}
}

// TestTruncated cuts a valid file at every length and checks that each
// prefix is rejected with the error for where the cut falls.
func TestTruncated(t *testing.T) {
	path := saveTemp(t, map[string]*tensor.Tensor{
		"a": mk(t, seq(3, 1), 3),
		"b": mk(t, seq(4, 2), 2, 2),
	}, map[string]string{"k": "v"})
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hdr := 8 + int(binary.LittleEndian.Uint64(full))
	for n := 0; n < len(full); n++ {
		var want string
		switch {
		case n < 8:
			want = "shorter than the 8-byte header length"
		case n < hdr:
			want = "is larger than the file"
		default:
			want = fmt.Sprintf("truncated: the header describes 28 bytes of tensor data but the file holds %d", n-hdr)
		}
		_, err := Read(path, full[:n])
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("file cut to %d of %d bytes: error %v, want a *FormatError naming the file and saying %q", n, len(full), err, want)
		}
	}
	if _, err := Read(path, full); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "missing.safetensors"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want fs.ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, build(`{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}`, 0, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.File != bad || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), `dtype "BF16" is not supported: only F32 is`) {
		t.Errorf("Load of a BF16 file: %v", err)
	}
}

func TestSaveErrors(t *testing.T) {
	ok := mk(t, []float32{1}, 1)
	bad := &tensor.Tensor{} // rank 0 holds one element, but Data is empty
	cases := []struct {
		name    string
		tensors map[string]*tensor.Tensor
		meta    map[string]string
		want    string
	}{
		{"empty name", map[string]*tensor.Tensor{"": ok}, nil, "a tensor has an empty name"},
		{"reserved name", map[string]*tensor.Tensor{"__metadata__": ok}, nil, `tensor name "__metadata__" is reserved`},
		{"bad UTF-8 name", map[string]*tensor.Tensor{"a\xff": ok}, nil, "is not valid UTF-8"},
		{"nil tensor", map[string]*tensor.Tensor{"a": nil}, nil, `tensor "a" is nil`},
		{"data length", map[string]*tensor.Tensor{"a": bad}, nil, `tensor "a": shape [] holds 1 elements but Data has 0`},
		{"bad UTF-8 meta key", map[string]*tensor.Tensor{"a": ok}, map[string]string{"\xfe": "v"}, "is not valid UTF-8"},
		{"bad UTF-8 meta value", map[string]*tensor.Tensor{"a": ok}, map[string]string{"k": "\xfe"}, "is not valid UTF-8"},
	}
	if math.MaxInt > math.MaxInt32 {
		// tensor.NumElems wraps to 0 for this shape, so FromData accepts
		// empty data; Save must not write a file no reader accepts.
		wrap, err := tensor.FromData(nil, 1<<32, 1<<32)
		if err == nil {
			cases = append(cases, struct {
				name    string
				tensors map[string]*tensor.Tensor
				meta    map[string]string
				want    string
			}{"overflowing shape", map[string]*tensor.Tensor{"a": wrap}, nil, "shape [4294967296 4294967296] is too large"})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.safetensors")
			err := Save(path, c.tensors, c.meta)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("Save: %v, want an error naming the file and saying %q", err, c.want)
			}
			if got := dirNames(t, dir); len(got) != 0 {
				t.Errorf("Save left %q behind", got)
			}
		})
	}
}

func TestSaveAtomic(t *testing.T) {
	oldT := map[string]*tensor.Tensor{"w": mk(t, seq(4, 1), 4)}
	newT := map[string]*tensor.Tensor{"w": mk(t, seq(4, 7), 4), "big": mk(t, seq(40000, 0), 200, 200)}
	setup := func(t *testing.T) (dir, path string, old []byte) {
		dir = t.TempDir()
		path = filepath.Join(dir, "ckpt.safetensors")
		if err := Save(path, oldT, map[string]string{"v": "old"}); err != nil {
			t.Fatal(err)
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return dir, path, old
	}
	injected := errors.New("injected failure")

	// A failure at any step before the rename leaves the old file intact
	// and no temporary file behind. "data" fires after part of the data has
	// been written (the 160 KB tensor takes several chunks).
	for _, step := range []string{"create", "header", "data", "sync", "close", "chmod", "rename"} {
		t.Run(step, func(t *testing.T) {
			dir, path, old := setup(t)
			calls := 0
			testHook = func(s string) error {
				if s == step {
					calls++
					if step != "data" || calls == 2 {
						return injected
					}
				}
				return nil
			}
			defer func() { testHook = nil }()
			defer atomicfile.SetTestHook(testHook)()
			err := Save(path, newT, map[string]string{"v": "new"})
			if !errors.Is(err, injected) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Save: %v, want the injected failure, naming the file", err)
			}
			got, rerr := os.ReadFile(path)
			if rerr != nil || !bytes.Equal(got, old) {
				t.Fatalf("old file changed (err %v)", rerr)
			}
			if names := dirNames(t, dir); !slices.Equal(names, []string{"ckpt.safetensors"}) {
				t.Errorf("directory holds %q after the failure", names)
			}
		})
	}

	// After the rename the new file is in place even if the directory sync
	// fails; the error says so.
	t.Run("syncdir", func(t *testing.T) {
		dir, path, _ := setup(t)
		testHook = func(s string) error {
			if s == "syncdir" {
				return injected
			}
			return nil
		}
		defer func() { testHook = nil }()
		defer atomicfile.SetTestHook(testHook)()
		err := Save(path, newT, nil)
		if !errors.Is(err, injected) || !strings.Contains(err.Error(), "written, but syncing") {
			t.Fatalf("Save: %v", err)
		}
		f, lerr := Load(path)
		if lerr != nil {
			t.Fatal(lerr)
		}
		if err := equalFiles(newT, nil, f); err != nil {
			t.Error(err)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"ckpt.safetensors"}) {
			t.Errorf("directory holds %q", names)
		}
	})

	// Real failures, without the hook.
	t.Run("path is a directory", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "sub")
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(path, "keep"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Save(path, newT, nil); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("Save over a directory: %v", err)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"sub"}) {
			t.Errorf("directory holds %q", names)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "no", "ckpt.safetensors")
		if err := Save(path, newT, nil); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Save into a missing directory: %v", err)
		}
	})
	t.Run("read-only directory", func(t *testing.T) {
		dir, path, old := setup(t)
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o755)
		if f, err := os.CreateTemp(dir, "probe"); err == nil {
			f.Close()
			os.Remove(f.Name())
			t.Skip("permissions are not enforced here (running as root?); the hook tests cover this")
		}
		if err := Save(path, newT, nil); !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("Save into a read-only directory: %v", err)
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, old) {
			t.Fatalf("old file changed (err %v)", err)
		}
	})

	// Success replaces the file, keeps its permissions, leaves no temporary
	// file.
	t.Run("success", func(t *testing.T) {
		dir, path, _ := setup(t)
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
			t.Fatalf("new file mode %v (err %v), want 0644", fi.Mode(), err)
		}
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := Save(path, newT, nil); err != nil {
			t.Fatal(err)
		}
		f, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := equalFiles(newT, nil, f); err != nil {
			t.Error(err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("replaced file mode %v (err %v), want 0600 kept", fi.Mode(), err)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"ckpt.safetensors"}) {
			t.Errorf("directory holds %q", names)
		}
	})

	t.Run("relative path", func(t *testing.T) {
		t.Chdir(t.TempDir())
		if err := Save("rel.safetensors", oldT, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := Load("rel.safetensors"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRestore(t *testing.T) {
	f := &File{Tensors: map[string]*tensor.Tensor{
		"D.fc1.weight": mk(t, seq(256, 1), 128, 2),
		"D.fc1.bias":   mk(t, seq(128, 3), 128),
		"G.out":        mk(t, []float32{42}),
	}, Meta: map[string]string{}}

	model := func() map[string]*tensor.Tensor {
		return map[string]*tensor.Tensor{
			"D.fc1.weight": tensor.New(128, 2),
			"D.fc1.bias":   tensor.New(128),
			"G.out":        tensor.New(),
		}
	}

	t.Run("success", func(t *testing.T) {
		dst := model()
		w := dst["D.fc1.weight"].Data
		if err := f.Restore(dst, false); err != nil {
			t.Fatal(err)
		}
		if err := equalFiles(f.Tensors, nil, &File{Tensors: dst}); err != nil {
			t.Fatal(err)
		}
		if &dst["D.fc1.weight"].Data[0] != &w[0] {
			t.Error("Restore replaced the Data slice instead of copying into it")
		}
		if &dst["G.out"].Data[0] == &f.Tensors["G.out"].Data[0] {
			t.Error("restored tensor aliases the checkpoint")
		}
	})

	t.Run("allow extra", func(t *testing.T) {
		dst := model()
		delete(dst, "G.out")
		err := f.Restore(dst, false)
		if !errors.Is(err, ErrMismatch) || err.Error() != "G.out: in the checkpoint (shape []) but not in the model" {
			t.Fatalf("Restore with an extra tensor: %v", err)
		}
		if err := f.Restore(dst, true); err != nil {
			t.Fatal(err)
		}
		if dst["D.fc1.bias"].Data[5] != f.Tensors["D.fc1.bias"].Data[5] {
			t.Error("not restored")
		}
	})

	// Each failure leaves every tensor of dst untouched and reports all
	// problems, sorted by name.
	failures := []struct {
		name  string
		edit  func(map[string]*tensor.Tensor)
		extra bool
		want  string
	}{
		{"shape", func(m map[string]*tensor.Tensor) { m["D.fc1.weight"] = tensor.New(64, 2) }, false,
			"D.fc1.weight: checkpoint has [128 2], model has [64 2]"},
		{"rank", func(m map[string]*tensor.Tensor) { m["G.out"] = tensor.New(1) }, true,
			"G.out: checkpoint has [], model has [1]"},
		{"same count other shape", func(m map[string]*tensor.Tensor) { m["D.fc1.weight"] = tensor.New(2, 128) }, false,
			"D.fc1.weight: checkpoint has [128 2], model has [2 128]"},
		{"missing", func(m map[string]*tensor.Tensor) { m["G.fc2.weight"] = tensor.New(3, 3) }, false,
			"G.fc2.weight: missing from the checkpoint (model has [3 3])"},
		{"nil", func(m map[string]*tensor.Tensor) { m["G.out"] = nil }, false,
			"G.out: the model's tensor is nil"},
		{"bad model tensor", func(m map[string]*tensor.Tensor) { m["G.out"] = &tensor.Tensor{} }, false,
			"G.out: the model's tensor has shape [] but 0 elements"},
		{"several", func(m map[string]*tensor.Tensor) {
			m["D.fc1.weight"] = tensor.New(64, 2)
			m["A.new"] = tensor.New(1)
			delete(m, "G.out")
		}, false, "A.new: missing from the checkpoint (model has [1])\n" +
			"D.fc1.weight: checkpoint has [128 2], model has [64 2]\n" +
			"G.out: in the checkpoint (shape []) but not in the model"},
	}
	for _, c := range failures {
		t.Run(c.name, func(t *testing.T) {
			dst := model()
			c.edit(dst)
			for _, x := range dst {
				if x != nil {
					x.Fill(-7)
				}
			}
			err := f.Restore(dst, c.extra)
			if err == nil || err.Error() != c.want {
				t.Fatalf("Restore: %v\nwant: %s", err, c.want)
			}
			if !errors.Is(err, ErrMismatch) {
				t.Error("error does not match ErrMismatch")
			}
			for name, x := range dst {
				if x == nil {
					continue
				}
				for _, v := range x.Data {
					if v != -7 {
						t.Fatalf("%s was modified by a failed Restore", name)
					}
				}
			}
		})
	}
}

// encodeBytes is Save without the file: the bytes Save would write.
func encodeBytes(tensors map[string]*tensor.Tensor, meta map[string]string) ([]byte, error) {
	names, header, err := prepare(tensors, meta)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeFile(&buf, header, names, tensors); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func FuzzRead(f *testing.F) {
	valid := []struct {
		tensors map[string]*tensor.Tensor
		meta    map[string]string
	}{
		{sampleTensors(f), sampleMeta},
		{nil, nil},
		{map[string]*tensor.Tensor{"a": mk(f, []float32{1, 2}, 2), "b": mk(f, []float32{3})}, map[string]string{"k": "v"}},
		{map[string]*tensor.Tensor{"e": mk(f, nil, 0), "m": mk(f, seq(6, 0), 3, 2)}, nil},
	}
	for _, v := range valid {
		b, err := encodeBytes(v.tensors, v.meta)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-1])
		f.Add(b[:len(b)/2])
	}
	for _, s := range []string{
		"",
		"{}",
		`{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`,
		`{"a":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,0]}}`,
		`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`,
		`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}`,
		`{"a":{"dtype":"F32","shape":[0,9223372036854775807,2],"data_offsets":[0,0]}}`,
		`{"__metadata__":{"k":1}}`,
		`{"__metadata__":{"\ud83d\ude00":"\ud800"}}`,
		`{"__metadata__":null,"":{}}`,
		`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`,
	} {
		f.Add(build(s, make([]byte, 8)...))
		f.Add(build(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read("fuzz", data)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || fe.File != "fuzz" || file != nil {
				t.Fatalf("Read: %v (%T), file %v", err, err, file)
			}
			return
		}
		// Whatever Read accepts, Save writes and Read reads back the same.
		b, err := encodeBytes(file.Tensors, file.Meta)
		if err != nil {
			t.Fatalf("cannot re-save an accepted file: %v", err)
		}
		again, err := Read("resaved", b)
		if err != nil {
			t.Fatalf("cannot re-read a re-saved file: %v", err)
		}
		if err := equalFiles(file.Tensors, file.Meta, again); err != nil {
			t.Fatalf("re-read differs: %v", err)
		}
		// Our encoding is canonical: saving again gives the same bytes.
		b2, err := encodeBytes(again.Tensors, again.Meta)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("re-saving is not stable (err %v)", err)
		}
	})
}

// SaveChecked records the data's SHA-256; a flipped byte in the data is
// then refused, naming the checksum.
func TestChecksum(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.safetensors")
	ts := map[string]*tensor.Tensor{"w": tensor.New(4)}
	ts["w"].Data[2] = 1.5
	if err := SaveChecked(path, ts, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil || !strings.HasPrefix(f.Meta[ChecksumKey], "sha256:") || f.Meta["k"] != "v" {
		t.Fatalf("%v %v", f, err)
	}
	b, _ := os.ReadFile(path)
	b[len(b)-5] ^= 0x40
	os.WriteFile(path, b, 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("a corrupted file: %v", err)
	}
}
