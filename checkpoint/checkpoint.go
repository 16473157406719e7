package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/bits"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/minmaxgan/minmax/internal/atomicfile"
	"github.com/minmaxgan/minmax/tensor"
)

// MaxHeaderLen is the largest header, in bytes, that Read accepts and Save
// writes. Real headers are a few hundred bytes per tensor; a larger length
// prefix means the file is corrupt or not a safetensors file at all.
const MaxHeaderLen = 100 << 20

// metadataKey is the reserved header key that holds the string metadata.
const metadataKey = "__metadata__"

// dtypeF32 is the only dtype this package reads and writes.
const dtypeF32 = "F32"

// maxElems bounds the element count of one tensor so that its byte length
// (4 per element) fits in an int.
const maxElems = math.MaxInt / 4

// FormatError reports a file that is not a valid checkpoint: a malformed
// header, an unsupported dtype, inconsistent offsets, a truncated data
// section and so on. Test for it with errors.As.
type FormatError struct {
	// File is the path (or, for Read, the name) of the offending file.
	File string
	// Msg says what is wrong, naming the tensor where there is one.
	Msg string
}

// Error formats the error as "checkpoint FILE: MSG".
func (e *FormatError) Error() string {
	if e.File == "" {
		return "" + e.Msg
	}
	return "checkpoint " + e.File + ": " + e.Msg
}

// ErrMismatch is matched (with errors.Is) by every error of Restore that
// comes from a checkpoint not matching the model: a missing or extra tensor
// or a shape that differs.
var ErrMismatch = errors.New("checkpoint does not match model")

// mismatch is one Restore problem; it matches ErrMismatch without repeating
// its text in every line.
type mismatch struct{ msg string }

func (m *mismatch) Error() string        { return m.msg }
func (m *mismatch) Is(target error) bool { return target == ErrMismatch }

// File is a loaded checkpoint.
type File struct {
	// Tensors maps each tensor name to its value. Never nil.
	Tensors map[string]*tensor.Tensor
	// Meta is the string metadata of the header ("__metadata__"). Never nil.
	Meta map[string]string
}

// Load reads and validates the checkpoint at path. I/O errors are returned
// as they come from package os (so errors.Is(err, fs.ErrNotExist) works);
// an invalid file gives a *FormatError whose File is path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Read(path, data)
}

// entry is one tensor of a header being parsed.
type entry struct {
	name       string
	shape      []int
	begin, end int
}

