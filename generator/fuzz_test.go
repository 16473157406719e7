package generator

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/checkpoint"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

// fuzzSeedFiles are generator files of small networks of each
// architecture, as bytes.
func fuzzSeedFiles(f *testing.F) map[string][]byte {
	f.Helper()
	files := map[string][]byte{}
	for _, c := range []struct {
		arch string
		opts any
		data arch.Data
	}{
		{"mlp", &arch.MLPOptions{GHidden: []int{4}, DHidden: []int{4}, GActivation: "relu", DActivation: "relu", GBatchNorm: true}, arch.PointData(2)},
		{"dcgan", &arch.DCGANOptions{Width: 2}, arch.ImageData(28, 28, 1, nil)},
		{"resnet", nil, arch.ImageData(28, 28, 1, []string{"a", "b"})},
		{"biggan", nil, arch.ImageData(28, 28, 1, []string{"a", "b"})},
	} {
		spec, err := arch.Lookup(c.arch)
		if err != nil {
			f.Fatal(err)
		}
		opts := c.opts
		if opts == nil {
			if opts, err = spec.DecodeOptions([]byte("width: 8")); err != nil {
				f.Fatal(err)
			}
		}
		g, err := spec.BuildG(opts, 3, c.data, tensor.NewRNG(1))
		if err != nil {
			f.Fatal(c.arch, err)
		}
		info := Info{Arch: c.arch, Options: opts, Latent: 3, Data: c.data, Seed: 1, Step: 2}
		if c.data.Kind == arch.Images {
			info.Range = &[2]float64{-1, 1}
		}
		path := filepath.Join(f.TempDir(), c.arch+".safetensors")
		if err := Save(path, nn.StateMap(g, "G"), info); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		files[c.arch] = b
	}
	return files
}

// checkLoaded samples a few points from a generator that loaded and checks
// that they are finite and in its range.
func checkLoaded(t *testing.T, g *Generator) {
	t.Helper()
	const n = 3
	x, labels, err := g.Sample(n, Options{Seed: 1})
	if err != nil {
		if strings.Contains(err.Error(), "goroutine") {
			t.Fatalf("Sample: %v", err)
		}
		return
	}
	if len(x) != n*g.Info.Data.Dim || (g.Info.Conditional() && len(labels) != n) {
		t.Fatalf("%d values and %d labels for %d samples of dimension %d", len(x), len(labels), n, g.Info.Data.Dim)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("sample value %d is %v from finite weights", i, v)
		}
		if r := g.Info.Range; r != nil && (float64(v) < r[0] || float64(v) > r[1]) {
			t.Fatalf("sample value %d is %v, outside the file's range %v", i, v, *r)
		}
	}
}

// FuzzLoad reads arbitrary bytes as a generator file: it loads and samples
// finite values in its range, or is refused with an error naming the file.
func FuzzLoad(f *testing.F) {
	// The small files only: the fuzzer mutates (and minimises) whole
	// inputs, and the larger architectures add tensor bytes, not header
	// structure (FuzzLoadMetadata covers their metadata).
	files := fuzzSeedFiles(f)
	for _, name := range []string{"mlp", "dcgan"} {
		b := files[name]
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "g.safetensors")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		loadOrRefused(t, path)
	})
}

// loadOrRefused loads the generator file at path: it loads and samples
// finite values in its range (checkLoaded), or is refused with an error
// that names the file.
func loadOrRefused(t *testing.T, path string) {
	t.Helper()
	g, err := Load(path)
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("the error does not name the file: %v", err)
		}
		return
	}
	checkLoaded(t, g)
}

// FuzzLoadMetadata writes a generator file whose tensors are intact and
// checksummed but whose metadata (architecture, options, latent size, data
// shape, value range) are arbitrary: the file loads and samples, or is
// refused naming the file, before anything of an absurd size is allocated.
func FuzzLoadMetadata(f *testing.F) {
	files := fuzzSeedFiles(f)
	for _, name := range []string{"mlp", "dcgan", "resnet", "biggan"} {
		ck, err := checkpoint.Read(name, files[name])
		if err != nil {
			f.Fatal(err)
		}
		m := ck.Meta
		f.Add(name, m["arch"], m["options"], m["latent"], m["data"], m["value_range"])
	}
	f.Add("mlp", "mlp", `{"g_hidden":[4],"d_hidden":[4],"g_activation":"relu","d_activation":"relu","g_batchnorm":true}`, "3000000000", `{"kind":"points","dim":2}`, "unbounded")
	f.Add("dcgan", "dcgan", `{"width":100000}`, "3", `{"kind":"images","h":28,"w":28,"c":1}`, "[-1,1]")
	f.Fuzz(func(t *testing.T, tensors, archName, options, latent, data, valueRange string) {
		src, ok := files[tensors]
		if !ok {
			return
		}
		ck, err := checkpoint.Read(tensors, src)
		if err != nil {
			t.Fatal(err)
		}
		meta := ck.Meta
		delete(meta, checkpoint.ChecksumKey)
		meta["arch"], meta["options"], meta["latent"], meta["data"], meta["value_range"] = archName, options, latent, data, valueRange
		path := filepath.Join(t.TempDir(), "g.safetensors")
		if err := checkpoint.SaveChecked(path, ck.Tensors, meta); err != nil {
			return // metadata the format cannot hold
		}
		loadOrRefused(t, path)
	})
}
