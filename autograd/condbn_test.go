package autograd_test

import (
	"math"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/tensor"
)

// CondBatchNorm (and CondBatchNormReLU) computes what batch norm followed
// by the broadcast product and sum (and ReLU) computes (to float32 rounding: it folds the normalisation and
// the scale into one multiply-add), its gradients likewise, and the same
// bits at any thread count. 5 samples of 14×15 positions and 37 channels
// (rows longer than the vector kernels' width, with a tail; enough for
// three threads).
func TestCondBatchNormMatchesComposed(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	const n, s, c = 5, 210, 37
	rng := tensor.NewRNG(3)
	x, sc, sh, g := tensor.New(n*s, c), tensor.New(n, c), tensor.New(n, c), tensor.New(n*s, c)
	for _, v := range []*tensor.Tensor{x, sc, sh, g} {
		rng.Normal(v.Data, 0.3, 1.5)
	}
	for _, relu := range []bool{false, true} {
		testCondBNComposed(t, relu, x, sc, sh, g, n, s, c)
	}
}

func testCondBNComposed(t *testing.T, relu bool, x, sc, sh, g *tensor.Tensor, n, s, c int) {
	run := func(fused bool) [][]float32 {
		tp := autograd.NewTape()
		ps := []*autograd.Param{{Value: x, Grad: tensor.New(n*s, c)}, {Value: sc, Grad: tensor.New(n, c)}, {Value: sh, Grad: tensor.New(n, c)}}
		xs, scs, shs := tp.Param(ps[0]), tp.Param(ps[1]), tp.Param(ps[2])
		var y *autograd.Node
		switch {
		case fused && relu:
			y = tp.CondBatchNormReLU(xs, scs, shs, 1e-5)
		case fused:
			y = tp.CondBatchNorm(xs, scs, shs, 1e-5)
		default:
			h := tp.Reshape(tp.BatchNorm(xs, tp.Full(1, c), tp.Full(0, c), 1e-5), n, s, c)
			y = tp.Reshape(tp.Add(tp.Mul(h, tp.Reshape(scs, n, 1, c)), tp.Reshape(shs, n, 1, c)), n*s, c)
			if relu {
				y = tp.ReLU(y)
			}
		}
		return valueAndGrads(t, tp, y, g, ps)
	}
	names := []string{"y", "dx", "dscale", "dshift"}
	parallel.SetThreads(1)
	want, one := run(false), run(true)
	for k := range want {
		for i := range want[k] {
			if d := math.Abs(float64(want[k][i] - one[k][i])); d > 2e-5*(1+math.Abs(float64(want[k][i]))) {
				t.Fatalf("ReLU %v, %s[%d]: CondBatchNorm %v, composed %v", relu, names[k], i, one[k][i], want[k][i])
			}
		}
	}
	for _, threads := range []int{2, 3} {
		parallel.SetThreads(threads)
		got := run(true)
		for k := range got {
			for i := range got[k] {
				if math.Float32bits(got[k][i]) != math.Float32bits(one[k][i]) {
					t.Fatalf("ReLU %v, %s[%d] at %d threads: %v, at 1 thread %v", relu, names[k], i, threads, got[k][i], one[k][i])
				}
			}
		}
	}
}

// Shapes that do not fit are refused with a message.
func TestCondBatchNormShapes(t *testing.T) {
	for _, c := range []struct {
		x, sc, sh []int
		want      string
	}{
		{[]int{6, 3}, []int{4, 3}, []int{4, 3}, "6 rows do not split into 4 samples"},
		{[]int{6, 3}, []int{2, 4}, []int{2, 4}, "want both (samples, 3)"},
		{[]int{6, 3}, []int{2, 3}, []int{3, 3}, "want both (samples, 3)"},
		{[]int{2, 3, 3}, []int{2, 3}, []int{2, 3}, "want (rows, features)"},
	} {
		tp := autograd.NewTape()
		tp.CondBatchNorm(tp.Leaf(tensor.New(c.x...)), tp.Leaf(tensor.New(c.sc...)), tp.Leaf(tensor.New(c.sh...)), 1e-5)
		if err := tp.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v %v: error %v, want one with %q", c.x, c.sc, c.sh, err, c.want)
		}
	}
}

// BatchNormReLU and BatchNormLeaky give the bits of BatchNorm followed by
// ReLU or LeakyReLU, value and gradients, on a short batch (split by
// columns) and a tall one (split by rows), at 1 and 2 threads.
func TestBatchNormActMatchesComposed(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	rng := tensor.NewRNG(5)
	for _, rows := range []int{40, 2600} {
		const c = 37
		x, gamma, beta, g := tensor.New(rows, c), tensor.New(c), tensor.New(c), tensor.New(rows, c)
		for _, v := range []*tensor.Tensor{x, gamma, beta, g} {
			rng.Normal(v.Data, 0.1, 1)
		}
		run := func(act int, fused bool) [][]float32 {
			tp := autograd.NewTape()
			ps := []*autograd.Param{{Value: x, Grad: tensor.New(rows, c)}, {Value: gamma, Grad: tensor.New(c)}, {Value: beta, Grad: tensor.New(c)}}
			xs, gs, bs := tp.Param(ps[0]), tp.Param(ps[1]), tp.Param(ps[2])
			var y *autograd.Node
			switch {
			case fused && act == 1:
				y = tp.BatchNormReLU(xs, gs, bs, 1e-5)
			case fused:
				y = tp.BatchNormLeaky(xs, gs, bs, 1e-5, 0.2)
			case act == 1:
				y = tp.ReLU(tp.BatchNorm(xs, gs, bs, 1e-5))
			default:
				y = tp.LeakyReLU(tp.BatchNorm(xs, gs, bs, 1e-5), 0.2)
			}
			return valueAndGrads(t, tp, y, g, ps)
		}
		for _, act := range []int{1, 2} {
			for _, threads := range []int{1, 2} {
				parallel.SetThreads(threads)
				want, got := run(act, false), run(act, true)
				for k := range want {
					for i := range want[k] {
						if math.Float32bits(want[k][i]) != math.Float32bits(got[k][i]) {
							t.Fatalf("%d rows, activation %d, %d threads: output %d [%d] = %v fused, %v composed", rows, act, threads, k, i, got[k][i], want[k][i])
						}
					}
				}
			}
		}
	}
}

// A negative LeakyReLU slope is refused by the fused op (its gradient
// reads the activation's sign off the output, which the slope flips) and
// left to the composition by nn.
func TestBatchNormLeakyNegativeSlope(t *testing.T) {
	tp := autograd.NewTape()
	tp.BatchNormLeaky(tp.Leaf(tensor.New(4, 2)), tp.Leaf(tensor.New(2)), tp.Leaf(tensor.New(2)), 1e-5, -0.5)
	if err := tp.Err(); err == nil || !strings.Contains(err.Error(), "slope") {
		t.Errorf("slope -0.5: error %v, want one about the slope", err)
	}
}

// valueAndGrads returns copies of y's values and of the gradients of
// Σ y·g in ps, after the backward pass.
func valueAndGrads(t *testing.T, tp *autograd.Tape, y *autograd.Node, g *tensor.Tensor, ps []*autograd.Param) [][]float32 {
	t.Helper()
	loss := tp.Sum(tp.Mul(y, tp.Leaf(g)), false)
	autograd.ZeroGrads(ps)
	if err := tp.Backward(loss, ps); err != nil {
		t.Fatal(err)
	}
	out := [][]float32{append([]float32(nil), y.Data()...)}
	for _, p := range ps {
		out = append(out, append([]float32(nil), p.Grad.Data...))
	}
	return out
}