// Read parses a checkpoint held in memory; name is used in error messages
// (Load passes the path). Every problem with data is reported as a
// *FormatError; Read never panics and never returns a partially valid File.
// The returned tensors do not alias data.
func Read(name string, data []byte) (*File, error) {
	fail := func(format string, args ...any) error {
		return &FormatError{File: name, Msg: fmt.Sprintf(format, args...)}
	}
	if len(data) < 8 {
		return nil, fail("file is %d bytes, shorter than the 8-byte header length that starts a safetensors file", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderLen {
		return nil, fail("header length %d is absurd (more than %d bytes): corrupt or not a safetensors file", n, MaxHeaderLen)
	}
	if n > uint64(len(data)-8) {
		return nil, fail("header length %d is larger than the file: only %d bytes follow the length prefix", n, len(data)-8)
	}
	header := data[8 : 8+int(n)]
	body := data[8+int(n):]
	if !utf8.Valid(header) {
		return nil, fail("header is not valid UTF-8")
	}
	fields, err := objectFields(header, true)
	if err != nil {
		return nil, fail("header: %v", err)
	}
	if err := checkSurrogates(header); err != nil {
		return nil, fail("header: %v", err)
	}

	f := &File{Tensors: map[string]*tensor.Tensor{}, Meta: map[string]string{}}
	entries := make([]entry, 0, len(fields))
	for _, fl := range fields {
		if fl.key == metadataKey {
			if err := parseMeta(fl.value, f.Meta); err != nil {
				return nil, fail("%s: %v", metadataKey, err)
			}
			continue
		}
		if fl.key == "" {
			return nil, fail("a tensor has an empty name")
		}
		e, err := parseEntry(fl.value)
		if err != nil {
			return nil, fail("tensor %q: %v", fl.key, err)
		}
		e.name = fl.key
		entries = append(entries, e)
	}

	// The tensors must tile the data section: sorted by offset, each starts
	// where the previous one ends, the first at 0.
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b entry) int {
		if a.begin != b.begin {
			return a.begin - b.begin
		}
		if a.end != b.end {
			return a.end - b.end
		}
		return strings.Compare(a.name, b.name)
	})
	end := 0
	for i, e := range sorted {
		switch {
		case e.begin > end && i == 0:
			return nil, fail("tensor %q starts at byte %d of the data section, but the first tensor must start at 0", e.name, e.begin)
		case e.begin > end:
			p := sorted[i-1]
			return nil, fail("gap of %d bytes in the data section between tensor %q (ends at %d) and tensor %q (starts at %d)", e.begin-end, p.name, p.end, e.name, e.begin)
		case e.begin < end:
			p := sorted[i-1]
			return nil, fail("tensor %q (bytes %d to %d) overlaps tensor %q (bytes %d to %d)", e.name, e.begin, e.end, p.name, p.begin, p.end)
		}
		end = e.end
	}
	if end > len(body) {
		return nil, fail("truncated: the header describes %d bytes of tensor data but the file holds %d", end, len(body))
	}
	if end < len(body) {
		return nil, fail("the file holds %d bytes of tensor data but the header describes only %d: %d trailing bytes", len(body), end, len(body)-end)
	}

	if want, ok := f.Meta[ChecksumKey]; ok {
		if got := checksum(body); got != want {
			return nil, fail("the tensor data do not match their checksum (%s %s, the data give %s): the file is corrupt", ChecksumKey, want, got)
		}
	}
	for _, e := range entries {
		raw := body[e.begin:e.end]
		vals := make([]float32, len(raw)/4)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		t, err := tensor.FromData(vals, e.shape...)
		if err != nil { // unreachable: parseEntry checked the shape
			return nil, fail("tensor %q: %v", e.name, err)
		}
		f.Tensors[e.name] = t
	}
	return f, nil
}

// field is one member of a JSON object, in document order.
type field struct {
	key   string
	value json.RawMessage
}

// objectFields parses data as one JSON object and returns its members in
// order, rejecting duplicate keys (which encoding/json would silently
// collapse). Trailing whitespace is allowed, anything else after the object
// is not.
func objectFields(data []byte, top bool) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	var out []field
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err)
		}
		key, ok := tok.(string)
		if !ok { // unreachable: the decoder rejects non-string keys
			return nil, fmt.Errorf("not valid JSON: object key is not a string")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, jsonErr(err)
		}
		if seen[key] {
			if top {
				return nil, fmt.Errorf("duplicate name %q", key)
			}
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		out = append(out, field{key, v})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, jsonErr(err)
		}
		return nil, fmt.Errorf("not valid JSON: data after the closing brace of the object")
	}
	return out, nil
}

// checkSurrogates rejects \u escapes of lone UTF-16 surrogates in the
// strings of header, which must be valid JSON. encoding/json would silently
// turn them into U+FFFD, renaming a tensor; other readers reject them.
func checkSurrogates(header []byte) error {
	hex4 := func(i int) rune { // the 4 hex digits at header[i:], valid JSON
		v, _ := strconv.ParseUint(string(header[i:i+4]), 16, 16)
		return rune(v)
	}
	inString := false
	for i := 0; i < len(header); i++ {
		switch c := header[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString:
			i++ // skip the escaped character
			if header[i] != 'u' {
				continue
			}
			r := hex4(i + 1)
			i += 4
			if !utf16.IsSurrogate(r) {
				continue
			}
			if r < 0xdc00 && i+6 < len(header) && header[i+1] == '\\' && header[i+2] == 'u' {
				if r2 := hex4(i + 3); r2 >= 0xdc00 && r2 <= 0xdfff {
					i += 6
					continue
				}
			}
			return fmt.Errorf("lone UTF-16 surrogate \\u%04x in a string (at byte %d)", r, i-5)
		}
	}
	return nil
}

// jsonErr describes a JSON decoding error.
func jsonErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("not valid JSON: unexpected end of input")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not valid JSON: %v (at byte %d)", se, se.Offset)
	}
	return fmt.Errorf("not valid JSON: %v", err)
}

