package run

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/generator"
	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/internal/atomicfile"
)

// Limits of SampleTo: beyond them a request is refused before any memory
// is taken.
const (
	// MaxSamples is the most samples one file or folder takes.
	MaxSamples = 100_000_000
	// MaxGridImages is the most images a PNG grid takes (a 50×50 grid).
	MaxGridImages = 2500
	// sampleChunk is how many samples are generated and written at a time.
	sampleChunk = 4096
)

// Output formats of SampleTo.
const (
	FormatCSV    = "csv"    // points, one per line
	FormatNPY    = "npy"    // float32: points N×dim, images N×C×H×W
	FormatIDX    = "idx"    // images, uint8 N×H×W or N×H×W×C
	FormatGrid   = "png"    // images, one grid
	FormatFolder = "folder" // images, one PNG each
)

// SampleFormat says which format the path out asks for, for data d: a
// folder (folder set, or a path ending in a separator), else by extension.
// It refuses a format that does not hold d.
func SampleFormat(out string, folder bool, d arch.Data) (string, error) {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(out)), ".")
	image := d.Kind == arch.Images
	switch {
	case folder && image:
		return FormatFolder, nil
	case !image && (ext == FormatCSV || ext == FormatNPY):
		return ext, nil
	case image && (ext == FormatNPY || ext == FormatIDX || ext == FormatGrid):
		return ext, nil
	case image:
		return "", fmt.Errorf("%s: samples of images go to a .png grid, a folder (end the path with /), an .idx or an .npy file", out)
	}
	return "", fmt.Errorf("%s: samples of points go to a .csv or .npy file", out)
}

// SampleSize estimates the bytes that n samples of d take in format.
func SampleSize(format string, n int, d arch.Data) int64 {
	per := int64(d.Dim)
	switch format {
	case FormatCSV:
		per *= 16
	case FormatNPY:
		per *= 4
	case FormatFolder:
		per = per/2 + 200 // PNG of noisy samples, with file overhead
	}
	return int64(n) * per
}

// CheckSampleCount refuses counts beyond the limits of format, and files
// that would not fit on the file system of out, before anything is
// allocated.
func CheckSampleCount(out, format string, n int, d arch.Data) error {
	switch {
	case n < 1:
		return fmt.Errorf("%d samples: want at least 1", n)
	case format == FormatGrid && n > MaxGridImages:
		return fmt.Errorf("%d images do not make a readable grid: at most %d (a 50×50 grid); write more to a folder, an .idx or an .npy file", n, MaxGridImages)
	case n > MaxSamples:
		return fmt.Errorf("%d samples: at most %d to one file or folder", n, MaxSamples)
	}
	need := SampleSize(format, n, d)
	if free, ok := freeSpace(filepath.Dir(filepath.Clean(out))); ok && need > free {
		return fmt.Errorf("%d samples take about %s and the file system of %s has %s free", n, bytesText(need), out, bytesText(free))
	}
	return nil
}

// cycles reports whether labels run through the c classes in turn (0, 1,
// ..., c-1, 0, 1, ...), as a conditional generator's samples do without
// --class.
func cycles(labels []int, c int) bool {
	if len(labels) == 0 {
		return false
	}
	for i, l := range labels {
		if l != i%c {
			return false
		}
	}
	return true
}

// ClassRows reorders n samples whose classes cycle through c classes
// (sample i is of class i mod c; n a multiple of c) so that a grid of n/c
// columns shows one class per row: row k holds the samples of class k in
// their order.
func ClassRows(x []float32, n, c int) []float32 {
	dim, per := len(x)/n, n/c
	out := make([]float32, len(x))
	for i := range n {
		k, j := i%c, i/c // class and rank within the class
		copy(out[(k*per+j)*dim:(k*per+j+1)*dim], x[i*dim:(i+1)*dim])
	}
	return out
}

func bytesText(b int64) string {
	switch {
	case b >= 1<<30:
		return strconv.FormatFloat(float64(b)/(1<<30), 'f', 1, 64) + " GiB"
	case b >= 1<<20:
		return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB"
	}
	return strconv.FormatInt(b, 10) + " bytes"
}

