package nn_test

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/autograd/gradcheck"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
	"gonum.org/v1/gonum/mat"
)

// largestSV is the largest singular value of w (rows × the rest), by SVD.
func largestSV(w *tensor.Tensor) float64 {
	rows := w.Dim(0)
	cols := w.Len() / rows
	d := make([]float64, len(w.Data))
	for i, v := range w.Data {
		d[i] = float64(v)
	}
	var svd mat.SVD
	svd.Factorize(mat.NewDense(rows, cols, d), mat.SVDNone)
	return svd.Values(nil)[0]
}

// Spectral norm's σ agrees with an SVD of the weight within 1% after 30
// training steps (one power iteration each), for a linear layer, a
// convolution and an embedding, so the weight the layer uses has largest
// singular value 1 within 1%. A second pass in a step does not iterate
// again; evaluation mode does not iterate.
func TestSpectralNormMatchesSVD(t *testing.T) {
	rng := tensor.NewRNG(1)
	layers := []nn.Module{nn.NewLinear(40, 24, true, rng), nn.NewConv2D(8, 16, 3, 1, 1, true, rng), nn.NewEmbedding(10, 32, rng)}
	for _, l := range layers {
		sn, err := nn.AddSpectralNorm(l, "weight", rng)
		if err != nil {
			t.Fatal(err)
		}
		w := nn.State(l)[0].Tensor
		want := largestSV(w)
		tp := autograd.NewTape()
		x := forwardInput(l, rng)
		for step := 1; step <= 30; step++ {
			tp.Reset()
			l.Forward(&nn.Ctx{Tape: tp, Training: true, Step: step, Labels: []int{1, 3}}, x(tp))
			u := sn.U.Data[0]
			l.Forward(&nn.Ctx{Tape: tp, Training: true, Step: step, Labels: []int{1, 3}}, x(tp)) // a second pass in the step
			if sn.U.Data[0] != u {
				t.Fatalf("%T: a second pass in step %d iterated again", l, step)
			}
		}
		if err := tp.Err(); err != nil {
			t.Fatal(err)
		}
		if got := sn.Sigma(); math.Abs(got-want)/want > 0.01 {
			t.Errorf("%T: σ estimate %v after 30 steps, SVD %v", l, got, want)
		}
		u := append([]float32(nil), sn.U.Data...)
		tp.Reset()
		l.Forward(&nn.Ctx{Tape: tp, Labels: []int{0}}, x(tp))
		if sn.U.Data[0] != u[0] {
			t.Errorf("%T: evaluation mode moved u", l)
		}
		if names := nn.StateMap(l, ""); names["weight_u"] != sn.U || names["weight_v"] != sn.V {
			t.Errorf("%T: u and v are not the layer's buffers", l)
		}
		if got := nn.Sigmas(l); len(got) != 1 || got[0].Name != "weight" || math.Abs(got[0].Value-want)/want > 0.01 {
			t.Errorf("%T: Sigmas %v, SVD %v", l, got, want)
		}
		if !reflect.DeepEqual(sn.U.Data, u) {
			t.Errorf("%T: Sigmas moved u", l)
		}
	}
}

func forwardInput(l nn.Module, rng *tensor.RNG) func(*autograd.Tape) *autograd.Node {
	var x *tensor.Tensor
	switch l := l.(type) {
	case *nn.Linear:
		x = tensor.New(2, l.In)
	case *nn.Conv2D:
		x = tensor.New(2, 4, 4, l.In)
	default:
		x = tensor.New(2, 1)
	}
	rng.Normal(x.Data, 0, 1)
	return func(tp *autograd.Tape) *autograd.Node { return tp.Leaf(x) }
}

// W/σ(W) differentiates to second order in W and in the input: what R1
// needs through a spectrally normalised D.
func TestSpectralNormGradients(t *testing.T) {
	rng := tensor.NewRNG(2)
	w := tensor.New(4, 6)
	rng.Normal(w.Data, 0, 1)
	sn, _ := nn.NewSpectralNorm(w.Shape(), rng)
	for i := 0; i < 10; i++ { // converge u, v; evaluation passes then keep them
		tensor.PowerIteration(sn.U.Data, sn.V.Data, w.Data, 4, 6, sn.Eps)
	}
	x := tensor.New(3, 6)
	rng.Normal(x.Data, 0, 1)
	f := func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
		ws := sn.Apply(&nn.Ctx{Tape: tp}, in[0])
		return tp.Tanh(tp.Linear(in[1], ws, nil))
	}
	if err := gradcheck.Check(f, []*tensor.Tensor{w, x}, gradcheck.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := gradcheck.CheckSecond(f, []*tensor.Tensor{w, x}, gradcheck.Options{}); err != nil {
		t.Fatal(err)
	}
}

