// Package autograd is minmax's reverse-mode automatic differentiation.
//
// A Tape records operations eagerly, as they run (define by run). Each op's
// result is a *Node holding its value; Tape.Grad walks the tape backwards
// from a loss and returns gradients with respect to any chosen set of nodes
// (a model's parameters, or an input such as the real batch for an R1
// penalty).
//
// # Higher order
//
// Every backward rule is written with the tape's own differentiable ops (a
// matmul's gradient is two matmuls, ReLU's is a masked copy that is itself
// an op with a gradient). With CreateGraph the backward pass records those
// ops on the tape, so the gradients it returns are ordinary nodes that can be
// used inside a loss and differentiated again: this is how R1 and WGAN-GP
// penalties get gradients of gradients. Without CreateGraph the very same
// kernels run, but nothing is linked into the graph, so first-order training
// pays nothing for the capability.
//
// # Choosing what to differentiate
//
// Grad only computes what the requested gradients need: a node whose inputs
// cannot reach any requested target is skipped. So when a generator's loss
// runs through the discriminator, asking for the generator's parameters
// computes gradients through D's layers (with respect to their inputs) but
// never D's weight gradients, and leaves D's Param.Grad untouched.
//
// # Memory
//
// Node values live in an arena owned by the tape. Reset makes every node of
// the step invalid and recycles its memory; a training loop that repeats
// the same step reuses the same buffers in the same order, so a
// steady-state step allocates nothing on the heap. Using a node after its
// tape was Reset is reported as an error.
//
// # Errors
//
// Op methods never panic on bad shapes. The first error (shape mismatch,
// node from another tape, ...) is kept by the tape (a sticky error, as in
// bufio.Scanner); later ops become no-ops returning a placeholder, and
// Tape.Err, Tape.Grad and Tape.Backward report it. The message names the op
// and the shapes involved.
package autograd
