package gan

import (
	"fmt"

	"github.com/minmaxgan/minmax/internal/gemm"
)

// Precision is the arithmetic of a training step's matrix products.
type Precision int

const (
	// Float32 computes every product in float32.
	Float32 Precision = iota
	// BFloat16 rounds the operands of the step's matrix products
	// (convolutions included, forward and backward) to bfloat16 and sums
	// their products in float32, with AVX-512 BF16: about twice the
	// multiply-adds per cycle. Weights, gradients, the optimisers' state,
	// batch-norm statistics, losses and penalties stay float32, and so does
	// everything outside Game.Step (evaluation, sampling).
	BFloat16
)

// String returns "fp32" or "bf16".
func (p Precision) String() string {
	if p == BFloat16 {
		return "bf16"
	}
	return "fp32"
}

// ParsePrecision reads "fp32" (or "") and "bf16".
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "fp32", "float32":
		return Float32, nil
	case "bf16", "bfloat16":
		return BFloat16, nil
	}
	return Float32, fmt.Errorf("%q: want fp32 or bf16", s)
}

// Available says why this CPU cannot compute in p, or nil when it can.
func (p Precision) Available() error {
	if p == BFloat16 && !gemm.HasBFloat16() {
		return fmt.Errorf("bf16 needs a CPU with AVX-512 BF16 (VDPBF16PS: Intel Cooper Lake or Sapphire Rapids, AMD Zen 4 or later); this one has none: use fp32")
	}
	return nil
}