// SampleTo draws the samples of st and writes them to out in format (see
// SampleFormat), a chunk at a time, atomically; it returns the classes
// asked for, when the generator is conditional and labels is set.
func SampleTo(out, format string, st *generator.Stream, d arch.Data, labels bool) ([]uint8, error) {
	n := st.Left()
	var asked []uint8
	keep := func(l []int) {
		if labels && l != nil {
			for _, v := range l {
				asked = append(asked, uint8(v))
			}
		}
	}
	next := func() ([]float32, int, error) {
		x, l, err := st.Next(sampleChunk)
		keep(l)
		return x, len(x) / d.Dim, err
	}
	var err error
	switch format {
	case FormatCSV:
		err = atomicfile.Write(out, func(w io.Writer) error {
			var line []byte
			for st.Left() > 0 {
				x, _, err := next()
				if err != nil {
					return err
				}
				for i := 0; i < len(x); i += d.Dim {
					line = line[:0]
					for j := 0; j < d.Dim; j++ {
						if j > 0 {
							line = append(line, ',')
						}
						line = strconv.AppendFloat(line, float64(x[i+j]), 'g', -1, 32)
					}
					if _, err := w.Write(append(line, '\n')); err != nil {
						return err
					}
				}
			}
			return nil
		})
	case FormatNPY:
		shape := []int{n, d.Dim}
		if d.Kind == arch.Images {
			shape = []int{n, d.Channels, d.Height, d.Width}
		}
		err = atomicfile.Write(out, func(w io.Writer) error {
			if _, err := w.Write(npyHeader(shape)); err != nil {
				return err
			}
			var buf []byte
			for st.Left() > 0 {
				x, k, err := next()
				if err != nil {
					return err
				}
				if d.Kind == arch.Images {
					x = ToCHW(x, k, d.Height, d.Width, d.Channels)
				}
				buf = buf[:0]
				for _, v := range x {
					buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				}
				if _, err := w.Write(buf); err != nil {
					return err
				}
			}
			return nil
		})
	case FormatIDX:
		dims := []int{n, d.Height, d.Width}
		if d.Channels != 1 {
			dims = append(dims, d.Channels)
		}
		err = atomicfile.Write(out, func(w io.Writer) error {
			if _, err := w.Write(imgdata.IDXHeader(dims)); err != nil {
				return err
			}
			var px []uint8
			for st.Left() > 0 {
				x, _, err := next()
				if err != nil {
					return err
				}
				if cap(px) < len(x) {
					px = make([]uint8, len(x))
				}
				px = px[:len(x)]
				imgdata.ToBytes(px, x) // channel-last, as IDX stores N×H×W×C
				if _, err := w.Write(px); err != nil {
					return err
				}
			}
			return nil
		})
	case FormatFolder:
		var fw *imgdata.PNGFolderWriter
		if fw, err = imgdata.NewPNGFolderWriter(out, n); err != nil {
			return nil, err
		}
		for st.Left() > 0 && err == nil {
			var x []float32
			var k int
			if x, k, err = next(); err == nil {
				var set *imgdata.Set
				if set, err = ImageSet(d, x, k); err == nil {
					err = fw.Add(set)
				}
			}
		}
		if err != nil {
			fw.Abort()
			return nil, err
		}
		err = fw.Commit()
	case FormatGrid: // at most MaxGridImages, so one chunk
		x, l, gerr := st.Next(n)
		if gerr != nil {
			return nil, gerr
		}
		keep(l)
		k, cols := len(x)/d.Dim, min(8, len(x)/d.Dim)
		if c := len(d.Classes); c >= 2 && k%c == 0 && cycles(l, c) {
			x, cols = ClassRows(x, k, c), k/c
		}
		var set *imgdata.Set
		if set, err = ImageSet(d, x, k); err == nil {
			err = imgdata.SaveSetGrid(out, set, imgdata.GridOptions{Cols: cols})
		}
	default:
		return nil, fmt.Errorf("unknown sample format %q", format)
	}
	if err != nil {
		return nil, err
	}
	return asked, nil
}
