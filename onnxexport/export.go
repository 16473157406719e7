package onnxexport

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/generator"
	"github.com/minmaxgan/minmax/internal/atomicfile"
	"github.com/minmaxgan/minmax/internal/version"
	"github.com/minmaxgan/minmax/nn"
	"google.golang.org/protobuf/proto"
)

// Opset is the version of the ONNX operator set exported models use.
const Opset = 17

// IRVersion is the ONNX IR version of exported models (the one of ONNX
// 1.12, which introduced opset 17).
const IRVersion = 8

// The names of an exported model's inputs, outputs and batch dimension.
const (
	// InputZ is the latent codes, float32 [N, latent].
	InputZ = "z"
	// InputClass is the class of each sample, int64 [N], of a
	// class-conditional generator.
	InputClass = "class"
	// OutputImages is the images, float32 [N, C, H, W] in [-1, 1].
	OutputImages = "images"
	// OutputPoints is the samples of a toy generator, float32 [N, dim].
	OutputPoints = "points"
	// Batch is the name (dim_param) of the dynamic batch dimension.
	Batch = "N"
)

// Format tags exported models in their metadata ("format").
const Format = "minmax-onnx-1"

// Export returns the ONNX model of g's generator: inputs z (and class for
// a conditional generator), output images (NCHW) or points, computing in
// function what g.Generate computes (evaluation mode). It reads g's
// weights and must not run while g generates on another goroutine.
func Export(g *generator.Generator) (*onnx.ModelProto, error) {
	info := g.Info
	b := newBuilder(g.G)
	z := b.input(InputZ, onnx.TensorProto_FLOAT, info.Latent)
	if info.Conditional() {
		c := b.input(InputClass, onnx.TensorProto_INT64)
		b.class = &c
	}
	y, err := b.module(g.G, z)
	if err != nil {
		return nil, err
	}
	if err := b.allVisited(); err != nil {
		return nil, err
	}
	d := info.Data
	out, want := OutputPoints, []int{-1, d.Dim}
	if d.Kind == arch.Images {
		out, want = OutputImages, []int{-1, d.Channels, d.Height, d.Width}
	}
	if !slices.Equal(y.shape, want) {
		return nil, fmt.Errorf("G's exported output has shape %s, want %s for %s", shapeText(y.shape), shapeText(want), d)
	}
	b.output(y, out)
	meta, err := metadata(info)
	if err != nil {
		return nil, err
	}
	b.graph.Name = "G"
	b.graph.DocString = docString(info, out)
	m := &onnx.ModelProto{
		IrVersion:       IRVersion,
		OpsetImport:     []*onnx.OperatorSetIdProto{{Domain: "", Version: Opset}},
		ProducerName:    "minmax",
		ProducerVersion: version.Version,
		Domain:          "org.minmaxgan",
		ModelVersion:    int64(info.Step),
		DocString:       b.graph.DocString,
		Graph:           b.graph,
		MetadataProps:   meta,
	}
	if err := Verify(m); err != nil {
		return nil, fmt.Errorf("the exported model is not well formed (a bug in the exporter): %w", err)
	}
	return m, nil
}

// metadata is what the generator file records, as ONNX metadata_props.
func metadata(info generator.Info) ([]*onnx.StringStringEntryProto, error) {
	spec, err := arch.Lookup(info.Arch)
	if err != nil {
		return nil, err
	}
	opts, err := spec.OptionsJSON(info.Options)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(info.Data)
	if err != nil {
		return nil, err
	}
	classes, err := json.Marshal(info.Data.Classes)
	if err != nil {
		return nil, err
	}
	rng := "unbounded"
	if r := info.Range; r != nil {
		b, _ := json.Marshal(r)
		rng = string(b)
	}
	layout := "N x dim"
	if info.Data.Kind == arch.Images {
		layout = "NCHW"
	}
	kv := [][2]string{
		{"format", Format},
		{"minmax_version", version.Version},
		{"generator_minmax_version", info.Version},
		{"arch", info.Arch},
		{"options", opts},
		{"latent", strconv.Itoa(info.Latent)},
		{"conditional", strconv.FormatBool(info.Conditional())},
		{"data", string(data)},
		{"classes", string(classes)},
		{"layout", layout},
		{"value_range", rng},
		{"source", info.Source},
		{"preset", info.Preset},
		{"loss", info.Loss},
		{"seed", strconv.FormatUint(info.Seed, 10)},
		{"step", strconv.Itoa(info.Step)},
		{"ema", strconv.FormatBool(info.EMA)},
	}
	out := make([]*onnx.StringStringEntryProto, len(kv))
	for i, p := range kv {
		out[i] = &onnx.StringStringEntryProto{Key: p[0], Value: p[1]}
	}
	return out, nil
}

