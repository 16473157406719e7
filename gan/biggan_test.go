package gan

import (
	"math"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/autograd/gradcheck"
	"github.com/minmaxgan/minmax/internal/gemm"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

// bigganGame is a small conditional BigGAN game with every technique on:
// the joint step, spectral norm, attention, hinge loss, orthogonal
// regularisation, LeCam, DiffAugment, an EMA with a start step.
func bigganGame(t testing.TB, seed uint64) *Game {
	t.Helper()
	spec, _ := arch.Lookup("biggan")
	data := arch.ImageData(28, 28, 1, []string{"0", "1", "2", "3"})
	o := &arch.BigGANOptions{Width: 8, Conditional: "true", SharedDim: 8, Hier: true, Attention: 14, SN: true, Ortho: true, DPlain: 1}
	rng := tensor.NewRNG(seed)
	g, d, err := spec.Build(o, 12, data, rng)
	if err != nil {
		t.Fatal(err)
	}
	aug, _ := ParseAugment("color,translation,cutout", 28, 28, 1)
	adam := Adam{LR: 2e-4, Beta1: 0, Beta2: 0.999}
	game, err := NewGame(Config{Loss: Losses["hinge"], Batch: 8, Latent: 12, DSteps: 2, G: adam, D: adam, Steps: 100,
		EMA: 0.999, EMAStart: 3, Classes: 4, Joint: true, OrthoReg: 1e-4, LeCam: 0.3, Augment: aug, R1Gamma: 0.1, R1Every: 2},
		g, d, noiseImages{dim: data.Dim, classes: 4}, rng)
	if err != nil {
		t.Fatal(err)
	}
	return game
}

// An unconditional BigGAN takes the joint step on labelled data too (the
// labels are ignored): it panicked copying labels it had no room for.
func TestBigGANStepUnconditional(t *testing.T) {
	spec, _ := arch.Lookup("biggan")
	data := arch.ImageData(28, 28, 1, []string{"0", "1", "2", "3"})
	o := &arch.BigGANOptions{Width: 8, Conditional: "false", Hier: true, Attention: 14, SN: true, Ortho: true, DPlain: 1}
	rng := tensor.NewRNG(1)
	g, d, err := spec.Build(o, 12, data, rng)
	if err != nil {
		t.Fatal(err)
	}
	adam := Adam{LR: 2e-4, Beta1: 0, Beta2: 0.999}
	game, err := NewGame(Config{Loss: Losses["hinge"], Batch: 8, Latent: 12, DSteps: 2, G: adam, D: adam, Steps: 100, Joint: true},
		g, d, noiseImages{dim: data.Dim, classes: 4}, rng)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		st, err := game.Step()
		if err != nil {
			t.Fatal(err)
		}
		if math.IsNaN(st.LossD) || math.IsNaN(st.LossG) {
			t.Fatalf("losses %v %v", st.LossD, st.LossG)
		}
	}
}

// The BigGAN step allocates nothing in its steady state either, and is
// deterministic.
func TestBigGANStep(t *testing.T) {
	g := bigganGame(t, 1)
	for i := 0; i < 4; i++ {
		if _, err := g.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if allocs := testing.AllocsPerRun(5, func() {
		if _, err := g.Step(); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 && !raceEnabled {
		t.Errorf("a steady-state BigGAN step made %v heap allocations, want 0", allocs)
	}
	h := bigganGame(t, 1)
	for i := 0; i < 10; i++ {
		h.Step()
	}
	a, b := weights(g.G()), weights(h.G())
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("weight %d differs between identical games", i)
		}
	}
	// The EMA copied G up to step 3, then averaged.
	st, _ := g.State()
	if st.Meta["lecam.real"] == "" {
		t.Error("LeCam's averages are not in the state")
	}
}

// Until its start step the EMA follows G's weights; then it averages.
func TestEMAStart(t *testing.T) {
	g := toyGame(t, 1, 16)
	g.cfg.EMAStart = 2
	for i := 0; i < 2; i++ {
		if _, err := g.Step(); err != nil {
			t.Fatal(err)
		}
	}
	live := g.G().(*nn.MLP).Layers[0].W.Value.Data
	shadow := g.ema.Shadow()["G.fc1.weight"].Data
	for i := range live {
		if live[i] != shadow[i] {
			t.Fatalf("before its start the EMA differs from G at %d", i)
		}
	}
	g.Step()
	same := true
	for i := range live {
		same = same && live[i] == shadow[i]
	}
	if same {
		t.Fatal("after its start the EMA still equals G")
	}
}

// DiffAugment is differentiable in the images, and its transformations do
// what they say.
func TestAugment(t *testing.T) {
	a, err := ParseAugment("color,translation,cutout", 8, 8, 3)
	if err != nil || a.String() != "color,translation,cutout" {
		t.Fatalf("%v %v", a, err)
	}
	if _, err := ParseAugment("rotate", 8, 8, 3); err == nil || !strings.Contains(err.Error(), "rotate") {
		t.Errorf("unknown transformation: %v", err)
	}
	if a, _ := ParseAugment("none", 8, 8, 3); a != nil {
		t.Error("none is not nil")
	}
	x := tensor.New(2, 8*8*3)
	tensor.NewRNG(1).Normal(x.Data, 0, 0.5)
	f := func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
		return tp.Tanh(a.Apply(tp, tensor.NewRNG(7), in[0])) // the same draws at every evaluation
	}
	if err := gradcheck.Check(f, []*tensor.Tensor{x}, gradcheck.Options{MaxElems: 48}); err != nil {
		t.Fatal(err)
	}
	if err := gradcheck.CheckSecond(f, []*tensor.Tensor{x}, gradcheck.Options{MaxElems: 48}); err != nil {
		t.Fatal(err)
	}
	// Cutout zeroes a quarter of the image (a 4×4 square of 8×8) when no
	// translation moves it: count zeros on an image of ones.
	c, _ := ParseAugment("cutout", 8, 8, 1)
	ones := tensor.New(1, 64)
	ones.Fill(1)
	tp := autograd.NewTape()
	y := c.Apply(tp, tensor.NewRNG(3), tp.Leaf(ones))
	zeros := 0
	for _, v := range y.Data() {
		if v == 0 {
			zeros++
		}
	}
	if zeros == 0 || zeros > 16 {
		t.Errorf("cutout zeroed %d of 64 pixels, want 1 to 16 (a 4×4 square, clipped at the border)", zeros)
	}
	// Translation moves by at most an eighth (1 pixel of 8) and fills zeros.
	tr, _ := ParseAugment("translation", 8, 8, 1)
	tp.Reset()
	y = tr.Apply(tp, tensor.NewRNG(4), tp.Leaf(ones))
	zeros = 0
	for _, v := range y.Data() {
		if v == 0 {
			zeros++
		}
	}
	if zeros > 15 {
		t.Errorf("translation left %d zeros, at most 15 (one row and one column)", zeros)
	}
}

