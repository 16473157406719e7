package recipe

import (
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// legacyKeys maps the keys of minmax 0.1's flat config.yaml to the
// sectioned ones (beta1 and beta2 were shared by both players).
var legacyKeys = map[string][]string{
	"preset": {"preset"}, "data": {"data.source"}, "image_size": {"data.image_size"}, "channels": {"data.channels"},
	"model": {"model.arch"}, "latent": {"model.latent"}, "width": {"model.width"},
	"g_hidden": {"model.g_hidden"}, "d_hidden": {"model.d_hidden"}, "g_activation": {"model.g_activation"},
	"d_activation": {"model.d_activation"}, "g_batchnorm": {"model.g_batchnorm"},
	"loss": {"loss.name"}, "r1_gamma": {"loss.r1_gamma"}, "r1_every": {"loss.r1_every"}, "gp_lambda": {"loss.gp_lambda"},
	"steps": {"optim.steps"}, "epochs": {"optim.epochs"}, "batch": {"optim.batch"}, "d_steps": {"optim.d_steps"},
	"lr_g": {"optim.g.lr"}, "lr_d": {"optim.d.lr"}, "beta1": {"optim.g.beta1", "optim.d.beta1"},
	"beta2": {"optim.g.beta2", "optim.d.beta2"}, "lr_decay": {"optim.lr_decay"}, "g_ema": {"optim.g_ema"},
	"seed": {"run.seed"}, "eval_every": {"run.eval_every"}, "jsd_every": {"run.jsd_every"},
	"checkpoint_every": {"run.checkpoint_every"}, "evaluator": {"run.evaluator"}, "eval_samples": {"run.eval_samples"},
}

// isLegacy reports whether a recipe mapping is in the flat layout of
// minmax 0.1 (data: SPEC rather than data: {source: SPEC}, or flat keys
// such as lr_g).
func isLegacy(root *yaml.Node) bool {
	sections := map[string]bool{"data": true, "model": true, "loss": true, "optim": true, "run": true}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i].Value, resolve(root.Content[i+1])
		if _, flat := legacyKeys[k]; !flat || k == "preset" {
			continue
		}
		// a flat key, or a section written as a scalar (model: dcgan)
		if !sections[k] || v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
			return true
		}
	}
	return false
}

// parseLegacy reads a flat config.yaml of minmax 0.1 onto r. Its keys are
// moved to their sections; the architecture (model: mlp or dcgan, empty
// meaning mlp) is set before its options.
func parseLegacy(root *yaml.Node, r Recipe) (Recipe, error) {
	arch := ""
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "model" {
			arch = resolve(root.Content[i+1]).Value
		}
	}
	if arch == "" {
		arch = "mlp"
	}
	if err := r.Model.SetArch(arch); err != nil {
		return r, bad("model", "%v", err)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i].Value, root.Content[i+1]
		if k == "model" {
			continue
		}
		news, ok := legacyKeys[k]
		if !ok {
			return r, bad(k, "not a setting of a flat (minmax 0.1) config.yaml (line %d)", root.Content[i].Line)
		}
		for _, nk := range news {
			f, err := r.target(nk)
			if err != nil {
				if strings.HasPrefix(nk, "model.") {
					continue // an option of the other architecture (0.1 wrote them all)
				}
				return r, err
			}
			if err := decodeValue(v, f, k); err != nil {
				return r, err
			}
		}
	}
	return r, nil
}

// target returns the settable value of a key ("optim.g.lr", "model.width").
func (r *Recipe) target(key string) (reflect.Value, error) {
	parts := strings.Split(key, ".")
	v := reflect.ValueOf(r).Elem()
	prefix := ""
	for i, p := range parts {
		if v.Type() == modelType {
			m := v.Addr().Interface().(*Model)
			rest := strings.Join(parts[i:], ".")
			if rest == "latent" {
				return reflect.ValueOf(&m.Latent).Elem(), nil
			}
			spec, err := m.Spec()
			if err != nil {
				return reflect.Value{}, bad(join(prefix, "arch"), "%v", err)
			}
			if m.Options == nil {
				m.Options = spec.Defaults()
			}
			f, ok := field(reflect.ValueOf(m.Options).Elem(), rest)
			if !ok {
				return reflect.Value{}, bad(key, "the %s architecture has no option %q; its options: %s", m.Arch, rest, strings.Join(spec.OptionKeys(), ", "))
			}
			return f, nil
		}
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, bad(key, "not a setting")
		}
		f, ok := field(v, p)
		if !ok {
			return reflect.Value{}, bad(key, "not a setting; %s holds %s", orTop(prefix), strings.Join(keysOf(v.Type()), ", "))
		}
		v, prefix = f, join(prefix, p)
	}
	if v.Kind() == reflect.Struct {
		return reflect.Value{}, bad(key, "is a section (%s), not a setting", strings.Join(keysOf(v.Type()), ", "))
	}
	return v, nil
}
