package nn_test

import (
	"math"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/autograd/gradcheck"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

// block is a two-level module: a child list and a layer of its own.
type block struct {
	nn.Base
	Convs []*nn.Conv2D
	Norm  *nn.BatchNorm
}

func (b *block) Forward(c *nn.Ctx, x *autograd.Node) *autograd.Node {
	for _, conv := range b.Convs {
		x = conv.Forward(c, x)
	}
	return b.Norm.Forward(c, x)
}

type net struct {
	nn.Base
	Blocks []*block
	Head   *nn.Linear
}

func (n *net) Forward(c *nn.Ctx, x *autograd.Node) *autograd.Node {
	for _, b := range n.Blocks {
		x = b.Forward(c, x)
	}
	return n.Head.Forward(c, c.Tape.Reshape(x, x.Shape()[0], -1))
}

func newNet(rng *tensor.RNG) *net {
	n := &net{}
	for i := range 2 {
		b := &block{}
		b.Convs = append(b.Convs, nn.Add(&b.Base, "conv1", nn.NewConv2D(2, 2, 3, 1, 1, true, rng)))
		b.Convs = append(b.Convs, nn.Add(&b.Base, "conv2", nn.NewConv2D(2, 2, 3, 1, 1, false, rng)))
		b.Norm = nn.Add(&b.Base, "bn", nn.NewBatchNorm(2))
		n.Blocks = append(n.Blocks, nn.Add(&n.Base, "blocks."+string(rune('0'+i)), b))
	}
	n.Head = nn.Add(&n.Base, "head", nn.NewLinear(2*4*4, 1, true, rng))
	return n
}

// Parameters and buffers are found by walking the children and named by
// their path; Root names the parameters for the optimisers.
func TestStateNames(t *testing.T) {
	n := newNet(tensor.NewRNG(1))
	if err := nn.Root(n, "d"); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range nn.State(n) {
		names = append(names, s.Name)
	}
	want := "blocks.0.conv1.weight blocks.0.conv1.bias blocks.0.conv2.weight blocks.0.bn.weight blocks.0.bn.bias " +
		"blocks.1.conv1.weight blocks.1.conv1.bias blocks.1.conv2.weight blocks.1.bn.weight blocks.1.bn.bias head.weight head.bias " +
		"blocks.0.bn.running_mean blocks.0.bn.running_var blocks.1.bn.running_mean blocks.1.bn.running_var"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("state names:\n got %s\nwant %s", got, want)
	}
	if p := nn.ParamList(n)[5]; p.Name != "d.blocks.1.conv1.weight" {
		t.Errorf("rooted name %q", p.Name)
	}
	m := nn.StateMap(n, "D")
	if m["D.blocks.1.bn.running_var"] != n.Blocks[1].Norm.RunningVar {
		t.Error("StateMap does not alias the live buffers")
	}
	if got, want := nn.NumParams(n), 2*(2*2*9+2+2*2*9+2+2)+32+1; got != want {
		t.Errorf("NumParams = %d, want %d", got, want)
	}
	var paths []string
	nn.Walk(n, func(path string, _ nn.Module) { paths = append(paths, path) })
	if strings.Join(paths, ",") != ",blocks.0,blocks.0.conv1,blocks.0.conv2,blocks.0.bn,blocks.1,blocks.1.conv1,blocks.1.conv2,blocks.1.bn,head" {
		t.Errorf("Walk visited %q", paths)
	}
}

// The mode travels in the Ctx and reaches every child: batch norm uses
// batch statistics and updates its running ones in training mode only.
func TestModeReachesChildren(t *testing.T) {
	rng := tensor.NewRNG(2)
	n := newNet(rng)
	x := tensor.New(3, 4, 4, 2)
	rng.Normal(x.Data, 1, 2)
	tp := autograd.NewTape()
	rm := n.Blocks[1].Norm.RunningMean
	n.Forward(&nn.Ctx{Tape: tp}, tp.Leaf(x))
	if rm.Data[0] != 0 {
		t.Fatal("evaluation mode changed a running mean")
	}
	n.Forward(&nn.Ctx{Tape: tp, Training: true}, tp.Leaf(x))
	if rm.Data[0] == 0 || tp.Err() != nil {
		t.Fatalf("training mode did not update the running mean of a grandchild (%v)", tp.Err())
	}
}

func TestRegistrationErrors(t *testing.T) {
	b := &block{}
	nn.Add(&b.Base, "conv", nn.NewConv2D(1, 1, 1, 1, 0, false, tensor.NewRNG(1)))
	nn.Add(&b.Base, "conv", nn.NewConv2D(1, 1, 1, 1, 0, false, tensor.NewRNG(1)))
	b.NewBuffer("bad..name", 1)
	err := nn.Root(b, "m")
	if err == nil || !strings.Contains(err.Error(), `"conv" is registered twice`) {
		t.Fatalf("Root: %v", err)
	}
	l := nn.NewLinear(2, 2, false, tensor.NewRNG(1))
	if err := nn.Parametrize(l, "bias", &scaled{}); err == nil || !strings.Contains(err.Error(), "weight") {
		t.Errorf("a transform on a missing parameter: %v", err)
	}
}

