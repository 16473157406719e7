package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/minmaxgan/minmax/internal/onnxrt"
	"github.com/minmaxgan/minmax/onnxexport"
	"github.com/minmaxgan/minmax/run"
)

// readNPY reads a float32 .npy file written by minmax or by run_onnx.js.
func readNPY(t *testing.T, path string) ([]int, []float32) {
	t.Helper()
	shape, x, err := run.ReadNPY(path)
	if err != nil {
		t.Fatal(err)
	}
	return shape, x
}

func maxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		if d := math.Abs(float64(a[i]) - float64(b[i])); !(d <= m) {
			m = d
		}
	}
	return m
}

// The exported models of a toy run, a DCGAN run and a conditional BigGAN
// run, executed by onnxruntime on the codes written by sample --z-out (and
// the classes of --labels-out), give minmax's own samples within 1e-4;
// sample --z gives the same samples back from the codes, also truncated
// and at a fixed class.
func TestExportMatchesSamples(t *testing.T) {
	root := t.TempDir()
	fakeMNIST(t, root, 40)
	mnist := filepath.Join(root, "mnist")
	runs := []struct {
		name  string
		train []string
		cond  bool
	}{
		{"toy", smallToy(filepath.Join(root, "toy"), "20"), false},
		{"dcgan", []string{"train", "--data", mnist, "--model", "dcgan", "--width", "4", "--batch", "8", "--steps", "12", "--lr-g", "0.05", "--lr-decay", "none",
			"--eval-every", "12", "--threads", "1", "--no-pictures", "--run", filepath.Join(root, "dcgan")}, false},
		{"biggan-conditional", []string{"train", "--data", mnist, "--model", "biggan", "--opt", "width=8", "--opt", "shared_dim=4",
			"--opt", "conditional=true", "--latent", "12", "--batch", "8", "--steps", "3", "--eval-every", "3", "--threads", "1",
			"--no-pictures", "--run", filepath.Join(root, "biggan-conditional")}, true},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			if _, err := runCLI(t, r.train...); err != nil {
				t.Fatalf("train: %v", err)
			}
			dir := filepath.Join(root, r.name)
			tmp := t.TempDir()
			p := func(name string) string { return filepath.Join(tmp, name) }
			args := []string{"sample", "--run", dir, "--n", "23", "--seed", "9", "--out", p("x.npy"), "--z-out", p("z.npy")}
			if r.cond {
				args = append(args, "--labels-out", p("l.idx"))
			}
			if _, err := runCLI(t, args...); err != nil {
				t.Fatalf("sample: %v", err)
			}
			if _, err := runCLI(t, "export", "--run", dir, "--out", p("g.onnx")); err != nil {
				t.Fatalf("export: %v", err)
			}
			m, err := onnxexport.Read(p("g.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			if err := onnxexport.Verify(m); err != nil {
				t.Fatal(err)
			}
			if got := len(m.GetGraph().GetInput()); got != map[bool]int{false: 1, true: 2}[r.cond] {
				t.Errorf("%d inputs", got)
			}
			xShape, x := readNPY(t, p("x.npy"))
			zShape, _ := readNPY(t, p("z.npy"))
			if zShape[0] != 23 || len(zShape) != 2 {
				t.Fatalf("--z-out wrote codes of shape %v", zShape)
			}

			// The codes give the samples back.
			if _, err := runCLI(t, "sample", "--run", dir, "--z", p("z.npy"), "--out", p("y.npy")); err != nil {
				t.Fatalf("sample --z: %v", err)
			}
			if _, y := readNPY(t, p("y.npy")); !slices.Equal(x, y) {
				t.Error("sample --z does not give the samples of its codes back")
			}
			if r.cond { // truncated, at a fixed class
				if _, err := runCLI(t, "sample", "--run", dir, "--n", "6", "--class", "7", "--truncation", "0.5",
					"--out", p("xt.npy"), "--z-out", p("zt.npy")); err != nil {
					t.Fatal(err)
				}
				if _, err := runCLI(t, "sample", "--run", dir, "--z", p("zt.npy"), "--class", "seven", "--out", p("yt.npy")); err == nil {
					t.Error("a class name the generator does not have was taken")
				}
				if _, err := runCLI(t, "sample", "--run", dir, "--z", p("zt.npy"), "--class", "7", "--out", p("yt.npy")); err != nil {
					t.Fatal(err)
				}
				_, xt := readNPY(t, p("xt.npy"))
				_, zt := readNPY(t, p("zt.npy"))
				if _, yt := readNPY(t, p("yt.npy")); !slices.Equal(xt, yt) {
					t.Error("sample --z --class does not give the truncated samples back")
				}
				for _, v := range zt {
					if v > 0.5 || v < -0.5 {
						t.Fatalf("--z-out with --truncation 0.5 wrote %v", v)
					}
				}
			}

			t.Run("onnxruntime", func(t *testing.T) {
				rt := onnxrt.Require(t)
				labels := ""
				if r.cond {
					labels = p("l.idx")
				}
				res, err := rt.Run(p("g.onnx"), p("z.npy"), labels, p("o.npy"))
				if err != nil {
					t.Fatal(err)
				}
				oShape, o := readNPY(t, p("o.npy"))
				if !slices.Equal(oShape, xShape) {
					t.Fatalf("onnxruntime's output has shape %v, the samples %v", oShape, xShape)
				}
				diff := maxAbsDiff(o, x)
				spread, sat := 0.0, 0
				for _, v := range x {
					spread = max(spread, math.Abs(float64(v)))
					if math.Abs(float64(v)) > 0.99 {
						sat++
					}
				}
				t.Logf("%s: inputs %v, output %v %v: max |onnxruntime - minmax sample| = %.3g over %d values (max |x| %.3g, %.0f%% beyond ±0.99)",
					r.name, res.Inputs, res.Outputs, res.Dims, diff, len(x), spread, 100*float64(sat)/float64(len(x)))
				if !(diff <= 1e-4) {
					t.Errorf("max abs difference %g > 1e-4", diff)
				}
			})
		})
	}
}

