package arch_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

func TestRegistry(t *testing.T) {
	for _, name := range []string{"mlp", "dcgan"} {
		s, err := arch.Lookup(name)
		if err != nil || s.Name != name || s.Doc == "" || len(s.Options()) == 0 {
			t.Fatalf("%s: %+v, %v", name, s, err)
		}
		for _, o := range s.Options() {
			if o.Help == "" || o.Default == "" {
				t.Errorf("%s option %s has no help or default", name, o.Key)
			}
		}
	}
	if _, err := arch.Lookup("gpt"); err == nil || !strings.Contains(err.Error(), "dcgan") {
		t.Errorf("unknown architecture: %v", err)
	}
	if got := arch.ForKind(arch.Points); len(got) != 1 || got[0] != "mlp" {
		t.Errorf("architectures for points: %v", got)
	}
}

// Options are typed: decoded on top of the defaults, unknown keys refused,
// and back to JSON for file metadata.
func TestOptions(t *testing.T) {
	s, _ := arch.Lookup("mlp")
	o, err := s.DecodeOptions([]byte("g_hidden: [3, 4]\ng_batchnorm: true"))
	if err != nil {
		t.Fatal(err)
	}
	m := o.(*arch.MLPOptions)
	if len(m.GHidden) != 2 || m.GHidden[1] != 4 || !m.GBatchNorm || m.DHidden[0] != 128 {
		t.Fatalf("decoded %+v", m)
	}
	if _, err := s.DecodeOptions([]byte("width: 3")); err == nil || !strings.Contains(err.Error(), "g_hidden") {
		t.Errorf("unknown option: %v", err)
	}
	j, err := s.OptionsJSON(o)
	if err != nil {
		t.Fatal(err)
	}
	back, err := s.OptionsFromJSON(j)
	if err != nil || fmt.Sprint(back) != fmt.Sprint(o) {
		t.Fatalf("JSON round trip %s: %v, %v", j, back, err)
	}
	d, _ := arch.Lookup("dcgan")
	if _, _, err := d.Build(o, 8, arch.ImageData(28, 28, 1, nil), tensor.NewRNG(1)); err == nil {
		t.Error("mlp options given to dcgan were accepted")
	}
}

// Each architecture refuses data it cannot model, saying what it takes.
func TestCheck(t *testing.T) {
	mlp, _ := arch.Lookup("mlp")
	dc, _ := arch.Lookup("dcgan")
	cases := []struct {
		s    *arch.Spec
		opts any
		d    arch.Data
		want string
	}{
		{mlp, nil, arch.ImageData(28, 28, 1, nil), "the mlp architecture models points, not 28x28x1 images; for images use biggan, dcgan or resnet"},
		{dc, nil, arch.PointData(2), "models images, not 2-D points; for points use mlp"},
		{dc, nil, arch.ImageData(30, 30, 1, nil), "28, 32 or 64 pixels"},
		{dc, nil, arch.ImageData(28, 32, 1, nil), "square"},
		{dc, nil, arch.ImageData(28, 28, 2, nil), "1 or 3 channels"},
		{dc, &arch.DCGANOptions{Width: 0}, arch.ImageData(28, 28, 1, nil), "width: must be 1 to 512"},
		{mlp, &arch.MLPOptions{GActivation: "swish", DActivation: "relu"}, arch.PointData(2), "g_activation: unknown activation"},
		{mlp, &arch.MLPOptions{GHidden: []int{0}, GActivation: "relu", DActivation: "relu"}, arch.PointData(2), "g_hidden: layer widths"},
		// Sizes a file may claim are bounded before anything is allocated.
		{dc, &arch.DCGANOptions{Width: 100000}, arch.ImageData(28, 28, 1, nil), "width: must be 1 to 512"},
		{mlp, nil, arch.PointData(1 << 20), "points of dimension 1048576 (1 to 65536)"},
		{dc, nil, arch.ImageData(1<<13, 1<<13, 1, nil), "at most 4096x4096 pixels"},
		{dc, nil, arch.ImageData(28, 28, 1, make([]string, 1<<17)), "131072 classes; at most 65536"},
	}
	for _, c := range cases {
		opts := c.opts
		if opts == nil {
			opts = c.s.Defaults()
		}
		if err := c.s.Check(opts, c.d); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s on %v: %v, want %q", c.s.Name, c.d, err, c.want)
		}
	}
}

