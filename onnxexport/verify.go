package onnxexport

import (
	"fmt"
	"slices"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// Ops lists the ONNX operators (default domain, opset Opset) that exported
// models may use.
var Ops = []string{
	"Add", "BatchNormalization", "Concat", "Conv", "ConvTranspose", "Gather", "Gemm", "Identity",
	"LeakyRelu", "MatMul", "MaxPool", "Mul", "Relu", "Reshape", "Resize", "Sigmoid", "Slice",
	"Softmax", "Softplus", "Tanh", "Transpose",
}

// Verify checks the structure of an exported model: the IR version and
// opset, the inputs (z float32 [N, latent], and class int64 [N] when
// present) and the one output (images [N, C, H, W] or points [N, dim], all
// with the dynamic batch N), initializers whose data fit their shapes, and
// nodes in topological order that use only the operators of Ops, each
// input defined before it is read and each value defined once.
func Verify(m *onnx.ModelProto) error {
	if m.GetIrVersion() != IRVersion {
		return fmt.Errorf("IR version %d, want %d", m.GetIrVersion(), IRVersion)
	}
	if ops := m.GetOpsetImport(); len(ops) != 1 || ops[0].GetDomain() != "" || ops[0].GetVersion() != Opset {
		return fmt.Errorf("opset imports %v, want the default domain at version %d", ops, Opset)
	}
	g := m.GetGraph()
	if g == nil {
		return fmt.Errorf("no graph")
	}
	defined := map[string]string{} // value -> what defines it
	define := func(name, what string) error {
		if name == "" {
			return fmt.Errorf("%s defines a value with no name", what)
		}
		if prev, ok := defined[name]; ok {
			return fmt.Errorf("%s defines %q, already defined by %s", what, name, prev)
		}
		defined[name] = what
		return nil
	}
	in := g.GetInput()
	if len(in) < 1 || len(in) > 2 {
		return fmt.Errorf("%d inputs, want z (and class)", len(in))
	}
	for i, v := range in {
		want := []string{InputZ, InputClass}[i]
		t, shape, err := tensorType(v)
		if err != nil {
			return err
		}
		switch {
		case v.GetName() != want:
			return fmt.Errorf("input %d is %q, want %q", i, v.GetName(), want)
		case want == InputZ && (t != onnx.TensorProto_FLOAT || len(shape) != 2 || shape[1] < 1):
			return fmt.Errorf("input z: %v %s, want float32 [N, latent]", t, shapeText(shape))
		case want == InputClass && (t != onnx.TensorProto_INT64 || len(shape) != 1):
			return fmt.Errorf("input class: %v %s, want int64 [N]", t, shapeText(shape))
		case shape[0] != -1:
			return fmt.Errorf("input %s: shape %s, want the dynamic batch %s first", want, shapeText(shape), Batch)
		}
		if err := define(v.GetName(), "input"); err != nil {
			return err
		}
	}
	out := g.GetOutput()
	if len(out) != 1 {
		return fmt.Errorf("%d outputs, want one", len(out))
	}
	t, shape, err := tensorType(out[0])
	if err != nil {
		return err
	}
	switch name := out[0].GetName(); {
	case t != onnx.TensorProto_FLOAT:
		return fmt.Errorf("output %s of type %v, want float32", name, t)
	case name == OutputImages && len(shape) == 4 && shape[0] == -1 && shape[1] > 0 && shape[2] > 0 && shape[3] > 0:
	case name == OutputPoints && len(shape) == 2 && shape[0] == -1 && shape[1] > 0:
	default:
		return fmt.Errorf("output %s %s, want images [N, C, H, W] or points [N, dim]", name, shapeText(shape))
	}
	for _, t := range g.GetInitializer() {
		if err := define(t.GetName(), "an initializer"); err != nil {
			return err
		}
		n := int64(1)
		for _, d := range t.GetDims() {
			if d < 0 {
				return fmt.Errorf("initializer %s has dimensions %v", t.GetName(), t.GetDims())
			}
			n *= d
		}
		size := map[int32]int64{int32(onnx.TensorProto_FLOAT): 4, int32(onnx.TensorProto_INT64): 8}[t.GetDataType()]
		if size == 0 {
			return fmt.Errorf("initializer %s of data type %d, want float32 or int64", t.GetName(), t.GetDataType())
		}
		if int64(len(t.GetRawData())) != n*size {
			return fmt.Errorf("initializer %s: %d bytes for dimensions %v", t.GetName(), len(t.GetRawData()), t.GetDims())
		}
	}
	for i, n := range g.GetNode() {
		what := fmt.Sprintf("node %d (%s %s)", i, n.GetOpType(), n.GetName())
		if n.GetDomain() != "" || !slices.Contains(Ops, n.GetOpType()) {
			return fmt.Errorf("%s: operator %q of domain %q is not one exported models use", what, n.GetOpType(), n.GetDomain())
		}
		for _, x := range n.GetInput() {
			if _, ok := defined[x]; !ok && x != "" {
				return fmt.Errorf("%s reads %q before anything defines it", what, x)
			}
		}
		for _, y := range n.GetOutput() {
			if err := define(y, what); err != nil {
				return err
			}
		}
	}
	if _, ok := defined[out[0].GetName()]; !ok {
		return fmt.Errorf("no node computes the output %s", out[0].GetName())
	}
	return nil
}

// tensorType reads a tensor's element type and shape (-1 for the batch
// dimension N, the only symbolic one allowed).
func tensorType(v *onnx.ValueInfoProto) (onnx.TensorProto_DataType, []int, error) {
	tt := v.GetType().GetTensorType()
	if tt == nil || tt.GetShape() == nil {
		return 0, nil, fmt.Errorf("%s is not a tensor of known rank", v.GetName())
	}
	var shape []int
	for _, d := range tt.GetShape().GetDim() {
		switch x := d.GetValue().(type) {
		case *onnx.TensorShapeProto_Dimension_DimParam:
			if x.DimParam != Batch {
				return 0, nil, fmt.Errorf("%s has a dimension %q, want %q or a number", v.GetName(), x.DimParam, Batch)
			}
			shape = append(shape, -1)
		case *onnx.TensorShapeProto_Dimension_DimValue:
			shape = append(shape, int(x.DimValue))
		default:
			return 0, nil, fmt.Errorf("%s has a dimension without a size or a name", v.GetName())
		}
	}
	return onnx.TensorProto_DataType(tt.GetElemType()), shape, nil
}
