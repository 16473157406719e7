package arch_test

import (
	"fmt"
	"testing"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/autograd/gradcheck"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

// The ResNet GAN at 28, 32 and 64 pixels: G makes images of the data's
// shape, D one logit per image, in both modes.
func TestResNetShapes(t *testing.T) {
	s, err := arch.Lookup("resnet")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []arch.Data{arch.ImageData(28, 28, 1, nil), arch.ImageData(32, 32, 3, nil), arch.ImageData(64, 64, 3, nil)} {
		g, dis, err := s.Build(&arch.ResNetOptions{Width: 4}, 8, d, tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		for _, training := range []bool{true, false} {
			tp := autograd.NewTape()
			c := &nn.Ctx{Tape: tp, Training: training}
			x := g.Forward(c, tp.Leaf(tensor.New(3, 8)))
			y := dis.Forward(c, x)
			if err := tp.Err(); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(x.Shape()) != fmt.Sprint([]int{3, d.Dim}) || fmt.Sprint(y.Shape()) != "[3 1]" {
				t.Errorf("%v: G gives %v, D %v", d, x.Shape(), y.Shape())
			}
		}
	}
	if err := s.Check(s.Defaults(), arch.ImageData(30, 30, 1, nil)); err == nil {
		t.Error("30-pixel images were accepted")
	}
}

// inject is a test transform that makes a layer use a given node as its
// weight, so that gradcheck can perturb the weight like an input.
type inject struct{ w *autograd.Node }

func (i *inject) Apply(_ *nn.Ctx, _ *autograd.Node) *autograd.Node { return i.w }
func (i *inject) Buffers() []nn.Named                              { return nil }

// checkWithWeights runs first- and second-order gradchecks of f on x and
// on the weights of layers (perturbed like inputs through inject).
func checkWithWeights(t *testing.T, name string, x *tensor.Tensor, layers []nn.Module, f func(c *nn.Ctx, x *autograd.Node) *autograd.Node) {
	t.Helper()
	inputs := []*tensor.Tensor{x}
	var injs []*inject
	for _, l := range layers {
		inputs = append(inputs, nn.State(l)[0].Tensor.Clone()) // the weight
		inj := &inject{}
		if err := nn.Parametrize(l, "weight", inj); err != nil {
			t.Fatal(err)
		}
		injs = append(injs, inj)
	}
	fn := func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
		for i, inj := range injs {
			inj.w = in[i+1]
		}
		return f(&nn.Ctx{Tape: tp, Training: true}, in[0])
	}
	opt := gradcheck.Options{MaxElems: 24, Eps: 1e-3, ATol: 2e-3, RTol: 2e-2, Kinks: true}
	if err := gradcheck.Check(fn, inputs, opt); err != nil {
		t.Fatalf("%s, first order: %v", name, err)
	}
	if err := gradcheck.CheckSecond(fn, inputs, opt); err != nil {
		t.Fatalf("%s, second order: %v", name, err)
	}
}

// D's path differentiates to second order, as R1 on a ResNet D needs:
// the gradient of u·∂y/∂x with respect to x and to each block's weights,
// for every kind of block (D's first block without pre-activation; a
// pre-activation block; learnable and identity shortcuts; with and
// without average pooling) and for the head (sum pooling and the linear
// layer). The blocks are piecewise linear in x, so the mixed derivatives
// with respect to the weights carry the check; they are checked on small
// maps, where the finite differences rarely cross a ReLU's kink (those
// that do are skipped). The whole D is checked to first order; G's
// up-block to second.
func TestResNetGradients(t *testing.T) {
	rng := tensor.NewRNG(2)
	for _, c := range []struct {
		name         string
		in, out      int
		down, preact bool
	}{
		{"first block", 1, 3, true, false},
		{"pre-activation block", 3, 3, true, true},
		{"block with identity shortcut", 3, 3, false, true},
		{"block with learnable shortcut", 2, 3, false, true},
	} {
		b := arch.NewResDown(c.in, c.out, c.down, c.preact, rng)
		layers := []nn.Module{b.Conv1, b.Conv2}
		if b.Shortcut != nil {
			layers = append(layers, b.Shortcut)
		}
		x := tensor.New(2, 4, 4, c.in)
		rng.Normal(x.Data, 0, 1)
		checkWithWeights(t, c.name, x, layers, b.Forward)
	}
	s, _ := arch.Lookup("resnet")
	d := arch.ImageData(28, 28, 1, nil)
	_, dm, err := s.Build(&arch.ResNetOptions{Width: 3}, 4, d, tensor.NewRNG(2))
	if err != nil {
		t.Fatal(err)
	}
	dis := dm.(*arch.ResNetDiscriminator)
	// The head: ReLU, sum pooling and the linear layer, on a 3×3 map.
	x := tensor.New(2, 3, 3, 3)
	rng.Normal(x.Data, 0, 1)
	checkWithWeights(t, "head", x, []nn.Module{dis.FC}, func(c *nn.Ctx, h *autograd.Node) *autograd.Node {
		return dis.FC.Forward(c, c.Tape.Sum(c.Tape.ReLU(h), false, 1, 2))
	})
	// The whole D (fresh: the head's weight is now injected), first order.
	_, dm, _ = s.Build(&arch.ResNetOptions{Width: 3}, 4, d, tensor.NewRNG(3))
	dis = dm.(*arch.ResNetDiscriminator)
	x = tensor.New(2, d.Dim)
	rng.Normal(x.Data, 0, 0.5)
	fd := func(tp *autograd.Tape, in []*autograd.Node) *autograd.Node {
		return dis.Forward(&nn.Ctx{Tape: tp, Training: true}, in[0])
	}
	if err := gradcheck.Check(fd, []*tensor.Tensor{x}, gradcheck.Options{MaxElems: 24, Eps: 1e-3, Kinks: true}); err != nil {
		t.Fatalf("D: %v", err)
	}
	// G's up-block (batch norm in training mode, nearest upsampling, the
	// learnable shortcut), with its convolutions' weights.
	up := arch.NewResUp(3, 2, rng)
	x = tensor.New(3, 1, 1, 3)
	rng.Normal(x.Data, 0, 1)
	checkWithWeights(t, "up-block", x, []nn.Module{up.Conv1, up.Conv2, up.Shortcut}, up.Forward)
}
