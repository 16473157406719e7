// Package arch is the registry of model architectures. An architecture is
// one file of this package that registers a name, a typed options struct
// with its defaults, a check of the options against the data, and the
// constructors of the generator G and the discriminator D (both
// nn.Module). The recipe names an architecture and its options
// (model.arch, model.OPTION in config.yaml); the CLI lists them in
// `minmax train --help`; generator files record them so that G can be
// rebuilt without anything else.
//
// Models map flattened samples: G takes latent codes (N, latent) to
// samples (N, Dim), D takes samples (N, Dim) to one logit each (N, 1).
// Images are channel-last (H, W, C) in [-1, 1]. Class-conditional models
// read the labels from nn.Ctx.Labels.
//
// Adding an architecture: write arch/NAME.go with its modules and an init
// function calling Register, and arch/NAME_test.go; see resnet.go for a
// small one.
package arch
