package bench

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/recipe"
	"github.com/minmaxgan/minmax/tensor"
)

// The FLOP counts of the GAN workloads (Workload.Flops) are checked here
// against a count taken from the models themselves: one training step's
// passes are recorded on a tape of the test's own, exactly as gan.Game.Step
// runs them, and every matrix product in the graphs is counted from its
// operands' shapes, forward and backward (see flopCounter). Nothing in
// the engine is instrumented.

// numel is the number of elements of a shape.
func numel(s []int) float64 {
	n := 1.0
	for _, d := range s {
		n *= float64(d)
	}
	return n
}

// productFlops returns 2 × the multiply-adds of n if n is a matrix
// product (a linear layer, a convolution, a transposed convolution, a
// batched product), else 0. A convolution counts every tap of its kernel
// at every output, zero padding included, as its im2col GEMM computes
// them; a transposed convolution every tap at every input, as its
// col2im GEMM.
func productFlops(n *autograd.Node) float64 {
	ins, out := n.Inputs(), n.Shape()
	if len(ins) < 2 {
		return 0
	}
	a, b := ins[0].Shape(), ins[1].Shape()
	switch n.Op() {
	case "MatMul": // (m, k)·(k, n), either transposed
		return 2 * numel(out) * numel(a) / float64(out[0])
	case "Linear", "LinearReLU": // x (batch, in) · wᵀ
		return 2 * numel(out) * float64(a[1])
	case "BatchMatMul": // (B, m, k)·(B, k, n)
		return 2 * numel(out) * numel(a) / float64(out[0]*out[1])
	case "Conv2D": // w (O, KH, KW, C): KH·KW·C per output
		return 2 * numel(out) * numel(b) / float64(b[0])
	case "ConvTranspose2D": // w (Cin, KH, KW, Cout): KH·KW·Cout per input
		return 2 * numel(a) * numel(b) / float64(b[0])
	case "Attention":
		qk, bv := attentionFlops(n)
		return qk + bv
	}
	return 0
}

// attentionFlops returns the FLOPs of the two products of an Attention
// node: q kᵀ (B, M, Dk)·(B, Dk, P) and β v (B, M, P)·(B, P, Dv).
func attentionFlops(n *autograd.Node) (qk, bv float64) {
	q, v := n.Inputs()[0].Shape(), n.Inputs()[2].Shape()
	bm := float64(q[0] * q[1])
	return 2 * bm * float64(v[1]*q[2]), 2 * bm * float64(v[1]*v[2])
}

// flopCounter counts the FLOPs of the matrix products of a training step.
//
// Forward: every product in the graphs, once per node. Backward (first
// order, as optim.Descend runs it): for each product on the way from the
// loss to the parameters being trained, its FLOPs again for each of its
// two operands that depends on those parameters (the input's gradient,
// the weight's gradient): the backward products have the forward's
// shape. So a frozen D passes gradients to its input without computing
// its weights' gradients, and no gradient is computed for the data or z.
type flopCounter struct {
	seen     map[*autograd.Node]bool
	fwd, bwd float64
	ops      map[string]int // products by op, for the log
}

// step counts the graph ending at loss: the forward of nodes not counted
// before, and the backward into wrt (none: a pass without gradients).
func (c *flopCounter) step(loss *autograd.Node, wrt []*autograd.Node) {
	if c.seen == nil {
		c.seen, c.ops = map[*autograd.Node]bool{}, map[string]int{}
	}
	target := map[*autograd.Node]bool{}
	for _, w := range wrt {
		target[w] = true
	}
	needs := map[*autograd.Node]bool{}
	var visit func(n *autograd.Node) bool
	done := map[*autograd.Node]bool{}
	visit = func(n *autograd.Node) bool {
		if done[n] {
			return needs[n]
		}
		done[n] = true
		need := target[n]
		for _, in := range n.Inputs() {
			if visit(in) {
				need = true
			}
		}
		needs[n] = need
		f := productFlops(n)
		if f > 0 && !c.seen[n] {
			c.seen[n] = true
			c.fwd += f
			c.ops[n.Op()]++
		}
		switch {
		case f > 0 && need && n.Op() == "Attention":
			// As the composition's two products: q kᵀ's for each of q
			// and k that needs a gradient, β v's for v and for β (when
			// q or k needs one).
			qk, bv := attentionFlops(n)
			ins := n.Inputs()
			for i, in := range ins {
				if needs[in] {
					c.bwd += [3]float64{qk, qk, bv}[i]
				}
			}
			if needs[ins[0]] || needs[ins[1]] {
				c.bwd += bv
			}
		case f > 0 && need:
			for _, in := range n.Inputs()[:2] {
				if needs[in] {
					c.bwd += f
				}
			}
		}
		return need
	}
	visit(loss)
}

