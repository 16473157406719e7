package onnxexport

import (
	"fmt"
	"slices"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/nn"
)

// module emits the nodes of m applied to x (NCHW for images) and returns
// its output: the ONNX form of each module type that G may hold. Each case
// mirrors the type's Forward in evaluation mode; a type not listed is
// refused with its path.
func (b *builder) module(m nn.Module, x value) (value, error) {
	path, ok := b.paths[m]
	if !ok {
		return value{}, fmt.Errorf("a module of type %T that is not a registered child of G", m)
	}
	b.visited[m] = true
	switch m := m.(type) {
	case *nn.Linear:
		return b.linear(path, m, x)
	case *nn.MLP:
		return b.mlp(path, m, x)
	case *nn.BatchNorm:
		return b.batchNorm(path, m, x)
	case *nn.ConditionalBatchNorm:
		return b.conditionalBatchNorm(path, m, x)
	case *nn.Conv2D:
		return b.conv(path, m, x)
	case *nn.ConvTranspose2D:
		return b.convTranspose(path, m, x)
	case *nn.SelfAttention:
		return b.attention(path, m, x)
	case *nn.Embedding: // Forward looks up the pass's labels
		return b.embedding(path, m)
	case *arch.DCGANGenerator:
		return b.dcgan(path, m, x)
	case *arch.ResNetGenerator:
		return b.resnet(path, m, x)
	case *arch.ResUp:
		return b.resUp(path, m, x)
	case *arch.BigGANGenerator:
		return b.biggan(path, m, x)
	case *arch.BigGANUp:
		return b.bigganUp(path, m, x)
	}
	return value{}, fmt.Errorf("%s: a module of type %T has no ONNX form in this exporter", full(path), m)
}

// weighter is what every module has through its nn.Base: the weight as
// the layer uses it in a pass.
type weighter interface {
	Weight(c *nn.Ctx, p *autograd.Param) *autograd.Node
}

// weight returns the value of m's parameter name (p) as m's Forward uses
// it in evaluation mode: with its transform applied (spectral norm: W/σ,
// σ = uᵀWv from the saved u and v, no power iteration).
func (b *builder) weight(path string, m nn.Module, name string, p *autograd.Param) ([]float32, error) {
	switch t := nn.TransformOf(m, name); t.(type) {
	case nil, *nn.SpectralNorm:
	default:
		return nil, fmt.Errorf("%s.%s: the weight transform %T has no ONNX form in this exporter", full(path), name, t)
	}
	w, ok := m.(weighter)
	if !ok {
		return nil, fmt.Errorf("%s: a module of type %T without nn.Base", full(path), m)
	}
	b.tape.Reset()
	n := w.Weight(b.ctx, p)
	if err := b.tape.Err(); err != nil {
		return nil, fmt.Errorf("%s.%s: %w", full(path), name, err)
	}
	out := append([]float32(nil), n.Data()...)
	b.tape.Reset()
	return out, nil
}

// raw returns a parameter that Forward reads as it is (t.Param: biases,
// shifts, attention's γ), refusing one with a transform, which Forward
// would not apply.
func (b *builder) raw(path string, m nn.Module, name string, p *autograd.Param) ([]float32, error) {
	if t := nn.TransformOf(m, name); t != nil {
		return nil, fmt.Errorf("%s.%s: a transform (%T) on a parameter its layer reads untransformed", full(path), name, t)
	}
	return append([]float32(nil), p.Value.Data...), nil
}

func (b *builder) wantShape(path, what string, x value, want ...int) error {
	if !slices.Equal(x.shape, want) {
		return fmt.Errorf("%s: %s of shape %s, want %s", full(path), what, shapeText(x.shape), shapeText(want))
	}
	return nil
}

