package onnxexport_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/generator"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/onnxexport"
	"github.com/minmaxgan/minmax/tensor"
)

// A generator file exported as an ONNX model: its inputs and output, with
// the dynamic batch N.
func Example() {
	dir, err := os.MkdirTemp("", "onnx")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// A small toy generator, saved as every run saves its G.
	spec, _ := arch.Lookup("mlp")
	data := arch.PointData(2)
	g, err := spec.BuildG(spec.Defaults(), 8, data, tensor.NewRNG(1))
	if err != nil {
		log.Fatal(err)
	}
	file := filepath.Join(dir, generator.File)
	if err := generator.Save(file, nn.StateMap(g, "G"), generator.Info{Arch: "mlp", Options: spec.Defaults(), Latent: 8, Data: data}); err != nil {
		log.Fatal(err)
	}
	gen, err := generator.Load(file)
	if err != nil {
		log.Fatal(err)
	}
	m, err := onnxexport.Export(gen)
	if err != nil {
		log.Fatal(err)
	}
	if err := onnxexport.Write(filepath.Join(dir, "g.onnx"), m); err != nil {
		log.Fatal(err)
	}
	show := func(kind, name string, dims []string) { fmt.Println(kind, name, dims) }
	for _, v := range m.GetGraph().GetInput() {
		show("input", v.GetName(), shape(v.GetType().GetTensorType().GetShape().GetDim()))
	}
	for _, v := range m.GetGraph().GetOutput() {
		show("output", v.GetName(), shape(v.GetType().GetTensorType().GetShape().GetDim()))
	}
	// Output:
	// input z [N 8]
	// output points [N 2]
}

// shape writes an ONNX shape, a symbolic dimension by its name.
func shape[D interface {
	GetDimParam() string
	GetDimValue() int64
}](dims []D) []string {
	var out []string
	for _, d := range dims {
		if p := d.GetDimParam(); p != "" {
			out = append(out, p)
		} else {
			out = append(out, fmt.Sprint(d.GetDimValue()))
		}
	}
	return out
}