// docString describes the model in a few lines.
func docString(info generator.Info, out string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "minmax %s generator (architecture %s) of %s", version.Version, info.Arch, info.Data)
	if info.Source != "" {
		fmt.Fprintf(&s, " trained on %s", info.Source)
	}
	fmt.Fprintf(&s, ", step %d", info.Step)
	if info.EMA {
		s.WriteString(" (moving average of the weights)")
	}
	fmt.Fprintf(&s, ".\nInput %s: float32 [N, %d], the latent codes (N(0, 1) in minmax).", InputZ, info.Latent)
	if info.Conditional() {
		fmt.Fprintf(&s, "\nInput %s: int64 [N], the class of each sample (0 to %d): %s.", InputClass,
			len(info.Data.Classes)-1, strings.Join(info.Data.Classes, ", "))
	}
	d := info.Data
	if out == OutputImages {
		fmt.Fprintf(&s, "\nOutput %s: float32 [N, %d, %d, %d] (N, C, H, W), in [-1, 1].", out, d.Channels, d.Height, d.Width)
	} else {
		fmt.Fprintf(&s, "\nOutput %s: float32 [N, %d].", out, d.Dim)
	}
	return s.String()
}

// Marshal encodes m in the protobuf wire format of .onnx files,
// deterministically.
func Marshal(m *onnx.ModelProto) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// Write encodes m and writes it to path atomically (internal/atomicfile).
func Write(path string, m *onnx.ModelProto) error {
	b, err := Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding the ONNX model: %w", err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// Read decodes the ONNX model in the file at path.
func Read(path string) (*onnx.ModelProto, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := &onnx.ModelProto{}
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%s: not an ONNX model: %w", path, err)
	}
	return m, nil
}

// value is a tensor of the graph: its name and shape, -1 standing for the
// batch dimension N.
type value struct {
	name  string
	shape []int
}

// builder accumulates the graph while the modules are walked.
type builder struct {
	graph   *onnx.GraphProto
	paths   map[nn.Module]string // every module of G by its path ("" for G)
	visited map[nn.Module]bool
	taken   map[string]bool // value names in use
	tape    *autograd.Tape
	ctx     *nn.Ctx // evaluation mode, for the weights as layers use them
	class   *value  // the class input (conditional generators)
	cond    *value  // the conditioning vector of conditional batch norms
	consts  map[string]string
}

func newBuilder(g nn.Module) *builder {
	b := &builder{
		graph:   &onnx.GraphProto{},
		paths:   map[nn.Module]string{},
		visited: map[nn.Module]bool{},
		taken:   map[string]bool{},
		consts:  map[string]string{},
		tape:    autograd.NewTape(),
	}
	b.tape.SetRecording(false)
	b.ctx = &nn.Ctx{Tape: b.tape}
	nn.Walk(g, func(path string, m nn.Module) { b.paths[m] = path })
	return b
}

// full names a module's path as the generator file does ("G.blocks.0").
func full(path string) string {
	if path == "" {
		return "G"
	}
	return "G." + path
}

// allVisited refuses a G with modules the export did not go through: a
// child its parent's exporter does not know it uses.
func (b *builder) allVisited() error {
	var missed []string
	for m, p := range b.paths {
		if !b.visited[m] {
			missed = append(missed, fmt.Sprintf("%s (%T)", full(p), m))
		}
	}
	if len(missed) > 0 {
		return fmt.Errorf("the exporter does not know how G uses %s: it cannot write this generator as ONNX", strings.Join(missed, ", "))
	}
	return nil
}