// powerIterations returns the FLOPs of the power iterations of the
// spectrally normalised weights of ms: two matrix-vector products per
// weight per step (2·2·rows·cols), outside any graph.
func powerIterations(ms ...nn.Module) float64 {
	f := 0.0
	for _, m := range ms {
		nn.Walk(m, func(_ string, m nn.Module) {
			for _, p := range nn.Params(m) {
				if sn, ok := nn.TransformOf(m, p.Name).(*nn.SpectralNorm); ok {
					f += 4 * float64(len(sn.U.Data)*len(sn.V.Data))
				}
			}
		})
	}
	return f
}

func leaves(tp *autograd.Tape, m nn.Module) []*autograd.Node {
	var l []*autograd.Node
	for _, p := range nn.ParamList(m) {
		l = append(l, tp.Param(p))
	}
	return l
}

func normalLeaf(tp *autograd.Tape, rng *tensor.RNG, shape ...int) *autograd.Node {
	x := tensor.New(shape...)
	rng.Normal(x.Data, 0, 1)
	return tp.Leaf(x)
}

// stepFlops counts one step of gan.Game.Step with DSteps = 1 for G and D:
// the DCGAN step (G's pass recorded once; D on the real batch and on the
// generated one, D's update; D again on the generated batch, G's update)
// or, with joint, BigGAN-PyTorch's (G's pass without gradients; D on the
// generated and the real batch as one; D's update; a fresh G pass, D on
// it, G's update). labels is the number of classes (0: unconditional).
func stepFlops(g, d nn.Module, batch, latent, classes int, joint bool) (c flopCounter, pi float64) {
	rng := tensor.NewRNG(7)
	tp := autograd.NewTape()
	ctx := &nn.Ctx{Tape: tp, Training: true, Step: 1}
	var fakeLabels, jointLabels []int
	if classes > 0 {
		for range 2 * batch {
			jointLabels = append(jointLabels, rng.IntN(classes))
		}
		fakeLabels = jointLabels[:batch]
	}
	ctx.Labels = fakeLabels
	fake := g.Forward(ctx, normalLeaf(tp, rng, batch, latent))
	real := normalLeaf(tp, rng, fake.Shape()...)
	if joint {
		c.step(fake, nil)
		ctx.Labels = jointLabels
		out := d.Forward(ctx, tp.Concat(0, tp.Leaf(fake.Value()), real))
		c.step(tp.Sum(out, false), leaves(tp, d))
		ctx.Labels = fakeLabels
		fake = g.Forward(ctx, normalLeaf(tp, rng, batch, latent))
	} else {
		dReal := d.Forward(ctx, real)
		dFake := d.Forward(ctx, fake)
		c.step(tp.Add(tp.Sum(dReal, false), tp.Sum(dFake, false)), leaves(tp, d))
	}
	c.step(tp.Sum(d.Forward(ctx, fake), false), leaves(tp, g))
	if err := tp.Err(); err != nil {
		panic(err)
	}
	return c, powerIterations(g, d)
}

