package autograd_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/autograd/gradcheck"
	"github.com/minmaxgan/minmax/tensor"
)

type A = autograd.Node
type T = autograd.Tape

// randT returns a tensor of N(0,1) samples, pushed away from 0 by at least
// margin (so that kinks such as ReLU's are not straddled by finite
// differences), shifted by offset.
func randT(rng *tensor.RNG, margin, offset float32, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	rng.Normal(x.Data, 0, 1)
	for i, v := range x.Data {
		if v >= 0 && v < margin {
			x.Data[i] = v + margin
		} else if v < 0 && v > -margin {
			x.Data[i] = v - margin
		}
		x.Data[i] += offset
	}
	return x
}

type opCase struct {
	name   string
	f      gradcheck.Func
	inputs func(rng *tensor.RNG) []*tensor.Tensor
	// second: also check second order (every op a discriminator uses).
	second bool
}

func in1(margin, offset float32, shape ...int) func(*tensor.RNG) []*tensor.Tensor {
	return func(r *tensor.RNG) []*tensor.Tensor { return []*tensor.Tensor{randT(r, margin, offset, shape...)} }
}

func in2(s1, s2 []int) func(*tensor.RNG) []*tensor.Tensor {
	return func(r *tensor.RNG) []*tensor.Tensor {
		return []*tensor.Tensor{randT(r, 0, 0, s1...), randT(r, 0, 0, s2...)}
	}
}