// linear: y = x Wᵀ + b, one Gemm.
func (b *builder) linear(path string, l *nn.Linear, x value) (value, error) {
	if err := b.wantShape(path, "input", x, -1, l.In); err != nil {
		return value{}, err
	}
	w, err := b.weight(path, l, "weight", l.W)
	if err != nil {
		return value{}, err
	}
	in := []string{x.name, b.floats(full(path)+".weight", []int{l.Out, l.In}, w)}
	if l.B != nil {
		bias, err := b.raw(path, l, "bias", l.B)
		if err != nil {
			return value{}, err
		}
		in = append(in, b.floats(full(path)+".bias", []int{l.Out}, bias))
	}
	return value{b.node("Gemm", path, in, attrInt("transB", 1)), []int{-1, l.Out}}, nil
}

// activation applies a (an nn.Activation) to x.
func (b *builder) activation(path string, a nn.Activation, x value) (value, error) {
	var attrs []*onnx.AttributeProto
	op := ""
	switch a.Kind {
	case "", "none":
		return x, nil
	case "relu":
		op = "Relu"
	case "leakyrelu":
		op, attrs = "LeakyRelu", append(attrs, attrFloat("alpha", a.Slope))
	case "tanh":
		op = "Tanh"
	case "sigmoid":
		op = "Sigmoid"
	case "softplus":
		op = "Softplus"
	default:
		return value{}, fmt.Errorf("%s: the activation %q has no ONNX form in this exporter", full(path), a.Kind)
	}
	return value{b.node(op, path, []string{x.name}, attrs...), x.shape}, nil
}

// unary applies an elementwise op without attributes.
func (b *builder) unary(op, path string, x value) value {
	return value{b.node(op, path, []string{x.name}), x.shape}
}

// mlp: Linear layers with batch norm and the hidden activation between
// them, the output activation at the end.
func (b *builder) mlp(path string, m *nn.MLP, x value) (value, error) {
	var err error
	for i, l := range m.Layers {
		if x, err = b.module(l, x); err != nil {
			return value{}, err
		}
		if i+1 < len(m.Layers) {
			if m.Norms != nil {
				if x, err = b.module(m.Norms[i], x); err != nil {
					return value{}, err
				}
			}
			if x, err = b.activation(path, m.Hidden, x); err != nil {
				return value{}, err
			}
		}
	}
	return b.activation(path, m.Out, x)
}

// batchNorm normalises the channels (axis 1: features of (N, F), channels
// of NCHW maps) with the running statistics: BatchNormalization in
// inference mode, γ as the layer uses it (1 without an affine part).
func (b *builder) batchNorm(path string, n *nn.BatchNorm, x value) (value, error) {
	if len(x.shape) != 2 && len(x.shape) != 4 || x.shape[1] != n.Features {
		return value{}, fmt.Errorf("%s: batch norm of %d features on an input of shape %s", full(path), n.Features, shapeText(x.shape))
	}
	c := n.Features
	gamma, beta := make([]float32, c), make([]float32, c)
	if n.Gamma != nil {
		var err error
		if gamma, err = b.weight(path, n, "weight", n.Gamma); err != nil {
			return value{}, err
		}
		if beta, err = b.raw(path, n, "bias", n.Beta); err != nil {
			return value{}, err
		}
	} else {
		for i := range gamma {
			gamma[i] = 1
		}
	}
	p := full(path)
	in := []string{x.name,
		b.floats(p+".weight", []int{c}, gamma), b.floats(p+".bias", []int{c}, beta),
		b.floats(p+".running_mean", []int{c}, n.RunningMean.Data), b.floats(p+".running_var", []int{c}, n.RunningVar.Data)}
	return value{b.node("BatchNormalization", path, in, attrFloat("epsilon", n.Eps)), x.shape}, nil
}

// perChannel reshapes a (N, C) vector per sample so that it broadcasts
// over x's channels: (N, C, 1, 1) for maps.
func (b *builder) perChannel(path string, v, x value) value {
	if len(x.shape) == 2 {
		return v
	}
	shape := []int64{0, int64(x.shape[1])}
	for range len(x.shape) - 2 {
		shape = append(shape, 1)
	}
	s := append([]int{-1, x.shape[1]}, make([]int, len(x.shape)-2)...)
	for i := 2; i < len(s); i++ {
		s[i] = 1
	}
	return value{b.node("Reshape", path, []string{v.name, b.ints(shape...)}), s}
}

