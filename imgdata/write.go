package imgdata

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/minmaxgan/minmax/internal/atomicfile"
)

// writeAtomic writes path through write with internal/atomicfile, naming
// the package in its errors.
func writeAtomic(path string, write func(w io.Writer) error) error {
	if err := atomicfile.Write(path, write); err != nil {
		return fmt.Errorf("%w", err)
	}
	return nil
}

// GridOptions sets out a grid of images for GridImage, SaveGrid and
// SaveSetGrid. The zero value gives a square-ish grid, a 2-pixel grey
// border and images enlarged to at least 64 pixels.
type GridOptions struct {
	// Cols is the number of images per row; 0 means ceil(sqrt(N)).
	Cols int
	// Pad is the width in output pixels of the border around and between
	// the images; 0 means 2, a negative value means no border.
	Pad int
	// Scale enlarges each image by this integer factor (nearest neighbour,
	// so pixels stay crisp: 28×28 at Scale 3 is 84×84); 0 means the smallest
	// factor that makes the larger side of an image at least 64 pixels, at
	// most 8.
	Scale int
}

// GridBackground is the grey level of a grid's border and of its empty
// cells: mid-grey, which separates both dark-background images (MNIST) and
// light ones.
const GridBackground = 128

// maxGridPixels bounds the size of a grid image (256 Mpx).
const maxGridPixels = 1 << 28

// GridImage tiles the images of s into one picture, row by row, as set out
// by opt: an *image.Gray for grayscale sets, an opaque *image.RGBA for
// colour ones.
func GridImage(s *Set, opt GridOptions) (image.Image, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if s.N == 0 {
		return nil, errors.New("GridImage: the set is empty")
	}
	cols, pad, scale := opt.Cols, opt.Pad, opt.Scale
	switch {
	case cols < 0:
		return nil, fmt.Errorf("GridImage: Cols is %d; expected 0 (automatic) or more", cols)
	case cols == 0:
		cols = int(math.Ceil(math.Sqrt(float64(s.N))))
	}
	cols = min(cols, s.N)
	switch {
	case pad < 0:
		pad = 0
	case pad == 0:
		pad = 2
	}
	switch {
	case scale < 0:
		return nil, fmt.Errorf("GridImage: Scale is %d; expected 0 (automatic) or more", scale)
	case scale == 0:
		scale = min(8, max(1, (64+max(s.H, s.W)-1)/max(s.H, s.W)))
	}
	rows := (s.N + cols - 1) / cols
	tw, okx := product(s.W, scale)
	th, oky := product(s.H, scale)
	var gw, gh int
	okw, okh := false, false
	if okx && oky && pad <= maxGridPixels {
		gw, okw = product(cols, tw+pad)
		gh, okh = product(rows, th+pad)
	}
	if !okw || !okh || gw+pad > maxGridPixels || gh+pad > maxGridPixels || (gw+pad)*(gh+pad) > maxGridPixels {
		return nil, fmt.Errorf("GridImage: %d images of %d×%d at scale %d in %d columns make too large a picture", s.N, s.H, s.W, scale, cols)
	}
	gw += pad
	gh += pad
	var pix []uint8
	var stride, bpp int
	var img image.Image
	if s.C == 1 {
		g := image.NewGray(image.Rect(0, 0, gw, gh))
		pix, stride, bpp, img = g.Pix, g.Stride, 1, g
	} else {
		g := image.NewRGBA(image.Rect(0, 0, gw, gh))
		pix, stride, bpp, img = g.Pix, g.Stride, 4, g
	}
	for i := range pix {
		pix[i] = GridBackground
	}
	if bpp == 4 {
		for i := 3; i < len(pix); i += 4 {
			pix[i] = 255
		}
	}
	plane := s.H * s.W
	for i := range s.N {
		src := s.Image(i)
		x0 := pad + (i%cols)*(tw+pad)
		y0 := pad + (i/cols)*(th+pad)
		for y := range th {
			row := pix[(y0+y)*stride+x0*bpp:]
			sy := y / scale
			for x := range tw {
				sx := x / scale
				o := row[x*bpp:]
				if bpp == 1 {
					o[0] = src[sy*s.W+sx]
					continue
				}
				o[0] = src[sy*s.W+sx]
				o[1] = src[plane+sy*s.W+sx]
				o[2] = src[2*plane+sy*s.W+sx]
			}
		}
	}
	return img, nil
}