var opCases = []opCase{
	{"Add", func(t *T, x []*A) *A { return t.Add(x[0], x[1]) }, in2([]int{3, 4}, []int{3, 4}), true},
	{"Add/broadcast-row", func(t *T, x []*A) *A { return t.Add(x[0], x[1]) }, in2([]int{3, 4}, []int{4}), true},
	{"Add/broadcast-both", func(t *T, x []*A) *A { return t.Add(x[0], x[1]) }, in2([]int{3, 1}, []int{1, 4}), true},
	{"Sub/broadcast", func(t *T, x []*A) *A { return t.Sub(x[0], x[1]) }, in2([]int{2, 3, 4}, []int{3, 1}), true},
	{"Mul/broadcast", func(t *T, x []*A) *A { return t.Mul(x[0], x[1]) }, in2([]int{2, 3, 4}, []int{1, 4}), true},
	{"Mul/scalar", func(t *T, x []*A) *A { return t.Mul(x[0], x[1]) }, in2([]int{5}, []int{}), true},
	{"Div", func(t *T, x []*A) *A { return t.Div(x[0], t.AddScalar(t.Square(x[1]), 1)) }, in2([]int{3, 4}, []int{4}), true},
	{"Affine", func(t *T, x []*A) *A { return t.Affine(x[0], -1.5, 0.25) }, in1(0, 0, 7), true},
	{"MatMul", func(t *T, x []*A) *A { return t.MatMul(x[0], x[1], false, false) }, in2([]int{3, 5}, []int{5, 4}), true},
	{"MatMul/Bᵀ", func(t *T, x []*A) *A { return t.MatMul(x[0], x[1], false, true) }, in2([]int{3, 5}, []int{4, 5}), true},
	{"MatMul/Aᵀ", func(t *T, x []*A) *A { return t.MatMul(x[0], x[1], true, false) }, in2([]int{5, 3}, []int{5, 4}), true},
	{"MatMul/AᵀBᵀ", func(t *T, x []*A) *A { return t.MatMul(x[0], x[1], true, true) }, in2([]int{5, 3}, []int{4, 5}), true},
	{"Linear", func(t *T, x []*A) *A { return t.Linear(x[0], x[1], x[2]) }, func(r *tensor.RNG) []*tensor.Tensor {
		return []*tensor.Tensor{randT(r, 0, 0, 4, 6), randT(r, 0, 0, 3, 6), randT(r, 0, 0, 3)}
	}, true},
	{"Linear/no-bias", func(t *T, x []*A) *A { return t.Linear(x[0], x[1], nil) }, in2([]int{4, 6}, []int{3, 6}), true},
	{"ReLU", func(t *T, x []*A) *A { return t.ReLU(x[0]) }, in1(0.05, 0, 4, 5), true},
	{"LeakyReLU", func(t *T, x []*A) *A { return t.LeakyReLU(x[0], 0.2) }, in1(0.05, 0, 4, 5), true},
	{"Tanh", func(t *T, x []*A) *A { return t.Tanh(x[0]) }, in1(0, 0, 4, 5), true},
	{"Sigmoid", func(t *T, x []*A) *A { return t.Sigmoid(x[0]) }, in1(0, 0, 4, 5), true},
	{"Softplus", func(t *T, x []*A) *A { return t.Softplus(x[0]) }, in1(0, 0, 4, 5), true},
	{"Exp", func(t *T, x []*A) *A { return t.Exp(x[0]) }, in1(0, -0.5, 3, 4), true},
	{"Log", func(t *T, x []*A) *A { return t.Log(t.AddScalar(t.Square(x[0]), 0.5)) }, in1(0, 0, 3, 4), true},
	{"Square", func(t *T, x []*A) *A { return t.Square(x[0]) }, in1(0, 0, 3, 4), true},
	{"Sqrt", func(t *T, x []*A) *A { return t.Sqrt(t.AddScalar(t.Square(x[0]), 0.5)) }, in1(0, 0, 3, 4), true},
	{"Sum/all", func(t *T, x []*A) *A { return t.Sum(x[0], false) }, in1(0, 0, 3, 4), true},
	{"Sum/axis1", func(t *T, x []*A) *A { return t.Sum(x[0], false, 1) }, in1(0, 0, 2, 3, 4), true},
	{"Sum/axes02-keep", func(t *T, x []*A) *A { return t.Sum(x[0], true, 0, -1) }, in1(0, 0, 2, 3, 4), true},
	{"Mean/axis0", func(t *T, x []*A) *A { return t.Mean(x[0], false, 0) }, in1(0, 0, 5, 3), true},
	{"SumTo", func(t *T, x []*A) *A { return t.SumTo(x[0], 3, 1) }, in1(0, 0, 2, 3, 4), true},
	{"BroadcastTo", func(t *T, x []*A) *A { return t.BroadcastTo(x[0], 2, 3, 4) }, in1(0, 0, 3, 1), true},
	{"Reshape", func(t *T, x []*A) *A { return t.Square(t.Reshape(x[0], 4, -1)) }, in1(0, 0, 2, 3, 2), true},
	{"Slice", func(t *T, x []*A) *A { return t.Square(t.Slice(x[0], 1, 1, 3)) }, in1(0, 0, 2, 4, 3), true},
	{"Concat", func(t *T, x []*A) *A { return t.Square(t.Concat(1, x[0], x[1], x[0])) }, in2([]int{2, 3}, []int{2, 1}), true},
	// A whole discriminator and the seed's loss (eq. 1), the path R1 needs.
	{"MLP-D/loss", func(t *T, x []*A) *A {
		h := t.LeakyReLU(t.Linear(x[0], x[1], x[2]), 0.2)
		d := t.Linear(h, x[3], nil)
		return t.Mean(t.Softplus(t.Neg(d)), false)
	}, mlpInputs, true},
	// The fused layer, and the gradients through a product to a ReLU's
	// output, which come masked from the product (matMulMask) so that
	// the ReLU's rule skips its mask: after LinearReLU, after ReLU, and
	// with a second consumer of the ReLU's output, whose gradient is
	// not masked.
	{"LinearReLU", func(t *T, x []*A) *A { return t.LinearReLU(x[0], x[1], x[2]) }, linearReLUInputs, true},
	{"LinearReLU/no-bias", func(t *T, x []*A) *A { return t.LinearReLU(x[0], x[1], nil) }, func(r *tensor.RNG) []*tensor.Tensor {
		return awayFromKink(r, false)[:2]
	}, true},
	{"MLP-D/LinearReLU", func(t *T, x []*A) *A {
		d := t.Linear(t.LinearReLU(x[0], x[1], x[2]), x[3], nil)
		return t.Mean(t.Softplus(t.Neg(d)), false)
	}, mlpInputs, true},
	{"MLP-D/ReLU", func(t *T, x []*A) *A {
		d := t.Linear(t.ReLU(t.Linear(x[0], x[1], x[2])), x[3], nil)
		return t.Mean(t.Softplus(t.Neg(d)), false)
	}, mlpInputs, true},
	{"MLP-D/LinearReLU-two-consumers", func(t *T, x []*A) *A {
		h := t.LinearReLU(x[0], x[1], x[2])
		d := t.Linear(h, x[3], nil)
		return t.Add(t.Mean(t.Softplus(t.Neg(d)), false), t.Mean(t.Square(h), false))
	}, mlpInputs, true},
	{"MLP-G/tanh-sigmoid", func(t *T, x []*A) *A {
		h := t.Tanh(t.Linear(x[0], x[1], nil))
		return t.Sigmoid(t.MatMul(h, x[2], false, false))
	}, func(r *tensor.RNG) []*tensor.Tensor {
		return []*tensor.Tensor{randT(r, 0, 0, 4, 3), randT(r, 0, 0, 5, 3), randT(r, 0, 0, 5, 2)}
	}, true},
}