// Conditional batch norm: first and second order in x and in the
// conditioning vector; the gains start at 1 + gain(y).
func TestConditionalBatchNorm(t *testing.T) {
	rng := tensor.NewRNG(3)
	b := nn.NewConditionalBatchNorm(3, 5, rng)
	x := tensor.New(4, 2, 2, 3)
	y := tensor.New(4, 5)
	rng.Normal(x.Data, 0, 1)
	rng.Normal(y.Data, 0, 1)
	f := func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
		return tp.Tanh(b.Forward(&nn.Ctx{Tape: tp, Training: true, Cond: in[1]}, in[0]))
	}
	if err := gradcheck.Check(f, []*tensor.Tensor{x, y}, gradcheck.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := gradcheck.CheckSecond(f, []*tensor.Tensor{x, y}, gradcheck.Options{}); err != nil {
		t.Fatal(err)
	}
	// ForwardReLU is ReLU(Forward) to the bit, in training (one fused op)
	// and in evaluation (the composition).
	for _, training := range []bool{true, false} {
		tp := autograd.NewTape()
		ctx := &nn.Ctx{Tape: tp, Training: training, Cond: tp.Leaf(y)}
		fused, plain := b.ForwardReLU(ctx, tp.Leaf(x)), tp.ReLU(b.Forward(ctx, tp.Leaf(x)))
		for i, v := range plain.Data() {
			if math.Float32bits(fused.Data()[i]) != math.Float32bits(v) {
				t.Fatalf("training %v: ForwardReLU[%d] = %v, ReLU(Forward) %v", training, i, fused.Data()[i], v)
			}
		}
	}
	if len(nn.Params(b)) != 2 { // gain and bias weights; the batch norm has no affine part
		t.Errorf("parameters %v", nn.Params(b))
	}
	tp := autograd.NewTape()
	b.Forward(&nn.Ctx{Tape: tp, Training: true}, tp.Leaf(x))
	if tp.Err() == nil {
		t.Error("no conditioning vector was not an error")
	}
	// Conditioning vectors for another batch size are refused (the fused
	// op alone would spread 2 vectors over 4 images).
	tp = autograd.NewTape()
	b.Forward(&nn.Ctx{Tape: tp, Training: true, Cond: tp.Leaf(tensor.New(2, 5))}, tp.Leaf(x))
	if err := tp.Err(); err == nil || !strings.Contains(err.Error(), "for a batch of 4") {
		t.Errorf("2 conditioning vectors for 4 images: error %v", err)
	}
}

// Self-attention: γ starts at 0 (the layer is the identity), and the
// layer differentiates to second order in x and in γ (max pooling's kinks
// aside).
func TestSelfAttention(t *testing.T) {
	rng := tensor.NewRNG(4)
	a := nn.NewSelfAttention(8, rng)
	x := tensor.New(2, 4, 4, 8)
	rng.Normal(x.Data, 0, 1)
	tp := autograd.NewTape()
	y := a.Forward(&nn.Ctx{Tape: tp, Training: true}, tp.Leaf(x))
	for i, v := range y.Data() {
		if v != x.Data[i] {
			t.Fatal("with γ = 0 the attention is not the identity")
		}
	}
	a.Gamma.Value.Data[0] = 0.7
	f := func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
		return tp.Tanh(a.Forward(&nn.Ctx{Tape: tp, Training: true}, in[0]))
	}
	opt := gradcheck.Options{Eps: 1e-3, Kinks: true}
	if err := gradcheck.Check(f, []*tensor.Tensor{x}, opt); err != nil {
		t.Fatal(err)
	}
	if err := gradcheck.CheckSecond(f, []*tensor.Tensor{x}, opt); err != nil {
		t.Fatal(err)
	}
	tp.Reset()
	a.Forward(&nn.Ctx{Tape: tp}, tp.Leaf(tensor.New(1, 3, 3, 8)))
	if tp.Err() == nil {
		t.Error("an odd map size was accepted")
	}
}

