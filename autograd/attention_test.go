package autograd_test

import (
	"math"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/autograd/gradcheck"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/tensor"
)

// Attention computes what Softmax(BatchMatMul(q, kᵀ)) followed by
// BatchMatMul with v computes, its gradients (the fused first-order pass)
// likewise, and the same bits at any thread count. 5 images of 37 queries,
// 11 keys, Dk 3 and Dv 19 (odd sizes: the kernels' tails).
func TestAttentionMatchesComposed(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	const n, m, p, dk, dv = 5, 37, 11, 3, 19
	rng := tensor.NewRNG(8)
	q, k, v, g := tensor.New(n, m, dk), tensor.New(n, p, dk), tensor.New(n, p, dv), tensor.New(n, m, dv)
	for _, x := range []*tensor.Tensor{q, k, v, g} {
		rng.Normal(x.Data, 0.1, 1.5)
	}
	run := func(fused bool) [][]float32 {
		tp := autograd.NewTape()
		ps := []*autograd.Param{{Value: q, Grad: tensor.New(n, m, dk)}, {Value: k, Grad: tensor.New(n, p, dk)}, {Value: v, Grad: tensor.New(n, p, dv)}}
		qs, ks, vs := tp.Param(ps[0]), tp.Param(ps[1]), tp.Param(ps[2])
		var y *autograd.Node
		if fused {
			y = tp.Attention(qs, ks, vs)
		} else {
			y = tp.BatchMatMul(tp.Softmax(tp.BatchMatMul(qs, ks, false, true), -1), vs, false, false)
		}
		return valueAndGrads(t, tp, y, g, ps)
	}
	names := []string{"o", "dq", "dk", "dv"}
	parallel.SetThreads(1)
	want, one := run(false), run(true)
	for i := range want {
		scale := 0.0
		for _, w := range want[i] {
			scale = max(scale, math.Abs(float64(w)))
		}
		for j := range want[i] {
			if d := math.Abs(float64(want[i][j] - one[i][j])); d > 1e-5*scale {
				t.Fatalf("%s[%d]: Attention %v, composed %v (scale %.3g)", names[i], j, one[i][j], want[i][j], scale)
			}
		}
	}
	for _, threads := range []int{2, 3} {
		parallel.SetThreads(threads)
		got := run(true)
		for i := range got {
			for j := range got[i] {
				if math.Float32bits(got[i][j]) != math.Float32bits(one[i][j]) {
					t.Fatalf("%s[%d] at %d threads: %v, at 1 thread %v", names[i], j, threads, got[i][j], one[i][j])
				}
			}
		}
	}
}

// Attention's gradients to first and second order (the recorded form),
// with each operand alone and all three together.
func TestAttentionGradients(t *testing.T) {
	in3 := func(r *tensor.RNG) []*tensor.Tensor {
		return []*tensor.Tensor{randT(r, 0, 0, 2, 5, 3), randT(r, 0, 0, 2, 4, 3), randT(r, 0, 0, 2, 4, 6)}
	}
	f := func(t *T, x []*A) *A { return t.Tanh(t.Attention(x[0], x[1], x[2])) }
	for i, c := range []struct {
		name string
		f    gradcheck.Func
	}{
		{"q, k, v", f},
		{"q·q", func(t *T, x []*A) *A { return t.Tanh(t.Attention(x[0], x[0], x[1])) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := in3(tensor.NewRNG(uint64(40 + i)))
			if c.name == "q·q" { // self-attention: keys are the queries
				in = []*tensor.Tensor{in[0], randT(tensor.NewRNG(9), 0, 0, 2, 5, 6)}
			}
			opt := gradcheck.Options{Seed: uint64(i)}
			if err := gradcheck.Check(c.f, in, opt); err != nil {
				t.Fatal(err)
			}
			if err := gradcheck.CheckSecond(c.f, in, opt); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Operands that do not fit are refused with a message naming the shapes.
func TestAttentionShapes(t *testing.T) {
	for _, c := range [][3][]int{
		{{2, 5, 3}, {2, 4, 2}, {2, 4, 6}},
		{{2, 5, 3}, {2, 4, 3}, {2, 3, 6}},
		{{2, 5, 3}, {1, 4, 3}, {2, 4, 6}},
		{{5, 3}, {4, 3}, {4, 6}},
	} {
		tp := autograd.NewTape()
		tp.Attention(tp.Leaf(tensor.New(c[0]...)), tp.Leaf(tensor.New(c[1]...)), tp.Leaf(tensor.New(c[2]...)))
		if err := tp.Err(); err == nil || !strings.Contains(err.Error(), "Attention: query") {
			t.Errorf("%v: error %v, want one naming the shapes", c, err)
		}
	}
}