// mlpInputs draws x, W1, b1, W2 for the MLP discriminator case, redrawing
// until every hidden pre-activation is at least 0.2 away from LeakyReLU's
// kink: finite differences (step 0.01) are only valid where the function
// is smooth, and a kink between x-h and x+h would make the numerical
// derivative, not the analytic one, wrong.
func mlpInputs(r *tensor.RNG) []*tensor.Tensor { return awayFromKink(r, true) }

// awayFromKink is mlpInputs, with b zero when not bias.
func awayFromKink(r *tensor.RNG, bias bool) []*tensor.Tensor {
	for {
		in := []*tensor.Tensor{randT(r, 0, 0, 6, 2), randT(r, 0, 0, 5, 2), randT(r, 0, 0, 5), randT(r, 0, 0, 1, 5)}
		x, w, b := in[0].Data, in[1].Data, in[2].Data
		if !bias {
			clear(b)
		}
		ok := true
		for i := 0; i < 6 && ok; i++ {
			for j := 0; j < 5; j++ {
				pre := x[2*i]*w[2*j] + x[2*i+1]*w[2*j+1] + b[j]
				if pre > -0.2 && pre < 0.2 {
					ok = false
					break
				}
			}
		}
		if ok {
			return in
		}
	}
}

// linearReLUInputs draws x, W, b for LinearReLU, away from the kink as
// mlpInputs.
func linearReLUInputs(r *tensor.RNG) []*tensor.Tensor { return mlpInputs(r)[:3] }

