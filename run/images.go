package run

import (
	"path/filepath"

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
	d, hw := h*w*c, h*w
	for i := 0; i < n; i++ {
		src, dst := x[i*d:(i+1)*d], out[i*d:(i+1)*d]
		for p := 0; p < hw; p++ {
			for k := 0; k < c; k++ {
				dst[k*hw+p] = src[p*c+k]
			}
		}
	}
	return out
}

// ImageSet turns n generated images (channel-last, in [-1, 1]) into an
// imgdata.Set of 8-bit images.
func (r *Run) ImageSet(x []float32, n int) (*imgdata.Set, error) {
	s := r.Game.Shape
	return imgdata.FromFloat(ToCHW(x, n, s.Size, s.Size, s.Channels), n, s.Channels, s.Size, s.Size)
}

// saveGrid writes n generated images as an 8-column PNG grid.
func (r *Run) saveGrid(path string, x []float32, n int) error {
	s := r.Game.Shape
	return imgdata.SaveGrid(path, ToCHW(x, n, s.Size, s.Size, s.Channels), n, s.Channels, s.Size, s.Size, imgdata.GridOptions{Cols: 8})
}

// finalGrid writes samples.png: the grid at the run's fixed codes.
func (r *Run) finalGrid() error {
	fake := make([]float32, r.snapZ.Dim(0)*r.Game.Dim)
	if err := r.Game.Trainer.Generate(r.snapZ, fake); err != nil {
		return err
	}
	return r.saveGrid(filepath.Join(r.Dir, GridFile), fake, r.snapZ.Dim(0))
}
