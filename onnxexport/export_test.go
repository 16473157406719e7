package onnxexport_test

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/generator"
	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/internal/onnxrt"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/onnxexport"
	"github.com/minmaxgan/minmax/run"
	"github.com/minmaxgan/minmax/tensor"
)

var (
	digits  = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	mnist   = arch.ImageData(28, 28, 1, digits)
	cifar   = arch.ImageData(32, 32, 3, digits)
	plain28 = arch.ImageData(28, 28, 1, nil)
)

// model is one generator configuration to export.
type model struct {
	name   string
	arch   string
	opts   any
	latent int
	data   arch.Data
}

// models covers every architecture and the options that change G's
// graph: activations and batch norm (mlp), 28/32 pixels and 1/3 channels
// (dcgan, resnet), and BigGAN conditional or not, hierarchical or not,
// with or without spectral norm and attention.
var models = []model{
	{"mlp-relu", "mlp", &arch.MLPOptions{GHidden: []int{16, 8}, GActivation: "relu"}, 3, arch.PointData(2)},
	{"mlp-bn-leakyrelu", "mlp", &arch.MLPOptions{GHidden: []int{16, 8}, GActivation: "leakyrelu:0.1", GBatchNorm: true}, 4, arch.PointData(2)},
	{"mlp-tanh", "mlp", &arch.MLPOptions{GHidden: []int{8}, GActivation: "tanh"}, 2, arch.PointData(1)},
	{"mlp-sigmoid-bn", "mlp", &arch.MLPOptions{GHidden: []int{8, 8}, GActivation: "sigmoid", GBatchNorm: true}, 2, arch.PointData(2)},
	{"mlp-softplus", "mlp", &arch.MLPOptions{GHidden: []int{8}, GActivation: "softplus"}, 5, arch.PointData(3)},
	{"dcgan-28", "dcgan", &arch.DCGANOptions{Width: 4}, 8, mnist},
	{"dcgan-32-rgb", "dcgan", &arch.DCGANOptions{Width: 4}, 6, cifar},
	{"resnet-28", "resnet", &arch.ResNetOptions{Width: 8}, 8, plain28},
	{"resnet-32-rgb", "resnet", &arch.ResNetOptions{Width: 8}, 5, cifar},
	{"biggan-cond-hier", "biggan", &arch.BigGANOptions{Width: 8, Conditional: "true", SharedDim: 4, Hier: true, Attention: -1, SN: true, Ortho: true, DPlain: 1}, 12, mnist},
	{"biggan-cond-flat", "biggan", &arch.BigGANOptions{Width: 8, Conditional: "true", SharedDim: 5, Attention: 14, SN: true, DPlain: 1}, 7, mnist},
	{"biggan-uncond-hier", "biggan", &arch.BigGANOptions{Width: 8, Conditional: "false", Hier: true, Attention: -1, SN: true, Ortho: true, DPlain: 1}, 9, plain28},
	{"biggan-uncond-plain", "biggan", &arch.BigGANOptions{Width: 8, Conditional: "false", Attention: 0, DPlain: 1}, 6, mnist},
	{"biggan-32-cond", "biggan", &arch.BigGANOptions{Width: 8, Conditional: "true", SharedDim: 4, Hier: true, Attention: 8, SN: true, Ortho: true, DPlain: 1}, 16, cifar},
}

// build makes the generator of m with weights far from their
// initialisation: every parameter moved, a training pass (spectral norm's
// power iteration), running statistics and attention's γ set away from
// their initial values, then saved and loaded as a generator file.
func build(t *testing.T, m model) *generator.Generator {
	t.Helper()
	spec, err := arch.Lookup(m.arch)
	if err != nil {
		t.Fatal(err)
	}
	g, err := spec.BuildG(m.opts, m.latent, m.data, tensor.NewRNG(7))
	if err != nil {
		t.Fatal(err)
	}
	rng := tensor.NewRNG(8)
	for _, p := range nn.Params(g) {
		noise := make([]float32, p.Param.Value.Len())
		rng.Normal(noise, 0, 0.15)
		for i := range noise {
			p.Param.Value.Data[i] += noise[i]
		}
		if strings.HasSuffix(p.Name, "gamma") {
			p.Param.Value.Data[0] = 0.7
		}
	}
	cond := spec.IsConditional(m.opts, m.data)
	n := 6
	z := tensor.New(n, m.latent)
	rng.Normal(z.Data, 0, 1)
	tp := autograd.NewTape()
	c := &nn.Ctx{Tape: tp, Training: true, Step: 1}
	if cond {
		c.Labels = generator.CycleLabels(n, len(m.data.Classes))
	}
	g.Forward(c, tp.Leaf(z))
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}
	for _, b := range nn.Buffers(g) {
		switch {
		case strings.HasSuffix(b.Name, "running_mean"):
			rng.Normal(b.Tensor.Data, 0, 0.3)
		case strings.HasSuffix(b.Name, "running_var"):
			rng.Uniform(b.Tensor.Data, 0.5, 2)
		}
	}
	path := filepath.Join(t.TempDir(), "g.safetensors")
	rg := [2]float64{-1, 1}
	info := generator.Info{Arch: m.arch, Options: m.opts, Latent: m.latent, Data: m.data, Source: "test-" + m.name, Step: 42, Seed: 3}
	if m.data.Kind == arch.Images {
		info.Range = &rg
	}
	if err := generator.Save(path, nn.StateMap(g, "G"), info); err != nil {
		t.Fatal(err)
	}
	gen, err := generator.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return gen
}