// conditionalBatchNorm: BN(x)·(1 + gain(cond)) + bias(cond).
func (b *builder) conditionalBatchNorm(path string, m *nn.ConditionalBatchNorm, x value) (value, error) {
	if b.cond == nil {
		return value{}, fmt.Errorf("%s: conditional batch norm outside a model that sets its condition", full(path))
	}
	h, err := b.module(m.BN, x)
	if err != nil {
		return value{}, err
	}
	gain, err := b.module(m.Gain, *b.cond)
	if err != nil {
		return value{}, err
	}
	bias, err := b.module(m.Bias, *b.cond)
	if err != nil {
		return value{}, err
	}
	gain = value{b.node("Add", path, []string{gain.name, b.scalar(1)}), gain.shape}
	gain, bias = b.perChannel(path, gain, x), b.perChannel(path, bias, x)
	h = value{b.node("Mul", path, []string{h.name, gain.name}), h.shape}
	return value{b.node("Add", path, []string{h.name, bias.name}), h.shape}, nil
}

// conv: a convolution of NCHW maps; minmax's kernel (O, K, K, I) turned
// into ONNX's (O, I, K, K).
func (b *builder) conv(path string, c *nn.Conv2D, x value) (value, error) {
	if len(x.shape) != 4 || x.shape[1] != c.In {
		return value{}, fmt.Errorf("%s: convolution of %d channels on an input of shape %s", full(path), c.In, shapeText(x.shape))
	}
	w, err := b.weight(path, c, "weight", c.W)
	if err != nil {
		return value{}, err
	}
	k := c.K
	p := full(path)
	in, err := b.kernelInputs(path, c, x, kernelToONNX(w, c.Out, c.In, k), []int{c.Out, c.In, k, k}, c.B, c.Out)
	if err != nil {
		return value{}, err
	}
	oh := (x.shape[2]+2*c.Pad-k)/c.Stride + 1
	ow := (x.shape[3]+2*c.Pad-k)/c.Stride + 1
	if oh < 1 || ow < 1 {
		return value{}, fmt.Errorf("%s: a %dx%d kernel on maps of %dx%d", p, k, k, x.shape[2], x.shape[3])
	}
	out := b.node("Conv", path, in, attrInts("kernel_shape", int64(k), int64(k)), attrInts("strides", int64(c.Stride), int64(c.Stride)),
		attrInts("pads", int64(c.Pad), int64(c.Pad), int64(c.Pad), int64(c.Pad)), attrInts("dilations", 1, 1), attrInt("group", 1))
	return value{out, []int{-1, c.Out, oh, ow}}, nil
}

// kernelToONNX reorders a kernel stored (a, K, K, b), as minmax's
// convolutions store theirs, into ONNX's (a, b, K, K).
func kernelToONNX(w []float32, a, bdim, k int) []float32 {
	wt := make([]float32, len(w))
	for x := range a {
		for i := range k {
			for j := range k {
				for y := range bdim {
					wt[((x*bdim+y)*k+i)*k+j] = w[((x*k+i)*k+j)*bdim+y]
				}
			}
		}
	}
	return wt
}

// kernelInputs are the inputs of a Conv or ConvTranspose node: x, the
// reordered kernel of the given ONNX shape, and the bias of out channels
// when the layer has one.
func (b *builder) kernelInputs(path string, m nn.Module, x value, kernel []float32, shape []int, bias *autograd.Param, out int) ([]string, error) {
	p := full(path)
	in := []string{x.name, b.floats(p+".weight", shape, kernel)}
	if bias != nil {
		v, err := b.raw(path, m, "bias", bias)
		if err != nil {
			return nil, err
		}
		in = append(in, b.floats(p+".bias", []int{out}, v))
	}
	return in, nil
}

