package tensor

import (
	"sync"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// Nearest-neighbour upsampling and block sums of NHWC images, the two
// adjoint halves of BigGAN's resampling: G's blocks upsample by 2, D's
// average-pool by 2, and each one's gradient is the other. Written as a
// broadcast and a sum over axes they went through the general broadcast
// kernels (an offset table per row, one copy of C values at a time).

// resampleJob is one call: rows of the small image, split across parts.
type resampleJob struct {
	up         bool
	dst, src   []float32
	h, w, c, f int
	scale      float32
}

var resampleJobs = sync.Pool{New: func() any { return new(resampleJob) }}

// Upsample2D writes to dst (n, h·f, w·f, c) the images x (n, h, w, c)
// with every pixel repeated over an f×f block and multiplied by scale.
func Upsample2D(dst, x []float32, n, h, w, c, f int, scale float32) {
	if len(x) < n*h*w*c || len(dst) < n*h*w*c*f*f || f < 1 {
		panic("tensor.Upsample2D: buffer too short or factor below 1")
	}
	runResample(true, dst, x, n, h, w, c, f, scale)
}

// BlockSum2D writes to dst (n, h, w, c) scale times the sums of the f×f
// blocks of x (n, h·f, w·f, c), each sum taken over the block's rows, then
// columns, in order.
func BlockSum2D(dst, x []float32, n, h, w, c, f int, scale float32) {
	if len(x) < n*h*w*c*f*f || len(dst) < n*h*w*c || f < 1 {
		panic("tensor.BlockSum2D: buffer too short or factor below 1")
	}
	runResample(false, dst, x, n, h, w, c, f, scale)
}

func runResample(up bool, dst, src []float32, n, h, w, c, f int, scale float32) {
	j := resampleJobs.Get().(*resampleJob)
	*j = resampleJob{up: up, dst: dst, src: src, h: h, w: w, c: c, f: f, scale: scale}
	rows := n * h
	p := parallel.Default()
	p.ForParts(rows, p.PartsFor(rows*w*c*f*f, 1<<15), j)
	*j = resampleJob{}
	resampleJobs.Put(j)
}

// Run implements parallel.Job over rows [lo, hi) of the small images
// (image i's row y is i·h + y).
func (j *resampleJob) Run(_, lo, hi int) {
	w, c, f := j.w, j.c, j.f
	small := w * c   // a row of the small image
	big := w * f * c // a row of the large one
	for r := lo; r < hi; r++ {
		s := j.src
		if j.up {
			x := s[r*small : (r+1)*small]
			out := j.dst[r*f*big : (r+1)*f*big]
			first := out[:big]
			for px := range w {
				v := x[px*c : (px+1)*c]
				for fx := range f {
					d := first[(px*f+fx)*c : (px*f+fx+1)*c]
					if j.scale == 1 {
						copy(d, v)
						continue
					}
					binScalarRight(OpMul, d, v, j.scale)
				}
			}
			for fy := 1; fy < f; fy++ {
				copy(out[fy*big:(fy+1)*big], first)
			}
			continue
		}
		x := s[r*f*big : (r+1)*f*big]
		out := j.dst[r*small : (r+1)*small]
		if f == 2 && simdBlockSum2(out, x[:big], x[big:], w, c) {
			if j.scale != 1 {
				binScalarRight(OpMul, out, out, j.scale)
			}
			continue
		}
		for px := range w {
			d := out[px*c : (px+1)*c]
			clear(d)
			for fy := range f {
				row := x[fy*big : (fy+1)*big]
				for fx := range f {
					binRow(OpAdd, d, d, row[(px*f+fx)*c:(px*f+fx+1)*c]) // vectorised, in this order
				}
			}
			if j.scale != 1 {
				binScalarRight(OpMul, d, d, j.scale)
			}
		}
	}
}