// unique returns name, or name with a suffix that makes it unused.
func (b *builder) unique(name string) string {
	out := name
	for i := 1; b.taken[out]; i++ {
		out = name + "_" + strconv.Itoa(i)
	}
	b.taken[out] = true
	return out
}

// input declares a graph input with a dynamic batch: [N, dims...].
func (b *builder) input(name string, t onnx.TensorProto_DataType, dims ...int) value {
	b.taken[name] = true
	b.graph.Input = append(b.graph.Input, valueInfo(name, t, append([]int{-1}, dims...)))
	return value{name: name, shape: append([]int{-1}, dims...)}
}

// output makes v the graph's output named name.
func (b *builder) output(v value, name string) {
	renamed := false
	for _, n := range b.graph.Node {
		for i, o := range n.Output {
			if o == v.name {
				n.Output[i], n.Name, renamed = name, name, true
			}
		}
		for i, in := range n.Input {
			if in == v.name {
				n.Input[i] = name
			}
		}
	}
	if !renamed { // v is an input: copy it
		b.graph.Node = append(b.graph.Node, &onnx.NodeProto{OpType: "Identity", Name: name, Input: []string{v.name}, Output: []string{name}})
	}
	b.graph.Output = append(b.graph.Output, valueInfo(name, onnx.TensorProto_FLOAT, v.shape))
}

func valueInfo(name string, t onnx.TensorProto_DataType, shape []int) *onnx.ValueInfoProto {
	dims := make([]*onnx.TensorShapeProto_Dimension, len(shape))
	for i, d := range shape {
		if d < 0 {
			dims[i] = &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: Batch}}
		} else {
			dims[i] = &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}}
		}
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: int32(t), Shape: &onnx.TensorShapeProto{Dim: dims}}}}}
}

// node appends a node of op with one output, named after the module's
// path, and returns the output's name.
func (b *builder) node(op, path string, inputs []string, attrs ...*onnx.AttributeProto) string {
	out := b.unique(full(path) + "/" + op)
	b.graph.Node = append(b.graph.Node, &onnx.NodeProto{OpType: op, Name: out, Input: inputs, Output: []string{out}, Attribute: attrs})
	return out
}

// floats adds a float32 initializer of the given shape.
func (b *builder) floats(name string, shape []int, data []float32) string {
	name = b.unique(name)
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	b.graph.Initializer = append(b.graph.Initializer, &onnx.TensorProto{
		Name: name, Dims: int64s(shape), DataType: int32(onnx.TensorProto_FLOAT), RawData: raw})
	return name
}

// ints adds a 1-D int64 initializer (shapes, axes) once per content.
func (b *builder) ints(vals ...int64) string {
	key := fmt.Sprint(vals)
	if name, ok := b.consts[key]; ok {
		return name
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = strconv.FormatInt(v, 10)
	}
	name := b.unique("const.i64[" + strings.Join(parts, ",") + "]")
	raw := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	b.graph.Initializer = append(b.graph.Initializer, &onnx.TensorProto{
		Name: name, Dims: []int64{int64(len(vals))}, DataType: int32(onnx.TensorProto_INT64), RawData: raw})
	b.consts[key] = name
	return name
}

// scalar adds a float32 scalar initializer once per value.
func (b *builder) scalar(v float32) string {
	key := "f32:" + strconv.FormatFloat(float64(v), 'g', -1, 32)
	if name, ok := b.consts[key]; ok {
		return name
	}
	name := b.floats("const."+key, nil, []float32{v})
	b.consts[key] = name
	return name
}

func int64s(x []int) []int64 {
	out := make([]int64, len(x))
	for i, v := range x {
		out[i] = int64(v)
	}
	return out
}

func attrInt(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: v}
}

func attrInts(name string, v ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS, Ints: v}
}

func attrFloat(name string, v float32) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_FLOAT, F: v}
}

func attrString(name, v string) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_STRING, S: []byte(v)}
}

// shapeText writes a shape with N for the batch: [N, 1, 28, 28].
func shapeText(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		if d < 0 {
			parts[i] = Batch
		} else {
			parts[i] = strconv.Itoa(d)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
