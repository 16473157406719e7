// Package nn builds layers on autograd: Linear and the MLP for now
// (convolutions, batch and spectral normalisation come with the image
// models), plus the standard initialisers.
//
// A layer owns its parameters (*autograd.Param) and has a Forward method
// that records its computation on a tape. Parameter names are
// hierarchical ("D.fc1.weight") so checkpoints can store them by name.
package nn