// export and sample --z refuse what they cannot do, naming the flag or
// the file.
func TestExportAndCodesErrors(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "toy")
	toyRun(t, dir, "3")
	file := filepath.Join(root, "plain.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runCLI(t, "export", "--out", filepath.Join(root, "g.onnx"))
	wantErr(t, "export without a generator", err, "--run DIR or --generator FILE")
	_, err = runCLI(t, "export", "--run", filepath.Join(root, "nope"), "--out", filepath.Join(root, "g.onnx"))
	wantErr(t, "export of a missing run", err, filepath.Join(root, "nope"), "no such run directory")
	_, err = runCLI(t, "export", "--run", root, "--out", filepath.Join(root, "g.onnx"))
	wantErr(t, "export of a folder that is not a run", err, "not a run directory")
	_, err = runCLI(t, "export", "--run", dir, "--out", filepath.Join(file, "g.onnx"))
	wantErr(t, "export under a file", err, "--out", "does not exist")
	_, err = runCLI(t, "export", "--run", dir, "--out", root)
	wantErr(t, "export to a folder", err, "is a folder")
	_, err = runCLI(t, "export", "--generator", file, "--out", filepath.Join(root, "g.onnx"))
	wantErr(t, "export of a file that is not a generator", err, file)
	if _, err := os.Stat(filepath.Join(root, "g.onnx")); err == nil {
		t.Error("a refused export wrote its output")
	}
	if _, err := runCLI(t, "export", "--generator", filepath.Join(dir, "generator.safetensors"), "--out", filepath.Join(root, "g.onnx")); err != nil {
		t.Fatalf("export --generator: %v", err)
	}

	bad := filepath.Join(root, "bad.npy")
	if err := run.WriteNPYShape(bad, make([]float32, 10), 2, 5); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "s.npy")
	_, err = runCLI(t, "sample", "--run", dir, "--z", bad, "--out", out)
	wantErr(t, "codes of the wrong latent size", err, bad, "[2 5]", "latent size")
	_, err = runCLI(t, "sample", "--run", dir, "--z", file, "--out", out)
	wantErr(t, "codes in a file that is not .npy", err, "--z", file)
	if _, err := runCLI(t, "sample", "--run", dir, "--n", "4", "--out", out, "--z-out", filepath.Join(root, "z.npy")); err != nil {
		t.Fatal(err)
	}
	_, err = runCLI(t, "sample", "--run", dir, "--z", filepath.Join(root, "z.npy"), "--n", "5", "--out", out)
	wantErr(t, "--n unlike the codes", err, "--n 5", "4 codes")
	_, err = runCLI(t, "sample", "--run", dir, "--z", filepath.Join(root, "z.npy"), "--seed", "3", "--out", out)
	wantErr(t, "--z with --seed", err, "--z", "--seed")
}
