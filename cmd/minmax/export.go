package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/generator"
	"github.com/minmaxgan/minmax/onnxexport"
	"github.com/minmaxgan/minmax/run"
	"github.com/spf13/cobra"
)

func newExportCmd() *cobra.Command {
	var dir, file, out string
	c := &cobra.Command{
		Use:   "export --run DIR --out FILE.onnx",
		Short: "Write a run's generator as an ONNX model",
		Long: `Write the generator of a run (its generator.safetensors; or any generator
file, --generator FILE) as an ONNX model (opset 17) that any ONNX runtime
can sample from without minmax. The batch size is dynamic (N):

  input  z       float32 [N, latent]     latent codes (minmax draws N(0, 1))
  input  class   int64   [N]             class-conditional generators only
  output images  float32 [N, C, H, W]    image generators, in [-1, 1]
  output points  float32 [N, dim]        toy generators

G runs as minmax samples it (evaluation mode: batch norm with its running
statistics, spectral norm folded into the weights). The model's metadata
records the architecture and its options, the data, the step, the class
names and the minmax version. With minmax sample --z-out z.npy the codes
of any samples can be fed to the model to make the same samples (within
float rounding).`,
		Example: `  minmax export --run runs/dcgan-fashion-mnist-20261126-120000 --out g.onnx
  minmax export --generator generator.safetensors --out g.onnx`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if (dir == "") == (file == "") {
				return usageError{fmt.Errorf("export: give --run DIR or --generator FILE")}
			}
			if out == "" {
				return usageError{fmt.Errorf("export: --out FILE.onnx is required")}
			}
			if fi, err := os.Stat(out); err == nil && fi.IsDir() {
				return usageError{fmt.Errorf("export: --out %s is a folder; give the path of the .onnx file to write", out)}
			}
			if parent := filepath.Dir(out); parent != "" {
				if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
					return usageError{fmt.Errorf("export: --out %s: the folder %s does not exist", out, parent)}
				}
			}
			var g *generator.Generator
			var err error
			from := file
			if dir != "" {
				from = dir
				if fi, serr := os.Stat(dir); serr != nil || !fi.IsDir() {
					return fmt.Errorf("export --run %s: no such run directory", dir)
				}
				g, err = run.OpenGenerator(dir, func(msg string) { fmt.Fprintln(c.ErrOrStderr(), msg) })
			} else {
				g, err = generator.Load(file)
			}
			if err != nil {
				return fmt.Errorf("export: %s: %w", from, err)
			}
			m, err := onnxexport.Export(g)
			if err != nil {
				return fmt.Errorf("export: the generator of %s: %w", from, err)
			}
			if err := onnxexport.Write(out, m); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			info := g.Info
			ins := fmt.Sprintf("%s [N, %d]", onnxexport.InputZ, info.Latent)
			if info.Conditional() {
				ins += fmt.Sprintf(", %s [N] (0 to %d)", onnxexport.InputClass, len(info.Data.Classes)-1)
			}
			outs := fmt.Sprintf("%s [N, %d]", onnxexport.OutputPoints, info.Data.Dim)
			if d := info.Data; d.Kind == arch.Images {
				outs = fmt.Sprintf("%s [N, %d, %d, %d] in [-1, 1]", onnxexport.OutputImages, d.Channels, d.Height, d.Width)
			}
			ops := map[string]bool{}
			for _, n := range m.GetGraph().GetNode() {
				ops[n.GetOpType()] = true
			}
			fmt.Fprintf(c.ErrOrStderr(), "wrote the %s generator of %s (step %d) to %s: inputs %s; output %s; %d nodes (%s)\n",
				info.Arch, from, info.Step, out, ins, outs, len(m.GetGraph().GetNode()), strings.Join(slices.Sorted(maps.Keys(ops)), ", "))
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&dir, "run", "", "the run directory (its generator.safetensors)")
	f.StringVar(&file, "generator", "", "a generator file to export instead of a run's")
	f.StringVar(&out, "out", "", "the ONNX model to write (FILE.onnx)")
	return c
}