// scaled is a test transform: the weight used is c·w, with c a buffer.
type scaled struct{ c *tensor.Tensor }

func (s *scaled) Apply(c *nn.Ctx, w *autograd.Node) *autograd.Node {
	return c.Tape.Mul(w, c.Tape.Leaf(s.c))
}
func (s *scaled) Buffers() []nn.Named { return []nn.Named{{Name: "c", Tensor: s.c}} }

// A transform changes how a layer's weight is computed without a change
// to the layer; its buffers become the layer's state; gradients reach the
// raw weight through it, to second order.
func TestParametrize(t *testing.T) {
	rng := tensor.NewRNG(3)
	l := nn.NewLinear(3, 2, true, rng)
	s := &scaled{c: tensor.New(1)}
	s.c.Fill(2.5)
	if err := nn.Parametrize(l, "weight", s); err != nil {
		t.Fatal(err)
	}
	if err := nn.Parametrize(l, "weight", s); err == nil {
		t.Error("a second transform on one parameter was accepted")
	}
	if nn.TransformOf(l, "weight") != s {
		t.Error("TransformOf does not find the transform")
	}
	m := nn.StateMap(l, "")
	if m["weight_c"] != s.c || len(m) != 3 {
		t.Fatalf("state %v", m)
	}
	x := tensor.New(4, 3)
	rng.Normal(x.Data, 0, 1)
	tp := autograd.NewTape()
	y := l.Forward(&nn.Ctx{Tape: tp}, tp.Leaf(x))
	w, b := l.W.Value.Data, l.B.Value.Data
	want := 2.5*(w[0]*x.Data[0]+w[1]*x.Data[1]+w[2]*x.Data[2]) + b[0]
	if math.Abs(float64(y.Data()[0]-want)) > 1e-5 {
		t.Fatalf("output %v, want %v", y.Data()[0], want)
	}
	f := func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
		return tp.Tanh(l.Forward(&nn.Ctx{Tape: tp}, in[0]))
	}
	if err := gradcheck.Check(f, []*tensor.Tensor{x}, gradcheck.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := gradcheck.CheckSecond(f, []*tensor.Tensor{x}, gradcheck.Options{}); err != nil {
		t.Fatal(err)
	}
	// The raw weight's gradient is c times the plain layer's.
	tp.Reset()
	loss := tp.Sum(l.Forward(&nn.Ctx{Tape: tp}, tp.Leaf(x)), false)
	autograd.ZeroGrads(nn.ParamList(l))
	if err := tp.Backward(loss, nn.ParamList(l)); err != nil {
		t.Fatal(err)
	}
	var sx float32
	for i := 0; i < 4; i++ {
		sx += x.Data[i*3]
	}
	if math.Abs(float64(l.W.Grad.Data[0]-2.5*sx)) > 1e-4 {
		t.Errorf("dL/dw[0] = %v, want %v", l.W.Grad.Data[0], 2.5*sx)
	}
}

func TestBatchNormGradcheckAndRunningStats(t *testing.T) {
	rng := tensor.NewRNG(5)
	bn := nn.NewBatchNorm(3)
	rng.Normal(bn.Gamma.Value.Data, 1, 0.3)
	rng.Normal(bn.Beta.Value.Data, 0, 0.3)
	x := tensor.New(6, 3)
	rng.Normal(x.Data, 2, 1.5)
	f := func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
		return tp.Tanh(bn.Forward(&nn.Ctx{Tape: tp, Training: true}, in[0]))
	}
	if err := gradcheck.Check(f, []*tensor.Tensor{x}, gradcheck.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := gradcheck.CheckSecond(f, []*tensor.Tensor{x}, gradcheck.Options{}); err != nil {
		t.Fatal(err)
	}
	// Training-mode output has zero mean and unit (biased) variance per
	// feature before γ, β; running stats move toward the batch's.
	b2 := nn.NewBatchNorm(3)
	tp := autograd.NewTape()
	y := b2.Forward(&nn.Ctx{Tape: tp, Training: true}, tp.Leaf(x))
	for j := 0; j < 3; j++ {
		var m, v, bm float64
		for i := 0; i < 6; i++ {
			m += float64(y.Data()[i*3+j]) / 6
			bm += float64(x.Data[i*3+j]) / 6
		}
		for i := 0; i < 6; i++ {
			d := float64(y.Data()[i*3+j]) - m
			v += d * d / 6
		}
		if math.Abs(m) > 1e-5 || math.Abs(v-1) > 1e-3 {
			t.Errorf("feature %d: mean %g, variance %g after normalisation", j, m, v)
		}
		if math.Abs(float64(b2.RunningMean.Data[j])-0.1*bm) > 1e-5 {
			t.Errorf("running mean %g, want %g", b2.RunningMean.Data[j], 0.1*bm)
		}
	}
	// A wrong feature count is an error, not a panic.
	tp.Reset()
	b2.Forward(&nn.Ctx{Tape: tp}, tp.Leaf(tensor.New(2, 4)))
	if err := tp.Err(); err == nil || !strings.Contains(err.Error(), "BatchNorm") {
		t.Errorf("BatchNorm of 3 features on 4: %v", err)
	}
}
