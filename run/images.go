package run

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/minmaxgan/minmax/arch"

	"github.com/minmaxgan/minmax/imgdata"
)

// GridFile is the final sample grid of an image run.
const GridFile = "samples.png"

// ToCHW reorders n channel-last images (h×w×c, as the models make them)
// into channel-planar order (c×h×w, as imgdata stores them).
func ToCHW(x []float32, n, h, w, c int) []float32 {
	if c == 1 {
		return x
	}
	out := make([]float32, len(x))
	imgdata.HWCToCHW(out, x, n, c, h, w)
	return out
}

// ImageSet turns n generated images (channel-last, in [-1, 1]) into an
// imgdata.Set of 8-bit images.
func (r *Run) ImageSet(x []float32, n int) (*imgdata.Set, error) {
	return ImageSet(r.Data, x, n)
}

// ImageSet turns n generated images of shape d (channel-last, in [-1, 1])
// into an imgdata.Set of 8-bit images.
func ImageSet(d arch.Data, x []float32, n int) (*imgdata.Set, error) {
	return imgdata.FromFloat(ToCHW(x, n, d.Height, d.Width, d.Channels), n, d.Channels, d.Height, d.Width)
}

// saveGrid writes n generated images as an 8-column PNG grid.
func (r *Run) saveGrid(path string, x []float32, n int) error {
	d := r.Data
	return imgdata.SaveGrid(path, ToCHW(x, n, d.Height, d.Width, d.Channels), n, d.Channels, d.Height, d.Width, imgdata.GridOptions{Cols: 8})
}

// finalGrid writes samples.png: the grid at the run's fixed codes.
func (r *Run) finalGrid() error {
	fake := make([]float32, r.snapZ.Dim(0)*r.Data.Dim)
	if err := r.Game.Generate(r.snapZ, r.labels(r.snapZ.Dim(0)), fake); err != nil {
		return err
	}
	return r.saveGrid(filepath.Join(r.Dir, GridFile), fake, r.snapZ.Dim(0))
}

// ReadImages reads images for scoring: an IDX file (uint8, N×H×W or
// N×H×W×C, gzipped or raw) or an .npy file of float32 in [-1, 1] (N×H×W,
// N×C×H×W as minmax sample writes, or N×H×W×C when the second axis is not 1
// or 3 and the last is). It returns them channel-last in [-1, 1].
func ReadImages(path string) (x []float32, n int, err error) {
	if strings.EqualFold(filepath.Ext(path), ".npy") {
		shape, data, err := ReadNPY(path)
		if err != nil {
			return nil, 0, err
		}
		switch {
		case len(shape) == 3:
			return data, shape[0], nil
		case len(shape) == 4 && (shape[1] == 1 || shape[1] == 3):
			return toHWC(data, shape[0], shape[1], shape[2], shape[3]), shape[0], nil
		case len(shape) == 4 && (shape[3] == 1 || shape[3] == 3):
			return data, shape[0], nil
		}
		return nil, 0, fmt.Errorf("%s: shape %v is not a batch of images (N×H×W or N×C×H×W)", path, shape)
	}
	dims, pix, err := imgdata.ReadIDX(path)
	if err != nil {
		return nil, 0, err
	}
	if len(dims) != 3 && len(dims) != 4 {
		return nil, 0, fmt.Errorf("%s: IDX dimensions %v are not images (N×H×W or N×H×W×C)", path, dims)
	}
	x = make([]float32, len(pix))
	for i, v := range pix {
		x[i] = float32(v)/127.5 - 1
	}
	return x, dims[0], nil
}

func toHWC(x []float32, n, c, h, w int) []float32 {
	out := make([]float32, len(x))
	imgdata.CHWToHWC(out, x, n, c, h, w)
	return out
}
