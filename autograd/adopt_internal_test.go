package autograd

import (
	"math"
	"testing"

	"github.com/minmaxgan/minmax/tensor"
)

// SetGradients hands the parameters the arena buffers their gradients
// were computed in (adoptGrad) and gives the same bits as copying them;
// a gradient it handed over survives the tape's next epochs, whose ops
// overwrite every buffer the arena still owns.
func TestSetGradientsAdoptsArenaBuffers(t *testing.T) {
	defer func(v bool) { adoptGrads = v }(adoptGrads)
	rng := tensor.NewRNG(5)
	x := tensor.New(64, 48)
	rng.Normal(x.Data, 0, 1)
	newParams := func() []*Param {
		w1, b1, w2 := tensor.New(96, 48), tensor.New(96), tensor.New(1, 96)
		r := tensor.NewRNG(6)
		for _, v := range []*tensor.Tensor{w1, b1, w2} {
			r.Normal(v.Data, 0, 0.3)
		}
		return []*Param{NewParam("w1", w1), NewParam("b1", b1), NewParam("w2", w2)}
	}
	loss := func(tp *Tape, ps []*Param, scale float32) *Node {
		h := tp.LinearReLU(tp.Leaf(x), tp.Param(ps[0]), tp.Param(ps[1]))
		d := tp.Linear(h, tp.Param(ps[2]), nil)
		return tp.Mean(tp.Softplus(tp.Scale(d, scale)), false)
	}
	var want [][][]float32 // per epoch, per parameter: the copying path's gradients
	for _, adopt := range []bool{false, true} {
		adoptGrads = adopt
		ps := newParams()
		tp := NewTape()
		moved := 0
		var kept [][]float32
		var keptFrom [][]float32
		for epoch := range 4 {
			tp.Reset()
			before := make([]*float32, len(ps))
			for i, p := range ps {
				before[i] = &p.Grad.Data[0]
			}
			if err := tp.SetGradients(loss(tp, ps, float32(epoch+1)), ps); err != nil {
				t.Fatal(err)
			}
			for i, p := range ps {
				if &p.Grad.Data[0] != before[i] {
					moved++
				}
			}
			var got [][]float32
			for _, p := range ps {
				got = append(got, append([]float32(nil), p.Grad.Data...))
			}
			if !adopt {
				want = append(want, got)
				continue
			}
			for i := range ps {
				for j := range got[i] {
					if math.Float32bits(got[i][j]) != math.Float32bits(want[epoch][i][j]) {
						t.Fatalf("epoch %d, %s[%d] = %v adopted, %v copied", epoch, ps[i].Name, j, got[i][j], want[epoch][i][j])
					}
				}
			}
			// The gradients of the epoch before, in buffers handed over
			// then, unchanged by this epoch's ops.
			for i := range kept {
				for j := range kept[i] {
					if math.Float32bits(keptFrom[i][j]) != math.Float32bits(kept[i][j]) {
						t.Fatalf("epoch %d overwrote gradient %d of the epoch before at %d: %v, was %v", epoch, i, j, keptFrom[i][j], kept[i][j])
					}
				}
			}
			kept, keptFrom = got, nil
			for _, p := range ps {
				keptFrom = append(keptFrom, p.Grad.Data)
			}
			// Replace each parameter's buffer so that the next epoch's
			// SetGradients hands over others, and keptFrom stays the one
			// to watch.
			for _, p := range ps {
				p.Grad.Data = make([]float32, len(p.Grad.Data))
			}
		}
		if adopt != (moved > 0) {
			t.Fatalf("adoption %v: %d gradient buffers handed over", adopt, moved)
		}
	}
}
