package gan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/minmaxgan/minmax/autograd"
)

// Loss is a GAN objective: the discriminator's loss given its scores
// (logits) on a real and a generated batch, and the generator's loss given
// D's scores on a generated batch. docs/losses.md relates each to the
// seed's eq. (1)-(2).
type Loss struct {
	// Name selects the loss on the command line.
	Name string
	// Formula is a one-line statement of both losses.
	Formula string
	// D is the discriminator's loss (minimised over D).
	D func(t *autograd.Tape, dReal, dFake *autograd.Node) *autograd.Node
	// G is the generator's loss (minimised over G).
	G func(t *autograd.Tape, dFake *autograd.Node) *autograd.Node
	// NeedsLipschitz marks losses that are only meaningful with a
	// Lipschitz-constrained D (the Wasserstein loss): the trainer then
	// requires a gradient penalty.
	NeedsLipschitz bool
}

// vd is the seed's eq. (1): E_P softplus(-D(x)) + E_Q softplus(D(G(z))).
func vd(t *autograd.Tape, dReal, dFake *autograd.Node) *autograd.Node {
	return t.Add(t.Mean(t.Softplus(t.Neg(dReal)), false), t.Mean(t.Softplus(dFake), false))
}

// Losses are the built-in objectives by name.
var Losses = map[string]Loss{
	// The seed's game: D minimises V_D (eq. 1), G minimises V_G = -V_D
	// (eq. 2). The E_P term of -V_D does not depend on G, so G minimises
	// -E softplus(D(G(z))) = E log(1 - sigmoid(D(G(z)))): Goodfellow et al.
	// 2014's original minimax loss, which saturates when D rejects G's
	// samples confidently.
	"minimax": {
		Name:    "minimax",
		Formula: "D: E_P softplus(-D(x)) + E_Q softplus(D(G(z)))  [eq. 1];  G: -E_Q softplus(D(G(z)))  [eq. 2, V_G = -V_D]",
		D:       vd,
		G: func(t *autograd.Tape, dFake *autograd.Node) *autograd.Node {
			return t.Neg(t.Mean(t.Softplus(dFake), false))
		},
	},
	// Goodfellow et al. 2014's "-log D trick": the same fixed point, but G's
	// gradient does not vanish when D rejects its samples.
	"nonsaturating": {
		Name:    "nonsaturating",
		Formula: "D: as eq. 1;  G: E_Q softplus(-D(G(z)))",
		D:       vd,
		G: func(t *autograd.Tape, dFake *autograd.Node) *autograd.Node {
			return t.Mean(t.Softplus(t.Neg(dFake)), false)
		},
	},
	// Lim & Ye 2017, Miyato et al. 2018, BigGAN (Brock et al. 2019).
	"hinge": {
		Name:    "hinge",
		Formula: "D: E_P relu(1 - D(x)) + E_Q relu(1 + D(G(z)));  G: -E_Q D(G(z))",
		D: func(t *autograd.Tape, dReal, dFake *autograd.Node) *autograd.Node {
			return t.Add(t.Mean(t.ReLU(t.Affine(dReal, -1, 1)), false), t.Mean(t.ReLU(t.AddScalar(dFake, 1)), false))
		},
		G: func(t *autograd.Tape, dFake *autograd.Node) *autograd.Node {
			return t.Neg(t.Mean(dFake, false))
		},
	},
	// Arjovsky et al. 2017 with the gradient penalty of Gulrajani et al. 2017.
	"wasserstein": {
		Name:    "wasserstein",
		Formula: "D: E_Q D(G(z)) - E_P D(x) + λ E (|∇D(x̂)| - 1)²;  G: -E_Q D(G(z))",
		D: func(t *autograd.Tape, dReal, dFake *autograd.Node) *autograd.Node {
			return t.Sub(t.Mean(dFake, false), t.Mean(dReal, false))
		},
		G: func(t *autograd.Tape, dFake *autograd.Node) *autograd.Node {
			return t.Neg(t.Mean(dFake, false))
		},
		NeedsLipschitz: true,
	},
	// Mao et al. 2017 (LSGAN with targets 0 and 1).
	"leastsquares": {
		Name:    "leastsquares",
		Formula: "D: ½ E_P (D(x) - 1)² + ½ E_Q D(G(z))²;  G: ½ E_Q (D(G(z)) - 1)²",
		D: func(t *autograd.Tape, dReal, dFake *autograd.Node) *autograd.Node {
			return t.Scale(t.Add(t.Mean(t.Square(t.AddScalar(dReal, -1)), false), t.Mean(t.Square(dFake), false)), 0.5)
		},
		G: func(t *autograd.Tape, dFake *autograd.Node) *autograd.Node {
			return t.Scale(t.Mean(t.Square(t.AddScalar(dFake, -1)), false), 0.5)
		},
	},
}

// LossByName returns the named loss or an error listing the choices.
func LossByName(name string) (Loss, error) {
	if l, ok := Losses[name]; ok {
		return l, nil
	}
	names := make([]string, 0, len(Losses))
	for k := range Losses {
		names = append(names, k)
	}
	sort.Strings(names)
	return Loss{}, fmt.Errorf("unknown loss %q; want one of %s", name, strings.Join(names, ", "))
}

// gradNormSq returns, per row of x, |∂(Σ out)/∂x_row|² as a (batch) node
// recorded on the tape (create-graph), so it can sit inside a loss: the
// building block of R1 and the WGAN gradient penalty. out must be D's
// output on the batch x (one score per row).
func gradNormSq(t *autograd.Tape, out, x *autograd.Node) (*autograd.Node, error) {
	g, err := t.GradOf(t.Sum(out, false), x, true)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, fmt.Errorf("gradient penalty: D's output does not depend on its input")
	}
	g2 := t.Reshape(t.Square(g), x.Shape()[0], -1)
	return t.Sum(g2, false, 1), nil
}

// R1 is Mescheder et al. 2018's penalty γ/2 E_P |∇_x D(x)|² on real data,
// computed with second-order gradients. dReal must be D's output on xReal.
func R1(t *autograd.Tape, dReal, xReal *autograd.Node, gamma float32) (*autograd.Node, error) {
	n2, err := gradNormSq(t, dReal, xReal)
	if err != nil {
		return nil, err
	}
	return t.Scale(t.Mean(n2, false), gamma/2), nil
}

// GradientPenalty is Gulrajani et al. 2017's λ E (|∇D(x̂)| - 1)² at points
// x̂ between real and generated samples. dHat must be D's output on xHat.
func GradientPenalty(t *autograd.Tape, dHat, xHat *autograd.Node, lambda float32) (*autograd.Node, error) {
	n2, err := gradNormSq(t, dHat, xHat)
	if err != nil {
		return nil, err
	}
	// sqrt(n² + ε) keeps the gradient finite where the norm is 0.
	norm := t.Sqrt(t.AddScalar(n2, 1e-12))
	return t.Scale(t.Mean(t.Square(t.AddScalar(norm, -1)), false), lambda), nil
}