// kind names the JSON type of a raw value for error messages.
func kind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// parseMeta parses the "__metadata__" object into meta.
func parseMeta(raw json.RawMessage, meta map[string]string) error {
	switch kind(raw) {
	case "null": // the reference implementation reads null as no metadata
		return nil
	case "an object":
	default:
		return fmt.Errorf("must be an object of strings, got %s", kind(raw))
	}
	fields, err := objectFields(raw, false)
	if err != nil {
		return err
	}
	for _, fl := range fields {
		if kind(fl.value) != "a string" {
			return fmt.Errorf("value of %q must be a string, got %s", fl.key, kind(fl.value))
		}
		var s string
		if err := json.Unmarshal(fl.value, &s); err != nil {
			return jsonErr(err)
		}
		meta[fl.key] = s
	}
	return nil
}

// parseEntry parses and checks one tensor's {"dtype", "shape",
// "data_offsets"} object.
func parseEntry(raw json.RawMessage) (entry, error) {
	var e entry
	if k := kind(raw); k != "an object" {
		return e, fmt.Errorf("must be an object with dtype, shape and data_offsets, got %s", k)
	}
	fields, err := objectFields(raw, false)
	if err != nil {
		return e, err
	}
	var dtype, shape, offsets json.RawMessage
	for _, fl := range fields {
		switch fl.key {
		case "dtype":
			dtype = fl.value
		case "shape":
			shape = fl.value
		case "data_offsets":
			offsets = fl.value
		default:
			return e, fmt.Errorf("unknown field %q (want dtype, shape and data_offsets)", fl.key)
		}
	}
	for _, m := range []struct {
		name string
		v    json.RawMessage
	}{{"dtype", dtype}, {"shape", shape}, {"data_offsets", offsets}} {
		if m.v == nil {
			return e, fmt.Errorf("missing %s", m.name)
		}
	}

	if k := kind(dtype); k != "a string" {
		return e, fmt.Errorf("dtype must be a string, got %s", k)
	}
	var dt string
	if err := json.Unmarshal(dtype, &dt); err != nil {
		return e, jsonErr(err)
	}
	if dt != dtypeF32 {
		return e, fmt.Errorf("dtype %q is not supported: only F32 is", dt)
	}

	dims, err := intArray("shape", shape)
	if err != nil {
		return e, err
	}
	if len(dims) > tensor.MaxRank {
		return e, fmt.Errorf("shape %s has %d dimensions, at most %d are supported", tensor.FormatShape(dims), len(dims), tensor.MaxRank)
	}
	for i, d := range dims {
		if d < 0 {
			return e, fmt.Errorf("shape %s has negative dimension %d at axis %d", tensor.FormatShape(dims), d, i)
		}
	}
	numel, ok := elems(dims)
	if !ok {
		return e, fmt.Errorf("shape %s is too large", tensor.FormatShape(dims))
	}

	offs, err := intArray("data_offsets", offsets)
	if err != nil {
		return e, err
	}
	if len(offs) != 2 {
		return e, fmt.Errorf("data_offsets must be [begin, end], got %d numbers", len(offs))
	}
	begin, end := offs[0], offs[1]
	if begin < 0 || end < 0 {
		return e, fmt.Errorf("data_offsets [%d %d] are negative", begin, end)
	}
	if begin > end {
		return e, fmt.Errorf("data_offsets [%d %d] are reversed (begin after end)", begin, end)
	}
	if end-begin != 4*numel {
		return e, fmt.Errorf("data_offsets [%d %d] span %d bytes, but shape %s of F32 needs %d", begin, end, end-begin, tensor.FormatShape(dims), 4*numel)
	}
	e.shape, e.begin, e.end = dims, begin, end
	return e, nil
}

// intArray parses a JSON array of integers. Strings, fractions and
// exponents are rejected, not converted.
func intArray(what string, raw json.RawMessage) ([]int, error) {
	if k := kind(raw); k != "an array" {
		return nil, fmt.Errorf("%s must be an array of integers, got %s", what, k)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, jsonErr(err)
	}
	out := make([]int, len(elems))
	for i, el := range elems {
		el = bytes.TrimSpace(el)
		if k := kind(el); k != "a number" {
			return nil, fmt.Errorf("%s must be an array of integers, element %d is %s", what, i, k)
		}
		v, err := strconv.ParseInt(string(el), 10, strconv.IntSize)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return nil, fmt.Errorf("%s element %d (%s) is out of range", what, i, el)
			}
			return nil, fmt.Errorf("%s element %d (%s) is not an integer", what, i, el)
		}
		out[i] = int(v)
	}
	return out, nil
}