func workloadModels(t *testing.T, name string) (g, d nn.Module, batch, latent, classes int, joint bool) {
	t.Helper()
	switch name {
	case "toy", "dcgan28":
		// The workload's recipe, built as the workload builds it.
		var r recipe.Recipe
		if name == "toy" {
			r = toyRecipe(1)
		} else {
			r = dcgan28Recipe(1)
		}
		b, err := r.Build()
		if err != nil {
			t.Skipf("%s: %v", name, err)
		}
		cfg := b.Game.Config()
		return b.Game.G(), b.Game.D(), cfg.Batch, cfg.Latent, cfg.Classes, cfg.Joint
	case "biggan32":
		const classes, batch, latent = 10, 64, 120
		names := make([]string, classes)
		for i := range names {
			names[i] = strconv.Itoa(i)
		}
		spec, err := arch.Lookup("biggan")
		if err != nil {
			t.Fatal(err)
		}
		g, d, err := spec.Build(spec.Defaults(), latent, arch.ImageData(32, 32, 3, names), tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		return g, d, batch, latent, classes, true
	}
	t.Fatalf("no models for %s", name)
	return
}

// countAt counts a step at the workload's batch from steps of batch 1 and
// 2: every product's size is linear in the batch or independent of it
// (spectral norm's), so f(B) = f(1) + (B-1)·(f(2)-f(1)) exactly, and the
// test needs no full-size passes (biggan32's are 55 GFLOP).
func countAt(g, d nn.Module, batch, latent, classes int, joint bool) (fwd, bwd float64, ops map[string]int) {
	c1, _ := stepFlops(g, d, 1, latent, classes, joint)
	c2, _ := stepFlops(g, d, 2, latent, classes, joint)
	k := float64(batch - 1)
	return c1.fwd + k*(c2.fwd-c1.fwd), c1.bwd + k*(c2.bwd-c1.bwd), c1.ops
}

func TestWorkloadFlopsMatchTheModels(t *testing.T) {
	if w := MM1024(); w.Flops != 2*1024*1024*1024 {
		t.Errorf("mm1024: Workload.Flops = %.0f, want 2·1024³", w.Flops)
	}
	for _, name := range []string{"toy", "dcgan28", "biggan32"} {
		t.Run(name, func(t *testing.T) {
			g, d, batch, latent, classes, joint := workloadModels(t, name)
			fwd, bwd, ops := countAt(g, d, batch, latent, classes, joint)
			pi := powerIterations(g, d)
			total := fwd + bwd + pi
			var opl []string
			for _, o := range slices.Sorted(maps.Keys(ops)) {
				opl = append(opl, fmt.Sprintf("%s×%d", o, ops[o]))
			}
			t.Logf("%s: forward %.0f + backward %.0f + power iterations %.0f = %.0f FLOP per step (%.4g GFLOP); forward products %v",
				name, fwd, bwd, pi, total, total/1e9, opl)
			if w := Workloads[name](); w.Flops != total {
				t.Errorf("%s: Workload.Flops = %.0f, the models count %.0f", name, w.Flops, total)
			}
			if name == "toy" {
				// The extrapolation against a full-size count.
				c, _ := stepFlops(g, d, batch, latent, classes, joint)
				if c.fwd != fwd || c.bwd != bwd {
					t.Errorf("toy: batch %d counts %.0f + %.0f, extrapolated from 1 and 2: %.0f + %.0f", batch, c.fwd, c.bwd, fwd, bwd)
				}
			}
			if name == "dcgan28" {
				if want := peerDCGAN28Precise(batch); total != want {
					t.Errorf("dcgan28: the models count %.0f, the peer's precise rule %.0f", total, want)
				}
			}
		})
	}
}

// peerDCGAN28Precise is dcgan28_flops(B)["flops_per_step_precise"] of
// ../shared/bench/peer/torch_gan_bench.py, from its layer list: forward
// multiply-adds per layer, then G + 3 D forward, D's weight and input
// gradients (not its first layer's input) on real and fake, D's input
// gradients in G's move, G's weight and input gradients (not z's).
func peerDCGAN28Precise(batch int) float64 {
	b := float64(batch)
	gfc, gct1, gct2 := b*100*6272, b*7*7*128*64*16, b*14*14*64*1*16
	dc1, dc2, dfc := b*14*14*64*1*16, b*7*7*128*64*16, b*6272
	gf, df := gfc+gct1+gct2, dc1+dc2+dfc
	fwd := gf + 3*df
	bwd := 2*(df+(df-dc1)) + df + gf + (gf - gfc)
	return 2 * (fwd + bwd)
}