// convTranspose: a transposed convolution of NCHW maps; minmax's kernel
// (I, K, K, O) turned into ONNX's (I, O, K, K).
func (b *builder) convTranspose(path string, c *nn.ConvTranspose2D, x value) (value, error) {
	if len(x.shape) != 4 || x.shape[1] != c.In {
		return value{}, fmt.Errorf("%s: transposed convolution of %d channels on an input of shape %s", full(path), c.In, shapeText(x.shape))
	}
	w, err := b.weight(path, c, "weight", c.W)
	if err != nil {
		return value{}, err
	}
	k := c.K
	in, err := b.kernelInputs(path, c, x, kernelToONNX(w, c.In, c.Out, k), []int{c.In, c.Out, k, k}, c.B, c.Out)
	if err != nil {
		return value{}, err
	}
	oh := (x.shape[2]-1)*c.Stride - 2*c.Pad + k + c.OutPad
	ow := (x.shape[3]-1)*c.Stride - 2*c.Pad + k + c.OutPad
	attrs := []*onnx.AttributeProto{attrInts("kernel_shape", int64(k), int64(k)), attrInts("strides", int64(c.Stride), int64(c.Stride)),
		attrInts("pads", int64(c.Pad), int64(c.Pad), int64(c.Pad), int64(c.Pad)), attrInts("dilations", 1, 1), attrInt("group", 1)}
	if c.OutPad != 0 {
		attrs = append(attrs, attrInts("output_padding", int64(c.OutPad), int64(c.OutPad)))
	}
	return value{b.node("ConvTranspose", path, in, attrs...), []int{-1, c.Out, oh, ow}}, nil
}

// upsample repeats every pixel of NCHW maps into an f×f block
// (nn.Upsample2D): Resize, nearest neighbour with the asymmetric
// coordinates and floor, so output pixel i reads input pixel ⌊i/f⌋.
func (b *builder) upsample(path string, x value, f int) value {
	scales := b.floats(fmt.Sprintf("const.scales[1,1,%d,%d]", f, f), []int{4}, []float32{1, 1, float32(f), float32(f)})
	out := b.node("Resize", path, []string{x.name, "", scales}, attrString("mode", "nearest"),
		attrString("coordinate_transformation_mode", "asymmetric"), attrString("nearest_mode", "floor"))
	return value{out, []int{-1, x.shape[1], x.shape[2] * f, x.shape[3] * f}}
}

// toMaps turns a Linear layer's output (N, s·s·C), which minmax reads as
// channel-last (N, s, s, C) maps, into NCHW maps.
func (b *builder) toMaps(path string, x value, s int) (value, error) {
	if len(x.shape) != 2 || s < 1 || x.shape[1]%(s*s) != 0 {
		return value{}, fmt.Errorf("%s: an output of shape %s does not make %dx%d maps", full(path), shapeText(x.shape), s, s)
	}
	c := x.shape[1] / (s * s)
	h := b.node("Reshape", path, []string{x.name, b.ints(0, int64(s), int64(s), int64(c))})
	h = b.node("Transpose", path, []string{h}, attrInts("perm", 0, 3, 1, 2))
	return value{h, []int{-1, c, s, s}}, nil
}

// embedding looks up the class input's rows of the table: Gather.
func (b *builder) embedding(path string, e *nn.Embedding) (value, error) {
	if b.class == nil {
		return value{}, fmt.Errorf("%s: a class embedding in a generator that is not class-conditional", full(path))
	}
	w, err := b.weight(path, e, "weight", e.W)
	if err != nil {
		return value{}, err
	}
	table := b.floats(full(path)+".weight", []int{e.K, e.D}, w)
	return value{b.node("Gather", path, []string{table, b.class.name}, attrInt("axis", 0)), []int{-1, e.D}}, nil
}

