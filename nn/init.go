package nn

import (
	"math"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
	"gonum.org/v1/gonum/mat"
)

// InitOrthogonal fills p with a (semi-)orthogonal matrix, p seen as its
// first axis by all the others (as torch.nn.init.orthogonal_): the Q of
// the QR decomposition of a matrix of N(0, 1) draws from rng, its columns'
// signs fixed by R's diagonal, transposed when p has fewer rows than
// columns, times gain. BigGAN initialises every weight so. A parameter of
// rank < 2 is left alone.
func InitOrthogonal(p *autograd.Param, gain float64, rng *tensor.RNG) {
	shape := p.Value.Shape()
	if len(shape) < 2 {
		return
	}
	rows := shape[0]
	cols := p.Value.Len() / rows
	r, c := max(rows, cols), min(rows, cols) // QR of a tall matrix
	draws := make([]float32, r*c)
	rng.Normal(draws, 0, 1)
	a := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			a.Set(i, j, float64(draws[i*c+j]))
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q, rr mat.Dense
	qr.QTo(&q)
	qr.RTo(&rr)
	w := p.Value.Data
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			v := q.At(i, j) * math.Copysign(1, rr.At(j, j)) * gain
			if rows >= cols {
				w[i*cols+j] = float32(v)
			} else {
				w[j*cols+i] = float32(v)
			}
		}
	}
}
