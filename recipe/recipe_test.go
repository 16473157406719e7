package recipe

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/imgdata"
)

// Every preset validates and survives a YAML round trip unchanged.
func TestPresetsRoundTrip(t *testing.T) {
	for _, name := range PresetNames() {
		r, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "-folder") {
			r.Data.Source = "/some/folder"
		}
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		y, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(y, Recipe{})
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, y)
		}
		if !reflect.DeepEqual(back, r) {
			t.Errorf("%s changed in a round trip:\n%+v\n%+v", name, back, r)
		}
	}
}

// Errors name the key and say what was expected.
func TestParseErrorsNameTheKey(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"optim: {g: {lr: fast}}", `optim.g.lr: want a number, got "fast"`},
		{"optim: {btach: 3}", "optim.btach: not a setting"},
		{"model: {arch: dcgan, widht: 3}", `model.widht: the dcgan architecture has no option "widht"`},
		{"model: {arch: transformer}", `model.arch: "transformer" is not an architecture`},
		{"model: {g_hidden: [1, x]}", "model.g_hidden: want a list of whole numbers"},
		{"loss: {name: minmax}", `loss.name: unknown loss "minmax"`},
		{"loss: {name: wasserstein}", "loss.gp_lambda: the wasserstein loss needs"},
		{"optim: {lr_decay: step}", `optim.lr_decay: "step" is not a schedule`},
		{"optim: {d: {beta2: 1}}", "optim.d.beta2: must be in [0, 1)"},
		{"run: 3", "run: want a mapping of seed"},
		{"data: {channels: 2}", "data.channels: must be 1 or 3"},
		{"steps: [", "not valid YAML"},
		{"- 1", "a recipe is a mapping"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml), Default())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.yaml, err, c.want)
		}
	}
}

// A file changes only the keys it gives; a new architecture starts from
// its own defaults.
func TestParseOverridesOnlyWhatItGives(t *testing.T) {
	r, err := Parse([]byte("optim:\n  g: {lr: 0.005}\nmodel:\n  d_hidden: [7]\n"), Default())
	if err != nil {
		t.Fatal(err)
	}
	o := r.Model.Options.(*arch.MLPOptions)
	if r.Optim.G.LR != 0.005 || r.Optim.D.LR != 1e-3 || o.DHidden[0] != 7 || o.GHidden[0] != 128 || r.Optim.Steps != 30000 {
		t.Fatalf("recipe after a partial file: %+v %+v", r.Optim, o)
	}
	if Default().Model.Options.(*arch.MLPOptions).DHidden[0] != 128 {
		t.Fatal("parsing changed the base recipe's options")
	}
	r, err = Parse([]byte("model: {arch: dcgan}\ndata: {source: fashion-mnist}"), r)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := r.Model.Options.(*arch.DCGANOptions); !ok || d.Width != 64 {
		t.Fatalf("options after switching to dcgan: %#v", r.Model.Options)
	}
}

// minmax 0.1's flat config.yaml is read into the sections.
func TestLegacyFlatConfig(t *testing.T) {
	y := []byte("preset: dcgan-mnist\nmodel: dcgan\ndata: /data/mnist\nloss: nonsaturating\nwidth: 32\nepochs: 10\nsteps: 9370\n" +
		"batch: 64\nlatent: 100\nlr_g: 0.0002\nlr_d: 0.0003\nbeta1: 0.5\nbeta2: 0.999\nd_steps: 1\nlr_decay: none\nr1_gamma: 0\n" +
		"gp_lambda: 0\nseed: 4\neval_every: 500\ncheckpoint_every: 2000\n")
	r, err := Parse(y, Recipe{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Preset("dcgan-mnist")
	want.Data.Source, want.Model.Options, want.Optim.Steps, want.Optim.D.LR, want.Run.Seed = "/data/mnist", &arch.DCGANOptions{Width: 32}, 9370, 3e-4, 4
	// A run of minmax 0.1 trained in float32, and resumes so, whatever the
	// preset's default is today.
	want.Optim.Precision = ""
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("flat config read as\n%+v\nwant\n%+v", r, want)
	}
	if _, err := Parse([]byte("data: x\nlr_gg: 1\n"), Recipe{}); err == nil || !strings.Contains(err.Error(), "lr_gg") {
		t.Errorf("unknown flat key: %v", err)
	}
}

// Without a preset, --data chooses the tuned recipe of its kind.
func TestResolveChoosesTheRecipeOfTheData(t *testing.T) {
	folder := t.TempDir()
	os.WriteFile(filepath.Join(folder, "a.png"), nil, 0o644)
	idxDir := t.TempDir()
	idx := filepath.Join(idxDir, "train-images-idx3-ubyte")
	if err := imgdata.WriteIDX(idx, []int{2, 28, 28}, make([]byte, 2*784)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		data, preset, source, arch string
	}{
		{"ring(12, r=3, sd=0.05)", "ring8", "ring(12, r=3, sd=0.05)", "mlp"},
		{"N(0, 1)", "mix1d", "N(0, 1)", "mlp"},
		{"grid25", "grid25", "grid(5, spacing=2, sd=0.05)", "mlp"},
		{"fashion_mnist", "dcgan-fashion-mnist", "fashion-mnist", "dcgan"},
		{folder, "dcgan-folder", folder, "dcgan"},
		{idx, "dcgan-fashion-mnist", idx, "dcgan"},
		{idxDir, "dcgan-fashion-mnist", idxDir, "dcgan"},
	}
	for _, c := range cases {
		r, err := Resolve("", "", []Override{{Key: "data.source", Value: c.data, Flag: "--data"}})
		if err != nil {
			t.Errorf("--data %s: %v", c.data, err)
			continue
		}
		if r.Preset != c.preset || r.Data.Source != c.source || r.Model.Arch != c.arch {
			t.Errorf("--data %s: preset %s, source %s, arch %s; want %s, %s, %s", c.data, r.Preset, r.Data.Source, r.Model.Arch, c.preset, c.source, c.arch)
		}
	}
	// A relative path is stored absolute.
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	os.Chdir(idxDir)
	r, err := Resolve("dcgan-mnist", "", []Override{{Key: "data.source", Value: "train-images-idx3-ubyte", Flag: "--data"}})
	if err != nil || r.Data.Source != idx {
		t.Errorf("relative path stored as %q (%v), want %q", r.Data.Source, err, idx)
	}
}

func TestResolveErrorsNameTheFlag(t *testing.T) {
	cases := []struct {
		preset string
		over   []Override
		want   string
	}{
		{"", []Override{{"data.source", "/no/such/dir", "--data"}}, "--data (data.source): no such file, folder or data set: /no/such/dir"},
		{"", []Override{{"optim.d.lr", "-1", "--lr-d"}}, "--lr-d (optim.d.lr): must be positive"},
		{"", []Override{{"optim.steps", "many", "--steps"}}, `--steps (optim.steps): want a whole number, got "many"`},
		{"", []Override{{"model.width", "3", "--width"}}, `--width (model.width): the mlp architecture has no option "width"`},
		{"", []Override{{"model.arch", "nope", "--model"}}, `--model (model.arch): "nope" is not an architecture`},
		{"nope", nil, `unknown preset "nope"`},
	}
	for _, c := range cases {
		_, err := Resolve(c.preset, "", c.over)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.over, err, c.want)
		}
		var fe *FlagError
		if c.preset == "" && !errors.As(err, &fe) {
			t.Errorf("%v: not a FlagError: %T", c.over, err)
		}
	}
}