// attention is SAGAN's self-attention on NCHW maps: θ = conv(x),
// φ = maxpool(conv(x)), g = maxpool(conv(x)), β = softmax(θᵀφ) over the
// pooled positions, x + γ·conv(g βᵀ).
func (b *builder) attention(path string, a *nn.SelfAttention, x value) (value, error) {
	if len(x.shape) != 4 || x.shape[1] != a.C || x.shape[2]%2 != 0 || x.shape[3]%2 != 0 {
		return value{}, fmt.Errorf("%s: self-attention of %d channels on an input of shape %s", full(path), a.C, shapeText(x.shape))
	}
	h, w := x.shape[2], x.shape[3]
	hw := int64(h * w)
	pool := func(v value) value {
		out := b.node("MaxPool", path, []string{v.name}, attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2))
		return value{out, []int{-1, v.shape[1], v.shape[2] / 2, v.shape[3] / 2}}
	}
	theta, err := b.module(a.Theta, x)
	if err != nil {
		return value{}, err
	}
	phi, err := b.module(a.Phi, x)
	if err != nil {
		return value{}, err
	}
	g, err := b.module(a.G, x)
	if err != nil {
		return value{}, err
	}
	c8, c2 := int64(theta.shape[1]), int64(g.shape[1])
	phi, g = pool(phi), pool(g)
	th := b.node("Reshape", path, []string{theta.name, b.ints(0, c8, hw)})
	th = b.node("Transpose", path, []string{th}, attrInts("perm", 0, 2, 1))                                  // (N, HW, C/8)
	ph := b.node("Reshape", path, []string{phi.name, b.ints(0, c8, hw/4)})                                   // (N, C/8, HW/4)
	beta := b.node("Softmax", path, []string{b.node("MatMul", path, []string{th, ph})}, attrInt("axis", -1)) // (N, HW, HW/4)
	gg := b.node("Reshape", path, []string{g.name, b.ints(0, c2, hw/4)})                                     // (N, C/2, HW/4)
	bt := b.node("Transpose", path, []string{beta}, attrInts("perm", 0, 2, 1))                               // (N, HW/4, HW)
	o := b.node("MatMul", path, []string{gg, bt})                                                            // (N, C/2, HW)
	o = b.node("Reshape", path, []string{o, b.ints(0, c2, int64(h), int64(w))})
	ov, err := b.module(a.O, value{o, []int{-1, int(c2), h, w}})
	if err != nil {
		return value{}, err
	}
	gamma, err := b.raw(path, a, "gamma", a.Gamma)
	if err != nil {
		return value{}, err
	}
	scaled := b.node("Mul", path, []string{ov.name, b.floats(full(path)+".gamma", nil, gamma)})
	return value{b.node("Add", path, []string{x.name, scaled}), x.shape}, nil
}

// dcgan: Linear → maps → BN → ReLU → (ConvT → BN → ReLU)… → ConvT → tanh.
func (b *builder) dcgan(path string, g *arch.DCGANGenerator, z value) (value, error) {
	h, err := b.module(g.FC, z)
	if err != nil {
		return value{}, err
	}
	if h, err = b.toMaps(path, h, g.Start()); err != nil {
		return value{}, err
	}
	if len(g.Norms) != len(g.Ups) {
		return value{}, fmt.Errorf("%s: %d batch norms for %d up-steps", full(path), len(g.Norms), len(g.Ups))
	}
	if h, err = b.module(g.Norms[0], h); err != nil {
		return value{}, err
	}
	h = b.unary("Relu", path, h)
	for i, up := range g.Ups {
		if h, err = b.module(up, h); err != nil {
			return value{}, err
		}
		if i+1 < len(g.Ups) {
			if h, err = b.module(g.Norms[i+1], h); err != nil {
				return value{}, err
			}
			h = b.unary("Relu", path, h)
		}
	}
	return b.unary("Tanh", path, h), nil
}

// resnet: Linear → maps → up-blocks → BN → ReLU → conv → tanh.
func (b *builder) resnet(path string, g *arch.ResNetGenerator, z value) (value, error) {
	h, err := b.module(g.FC, z)
	if err != nil {
		return value{}, err
	}
	if h, err = b.toMaps(path, h, g.Start()); err != nil {
		return value{}, err
	}
	for _, blk := range g.Blocks {
		if h, err = b.module(blk, h); err != nil {
			return value{}, err
		}
	}
	return b.tail(path, g.BN, g.Out, h)
}