// The exported model's structure: inputs z (and class, for conditional
// generators only) and one output, all with the dynamic batch N, known
// operators in topological order, and the metadata.
func TestExportStructure(t *testing.T) {
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			g := build(t, m)
			mp, err := onnxexport.Export(g)
			if err != nil {
				t.Fatal(err)
			}
			if err := onnxexport.Verify(mp); err != nil {
				t.Fatal(err)
			}
			gr := mp.GetGraph()
			var ins []string
			for _, v := range gr.GetInput() {
				ins = append(ins, v.GetName()+":"+dims(v))
			}
			want := []string{fmt.Sprintf("z:[N %d]", m.latent)}
			if g.Info.Conditional() {
				want = append(want, "class:[N]")
			}
			if !slices.Equal(ins, want) {
				t.Errorf("inputs %v, want %v", ins, want)
			}
			out := gr.GetOutput()[0]
			wantOut := fmt.Sprintf("points:[N %d]", m.data.Dim)
			if m.data.Kind == arch.Images {
				wantOut = fmt.Sprintf("images:[N %d %d %d]", m.data.Channels, m.data.Height, m.data.Width)
			}
			if got := out.GetName() + ":" + dims(out); got != wantOut {
				t.Errorf("output %s, want %s", got, wantOut)
			}
			meta := map[string]string{}
			for _, p := range mp.GetMetadataProps() {
				meta[p.GetKey()] = p.GetValue()
			}
			for k, v := range map[string]string{"arch": m.arch, "source": "test-" + m.name, "step": "42", "format": onnxexport.Format} {
				if meta[k] != v {
					t.Errorf("metadata %s = %q, want %q", k, meta[k], v)
				}
			}
			if meta["minmax_version"] == "" || (len(m.data.Classes) > 0 && !strings.Contains(meta["classes"], "seven")) {
				t.Errorf("metadata %v", meta)
			}
			if !strings.Contains(mp.GetDocString(), "step 42") {
				t.Errorf("doc string %q", mp.GetDocString())
			}
			ops := map[string]bool{}
			for _, n := range gr.GetNode() {
				ops[n.GetOpType()] = true
			}
			if bo, ok := m.opts.(*arch.BigGANOptions); ok && bo.Attention != 0 && !ops["Softmax"] {
				t.Error("no Softmax in a BigGAN with attention")
			}
			a, err := onnxexport.Marshal(mp)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := onnxexport.Marshal(mp)
			if string(a) != string(b) {
				t.Error("two encodings of one model differ")
			}
		})
	}
}

func dims(v *onnx.ValueInfoProto) string {
	var s []string
	for _, d := range v.GetType().GetTensorType().GetShape().GetDim() {
		if p := d.GetDimParam(); p != "" {
			s = append(s, p)
		} else {
			s = append(s, fmt.Sprint(d.GetDimValue()))
		}
	}
	return "[" + strings.Join(s, " ") + "]"
}

