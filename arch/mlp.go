package arch

import (
	"fmt"

	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

// MLPOptions are the options of the mlp architecture.
type MLPOptions struct {
	GHidden     []int  `yaml:"g_hidden" help:"widths of G's hidden layers"`
	DHidden     []int  `yaml:"d_hidden" help:"widths of D's hidden layers"`
	GActivation string `yaml:"g_activation" help:"G's hidden activation: relu, leakyrelu[:slope], tanh, sigmoid, softplus"`
	DActivation string `yaml:"d_activation" help:"D's hidden activation"`
	GBatchNorm  bool   `yaml:"g_batchnorm" help:"batch normalisation in G's hidden layers"`
}

func init() {
	Register(Builder[MLPOptions]{
		Name: "mlp",
		Doc:  "fully connected G and D for points (the toy distributions, 1-D and 2-D)",
		Kind: Points,
		Defaults: MLPOptions{
			GHidden: []int{128, 128}, DHidden: []int{128, 128},
			GActivation: "relu", DActivation: "relu",
		},
		Check: checkMLP,
		G: func(o *MLPOptions, latent int, d Data, rng *tensor.RNG) (nn.Module, error) {
			act, _ := nn.ParseActivation(o.GActivation)
			return nn.NewMLP(append(append([]int{latent}, o.GHidden...), d.Dim), act, nn.Activation{}, o.GBatchNorm, rng)
		},
		D: func(o *MLPOptions, d Data, rng *tensor.RNG) (nn.Module, error) {
			act, _ := nn.ParseActivation(o.DActivation)
			return nn.NewMLP(append(append([]int{d.Dim}, o.DHidden...), 1), act, nn.Activation{}, false, rng)
		},
	})
}

func checkMLP(o *MLPOptions, d Data) error {
	for _, a := range []struct{ key, v string }{{"g_activation", o.GActivation}, {"d_activation", o.DActivation}} {
		if _, err := nn.ParseActivation(a.v); err != nil {
			return fmt.Errorf("%s: %v", a.key, err)
		}
	}
	for _, h := range []struct {
		key string
		v   []int
	}{{"g_hidden", o.GHidden}, {"d_hidden", o.DHidden}} {
		for _, w := range h.v {
			if w < 1 {
				return fmt.Errorf("%s: layer widths must be at least 1, got %v", h.key, h.v)
			}
		}
	}
	return nil
}
