package bench

// FLOPs per unit of the workloads (Workload.Flops), the numerators of a
// result's gflops and peak_fraction.
//
// Counted: the multiply-adds of every matrix product a step computes, at 2
// FLOP each, forward and backward:
//
//   - linear layers and plain matrix products;
//   - convolutions: every kernel tap at every output position, zero
//     padding included, as the im2col GEMM computes them; transposed
//     convolutions: every tap at every input position (as the col2im GEMM,
//     and as the peer counts them);
//   - attention's batched products;
//   - spectral norm's matrix-vector products: σ = uᵀ·W·v in every pass, and
//     the power iteration (Wᵀu, then W·v) once per step per weight.
//
// The backward pass (first order, as optim.Descend runs it) computes, for
// each product on the way from a loss to the parameters being trained,
// the gradient of each operand that depends on them, each costing the
// forward product's multiply-adds again. So D's move computes no gradient
// for D's input (the data, or G's output held fixed), G's move computes
// D's input gradients but not its weight gradients (D is frozen there),
// and nothing flows into z. This is the peer's "precise" rule
// (../shared/bench/peer/torch_gan_bench.py, dcgan28_flops), which gives
// dcgan28 exactly 9,441,116,160.
//
// Not counted: the elementwise and memory-bound work (activations, batch
// norm, losses, residual sums, softmax, upsampling, pooling, embeddings),
// Adam, the EMA and data sampling; nor the padding of edge tiles that the
// GEMM computes and throws away.
//
// Per step (forward passes of one batch: G, D):
//
//	workload  FLOP per step          G pass    D pass    passes
//	toy       255,066,112 (0.255 G)  50.6 M    17.2 M    G, D on real, D on fake, D on fake again (G's move)
//	dcgan28   9,441,116,160 (9.44 G) 0.928 G   0.849 G   the same
//	biggan32  124,840,185,344 (125 G) 13.4 G   8.97 G    G without gradients, D on fake and real as one batch of 128,
//	                                                     a fresh G, D on it (G's move)
//
// Of biggan32's, forward passes are 53.6 G, backward 71.2 G, the power
// iterations 2.6 M. The peer's network computes G's 1×1 shortcut after
// the upsampling (126,954,114,560 FLOP per step); minmax computes it
// before (the same values, arch.BigGANUp), a quarter of its cost, and
// counts what it computes: the rate ratio against the peer is unaffected,
// the gflops and peak_fraction are of the products minmax runs. TestWorkloadFlopsMatchTheModels recounts these from
// the models themselves (the step's passes recorded on a tape and every
// product counted from its operands' shapes), so a change of a model or of
// the step that changes them fails there.
const (
	mm1024Flops   = 2 * 1024 * 1024 * 1024
	toyFlops      = 255_066_112
	dcgan28Flops  = 9_441_116_160
	biggan32Flops = 124_840_185_344
)
