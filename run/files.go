package run

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// writeAtomic writes data to path through a temporary file, fsync and rename.
func writeAtomic(path string, data []byte) error {
	return writeAtomicFunc(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

func writeAtomicFunc(path string, fill func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriter(tmp)
	if err := fill(bw); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
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
	dims := make([]string, len(shape))
	total := 1
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
		total *= d
	}
	if total != len(data) {
		return fmt.Errorf("%s: %d values do not make shape %v", path, len(data), shape)
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
	return writeAtomicFunc(path, func(w io.Writer) error {
		if _, err := w.Write([]byte("\x93NUMPY\x01\x00")); err != nil {
			return err
		}
		var hl [2]byte
		binary.LittleEndian.PutUint16(hl[:], uint16(len(header)))
		if _, err := w.Write(hl[:]); err != nil {
			return err
		}
		if _, err := io.WriteString(w, header); err != nil {
			return err
		}
		buf := make([]byte, 4*len(data))
		for i, v := range data {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		_, err := w.Write(buf)
		return err
	})
}