// The layer computes SAGAN's definition, checked against float64 loops:
// θ = x·Wθᵀ, φ = maxpool₂(x·Wφᵀ), g = maxpool₂(x·Wgᵀ), β = softmax(θφᵀ)
// over the pooled positions, y = x + γ·(βg)·Woᵀ.
func TestSelfAttentionDefinition(t *testing.T) {
	rng := tensor.NewRNG(9)
	const n, h, w, c = 2, 4, 6, 16
	a := nn.NewSelfAttention(c, rng)
	a.Gamma.Value.Data[0] = -0.8
	x := tensor.New(n, h, w, c)
	rng.Normal(x.Data, 0, 1)
	tp := autograd.NewTape()
	y := a.Forward(&nn.Ctx{Tape: tp, Training: true}, tp.Leaf(x)).Data()
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}
	c8, c2, hw, p := c/8, c/2, h*w, (h/2)*(w/2)
	// proj(i, pos, W, out): channel o of the 1×1 convolution of image i.
	proj := func(i, hh, ww int, wt *autograd.Param, o int) float64 {
		var s float64
		for k := 0; k < c; k++ {
			s += float64(x.Data[((i*h+hh)*w+ww)*c+k]) * float64(wt.Value.Data[o*c+k])
		}
		return s
	}
	pooled := func(i, q int, wt *autograd.Param, o int) float64 {
		ph, pw := q/(w/2), q%(w/2)
		m := math.Inf(-1)
		for dh := 0; dh < 2; dh++ {
			for dw := 0; dw < 2; dw++ {
				m = math.Max(m, proj(i, 2*ph+dh, 2*pw+dw, wt, o))
			}
		}
		return m
	}
	for i := 0; i < n; i++ {
		for pos := 0; pos < hw; pos++ {
			hh, ww := pos/w, pos%w
			logits := make([]float64, p)
			mx := math.Inf(-1)
			for q := range logits {
				for o := 0; o < c8; o++ {
					logits[q] += proj(i, hh, ww, a.Theta.W, o) * pooled(i, q, a.Phi.W, o)
				}
				mx = math.Max(mx, logits[q])
			}
			var z float64
			for q := range logits {
				logits[q] = math.Exp(logits[q] - mx)
				z += logits[q]
			}
			att := make([]float64, c2)
			for q := range logits {
				for o := 0; o < c2; o++ {
					att[o] += logits[q] / z * pooled(i, q, a.G.W, o)
				}
			}
			for o := 0; o < c; o++ {
				var s float64
				for k := 0; k < c2; k++ {
					s += att[k] * float64(a.O.W.Value.Data[o*c2+k])
				}
				at := ((i*h+hh)*w+ww)*c + o
				want := float64(x.Data[at]) + float64(a.Gamma.Value.Data[0])*s
				if got := float64(y[at]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("image %d position (%d, %d) channel %d: %v, want %v", i, hh, ww, o, got, want)
				}
			}
		}
	}
}

// Orthogonal initialisation: the rows (or the columns, for a wide
// matrix) are orthonormal, times the gain.
func TestInitOrthogonal(t *testing.T) {
	rng := tensor.NewRNG(5)
	for _, shape := range [][]int{{6, 4}, {4, 6}, {8, 3, 3, 2}} {
		p := autograd.NewParam("w", tensor.New(shape...))
		nn.InitOrthogonal(p, 2, rng)
		rows := shape[0]
		cols := p.Value.Len() / rows
		w := p.Value.Data
		// W Wᵀ = 4 I for wide or square, WᵀW = 4 I for tall.
		n, inner := rows, cols
		at := func(i, k int) float64 { return float64(w[i*cols+k]) }
		if rows > cols {
			n, inner = cols, rows
			at = func(i, k int) float64 { return float64(w[k*cols+i]) }
		}
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for k := 0; k < inner; k++ {
					s += at(i, k) * at(j, k)
				}
				want := 0.0
				if i == j {
					want = 4
				}
				if math.Abs(s-want) > 1e-4 {
					t.Fatalf("%v: entry (%d, %d) of the Gram matrix is %v, want %v", shape, i, j, s, want)
				}
			}
		}
	}
}

// Before any training pass (u and v as drawn), the logged σ is still an
// estimate of the spectral norm: positive and at most the largest singular
// value (uᵀWv with the random vectors can be negative).
func TestSigmasBeforeTraining(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := tensor.NewRNG(seed)
		l := nn.NewLinear(40, 24, true, rng)
		if _, err := nn.AddSpectralNorm(l, "weight", rng); err != nil {
			t.Fatal(err)
		}
		want := largestSV(nn.State(l)[0].Tensor)
		got := nn.Sigmas(l)[0].Value
		if !(got > 0) || got > want*(1+1e-5) {
			t.Fatalf("seed %d: σ estimate %v before training, largest singular value %v", seed, got, want)
		}
	}
}

// BatchNorm's ForwardReLU and ForwardLeaky are the activation of Forward
// to the bit, in training (one fused op, tracking the same running
// statistics) and in evaluation (the composition).
func TestBatchNormForwardAct(t *testing.T) {
	rng := tensor.NewRNG(9)
	x := tensor.New(4, 3, 3, 6)
	rng.Normal(x.Data, 0.2, 1)
	for _, training := range []bool{true, false} {
		for _, leaky := range []bool{false, true} {
			a, b := nn.NewBatchNorm(6), nn.NewBatchNorm(6)
			tp := autograd.NewTape()
			ctx := &nn.Ctx{Tape: tp, Training: training}
			var fused, plain *autograd.Node
			if leaky {
				fused, plain = a.ForwardLeaky(ctx, tp.Leaf(x), 0.2), tp.LeakyReLU(b.Forward(ctx, tp.Leaf(x)), 0.2)
			} else {
				fused, plain = a.ForwardReLU(ctx, tp.Leaf(x)), tp.ReLU(b.Forward(ctx, tp.Leaf(x)))
			}
			for i, v := range plain.Data() {
				if math.Float32bits(fused.Data()[i]) != math.Float32bits(v) {
					t.Fatalf("training %v, leaky %v: [%d] = %v fused, %v composed", training, leaky, i, fused.Data()[i], v)
				}
			}
			for i, v := range b.RunningMean.Data {
				if a.RunningMean.Data[i] != v || a.RunningVar.Data[i] != b.RunningVar.Data[i] {
					t.Fatalf("training %v: running statistics differ", training)
				}
			}
		}
	}
}