// elems is the element count of a valid shape, or false if it exceeds
// maxElems. A shape with a zero dimension has no elements, however large the
// others are.
func elems(shape []int) (int, bool) {
	if slices.Contains(shape, 0) {
		return 0, true
	}
	n := uint64(1)
	for _, d := range shape {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > maxElems {
			return 0, false
		}
		n = lo
	}
	return int(n), true
}

// Restore copies every tensor of dst from f, by name. Every name in dst must
// be in f with the same shape, and, unless allowExtra, every tensor of f must
// be in dst. All problems are reported together (each matching ErrMismatch,
// sorted by name, e.g. "D.fc1.weight: checkpoint has [128 2], model has
// [64 2]"), and then nothing in dst has been modified. The copy goes into
// dst's existing Data slices, so references to them stay valid.
func (f *File) Restore(dst map[string]*tensor.Tensor, allowExtra bool) error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, &mismatch{fmt.Sprintf(format, args...)})
	}
	names := make([]string, 0, len(dst)+len(f.Tensors))
	for name := range dst {
		names = append(names, name)
	}
	if !allowExtra {
		for name := range f.Tensors {
			if _, ok := dst[name]; !ok {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	for _, name := range names {
		d, inModel := dst[name]
		s, inFile := f.Tensors[name]
		switch {
		case !inModel && s == nil:
			add("%s: in the checkpoint (nil) but not in the model", name)
		case !inModel:
			add("%s: in the checkpoint (shape %s) but not in the model", name, tensor.FormatShape(s.Shape()))
		case d == nil:
			add("%s: the model's tensor is nil", name)
		case !inFile:
			add("%s: missing from the checkpoint (model has %s)", name, tensor.FormatShape(d.Shape()))
		case s == nil:
			add("%s: the checkpoint's tensor is nil", name)
		case !tensor.SameShape(s.Shape(), d.Shape()):
			add("%s: checkpoint has %s, model has %s", name, tensor.FormatShape(s.Shape()), tensor.FormatShape(d.Shape()))
		case len(d.Data) != len(s.Data):
			add("%s: the model's tensor has shape %s but %d elements", name, tensor.FormatShape(d.Shape()), len(d.Data))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for name, d := range dst {
		copy(d.Data, f.Tensors[name].Data)
	}
	return nil
}

// testHook, when set by tests, is called before the header and each chunk
// of data that Save writes, and fails it by returning an error (the file
// system steps are internal/atomicfile's, with their own hook).
var testHook func(step string) error

func hook(step string) error {
	if testHook != nil {
		return testHook(step)
	}
	return nil
}

// Save writes tensors and string metadata to path in the safetensors format,
// atomically (see internal/atomicfile): a crash leaves either the old file
// or the new one at path, never a partial one. An error before the rename
// leaves the old file and removes the temporary one; an error syncing the
// folder after the rename is reported although the new file is in place.
// The new file keeps the permissions of the file it replaces, or gets 0644.
//
// Tensor names must be non-empty, valid UTF-8 and not "__metadata__"; meta
// keys and values must be valid UTF-8. Tensors are laid out in the order of
// their sorted names.
func Save(path string, tensors map[string]*tensor.Tensor, meta map[string]string) error {
	names, header, err := prepare(tensors, meta)
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { return writeFile(w, header, names, tensors) }); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}

// SaveChecked is Save with the SHA-256 of the tensor data recorded in the
// metadata under ChecksumKey, which Read verifies: what minmax writes for
// its own files (checkpoints, generator files, evaluators), so that a
// corrupted file is refused rather than loaded with wrong weights.
func SaveChecked(path string, tensors map[string]*tensor.Tensor, meta map[string]string) error {
	meta = maps.Clone(meta)
	if meta == nil {
		meta = map[string]string{}
	}
	meta[ChecksumKey] = tensorChecksum(tensors)
	return Save(path, tensors, meta)
}

// ChecksumKey is the metadata key under which SaveChecked records the
// SHA-256 of the data section ("sha256:HEX"); Read verifies it when
// present (files from other writers, and from minmax before 0.2, have
// none).
const ChecksumKey = "checksum"

// checksum is the checksum of a data section.
func checksum(body []byte) string {
	h := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(h[:])
}

// tensorChecksum is the checksum of the data section Save writes for
// tensors (in the order of their sorted names).
func tensorChecksum(tensors map[string]*tensor.Tensor) string {
	names := make([]string, 0, len(tensors))
	for n, t := range tensors {
		if t != nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	h := sha256.New()
	buf := make([]byte, 0, 64<<10)
	for _, n := range names {
		for _, v := range tensors[n].Data {
			if len(buf) == cap(buf) {
				h.Write(buf)
				buf = buf[:0]
			}
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
	}
	h.Write(buf)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// prepare checks tensors and meta for Save and returns the sorted tensor
// names and the encoded header (length prefix included).
func prepare(tensors map[string]*tensor.Tensor, meta map[string]string) ([]string, []byte, error) {
	names := make([]string, 0, len(tensors))
	for name, t := range tensors {
		switch {
		case name == "":
			return nil, nil, errors.New("a tensor has an empty name")
		case name == metadataKey:
			return nil, nil, fmt.Errorf("tensor name %q is reserved for the metadata", name)
		case !utf8.ValidString(name):
			return nil, nil, fmt.Errorf("tensor name %q is not valid UTF-8", name)
		case t == nil:
			return nil, nil, fmt.Errorf("tensor %q is nil", name)
		}
		n, ok := elems(t.Shape())
		if !ok {
			return nil, nil, fmt.Errorf("tensor %q: shape %s is too large", name, tensor.FormatShape(t.Shape()))
		}
		if n != len(t.Data) {
			return nil, nil, fmt.Errorf("tensor %q: shape %s holds %d elements but Data has %d", name, tensor.FormatShape(t.Shape()), n, len(t.Data))
		}
		names = append(names, name)
	}
	for k, v := range meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, nil, fmt.Errorf("metadata %q: %q is not valid UTF-8", k, v)
		}
	}
	slices.Sort(names)
	header := encodeHeader(names, tensors, meta)
	if len(header)-8 > MaxHeaderLen {
		return nil, nil, fmt.Errorf("header is %d bytes, more than the %d that readers accept", len(header)-8, MaxHeaderLen)
	}
	return names, header, nil
}

// writeFile writes the encoded header and then the tensor data, in names
// order, to w.
func writeFile(w io.Writer, header []byte, names []string, tensors map[string]*tensor.Tensor) error {
	if err := hook("header"); err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	buf := make([]byte, 0, 64<<10)
	for _, name := range names {
		for _, v := range tensors[name].Data {
			if len(buf) == cap(buf) {
				if err := hook("data"); err != nil {
					return err
				}
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
	}
	if err := hook("data"); err != nil {
		return err
	}
	_, err := w.Write(buf)
	return err
}

// encodeHeader returns the 8-byte length prefix followed by the JSON header,
// padded with spaces so that the data section starts at a multiple of 8.
// The layout matches the reference writer: "__metadata__" first (when there
// is metadata), then the tensors in names order with contiguous offsets, and
// no whitespace inside the JSON.
func encodeHeader(names []string, tensors map[string]*tensor.Tensor, meta map[string]string) []byte {
	b := make([]byte, 8, 64+64*len(names))
	b = append(b, '{')
	if len(meta) > 0 {
		b = appendString(b, metadataKey)
		b = append(b, ":{"...)
		keys := make([]string, 0, len(meta))
		for k := range meta {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, meta[k])
		}
		b = append(b, '}')
	}
	off := 0
	for i, name := range names {
		if i > 0 || len(meta) > 0 {
			b = append(b, ',')
		}
		t := tensors[name]
		b = appendString(b, name)
		b = append(b, `:{"dtype":"F32","shape":[`...)
		for j, d := range t.Shape() {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(d), 10)
		}
		b = append(b, `],"data_offsets":[`...)
		b = strconv.AppendInt(b, int64(off), 10)
		off += 4 * len(t.Data)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(off), 10)
		b = append(b, "]}"...)
	}
	b = append(b, '}')
	for len(b)%8 != 0 {
		b = append(b, ' ')
	}
	binary.LittleEndian.PutUint64(b, uint64(len(b)-8))
	return b
}

// appendString appends s (valid UTF-8) as a JSON string, escaping only what
// JSON requires: quote, backslash and control characters.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
