package autograd

import (
	"fmt"
	"math"
	"testing"

	"github.com/minmaxgan/minmax/tensor"
)

// A Conv2DLeakyReLU's output whose only consumer is a convolution gets
// its gradient masked by that convolution's input gradient
// (convTLeakyMask), with the bits of the separate LeakyReLU and its own
// mask pass; not when it has a second consumer (the mask would be applied
// twice to that part) or is a target of Grad (whose gradient is returned
// before the mask).
func TestConvLeakyMaskFusion(t *testing.T) {
	rng := tensor.NewRNG(9)
	x, w, b, w2 := tensor.New(2, 14, 14, 4), tensor.New(8, 4, 4, 4), tensor.New(8), tensor.New(5, 4, 4, 8)
	for _, v := range []*tensor.Tensor{x, w, b, w2} {
		rng.Normal(v.Data, 0, 1)
	}
	// run returns the gradients of x, w, b (and h when it is a target)
	// and the op of the gradient that reached h.
	run := func(fused, twoUses, target bool) ([][]float32, opKind) {
		tp := NewTape()
		xs, ws, bs, w2s := tp.Leaf(x), tp.Leaf(w), tp.Leaf(b), tp.Leaf(w2)
		var h *Node
		if fused {
			h = tp.Conv2DLeakyReLU(xs, ws, bs, 2, 1, 0.2)
		} else {
			h = tp.LeakyReLU(tp.Conv2D(xs, ws, bs, 2, 1), 0.2)
		}
		loss := tp.Mean(tp.Square(tp.Conv2D(h, w2s, nil, 2, 1)), false)
		if twoUses {
			loss = tp.Add(loss, tp.Mean(tp.Tanh(h), false))
		}
		wrt := []*Node{xs, ws, bs}
		if target {
			wrt = append(wrt, h)
		}
		gs, err := tp.Grad(loss, wrt, false)
		if err != nil {
			t.Fatal(err)
		}
		return gradData(gs), tp.grads[h.idx].op
	}
	for _, c := range []struct {
		twoUses, target, masked bool
	}{{false, false, true}, {true, false, false}, {false, true, false}} {
		want, _ := run(false, c.twoUses, c.target)
		got, op := run(true, c.twoUses, c.target)
		if (op == opConvTMask) != c.masked {
			t.Errorf("two consumers %v, target %v: h's gradient is a %v", c.twoUses, c.target, op)
		}
		sameBits(t, fmt.Sprintf("two consumers %v, target %v", c.twoUses, c.target), got, want)
	}
}

// The output of a Conv2DReLU or a ReLU that feeds a stride-1 convolution
// gets its gradient masked by that convolution's input gradient
// (convTReLUMask), with the bits of the separate mask pass: with one
// consumer or two (the mask applied again to the sum changes nothing), not
// when it is a target of Grad; and second derivatives through the masked
// gradient (a gradient penalty on x) are the same.
func TestConvReLUMaskFusion(t *testing.T) {
	defer func() { reluMaskConvs = true }()
	rng := tensor.NewRNG(10)
	x, w, b, w2 := tensor.New(2, 9, 9, 4), tensor.New(8, 3, 3, 4), tensor.New(8), tensor.New(5, 3, 3, 8)
	for _, v := range []*tensor.Tensor{x, w, b, w2} {
		rng.Normal(v.Data, 0, 1)
	}
	// run returns the gradients of x, w, b, w2 (and h when it is a
	// target), those of the gradient penalty ‖∂loss/∂x‖² with respect to
	// w and w2, and the op of the gradient that reached h.
	run := func(node, twoUses, target bool) ([][]float32, opKind) {
		tp := NewTape()
		xs, ws, bs, w2s := tp.Leaf(x), tp.Leaf(w), tp.Leaf(b), tp.Leaf(w2)
		var h *Node
		if node {
			h = tp.ReLU(tp.Conv2D(xs, ws, bs, 1, 1))
		} else {
			h = tp.Conv2DReLU(xs, ws, bs, 1, 1)
		}
		loss := tp.Mean(tp.Square(tp.Conv2D(h, w2s, nil, 1, 1)), false)
		if twoUses {
			loss = tp.Add(loss, tp.Mean(tp.Tanh(h), false))
		}
		wrt := []*Node{xs, ws, bs, w2s}
		if target {
			wrt = append(wrt, h)
		}
		gs, err := tp.Grad(loss, wrt, true)
		if err != nil {
			t.Fatal(err)
		}
		op := tp.grads[h.idx].op
		penalty := tp.Sum(tp.Square(gs[0]), false)
		gp, err := tp.Grad(penalty, []*Node{ws, w2s}, false)
		if err != nil {
			t.Fatal(err)
		}
		return gradData(append(gs, gp...)), op
	}
	for _, c := range []struct {
		node, twoUses, target, masked bool
	}{{false, false, false, true}, {true, false, false, true}, {false, true, false, true}, {false, false, true, false}} {
		reluMaskConvs = false
		want, _ := run(c.node, c.twoUses, c.target)
		reluMaskConvs = true
		got, op := run(c.node, c.twoUses, c.target)
		what := fmt.Sprintf("ReLU node %v, two consumers %v, target %v", c.node, c.twoUses, c.target)
		if (op == opConvTReLU) != c.masked && !c.twoUses {
			t.Errorf("%s: h's gradient is a %v", what, op)
		}
		sameBits(t, what, got, want)
	}
}

// gradData copies the values of the gradients gs.
func gradData(gs []*Node) [][]float32 {
	out := make([][]float32, len(gs))
	for i, g := range gs {
		out[i] = append([]float32(nil), g.Data()...)
	}
	return out
}

// sameBits fails t unless got and want, gradient by gradient, hold the
// same bits.
func sameBits(t *testing.T, what string, got, want [][]float32) {
	t.Helper()
	for i := range want {
		for k := range want[i] {
			if math.Float32bits(got[i][k]) != math.Float32bits(want[i][k]) {
				t.Fatalf("%s: gradient %d element %d = %v, want %v", what, i, k, got[i][k], want[i][k])
			}
		}
	}
}
