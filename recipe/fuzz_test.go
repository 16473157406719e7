package recipe

import (
	"os"
	"strings"
	"testing"
)

// FuzzParse reads arbitrary bytes as a recipe on top of the default. A
// recipe that reads is valid, and writing it out and reading that back
// gives the same recipe; one that does not gives an error, never a panic.
func FuzzParse(f *testing.F) {
	for _, name := range PresetNames() {
		r, err := Preset(name)
		if err != nil {
			f.Fatal(err)
		}
		y, err := r.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(y)
	}
	if legacy, err := os.ReadFile("../run/testdata/legacy-0.1/toy/config.yaml"); err == nil {
		f.Add(legacy)
	}
	for _, s := range []string{
		"", "null", "[1, 2]", "optim: {steps: 10}", "optim:\n  g:\n    lr: fast\n",
		"model: {arch: dcgan, width: 8}", "model: {arch: resnet}", "model: {arch: biggan, conditional: auto}",
		"data: {source: ring(8)}\noptim: {steps: 1.5}", "a: &x [*x]", "a: &a [1]\nb: [*a, *a, *a]",
		"steps: 10\nlr_g: 1e-3", "preset: ring8\nsteps: -1", "loss: {name: hinge, lecam: 0.1}",
		"\t", "model: {arch: mlp, g_hidden: [16, 0]}", "optim: {batch: 99999999999999999999}",
	} {
		f.Add([]byte(s))
	}
	base := Default()
	f.Fuzz(func(t *testing.T, y []byte) {
		r, err := Parse(y, base)
		if err != nil {
			if strings.Contains(err.Error(), "reflect") || strings.Contains(err.Error(), "recipe.") {
				t.Fatalf("the message shows Go internals: %v", err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("Parse accepted a recipe that does not validate: %v", err)
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatalf("a parsed recipe does not marshal: %v", err)
		}
		back, err := Parse(out, Recipe{})
		if err != nil {
			t.Fatalf("a written recipe does not read back: %v\n%s", err, out)
		}
		diff, err := Diff(r, back)
		if err != nil || len(diff) > 0 {
			t.Fatalf("the recipe read back differs in %v (%v)\n%s", diff, err, out)
		}
	})
}
