package run

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
)

// Field is what a toy run's snapshot shows of the game at one step,
// written to samples/step_NNNNNN.json at every evaluation so that a
// reader (the dashboard) can draw the game at that step without G or D:
//
//   - 1-D data: on a grid X over the view, P's density, a kernel density
//     estimate of Q_G from the snapshot's generated points, and D's logit;
//     sigmoid(D) against P/(P+Q_G) = sigmoid(D*) is eq. (6).
//   - 2-D data: D's logit on an N×N grid over the square [Lo, Hi]² (row
//     by row in y), real points from P and the generated ones.
type Field struct {
	Step int     `json:"step"`
	Dim  int     `json:"dim"`
	Lo   float64 `json:"lo"`
	Hi   float64 `json:"hi"`
	// 1-D.
	X []float64 `json:"x,omitempty"`
	P []float64 `json:"p,omitempty"`
	Q []float64 `json:"q,omitempty"`
	// D's logit: len(X) values for 1-D, N*N for 2-D.
	D []float64 `json:"d"`
	// 2-D.
	N    int       `json:"n,omitempty"`
	Real []float64 `json:"real,omitempty"`
	Fake []float64 `json:"fake,omitempty"`
	// NonFinite counts the values that were NaN or infinite (a diverged
	// D), written as 0 so that the file stays JSON; readers should say so.
	NonFinite int `json:"nonfinite,omitempty"`
}

// fieldGrid2D is the side of the 2-D field's grid, fieldPoints the number
// of real and generated points it carries.
const (
	fieldGrid2D = 64
	fieldPoints = 500
)

// saveField writes the snapshot's Field. d1 is D on the 1-D plotting
// grid (already computed for the run's pictures); nil for 2-D.
func (r *Run) saveField(step int, fake []float32, d1 []float32) error {
	lo, hi := r.view()
	f := Field{Step: step, Dim: r.Data.Dim, Lo: lo, Hi: hi}
	switch r.Data.Dim {
	case 1:
		f.X = r.grid1D()
		f.P = make([]float64, len(f.X))
		for i, x := range f.X {
			f.P[i] = math.Exp(r.P.LogProb([]float64{x}))
		}
		f.Q = kde(fake, f.X)
		f.D = f64(d1)
	case 2:
		_, dv, err := r.dOnPlane(lo, hi, fieldGrid2D)
		if err != nil {
			return err
		}
		f.N, f.D = fieldGrid2D, f64(dv)
		f.Real = f64(r.realSample(fieldPoints, 3))
		f.Fake = f64(fake[:min(len(fake), 2*fieldPoints)])
	default:
		return nil
	}
	for _, s := range [][]float64{f.P, f.Q, f.D, f.Real, f.Fake} {
		for i, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				s[i] = 0
				f.NonFinite++
			}
		}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(r.Dir, "samples", fmt.Sprintf("step_%06d.json", step)), b)
}
