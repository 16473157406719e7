package arch_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

var cifarLike = arch.ImageData(32, 32, 3, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"})

// With the defaults at 32×32×3 and 10 classes, the BigGAN is
// ../shared/bench's G32 and D32: the same parameter counts (395,396 and
// 270,530, as PyTorch counts them for torch_gan_bench.py) and the same
// layers.
func TestBigGANIsTheBenchmarkNetwork(t *testing.T) {
	s, err := arch.Lookup("biggan")
	if err != nil {
		t.Fatal(err)
	}
	g, d, err := s.Build(s.Defaults(), 120, cifarLike, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	if got := nn.NumParams(g); got != 395396 {
		t.Errorf("G has %d parameters, the peer's G32 395,396", got)
	}
	if got := nn.NumParams(d); got != 270530 {
		t.Errorf("D has %d parameters, the peer's D32 270,530", got)
	}
	if !s.IsConditional(s.Defaults(), cifarLike) {
		t.Error("the default BigGAN is not conditional")
	}
	sn := 0
	for _, sg := range nn.Sigmas(g) {
		if strings.HasPrefix(sg.Name, "shared") {
			t.Error("G's shared embedding is spectrally normalised")
		}
		sn++
	}
	// fc, 3 blocks × (4 CBN linears + 3 convs), 4 attention convs, out.
	if sn != 1+3*7+4+1 {
		t.Errorf("%d spectrally normalised weights in G, want 27", sn)
	}
	labels := []int{0, 3, 9, 3}
	tp := autograd.NewTape()
	z := tensor.New(4, 120)
	tensor.NewRNG(2).Normal(z.Data, 0, 1)
	for _, training := range []bool{true, false} {
		c := &nn.Ctx{Tape: tp, Training: training, Step: 1, Labels: labels}
		x := g.Forward(c, tp.Leaf(z))
		y := d.Forward(c, x)
		if err := tp.Err(); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(x.Shape(), y.Shape()) != "[4 3072] [4 1]" || c.Cond != nil {
			t.Fatalf("G gives %v, D %v; Cond left %v", x.Shape(), y.Shape(), c.Cond)
		}
	}
	tp.Reset()
	g.Forward(&nn.Ctx{Tape: tp, Labels: labels[:2]}, tp.Leaf(z))
	if err := tp.Err(); err == nil || !strings.Contains(err.Error(), "labels") {
		t.Errorf("too few labels: %v", err)
	}
}

// Each technique can be switched off; the options are checked against the
// data.
func TestBigGANOptions(t *testing.T) {
	s, _ := arch.Lookup("biggan")
	mnist := arch.ImageData(28, 28, 1, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"})
	unlabelled := arch.ImageData(28, 28, 3, nil)
	for _, c := range []struct {
		o    arch.BigGANOptions
		d    arch.Data
		lat  int
		want string
	}{
		{arch.BigGANOptions{Width: 16, Conditional: "true", SharedDim: 8, Hier: true, Attention: 14, SN: true, Ortho: true, DPlain: 2}, mnist, 24, ""},
		{arch.BigGANOptions{Width: 16, Conditional: "false", DPlain: 1}, unlabelled, 10, ""},
		{arch.BigGANOptions{Width: 16, Conditional: "false", Hier: true, Attention: 14}, unlabelled, 12, ""},
		{arch.BigGANOptions{Width: 16, Conditional: "true", SharedDim: 8}, unlabelled, 12, "conditional: "},
		{arch.BigGANOptions{Width: 16, Conditional: "false", Attention: 7}, unlabelled, 12, "attention: 7 is not a resolution"},
		{arch.BigGANOptions{Width: 16, Conditional: "false", Hier: true}, unlabelled, 10, "latent: 10 does not split into 3"},
		{arch.BigGANOptions{Width: 4, Conditional: "false"}, unlabelled, 10, "width: must be at least 8"},
	} {
		g, d, err := s.Build(&c.o, c.lat, c.d, tensor.NewRNG(1))
		if c.want != "" {
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%+v: %v, want %q", c.o, err, c.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", c.o, err)
		}
		tp := autograd.NewTape()
		ctx := &nn.Ctx{Tape: tp, Training: true, Labels: []int{1, 2}}
		x := g.Forward(ctx, tp.Leaf(tensor.New(2, c.lat)))
		d.Forward(ctx, x)
		if err := tp.Err(); err != nil {
			t.Fatalf("%+v: %v", c.o, err)
		}
	}
}

// D's path differentiates to second order, as R1 on a BigGAN D needs: its
// blocks (pooling first in the shortcut) and its projection head, in x and
// in the weights; spectral norm, attention and the index ops are checked
// to second order in nn and autograd. (Finite differences of a whole D on
// 28×28 images cross ReLU kinks at most elements, so the whole D is not
// checked that way.)
func TestBigGANDGradients(t *testing.T) {
	rng := tensor.NewRNG(5)
	for _, c := range []struct {
		in, out      int
		down, preact bool
	}{{1, 3, true, false}, {3, 3, true, true}, {3, 3, false, true}} {
		b := arch.NewBigGANDown(c.in, c.out, c.down, c.preact, rng)
		layers := []nn.Module{b.Conv1, b.Conv2}
		if b.Shortcut != nil {
			layers = append(layers, b.Shortcut)
		}
		x := tensor.New(2, 4, 4, c.in)
		rng.Normal(x.Data, 0, 1)
		checkWithWeights(t, fmt.Sprintf("block %+v", c), x, layers, b.Forward)
	}
	labels := []int{2, 0}
	// The head: ReLU, sum pooling, the linear output and the projection,
	// with both weights perturbed like inputs (the spectral norm replaced).
	fc := nn.NewLinear(8, 1, true, rng)
	embed := nn.NewEmbedding(3, 8, rng)
	h := tensor.New(2, 2, 2, 8)
	rng.Normal(h.Data, 0, 1)
	checkWithWeights(t, "head", h, []nn.Module{fc, embed}, func(c *nn.Ctx, x *autograd.Node) *autograd.Node {
		tp := c.Tape
		s := tp.Sum(tp.ReLU(x), false, 1, 2)
		c.Labels = labels
		return tp.Add(fc.Forward(c, s), tp.Sum(tp.Mul(embed.Lookup(c, labels), s), true, 1))
	})
}

// G's shortcut is computed as conv1×1 → upsample, which gives the bits of
// upsample → conv1×1 (what BigGAN and the peer write), and the same input
// gradient up to rounding (the four pixels' gradients are summed before
// the product instead of after).
func TestBigGANShortcutCommutesWithUpsampling(t *testing.T) {
	rng := tensor.NewRNG(3)
	conv := nn.NewConv2D(16, 16, 1, 1, 0, true, rng)
	x := tensor.New(3, 5, 7, 16)
	rng.Normal(x.Data, 0, 1)
	dy := tensor.New(3, 10, 14, 16)
	rng.Normal(dy.Data, 0, 1)
	var out, dx [2][]float32
	for i := range 2 {
		tp := autograd.NewTape()
		c := &nn.Ctx{Tape: tp, Training: true, Step: 1}
		xn := tp.Leaf(x.Clone())
		var y *autograd.Node
		if i == 0 {
			y = conv.Forward(c, nn.Upsample2D(tp, xn, 2))
		} else {
			y = nn.Upsample2D(tp, conv.Forward(c, xn), 2)
		}
		loss := tp.Sum(tp.Mul(y, tp.Leaf(dy)), false)
		grads, err := tp.Grad(loss, []*autograd.Node{xn}, false)
		if err != nil || tp.Err() != nil {
			t.Fatal(err, tp.Err())
		}
		out[i], dx[i] = y.Value().Data, grads[0].Value().Data
	}
	for i := range out[0] {
		if out[0][i] != out[1][i] {
			t.Fatalf("output %d: %v upsampled first, %v convolved first", i, out[0][i], out[1][i])
		}
	}
	for i := range dx[0] {
		if d := float64(dx[0][i] - dx[1][i]); math.Abs(d) > 1e-5*(1+math.Abs(float64(dx[0][i]))) {
			t.Fatalf("gradient %d: %v upsampled first, %v convolved first", i, dx[0][i], dx[1][i])
		}
	}
}