// orthoPenaltyRef is the orthogonal penalty β/2 Σ ‖W Wᵀ ⊙ (1 − I)‖²
// recorded on a tape: the definition addOrthoGrad's gradient is checked
// against.
func orthoPenaltyRef(g *Game, tp *autograd.Tape) *autograd.Node {
	var sum *autograd.Node
	for _, o := range g.ortho {
		mask := tensor.New(o.rows, o.rows)
		mask.Fill(1)
		for i := range o.rows {
			mask.Data[i*o.rows+i] = 0
		}
		w := tp.Reshape(tp.Param(o.w), o.rows, o.cols)
		term := tp.Sum(tp.Square(tp.Mul(tp.MatMul(w, w, false, true), tp.Leaf(mask))), false)
		if sum == nil {
			sum = term
		} else {
			sum = tp.Add(sum, term)
		}
	}
	return tp.Scale(sum, float32(g.cfg.OrthoReg/2))
}

// The orthogonal penalty is β/2 Σ ‖W Wᵀ ⊙ (1 − I)‖² (the reference
// against loops), and addOrthoGrad adds its gradient (against the tape's
// gradient of the reference), in float32 and in bfloat16.
func TestOrthoGrad(t *testing.T) {
	g := toyGame(t, 2, 16)
	g.cfg.OrthoReg = 0.5
	g.ortho = orthoTerms(g.G())
	var want float64
	for _, o := range g.ortho {
		w := o.w.Value.Data
		for i := 0; i < o.rows; i++ {
			for j := 0; j < o.rows; j++ {
				if i == j {
					continue
				}
				var s float64
				for k := 0; k < o.cols; k++ {
					s += float64(w[i*o.cols+k]) * float64(w[j*o.cols+k])
				}
				want += s * s
			}
		}
	}
	want *= 0.25
	tp := autograd.NewTape()
	pen := orthoPenaltyRef(g, tp)
	if got := float64(pen.Item()); math.Abs(got-want)/want > 1e-4 {
		t.Fatalf("penalty %v, want %v", got, want)
	}
	var ps []*autograd.Param
	for _, o := range g.ortho {
		ps = append(ps, o.w)
	}
	autograd.ZeroGrads(ps)
	if err := tp.Backward(pen, ps); err != nil {
		t.Fatal(err)
	}
	ref := make([][]float32, len(ps))
	for i, p := range ps {
		ref[i] = append([]float32(nil), p.Grad.Data...)
	}
	for _, prec := range []gemm.Precision{gemm.Float32, gemm.BFloat16} {
		if prec == gemm.BFloat16 && gemm.SetPrecision(prec) != nil {
			continue // no AVX-512 BF16 here
		}
		autograd.ZeroGrads(ps)
		for i := range ps {
			ps[i].Grad.Data[0] = 1 // added to, not overwritten
		}
		g.addOrthoGrad()
		gemm.SetPrecision(gemm.Float32)
		tol := 1e-4
		if prec == gemm.BFloat16 {
			tol = 2e-2 // operands rounded to 8 bits
		}
		for i, p := range ps {
			var scale float64
			for _, v := range ref[i] {
				scale = math.Max(scale, math.Abs(float64(v)))
			}
			for k, v := range p.Grad.Data {
				r := float64(ref[i][k])
				if k == 0 {
					r++
				}
				if math.Abs(float64(v)-r) > tol*scale {
					t.Fatalf("%v: weight %d, entry %d: gradient %v, want %v", prec, i, k, v, r)
				}
			}
		}
	}
}