// SaveGrid writes n images of c×h×w float32 values in [-1, 1] (as for
// FromFloat: channel-planar, clamped, c = 1 or 3) to path as one PNG, tiled
// into a grid as set out by opt (see GridOptions): grayscale or RGB as the
// images are. The file is written atomically.
func SaveGrid(path string, x []float32, n, c, h, w int, opt GridOptions) error {
	s, err := FromFloat(x, n, c, h, w)
	if err != nil {
		return err
	}
	return SaveSetGrid(path, s, opt)
}

// SaveSetGrid writes the images of s to path as one PNG grid, like SaveGrid.
func SaveSetGrid(path string, s *Set, opt GridOptions) error {
	img, err := GridImage(s, opt)
	if err != nil {
		return err
	}
	return writeAtomic(path, func(w io.Writer) error { return png.Encode(w, img) })
}

// nameDigits returns the number of digits of the file names of n images.
func nameDigits(n int) int { return max(5, len(strconv.Itoa(n-1))) }

// WritePNGFolder writes each image of s to dir as a PNG (grayscale or RGB)
// of its own size, named by its index, zero-padded to at least five digits
// so that the names sort in order: 00000.png, 00001.png, ... It creates dir
// (and its parents) if needed and replaces files of the same names. Each
// file is written to a temporary name and renamed into place once all are
// on disk (internal/atomicfile.Batch), so a half-written PNG never carries a
// final name, at the cost of one file-system sync rather than one per file.
func WritePNGFolder(dir string, s *Set) error {
	if err := s.Validate(); err != nil {
		return err
	}
	w, err := NewPNGFolderWriter(dir, s.N)
	if err != nil {
		return err
	}
	if err := w.Add(s); err != nil {
		w.Abort()
		return err
	}
	return w.Commit()
}

// PNGFolderWriter writes the images of a folder export (WritePNGFolder)
// set by set, so that any number of images can be written with bounded
// memory; nothing takes its final name before Commit.
type PNGFolderWriter struct {
	batch  *atomicfile.Batch
	digits int
	next   int
	enc    png.Encoder
}

// NewPNGFolderWriter starts an export of n images to dir (created if
// needed).
func NewPNGFolderWriter(dir string, n int) (*PNGFolderWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, osErr(err, dir)
	}
	return &PNGFolderWriter{batch: atomicfile.NewBatch(dir), digits: nameDigits(n), enc: png.Encoder{CompressionLevel: png.DefaultCompression}}, nil
}

// Add writes the images of s, numbered after those added before.
func (w *PNGFolderWriter) Add(s *Set) error {
	plane := s.H * s.W
	rect := image.Rect(0, 0, s.W, s.H)
	gray := &image.Gray{Rect: rect, Stride: s.W}
	rgb := image.NewRGBA(rect)
	for i := range s.N {
		src := s.Image(i)
		var img image.Image
		if s.C == 1 {
			gray.Pix = src
			img = gray
		} else {
			p := rgb.Pix
			for j := range plane {
				p[4*j] = src[j]
				p[4*j+1] = src[plane+j]
				p[4*j+2] = src[2*plane+j]
				p[4*j+3] = 255
			}
			img = rgb
		}
		name := fmt.Sprintf("%0*d.png", w.digits, w.next)
		w.next++
		if err := w.batch.Add(name, func(out io.Writer) error { return w.enc.Encode(out, img) }); err != nil {
			return err
		}
	}
	return nil
}

// Commit gives every image its final name.
func (w *PNGFolderWriter) Commit() error { return w.batch.Commit() }

// Abort removes what was written.
func (w *PNGFolderWriter) Abort() { w.batch.Abort() }