// tail is the end of the ResNet and BigGAN generators: BN → ReLU → conv →
// tanh.
func (b *builder) tail(path string, bn *nn.BatchNorm, out *nn.Conv2D, h value) (value, error) {
	h, err := b.module(bn, h)
	if err != nil {
		return value{}, err
	}
	if h, err = b.module(out, b.unary("Relu", path, h)); err != nil {
		return value{}, err
	}
	return b.unary("Tanh", path, h), nil
}

// upBlock is the ResNet and BigGAN up-block: conv2(ReLU(bn2(conv1(up(
// ReLU(bn1(x))))))) + shortcut(up(x)).
func (b *builder) upBlock(path string, bn1, bn2 nn.Module, conv1, conv2, shortcut *nn.Conv2D, x value) (value, error) {
	h, err := b.module(bn1, x)
	if err != nil {
		return value{}, err
	}
	if h, err = b.module(conv1, b.upsample(path, b.unary("Relu", path, h), 2)); err != nil {
		return value{}, err
	}
	if h, err = b.module(bn2, h); err != nil {
		return value{}, err
	}
	if h, err = b.module(conv2, b.unary("Relu", path, h)); err != nil {
		return value{}, err
	}
	sc, err := b.module(shortcut, b.upsample(path, x, 2))
	if err != nil {
		return value{}, err
	}
	return value{b.node("Add", path, []string{h.name, sc.name}), h.shape}, nil
}

func (b *builder) resUp(path string, u *arch.ResUp, x value) (value, error) {
	return b.upBlock(path, u.BN1, u.BN2, u.Conv1, u.Conv2, u.Shortcut, x)
}

func (b *builder) bigganUp(path string, u *arch.BigGANUp, x value) (value, error) {
	return b.upBlock(path, u.BN1, u.BN2, u.Conv1, u.Conv2, u.Shortcut, x)
}

// biggan: z split into chunks (hierarchical), the shared class embedding,
// Linear → maps → up-blocks whose batch norms read [z_k, shared(class)],
// self-attention after one block, BN → ReLU → conv → tanh.
func (b *builder) biggan(path string, g *arch.BigGANGenerator, z value) (value, error) {
	prev := b.cond
	defer func() { b.cond = prev }()
	chunk := g.Chunk()
	slice := func(k int) value {
		out := b.node("Slice", path, []string{z.name, b.ints(int64(k * chunk)), b.ints(int64((k + 1) * chunk)), b.ints(1)})
		return value{out, []int{-1, chunk}}
	}
	var e *value
	if g.Shared != nil {
		v, err := b.module(g.Shared, value{})
		if err != nil {
			return value{}, err
		}
		e = &v
	}
	first := z
	if g.Opt.Hier {
		first = slice(0)
	}
	h, err := b.module(g.FC, first)
	if err != nil {
		return value{}, err
	}
	if h, err = b.toMaps(path, h, g.Start()); err != nil {
		return value{}, err
	}
	for k, blk := range g.Blocks {
		var y *value
		switch {
		case g.Opt.Hier && e != nil:
			zk := slice(k + 1)
			cat := b.node("Concat", path, []string{zk.name, e.name}, attrInt("axis", 1))
			y = &value{cat, []int{-1, chunk + e.shape[1]}}
		case g.Opt.Hier:
			zk := slice(k + 1)
			y = &zk
		default:
			y = e
		}
		b.cond = y
		if h, err = b.module(blk, h); err != nil {
			return value{}, err
		}
		if k == g.AttentionAfter() {
			if g.Attn == nil {
				return value{}, fmt.Errorf("%s: attention after block %d but no attention layer", full(path), k)
			}
			if h, err = b.module(g.Attn, h); err != nil {
				return value{}, err
			}
		}
	}
	return b.tail(path, g.BN, g.Out, h)
}