// The DCGAN at 28, 32 and 64 pixels maps codes to images of the data's
// shape and images to one logit; its names are those of minmax 0.1.
func TestDCGANShapesAndNames(t *testing.T) {
	s, _ := arch.Lookup("dcgan")
	for _, d := range []arch.Data{arch.ImageData(28, 28, 1, nil), arch.ImageData(32, 32, 3, nil), arch.ImageData(64, 64, 3, nil)} {
		g, dis, err := s.Build(&arch.DCGANOptions{Width: 8}, 10, d, tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		tp := autograd.NewTape()
		z := tensor.New(3, 10)
		c := &nn.Ctx{Tape: tp, Training: true}
		x := g.Forward(c, tp.Leaf(z))
		y := dis.Forward(c, x)
		if err := tp.Err(); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(x.Shape()) != fmt.Sprint([]int{3, d.Dim}) || fmt.Sprint(y.Shape()) != "[3 1]" {
			t.Errorf("%v: G gives %v, D %v", d, x.Shape(), y.Shape())
		}
	}
	g, _, _ := s.Build(s.Defaults(), 100, arch.ImageData(28, 28, 1, nil), tensor.NewRNG(1))
	var names []string
	for _, st := range nn.State(g) {
		names = append(names, st.Name)
	}
	want := "fc.weight bn0.weight bn0.bias up1.weight bn1.weight bn1.bias up2.weight up2.bias bn0.running_mean bn0.running_var bn1.running_mean bn1.running_var"
	if strings.Join(names, " ") != want {
		t.Errorf("G's state: %s", strings.Join(names, " "))
	}
}

// A DCGAN generator for 28×28 grey images (the dcgan28 benchmark's) maps
// latent codes to images, flattened and channel-last; the discriminator
// maps them to one logit each. The parameter counts are those of the
// PyTorch peer's G28 and D28.
func Example() {
	spec, _ := arch.Lookup("dcgan")
	data := arch.ImageData(28, 28, 1, nil)
	g, d, err := spec.Build(&arch.DCGANOptions{Width: 64}, 100, data, tensor.NewRNG(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	tp := autograd.NewTape()
	z := tensor.New(2, 100)
	tensor.NewRNG(2).Normal(z.Data, 0, 1)
	c := &nn.Ctx{Tape: tp, Training: true}
	x := g.Forward(c, tp.Leaf(z))
	logit := d.Forward(c, x)
	fmt.Println(x.Shape(), logit.Shape(), nn.NumParams(g), nn.NumParams(d), tp.Err())
	// Output: [2 784] [2 1] 759681 138689 <nil>
}

// A latent size or MLP beyond the bounds is refused before it is built.
func TestBuildBounds(t *testing.T) {
	mlp, _ := arch.Lookup("mlp")
	if _, err := mlp.BuildG(mlp.Defaults(), arch.MaxLatent+1, arch.PointData(2), tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), "latent size 65537: want 1 to 65536") {
		t.Errorf("latent beyond the bound: %v", err)
	}
	wide := &arch.MLPOptions{GHidden: []int{1 << 14, 1 << 14, 1 << 14}, DHidden: []int{4}, GActivation: "relu", DActivation: "relu"}
	if _, err := mlp.BuildG(wide, 8, arch.PointData(2), tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), "more than 268435456 weights") {
		t.Errorf("an MLP of 2^29 weights: %v", err)
	}
}