// The gradient through one batch's colour transformation is that batch's,
// even after the same Augment has transformed another batch of the same
// size (D sees the real batch, then the generated one, before R1 takes
// the gradient through the real one): the factors it multiplied by stay
// on the tape instead of in a buffer the next call draws into.
func TestAugmentGradientKeepsItsOwnFactors(t *testing.T) {
	a, _ := ParseAugment("color", 4, 4, 2)
	x := tensor.New(3, 4*4*2)
	tensor.NewRNG(2).Normal(x.Data, 0, 0.5)
	grad := func(another bool) []float32 {
		tp := autograd.NewTape()
		rng := tensor.NewRNG(5)
		in := tp.Leaf(x)
		y := a.Apply(tp, rng, in)
		if another {
			a.Apply(tp, rng, tp.Leaf(x.Clone()))
		}
		g, err := tp.GradOf(tp.Sum(tp.Square(y), false), in, false)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), g.Data()...)
	}
	alone, after := grad(false), grad(true)
	for i := range alone {
		if alone[i] != after[i] {
			t.Fatalf("element %d: gradient %g alone, %g after another batch was transformed", i, alone[i], after[i])
		}
	}
}

// jointDGame is a small conditional BigGAN without spectral norm (whose
// power iterations count D's passes) taking the DCGAN step.
func jointDGame(t *testing.T, jointD bool) *Game {
	t.Helper()
	spec, _ := arch.Lookup("biggan")
	data := arch.ImageData(28, 28, 1, []string{"0", "1", "2", "3"})
	o := &arch.BigGANOptions{Width: 8, Conditional: "true", SharedDim: 8, Hier: true, Attention: 14, Ortho: true, DPlain: 1}
	rng := tensor.NewRNG(3)
	g, d, err := spec.Build(o, 12, data, rng)
	if err != nil {
		t.Fatal(err)
	}
	adam := Adam{LR: 2e-4, Beta1: 0, Beta2: 0.999}
	game, err := NewGame(Config{Loss: Losses["hinge"], Batch: 8, Latent: 12, DSteps: 1, G: adam, D: adam, Steps: 100,
		Classes: 4, JointD: jointD, R1Gamma: 0.1},
		g, d, noiseImages{dim: data.Dim, classes: 4}, rng)
	if err != nil {
		t.Fatal(err)
	}
	return game
}

// D judging both batches in one pass (JointD) is the same step as two
// passes, up to the order of the sums of D's gradients. (The weights are
// not compared: Adam with β1 = 0 moves a weight by ±lr whatever the size
// of its gradient, so a gradient near 0 whose sign the order flips moves
// it by 2·lr.)
func TestJointDMatchesSeparatePasses(t *testing.T) {
	a, b := jointDGame(t, true), jointDGame(t, false)
	for step := range 3 {
		sa, err := a.Step()
		if err != nil {
			t.Fatal(err)
		}
		sb, err := b.Step()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range [][3]any{{"D loss", sa.LossD, sb.LossD}, {"G loss", sa.LossG, sb.LossG},
			{"D(real)", sa.DReal, sb.DReal}, {"D(fake)", sa.DFake, sb.DFake}, {"R1", sa.Penalty, sb.Penalty},
			{"D's gradient norm", sa.GradD, sb.GradD}, {"G's gradient norm", sa.GradG, sb.GradG}} {
			x, y := f[1].(float64), f[2].(float64)
			if math.Abs(x-y) > 1e-4*math.Max(1, math.Abs(y)) {
				t.Errorf("step %d: %s %v in one pass, %v in two", step+1, f[0], x, y)
			}
		}
	}
}

// JointD is refused for a D with batch norm, which would mix the two
// batches' statistics.
func TestJointDRefusesBatchNorm(t *testing.T) {
	spec, _ := arch.Lookup("dcgan")
	data := arch.ImageData(28, 28, 1, nil)
	rng := tensor.NewRNG(1)
	g, d, err := spec.Build(&arch.DCGANOptions{Width: 8}, 12, data, rng)
	if err != nil {
		t.Fatal(err)
	}
	adam := Adam{LR: 2e-4, Beta1: 0.5, Beta2: 0.999}
	_, err = NewGame(Config{Loss: Losses["hinge"], Batch: 8, Latent: 12, DSteps: 1, G: adam, D: adam, Steps: 10, JointD: true},
		g, d, noiseImages{dim: data.Dim}, rng)
	if err == nil || !strings.Contains(err.Error(), "batch norm") {
		t.Fatalf("JointD with a batch-normalised D: err %v, want a refusal naming its batch norm", err)
	}
}
