package generator

import (
	"errors"
	"maps"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/checkpoint"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

// saved builds G of an architecture, saves it and returns it with the file.
func saved(t *testing.T, name string, opts any, d arch.Data) (nn.Module, string, Info) {
	t.Helper()
	spec, err := arch.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	if opts == nil {
		opts = spec.Defaults()
	}
	g, err := spec.BuildG(opts, 16, d, tensor.NewRNG(4))
	if err != nil {
		t.Fatal(err)
	}
	info := Info{Arch: name, Options: opts, Latent: 16, Data: d, Source: "somewhere", Preset: "p", Loss: "hinge", Seed: 3, Step: 77, EMA: true}
	if d.Kind == arch.Images {
		info.Range = &[2]float64{-1, 1}
	}
	path := filepath.Join(t.TempDir(), File)
	if err := Save(path, nn.StateMap(g, "G"), info); err != nil {
		t.Fatal(err)
	}
	return g, path, info
}

// direct runs G itself in evaluation mode.
func direct(t *testing.T, g nn.Module, z []float32, n, lat int) []float32 {
	tp := autograd.NewTape()
	zt, _ := tensor.FromData(z, n, lat)
	y := g.Forward(&nn.Ctx{Tape: tp}, tp.Leaf(zt))
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), y.Data()...)
}

// A generator file rebuilds G alone: the same samples as the model that
// was saved, and the same description.
func TestSaveLoad(t *testing.T) {
	for _, c := range []struct {
		arch string
		opts any
		data arch.Data
	}{
		{"mlp", &arch.MLPOptions{GHidden: []int{8, 8}, DHidden: []int{4}, GActivation: "leakyrelu:0.1", DActivation: "relu", GBatchNorm: true}, arch.PointData(2)},
		{"dcgan", &arch.DCGANOptions{Width: 4}, arch.ImageData(28, 28, 1, []string{"a", "b"})},
	} {
		g, path, info := saved(t, c.arch, c.opts, c.data)
		// Give batch norm's running statistics non-trivial values.
		for _, b := range nn.Buffers(g) {
			for i := range b.Tensor.Data {
				b.Tensor.Data[i] = 0.5 + 0.01*float32(i)
			}
		}
		if err := Save(path, nn.StateMap(g, "G"), info); err != nil {
			t.Fatal(err)
		}
		back, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		bi := back.Info
		if bi.Arch != info.Arch || bi.Latent != 16 || bi.Step != 77 || bi.Seed != 3 || !bi.EMA || bi.Source != "somewhere" ||
			bi.Loss != "hinge" || bi.Version == "" || !equalData(bi.Data, c.data) || (c.data.Kind == arch.Images) != (bi.Range != nil) {
			t.Fatalf("%s: info %+v, saved %+v", c.arch, bi, info)
		}
		z := Codes(300, 16, 9)
		want := direct(t, g, z, 300, 16)
		got, _, err := back.Sample(300, Options{Seed: 9, Class: -1})
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: value %d: %v from the file, %v from the model", c.arch, i, got[i], want[i])
			}
		}
	}
}

func equalData(a, b arch.Data) bool {
	return a.Kind == b.Kind && a.Dim == b.Dim && a.Height == b.Height && a.Width == b.Width && a.Channels == b.Channels &&
		strings.Join(a.Classes, "|") == strings.Join(b.Classes, "|")
}

