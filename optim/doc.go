// Package optim holds the optimizers (Adam, SGD with momentum) and an
// exponential moving average of weights.
//
// An optimizer keeps its per-parameter state (Adam's moments, SGD's
// velocity) in its own tensors, outside the model, so that the two players
// of a GAN have separate optimizers and a checkpoint can save and restore
// every state by name (State). Step reads each Param's Grad and updates its
// Value in place; it allocates nothing.
package optim
