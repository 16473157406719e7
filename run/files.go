package run

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/minmaxgan/minmax/internal/atomicfile"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// writeAtomic writes data to path atomically (internal/atomicfile).
func writeAtomic(path string, data []byte) error { return atomicfile.WriteBytes(path, data) }

// writeAtomicFunc writes path through fill atomically.
func writeAtomicFunc(path string, fill func(w io.Writer) error) error {
	return atomicfile.Write(path, fill)
}

// WriteCSV writes n×dim points, one per line, atomically.
func WriteCSV(path string, data []float32, dim int) error {
	return writeAtomicFunc(path, func(w io.Writer) error {
		var line []byte
		for i := 0; i < len(data); i += dim {
			line = line[:0]
			for j := 0; j < dim; j++ {
				if j > 0 {
					line = append(line, ',')
				}
				line = strconv.AppendFloat(line, float64(data[i+j]), 'g', -1, 32)
			}
			line = append(line, '\n')
			if _, err := w.Write(line); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteNPY writes n×dim float32 points as a NumPy .npy file (format 1.0,
// little-endian '<f4', C order), atomically.
func WriteNPY(path string, data []float32, n, dim int) error {
	return WriteNPYShape(path, data, n, dim)
}

// WriteNPYShape writes float32 data of the given shape as a NumPy .npy
// file (format 1.0, little-endian '<f4', C order), atomically.
func WriteNPYShape(path string, data []float32, shape ...int) error {
	total := 1
	for _, d := range shape {
		total *= d
	}
	if total != len(data) {
		return fmt.Errorf("%s: %d values do not make shape %v", path, len(data), shape)
	}
	return writeAtomicFunc(path, func(w io.Writer) error { return EncodeNPY(w, data, shape...) })
}

// EncodeNPY writes float32 data of the given shape to w in the .npy format
// of WriteNPYShape.
func EncodeNPY(w io.Writer, data []float32, shape ...int) error {
	total := 1
	for _, d := range shape {
		total *= d
	}
	if total != len(data) {
		return fmt.Errorf("%d values do not make shape %v", len(data), shape)
	}
	if _, err := w.Write(npyHeader(shape)); err != nil {
		return err
	}
	buf := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	_, err := w.Write(buf)
	return err
}

// npyHeader is the header of a .npy file (format 1.0) of little-endian
// float32 in C order with the given shape, padded to 64 bytes.
func npyHeader(shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", tuple)
	// magic(6) + version(2) + len(2) + header + '\n', padded to 64 bytes.
	hdr := 10 + len(header) + 1
	pad := (64 - hdr%64) % 64
	header += strings.Repeat(" ", pad) + "\n"
	out := []byte("\x93NUMPY\x01\x00")
	out = binary.LittleEndian.AppendUint16(out, uint16(len(header)))
	return append(out, header...)
}

// ReadNPY reads a NumPy .npy file of little-endian float32 in C order
// (what WriteNPYShape writes), refusing anything else with a clear error.
func ReadNPY(path string) (shape []int, data []float32, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: not a float32 .npy file: "+format, append([]any{path}, args...)...)
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, nil, bad("no NumPy magic")
	}
	var hl, off int
	switch b[6] {
	case 1:
		hl, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, nil, bad("truncated header")
		}
		hl, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, nil, bad("format version %d", b[6])
	}
	if off+hl > len(b) {
		return nil, nil, bad("header of %d bytes in a file of %d", hl, len(b))
	}
	h := string(b[off : off+hl])
	if !strings.Contains(h, "'descr': '<f4'") || !strings.Contains(h, "'fortran_order': False") {
		return nil, nil, bad("header %q (want '<f4', C order)", strings.TrimSpace(h))
	}
	i := strings.Index(h, "'shape': (")
	j := strings.Index(h[i+1:], ")")
	if i < 0 || j < 0 {
		return nil, nil, bad("no shape in header %q", strings.TrimSpace(h))
	}
	total := 1
	for _, f := range strings.Split(h[i+len("'shape': ("):i+1+j], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 || d > 1<<31 {
			return nil, nil, bad("dimension %q", f)
		}
		shape = append(shape, d)
		total *= d
		if total > 1<<32 {
			return nil, nil, bad("shape %v too large", shape)
		}
	}
	body := b[off+hl:]
	if len(body) != 4*total {
		return nil, nil, bad("shape %v needs %d bytes of data, the file has %d", shape, 4*total, len(body))
	}
	data = make([]float32, total)
	for k := range data {
		data[k] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*k:]))
	}
	return shape, data, nil
}