// Files that are not usable generators are refused with the reason.
func TestLoadRefuses(t *testing.T) {
	g, path, info := saved(t, "mlp", nil, arch.PointData(2))
	st := nn.StateMap(g, "G")
	dir := filepath.Dir(path)

	other := filepath.Join(dir, "other.safetensors")
	checkpoint.Save(other, st, map[string]string{"format": "minmax-run-2"})
	if _, err := Load(other); !errors.Is(err, ErrNotGenerator) {
		t.Errorf("a checkpoint: %v", err)
	}

	nan := filepath.Join(dir, "nan.safetensors")
	w := st["G.fc1.weight"].Data
	keep := w[3]
	w[3] = float32(math.NaN())
	Save(nan, st, info)
	w[3] = keep
	if _, err := Load(nan); err == nil || !strings.Contains(err.Error(), "G.fc1.weight") || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN weights: %v", err)
	}

	wrong := filepath.Join(dir, "wrong.safetensors")
	info2 := info
	info2.Options = &arch.MLPOptions{GHidden: []int{64}, DHidden: []int{4}, GActivation: "relu", DActivation: "relu"}
	Save(wrong, st, info2)
	if _, err := Load(wrong); err == nil || !strings.Contains(err.Error(), "do not match") {
		t.Errorf("mismatched options: %v", err)
	}

	// A value range of one number (once read as [-1, 0]), three numbers,
	// an empty or an infinite interval: refused, naming the key.
	ck, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"[-1]", "[-1,1,5]", "[1,1]", "[-1,1e999]", "[]"} {
		meta := maps.Clone(ck.Meta)
		delete(meta, checkpoint.ChecksumKey)
		meta["value_range"] = r
		bad := filepath.Join(dir, "range.safetensors")
		if err := checkpoint.SaveChecked(bad, ck.Tensors, meta); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "value_range") {
			t.Errorf("value_range %s: %v", r, err)
		}
	}

	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Generate(make([]float32, 16), []int{0}, 1, make([]float32, 2)); err == nil {
		t.Error("labels for an unconditional generator were accepted")
	}
	if err := back.Generate(make([]float32, 15), nil, 1, make([]float32, 2)); err == nil {
		t.Error("a short code was accepted")
	}
	if _, _, err := back.Sample(0, Options{Seed: 1, Class: -1}); err == nil {
		t.Error("zero samples accepted")
	}
}

// Concurrent callers share one generator and get the same samples.
func TestConcurrentSampling(t *testing.T) {
	_, path, _ := saved(t, "dcgan", &arch.DCGANOptions{Width: 4}, arch.ImageData(28, 28, 1, nil))
	g, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := g.Sample(20, Options{Seed: 5, Class: -1})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, _, err := g.Sample(20, Options{Seed: 5, Class: -1})
			if err == nil {
				for j := range got {
					if got[j] != want[j] {
						err = errors.New("samples differ")
						break
					}
				}
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A stream drawn in chunks gives the samples of one Sample call, with and
// without truncation, classes cycling across chunks.
func TestStreamMatchesSample(t *testing.T) {
	_, path, _ := saved(t, "mlp", nil, arch.PointData(2))
	g, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{{Seed: 3, Class: -1}, {Seed: 4, Class: -1, Truncation: 0.7}} {
		want, _, err := g.Sample(9000, o)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := g.Stream(9000, o)
		var got []float32
		for st.Left() > 0 {
			x, _, err := st.Next(2500)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, x...)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%+v: value %d streamed %v, sampled %v", o, i, got[i], want[i])
			}
		}
		z := TruncatedCodes(9000, g.Info.Latent, o.Seed, o.Truncation)
		x := make([]float32, 9000*2)
		g.Generate(z, nil, 9000, x)
		if x[17999] != want[17999] {
			t.Fatalf("Sample does not draw TruncatedCodes")
		}
	}
}

// The codes DrawCodes returns are those a stream uses: given back as
// Options.Z they make the same samples, streamed in chunks or not; codes
// of the wrong size, or with truncation, are refused.
func TestDrawCodesGiveTheSamplesBack(t *testing.T) {
	_, path, _ := saved(t, "mlp", nil, arch.PointData(2))
	g, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{{Seed: 3, Class: -1}, {Seed: 4, Class: -1, Truncation: 0.7}} {
		want, _, err := g.Sample(5000, o)
		if err != nil {
			t.Fatal(err)
		}
		z, err := g.DrawCodes(5000, o)
		if err != nil {
			t.Fatal(err)
		}
		if tz := TruncatedCodes(5000, g.Info.Latent, o.Seed, o.Truncation); tz[4999*16+3] != z[4999*16+3] {
			t.Fatalf("%+v: DrawCodes differ from TruncatedCodes", o)
		}
		st, err := g.Stream(5000, Options{Class: -1, Z: z})
		if err != nil {
			t.Fatal(err)
		}
		var got []float32
		for st.Left() > 0 {
			x, _, err := st.Next(1234)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, x...)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%+v: value %d from the codes is %v, sampled %v", o, i, got[i], want[i])
			}
		}
	}
	if _, err := g.Stream(3, Options{Class: -1, Z: make([]float32, 47)}); err == nil || !strings.Contains(err.Error(), "47 latent values") {
		t.Errorf("codes of the wrong size: %v", err)
	}
	if _, err := g.Stream(3, Options{Class: -1, Z: make([]float32, 48), Truncation: 1}); err == nil || !strings.Contains(err.Error(), "truncation") {
		t.Errorf("codes with truncation: %v", err)
	}
}