// onnxruntime computes what Generate computes, within 1e-4, for every
// configuration, at a batch size unlike the one of the training pass.
func TestOnnxRuntimeMatchesGenerate(t *testing.T) {
	rt := onnxrt.Require(t)
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			g := build(t, m)
			mp, err := onnxexport.Export(g)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "g.onnx")
			if err := onnxexport.Write(file, mp); err != nil {
				t.Fatal(err)
			}
			n := 11
			z := generator.Codes(n, m.latent, 5)
			zf := filepath.Join(dir, "z.npy")
			if err := run.WriteNPYShape(zf, z, n, m.latent); err != nil {
				t.Fatal(err)
			}
			var labels []int
			lf := ""
			if g.Info.Conditional() {
				labels = make([]int, n)
				b := make([]uint8, n)
				for i := range labels {
					labels[i] = (3*i + 1) % len(m.data.Classes)
					b[i] = uint8(labels[i])
				}
				lf = filepath.Join(dir, "labels.idx")
				if err := imgdata.WriteIDX(lf, []int{n}, b); err != nil {
					t.Fatal(err)
				}
			}
			want := make([]float32, n*m.data.Dim)
			if err := g.Generate(z, labels, n, want); err != nil {
				t.Fatal(err)
			}
			shape := []int{n, m.data.Dim}
			if d := m.data; d.Kind == arch.Images {
				want = run.ToCHW(want, n, d.Height, d.Width, d.Channels)
				shape = []int{n, d.Channels, d.Height, d.Width}
			}
			of := filepath.Join(dir, "out.npy")
			res, err := rt.Run(file, zf, lf, of)
			if err != nil {
				t.Fatal(err)
			}
			gotShape, got, err := run.ReadNPY(of)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(gotShape, shape) || !slices.Equal(res.Dims, shape) {
				t.Fatalf("onnxruntime's output has shape %v (reported %v), want %v", gotShape, res.Dims, shape)
			}
			diff, spread := maxAbsDiff(got, want), maxAbs(want)
			t.Logf("%s: max |onnxruntime - Generate| = %.3g over %d values (max |x| %.3g)", m.name, diff, len(want), spread)
			if !(diff <= 1e-4) {
				t.Errorf("max abs difference %g > 1e-4", diff)
			}
			if lf == "" {
				return
			}
			// A control: other classes make other images.
			b := make([]uint8, n)
			for i := range b {
				b[i] = uint8((labels[i] + 1) % len(m.data.Classes))
			}
			if err := imgdata.WriteIDX(lf, []int{n}, b); err != nil {
				t.Fatal(err)
			}
			if _, err := rt.Run(file, zf, lf, of); err != nil {
				t.Fatal(err)
			}
			if _, other, err := run.ReadNPY(of); err != nil || !(maxAbsDiff(other, want) > 1e-3) {
				t.Errorf("the images do not depend on the class (%v)", err)
			}
		})
	}
}

func maxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if !(d <= m) {
			m = d
		}
	}
	return m
}

func maxAbs(a []float32) float64 {
	m := 0.0
	for _, v := range a {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

// odd is a module the exporter does not know.
type odd struct{ nn.Base }

func (o *odd) Forward(c *nn.Ctx, x *autograd.Node) *autograd.Node { return x }

// twice is a weight transform the exporter does not know.
type twice struct{}

func (twice) Apply(c *nn.Ctx, w *autograd.Node) *autograd.Node { return c.Tape.Scale(w, 2) }
func (twice) Buffers() []nn.Named                              { return nil }

// A module, a child or a weight transform the exporter does not know is
// refused with its path and type.
func TestUnknownModulesAreRefused(t *testing.T) {
	points := generator.Info{Arch: "mlp", Options: &arch.MLPOptions{}, Latent: 2, Data: arch.PointData(2)}
	_, err := onnxexport.Export(&generator.Generator{Info: points, G: &odd{}})
	if err == nil || !strings.Contains(err.Error(), "G: a module of type *onnxexport_test.odd has no ONNX form") {
		t.Errorf("an unknown module: %v", err)
	}

	mlp, err := nn.NewMLP([]int{2, 4, 2}, nn.Activation{Kind: "relu"}, nn.Activation{}, false, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.Parametrize(mlp.Layers[1], "weight", twice{}); err != nil {
		t.Fatal(err)
	}
	_, err = onnxexport.Export(&generator.Generator{Info: points, G: mlp})
	if err == nil || !strings.Contains(err.Error(), "G.fc2.weight: the weight transform onnxexport_test.twice has no ONNX form") {
		t.Errorf("an unknown transform: %v", err)
	}

	g := build(t, models[5]) // dcgan
	dg := g.G.(*arch.DCGANGenerator)
	nn.Add(&dg.Base, "extra", nn.NewLinear(3, 3, true, tensor.NewRNG(1)))
	g = &generator.Generator{Info: g.Info, G: dg}
	_, err = onnxexport.Export(g)
	if err == nil || !strings.Contains(err.Error(), "G.extra (*nn.Linear)") {
		t.Errorf("a child the exporter does not use: %v", err)
	}
}

// Write replaces a file atomically and Read reads it back.
func TestWriteAndRead(t *testing.T) {
	g := build(t, models[0])
	mp, err := onnxexport.Export(g)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "g.onnx")
	if err := onnxexport.Write(path, mp); err != nil {
		t.Fatal(err)
	}
	back, err := onnxexport.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := onnxexport.Verify(back); err != nil {
		t.Fatal(err)
	}
	if len(back.GetGraph().GetNode()) != len(mp.GetGraph().GetNode()) {
		t.Error("the model read back differs")
	}
	if err := onnxexport.Write(filepath.Join(t.TempDir(), "no", "such", "dir", "g.onnx"), mp); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}