// An architecture that does not fit the data is refused by Build, at
// model.arch, saying which architectures fit.
func TestBuildRefusesAnArchitectureThatDoesNotFit(t *testing.T) {
	r := Default()
	if err := r.Set("model.arch", "dcgan"); err != nil {
		t.Fatal(err)
	}
	_, err := r.Build()
	var e *Error
	if !errors.As(err, &e) || e.Key != "model.arch" || !strings.Contains(err.Error(), "models images, not 2-D points; for points use mlp") {
		t.Fatalf("dcgan on ring8: %v", err)
	}
}

func TestSetAndValue(t *testing.T) {
	r := Default()
	for _, kv := range [][2]string{{"optim.g.lr", "2e-4"}, {"model.g_hidden", "[64, 32]"}, {"model.g_batchnorm", "true"}, {"data.source", "N(0, 1)"}, {"run.seed", "9"}} {
		if err := r.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
		v, err := r.Value(kv[0])
		if err != nil {
			t.Fatal(err)
		}
		if strings.ReplaceAll(v, " ", "") != strings.ReplaceAll(kv[1], " ", "") && !(kv[0] == "optim.g.lr" && v == "0.0002") {
			t.Errorf("%s set to %s reads back %s", kv[0], kv[1], v)
		}
	}
	for _, k := range []string{"optim", "optim.x", "model.nope", "run.seed.x"} {
		if err := r.Set(k, "1"); err == nil {
			t.Errorf("Set(%q) accepted", k)
		}
	}
}

// A recipe whose data have gone says so, naming the path.
func TestBuildWithMissingData(t *testing.T) {
	r, _ := Preset("dcgan-fashion-mnist")
	r.Data.Source = "/no/such/copy"
	_, err := r.Build()
	if err == nil || !strings.Contains(err.Error(), "data.source: no such file, folder or data set: /no/such/copy") {
		t.Fatalf("err = %v", err)
	}
}

// A file that gives optim.steps over a preset that counts epochs trains
// that many steps (the preset's epochs would otherwise win silently); a
// file that gives both keeps its epochs.
func TestParseStepsReplaceThePresetsEpochs(t *testing.T) {
	base, err := Preset("biggan-fashion-mnist")
	if err != nil {
		t.Fatal(err)
	}
	if base.Optim.Epochs == 0 {
		t.Fatal("the preset no longer counts epochs; pick one that does")
	}
	r, err := Parse([]byte("optim:\n  steps: 3000\n"), base)
	if err != nil {
		t.Fatal(err)
	}
	if r.Optim.Steps != 3000 || r.Optim.Epochs != 0 {
		t.Fatalf("steps %d epochs %g, want 3000 and 0", r.Optim.Steps, r.Optim.Epochs)
	}
	r, err = Parse([]byte("optim:\n  steps: 3000\n  epochs: 4\n"), base)
	if err != nil {
		t.Fatal(err)
	}
	if r.Optim.Epochs != 4 {
		t.Fatalf("epochs %g, want the file's 4", r.Optim.Epochs)
	}
}
