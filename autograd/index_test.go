package autograd_test

import (
	"math"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/autograd/gradcheck"
	"github.com/minmaxgan/minmax/tensor"
)

// The ops of attention and conditional models, to first and second order.
// Products and a softmax are composed with a smooth function so that the
// second derivatives are not trivially zero.
func TestAttentionOpsGradients(t *testing.T) {
	labels := []int{2, 0, 2, 1}
	cases := []opCase{
		{"BatchMatMul", func(t *T, x []*A) *A { return t.Tanh(t.BatchMatMul(x[0], x[1], false, false)) }, in2([]int{2, 3, 4}, []int{2, 4, 5}), true},
		{"BatchMatMul/Bᵀ", func(t *T, x []*A) *A { return t.Tanh(t.BatchMatMul(x[0], x[1], false, true)) }, in2([]int{2, 3, 4}, []int{2, 5, 4}), true},
		{"BatchMatMul/Aᵀ", func(t *T, x []*A) *A { return t.Tanh(t.BatchMatMul(x[0], x[1], true, false)) }, in2([]int{2, 4, 3}, []int{2, 4, 5}), true},
		{"BatchMatMul/AᵀBᵀ", func(t *T, x []*A) *A { return t.Tanh(t.BatchMatMul(x[0], x[1], true, true)) }, in2([]int{3, 4, 3}, []int{3, 5, 4}), true},
		{"Softmax/last", func(t *T, x []*A) *A { return t.Square(t.Softmax(x[0], -1)) }, in1(0, 0, 3, 5), true},
		{"Softmax/middle", func(t *T, x []*A) *A { return t.Square(t.Softmax(x[0], 1)) }, in1(0, 0, 2, 4, 3), true},
		{"Softmax/first", func(t *T, x []*A) *A { return t.Square(t.Softmax(x[0], 0)) }, in1(0, 0, 4, 3), true},
		{"Rows", func(t *T, x []*A) *A { return t.Square(t.Rows(x[0], labels)) }, in1(0, 0, 3, 5), true},
		{"Rows·h", func(t *T, x []*A) *A { return t.Tanh(t.Mul(t.Rows(x[0], labels), x[1])) }, in2([]int{3, 5}, []int{4, 5}), true},
		{"MaxPool2D", func(t *T, x []*A) *A { return t.Square(t.MaxPool2D(x[0], 2)) }, distinct(2, 4, 4, 3), true},
		{"attention", attention, in2([]int{2, 4, 4, 4}, []int{4, 4}), true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := tensor.NewRNG(uint64(300 + i))
			in := c.inputs(rng)
			// The attention's max pooling may change its choice under a
			// perturbation of the projection: a kink.
			opt := gradcheck.Options{Seed: uint64(i), Kinks: c.name == "attention"}
			if err := gradcheck.Check(c.f, in, opt); err != nil {
				t.Fatal(err)
			}
			if err := gradcheck.CheckSecond(c.f, in, opt); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// attention is SAGAN's self-attention on a 4×4 map of 4 channels, with
// the projections as one matrix w: θ = xw, φ = maxpool(xw), β =
// softmax(θφᵀ), o = βφ, x + o.
func attention(t *T, in []*A) *A {
	x, w := in[0], in[1]
	b := x.Shape()[0]
	p := t.Reshape(t.MatMul(t.Reshape(x, -1, 4), w, false, false), b, 4, 4, 4)
	theta := t.Reshape(p, b, 16, 4)
	phi := t.Reshape(t.MaxPool2D(p, 2), b, 4, 4)
	beta := t.Softmax(t.BatchMatMul(theta, phi, false, true), -1)
	o := t.BatchMatMul(beta, phi, false, false)
	return t.Tanh(t.Add(t.Reshape(x, b, 16, 4), o))
}

// distinct draws values at least 0.05 apart (so that finite differences
// of step 0.01 never change a window's maximum).
func distinct(shape ...int) func(*tensor.RNG) []*tensor.Tensor {
	return func(r *tensor.RNG) []*tensor.Tensor {
		x := tensor.New(shape...)
		perm := r.Choose(len(x.Data), len(x.Data))
		for i, p := range perm {
			x.Data[i] = 0.05*float32(p) - 1
		}
		return []*tensor.Tensor{x}
	}
}

func TestIndexOpsValues(t *testing.T) {
	tp := autograd.NewTape()
	w, _ := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 3, 2)
	r := tp.Rows(tp.Leaf(w), []int{2, 0})
	if d := r.Data(); d[0] != 5 || d[1] != 6 || d[2] != 1 || d[3] != 2 {
		t.Errorf("Rows: %v", d)
	}
	x, _ := tensor.FromData([]float32{1, 9, 3, 4, 5, 6, 7, 8}, 1, 2, 2, 2) // (N, H, W, C)
	m := tp.MaxPool2D(tp.Leaf(x), 2)
	if d := m.Data(); len(d) != 2 || d[0] != 7 || d[1] != 9 {
		t.Errorf("MaxPool2D: %v, want [7 9]", d)
	}
	s := tp.Softmax(tp.Leaf(w), 0)
	var col float64
	for i := 0; i < 3; i++ {
		col += float64(s.Data()[i*2])
	}
	if math.Abs(col-1) > 1e-6 {
		t.Errorf("softmax over axis 0 sums to %v", col)
	}
	idx := tp.Index(3)
	copy(idx, []int32{5, -1, 0})
	g := tp.Gather(tp.Leaf(w), idx, 3)
	if d := g.Data(); d[0] != 6 || d[1] != 0 || d[2] != 1 {
		t.Errorf("Gather with a -1: %v", d)
	}
	if tp.Err() != nil {
		t.Fatal(tp.Err())
	}
	tp.Rows(tp.Leaf(w), []int{3})
	if err := tp.Err(); err == nil || !strings.Contains(err.Error(), "label 3") {
		t.Errorf("a label outside the table: %v", err)
	}
	tp.Reset()
	tp.BatchMatMul(tp.Leaf(tensor.New(2, 3, 4)), tp.Leaf(tensor.New(2, 5, 4)), false, false)
	if err := tp.Err(); err == nil || !strings.Contains(err.Error(), "inner dimensions 4 and 5") {
		t.Errorf("mismatched batch product: %v", err)
	}
}

// BatchMatMul gives what MatMul gives on each matrix, whether the batch
// is split over threads (small products) or each product is (large ones).
func TestBatchMatMulMatchesMatMul(t *testing.T) {
	rng := tensor.NewRNG(9)
	for _, c := range []struct{ b, m, n, k int }{{7, 5, 3, 4}, {3, 160, 170, 180}} {
		a, b := tensor.New(c.b, c.m, c.k), tensor.New(c.b, c.k, c.n)
		rng.Normal(a.Data, 0, 1)
		rng.Normal(b.Data, 0, 1)
		tp := autograd.NewTape()
		got := tp.BatchMatMul(tp.Leaf(a), tp.Leaf(b), false, false).Data()
		for i := 0; i < c.b; i++ {
			want := make([]float32, c.m*c.n)
			tensor.MatMul(want, a.Data[i*c.m*c.k:(i+1)*c.m*c.k], b.Data[i*c.k*c.n:(i+1)*c.k*c.n], c.m, c.n, c.k, false, false, false)
			for j, v := range want {
				if got[i*c.m*c.n+j] != v {
					t.Fatalf("%+v: matrix %d element %d: %v, MatMul %v", c, i, j, got[i*c.m*c.n+j], v)
				}
			}
		}
	}
}
