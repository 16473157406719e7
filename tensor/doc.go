// Package tensor holds minmax's dense float32 tensors and the CPU kernels
// that compute on them.
//
// A Tensor is a row-major, contiguous block of float32 with a shape of at
// most MaxRank dimensions. The shape lives inside the Tensor value (no
// separate allocation), so tensors can be recycled by an arena without
// touching the heap: this is what lets a training step run with zero
// allocations.
//
// The kernels in this package work on raw slices and shapes and do no shape
// checking beyond what they need to stay in bounds; package autograd checks
// shapes and reports mismatches as errors that name the op and both shapes.
// Matrix products go to internal/gemm, the packed assembly SGEMM.
package tensor