func TestGradFirstOrder(t *testing.T) {
	for i, c := range opCases {
		t.Run(c.name, func(t *testing.T) {
			rng := tensor.NewRNG(uint64(100 + i))
			if err := gradcheck.Check(c.f, c.inputs(rng), gradcheck.Options{Seed: uint64(i)}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestGradSecondOrder(t *testing.T) {
	for i, c := range opCases {
		if !c.second {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			rng := tensor.NewRNG(uint64(200 + i))
			if err := gradcheck.CheckSecond(c.f, c.inputs(rng), gradcheck.Options{Seed: uint64(i)}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A wrong backward rule must be caught: the harness is not a rubber stamp.
func TestGradcheckCatchesWrongGradient(t *testing.T) {
	rng := tensor.NewRNG(1)
	x := randT(rng, 0, 0, 3, 4)
	// d/dx of x*x with the product's second factor detached: half the true gradient.
	wrong := func(t *T, in []*A) *A {
		det := t.Leaf(in[0].Value())
		return t.Mul(in[0], det)
	}
	if err := gradcheck.Check(wrong, []*tensor.Tensor{x}, gradcheck.Options{}); err == nil {
		t.Fatal("gradcheck accepted a gradient that is off by a factor of 2")
	}
}

func TestSoftplusStableAtExtremes(t *testing.T) {
	tp := autograd.NewTape()
	x, _ := tensor.FromData([]float32{1e4, -1e4, 0, 30, -30}, 5)
	y := tp.Softplus(tp.Leaf(x))
	want := []float64{1e4, 0, math.Log(2), 30, math.Exp(-30)}
	for i, v := range y.Data() {
		if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) || math.Abs(float64(v)-want[i]) > 1e-6*math.Max(1, want[i]) {
			t.Errorf("softplus(%g) = %g, want %g", x.Data[i], v, want[i])
		}
	}
	l := tp.Sum(y, false)
	xs := []*A{tp.Leaf(x)}
	_ = xs
	gs, err := tp.Grad(l, []*A{y.Inputs()[0]}, false)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range gs[0].Data() {
		s := 1 / (1 + math.Exp(-float64(x.Data[i])))
		if math.IsNaN(float64(g)) || math.Abs(float64(g)-s) > 1e-6 {
			t.Errorf("softplus'(%g) = %g, want %g", x.Data[i], g, s)
		}
	}
}

func TestShapeErrorsNameOpAndShapes(t *testing.T) {
	cases := []struct {
		f    func(tp *T) *A
		want []string
	}{
		{func(tp *T) *A { return tp.Add(tp.Full(1, 3, 4), tp.Full(1, 5)) }, []string{"Add", "[3 4]", "[5]"}},
		{func(tp *T) *A { return tp.MatMul(tp.Full(1, 3, 4), tp.Full(1, 5, 2), false, false) }, []string{"MatMul", "[3 4]", "[5 2]"}},
		{func(tp *T) *A { return tp.Linear(tp.Full(1, 3, 4), tp.Full(1, 2, 5), nil) }, []string{"Linear", "[3 4]", "[2 5]"}},
		{func(tp *T) *A { return tp.Reshape(tp.Full(1, 3, 4), 5, -1) }, []string{"Reshape", "[3 4]"}},
		{func(tp *T) *A { return tp.Slice(tp.Full(1, 3, 4), 1, 2, 9) }, []string{"Slice", "[2:9]", "[3 4]"}},
		{func(tp *T) *A { return tp.Sum(tp.Full(1, 3, 4), false, 2) }, []string{"Sum", "axis 2", "[3 4]"}},
		{func(tp *T) *A { return tp.Concat(0, tp.Full(1, 3, 4), tp.Full(1, 3, 5)) }, []string{"Concat", "[3 5]", "[3 4]"}},
	}
	for _, c := range cases {
		tp := autograd.NewTape()
		out := c.f(tp)
		// Later ops on the placeholder must not panic, and the first error stays.
		tp.Sum(tp.Tanh(out), false)
		err := tp.Err()
		if err == nil {
			t.Fatalf("no error; want one mentioning %v", c.want)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
		if _, gerr := tp.Grad(out, nil, false); gerr == nil {
			t.Errorf("Grad after a failed op returned no error")
		}
	}
}

func TestStaleNodeAfterReset(t *testing.T) {
	tp := autograd.NewTape()
	x := tp.Full(1, 2)
	tp.Reset()
	tp.Exp(x)
	if err := tp.Err(); err == nil || !strings.Contains(err.Error(), "current step") {
		t.Fatalf("using a node after Reset: err = %v", err)
	}
}

// G's loss flows through D, but asking for G's parameters leaves D's alone.
func TestFrozenDiscriminator(t *testing.T) {
	rng := tensor.NewRNG(3)
	gw := autograd.NewParam("G.w", randT(rng, 0, 0, 2, 3))
	dw := autograd.NewParam("D.w", randT(rng, 0, 0, 1, 2))
	tp := autograd.NewTape()
	z := tp.Leaf(randT(rng, 0, 0, 4, 3))
	fake := tp.Linear(z, tp.Param(gw), nil)
	d := tp.Linear(tp.Tanh(fake), tp.Param(dw), nil)
	loss := tp.Mean(tp.Softplus(tp.Neg(d)), false)
	before := tp.Len()
	if err := tp.Backward(loss, []*autograd.Param{gw}); err != nil {
		t.Fatal(err)
	}
	for _, v := range dw.Grad.Data {
		if v != 0 {
			t.Fatalf("D's gradient was touched: %v", dw.Grad.Data)
		}
	}
	nonzero := false
	for _, v := range gw.Grad.Data {
		nonzero = nonzero || v != 0
	}
	if !nonzero {
		t.Fatal("G's gradient is zero")
	}
	// Backward through D computed dL/d(input) only: one MatMul per Linear on
	// the path, not two (no weight gradient for D).
	matmuls := 0
	for i := before; i < tp.Len(); i++ {
		if tp.NodeOp(i) == "MatMul" {
			matmuls++
		}
	}
	if matmuls != 2 { // D: dx; G: dW
		t.Fatalf("backward ran %d matmuls, want 2 (D's weight gradient must be skipped)", matmuls)
	}
}

// Using a parameter twice in a step sums both contributions.
func TestParamUsedTwiceAccumulates(t *testing.T) {
	w := autograd.NewParam("w", tensor.New(1, 1))
	w.Value.Data[0] = 3
	tp := autograd.NewTape()
	a := tp.Linear(tp.Full(2, 1, 1), tp.Param(w), nil) // 2w
	b := tp.Linear(tp.Full(5, 1, 1), tp.Param(w), nil) // 5w
	if err := tp.Backward(tp.Sum(tp.Add(a, b), false), []*autograd.Param{w}); err != nil {
		t.Fatal(err)
	}
	if w.Grad.Data[0] != 7 {
		t.Fatalf("grad = %v, want 7", w.Grad.Data[0])
	}
}

// SetGradients sets what zeroing the gradients and Backward compute: the
// gradient of a parameter used on the tape (twice here), zero for one used
// where the loss does not reach and for one not used at all, whatever the
// gradients held before.
func TestSetGradientsIsZeroThenBackward(t *testing.T) {
	rng := tensor.NewRNG(4)
	w := autograd.NewParam("w", randT(rng, 0, 0, 2, 3))
	dead := autograd.NewParam("dead", randT(rng, 0, 0, 2, 3))
	unused := autograd.NewParam("unused", randT(rng, 0, 0, 2))
	ps := []*autograd.Param{dead, w, unused}
	x := randT(rng, 0, 0, 4, 3)
	grads := func(set bool) [][]float32 {
		for _, p := range ps {
			rng.Normal(p.Grad.Data, 0, 1) // stale values
		}
		tp := autograd.NewTape()
		xn := tp.Leaf(x)
		y := tp.Add(tp.Linear(xn, tp.Param(w), nil), tp.Tanh(tp.Linear(xn, tp.Param(w), nil)))
		tp.Linear(xn, tp.Param(dead), nil) // on the tape, off the loss's path
		loss := tp.Mean(tp.Softplus(y), false)
		var err error
		if set {
			err = tp.SetGradients(loss, ps)
		} else {
			autograd.ZeroGrads(ps)
			err = tp.Backward(loss, ps)
		}
		if err != nil {
			t.Fatal(err)
		}
		var out [][]float32
		for _, p := range ps {
			out = append(out, slices.Clone(p.Grad.Data))
		}
		return out
	}
	want, got := grads(false), grads(true)
	for i, p := range ps {
		for j := range want[i] {
			if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
				t.Fatalf("%s: gradient %v, want %v (zeroed, then Backward)", p.Name, got[i], want[i])
			}
		}
	}
	if slices.Max(want[1]) == 0 && slices.Min(want[1]) == 0 {
		t.Fatal("w's gradient is zero")
	}
}

// The gradient of the gradient norm, as in R1: d/dx |∇x f|² for f = Σ x³
// is 2·3x²·6x·... computed here against its closed form.
func TestGradientPenaltyClosedForm(t *testing.T) {
	x, _ := tensor.FromData([]float32{0.5, -1, 2}, 3)
	tp := autograd.NewTape()
	xn := tp.Leaf(x)
	f := tp.Sum(tp.Mul(tp.Square(xn), xn), false) // Σ x³
	gs, err := tp.Grad(f, []*A{xn}, true)         // 3x²
	if err != nil {
		t.Fatal(err)
	}
	pen := tp.Sum(tp.Square(gs[0]), false) // Σ 9x⁴
	g2, err := tp.Grad(pen, []*A{xn}, false)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range x.Data {
		want := 36 * v * v * v
		if math.Abs(float64(g2[0].Data()[i]-want)) > 1e-4*math.Abs(float64(want)) {
			t.Errorf("d/dx Σ(3x²)² at %g = %g, want %g", v, g2[0].Data()[i], want)
		}
	}
}

// Rewinding keeps the nodes before the mark (and their parameters' leaves)
// usable, reuses the memory after it, and refuses the stale nodes.
func TestRewindReusesMemoryAfterTheMark(t *testing.T) {
	tp := autograd.NewTape()
	w := autograd.NewParam("w", tensor.New(3))
	w.Value.Fill(2)
	x := tp.Leaf(tensor.New(3))
	x.Value().Fill(1)
	y := tp.Mul(tp.Param(w), x) // kept
	m := tp.Mark()
	dead := tp.Square(y)
	deadData := &dead.Data()[0]
	if err := tp.Rewind(m); err != nil {
		t.Fatal(err)
	}
	z := tp.Square(y)
	if &z.Data()[0] != deadData {
		t.Error("the node after the rewind did not reuse the memory of the one it replaced")
	}
	if err := tp.Backward(tp.Sum(z, false), []*autograd.Param{w}); err != nil {
		t.Fatal(err)
	}
	if w.Grad.Data[0] != 4 { // z = (w x)², dz/dw = 2 w x² = 4
		t.Fatalf("gradient through a node kept across the rewind: %v, want 4", w.Grad.Data[0])
	}
	tp2 := autograd.NewTape()
	a := tp2.Leaf(tensor.New(2))
	mk := tp2.Mark()
	b := tp2.Square(a)
	tp2.Rewind(mk)
	tp2.Add(b, a)
	if err := tp2.Err(); err == nil {
		t.Error("a node recorded after the mark was accepted after the rewind")
	}
}

// The gradient with respect to a ReLU's output that is itself a target is
// the product's, not masked: Linear's rule masks the gradient of a ReLU's
// output only when the ReLU's rule is what reads it.
func TestGradOfReLUOutputIsNotMasked(t *testing.T) {
	rng := tensor.NewRNG(5)
	x, w, b, w2 := randT(rng, 0, 0, 6, 2), randT(rng, 0, 0, 5, 2), randT(rng, 0, 0, 5), randT(rng, 0.1, 0, 1, 5)
	for _, fused := range []bool{true, false} {
		tp := autograd.NewTape()
		xs, ws, bs, w2s := tp.Leaf(x), tp.Leaf(w), tp.Leaf(b), tp.Leaf(w2)
		var h *A
		if fused {
			h = tp.LinearReLU(xs, ws, bs)
		} else {
			h = tp.ReLU(tp.Linear(xs, ws, bs))
		}
		zeros := 0
		for _, v := range h.Data() {
			if v == 0 {
				zeros++
			}
		}
		if zeros == 0 {
			t.Fatal("the test needs a hidden unit at zero")
		}
		loss := tp.Sum(tp.Linear(h, w2s, nil), false)
		gs, err := tp.Grad(loss, []*A{h, xs}, false)
		if err != nil {
			t.Fatal(err)
		}
		// d loss / dh[i][j] = w2[0][j] for every row i.
		for i, v := range gs[0].Data() {
			if want := w2.Data[i%5]; v != want {
				t.Fatalf("fused %v: dloss/dh element %d = %v, want %v (h = %v)", fused, i, v, want, h.Data()[i])
			}
		}
		// dloss/dx goes through the mask: dx[i] = Σ_j [h[i][j] > 0] w2[j] w[j].
		for i := range 6 {
			for q := range 2 {
				var want float64
				for j := range 5 {
					if h.Data()[i*5+j] > 0 {
						want += float64(w2.Data[j]) * float64(w.Data[j*2+q])
					}
				}
				if got := gs[1].Data()[i*2+q]; math.Abs(float64(got)-want) > 1e-6 {
					t.Fatalf("fused %v: dloss/dx[%d][%d] = %v, want %v", fused, i, q, got, want)
				}
			}
		}
	}
}
