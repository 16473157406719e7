package arch

import (
	"fmt"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

// BigGANOptions are the options of the biggan architecture. Each
// stabilisation technique of the architecture can be switched off, for
// ablations.
type BigGANOptions struct {
	Width       int    `yaml:"width" help:"channels of every block of G and D"`
	Conditional string `yaml:"conditional" help:"class-conditional (conditional batch norm from a shared class embedding in G, a projection discriminator): true (needs labelled data), false, or auto (when the data have two classes or more)"`
	SharedDim   int    `yaml:"shared_dim" help:"width of G's shared class embedding"`
	Hier        bool   `yaml:"hier" help:"hierarchical latent: z split into one chunk for the first layer and one per block, fed to the blocks' batch norms"`
	Attention   int    `yaml:"attention" help:"resolution of self-attention in G and D (0: none; -1: half the image size)"`
	SN          bool   `yaml:"spectral_norm" help:"spectral normalisation of every weight of G and D (not G's shared embedding)"`
	Ortho       bool   `yaml:"ortho_init" help:"orthogonal initialisation of every weight (else PyTorch's defaults)"`
	DPlain      int    `yaml:"d_plain_blocks" help:"blocks without downsampling at the end of D"`
}

func init() {
	Register(Builder[BigGANOptions]{
		Name: "biggan",
		Doc: "BigGAN (Brock et al. 2019) at small scale: ResNet G and D, spectral norm, shared class embedding and " +
			"hierarchical z into conditional batch norm, self-attention, projection discriminator; 28, 32 or 64 pixels",
		Kind: Images,
		Defaults: BigGANOptions{Width: 64, Conditional: "auto", SharedDim: 128, Hier: true, Attention: -1, SN: true, Ortho: true,
			DPlain: 2},
		Conditional: func(o *BigGANOptions, d Data) bool { return o.conditional(d) },
		Check: func(o *BigGANOptions, d Data) error {
			_, err := newBigGANPlan(o, d)
			return err
		},
		G: func(o *BigGANOptions, latent int, d Data, rng *tensor.RNG) (nn.Module, error) {
			return NewBigGANGenerator(o, latent, d, rng)
		},
		D: func(o *BigGANOptions, d Data, rng *tensor.RNG) (nn.Module, error) {
			return NewBigGANDiscriminator(o, d, rng)
		},
	})
}

// conditional decides whether the model is class-conditional on d.
func (o *BigGANOptions) conditional(d Data) bool {
	switch o.Conditional {
	case "true", "yes":
		return true
	case "auto", "":
		return len(d.Classes) >= 2
	}
	return false
}

// bigganPlan is the shape of a BigGAN for a data shape.
type bigganPlan struct {
	start, ups int // G: start×start, then ups doublings
	downs      int // D's downsampling blocks
	attnG      int // index of G's block after which attention runs (-1: none)
	attnD      int // index of D's block after which attention runs (-1: none)
}

func newBigGANPlan(o *BigGANOptions, d Data) (bigganPlan, error) {
	start, ups, err := SquarePlan("biggan", d)
	if err != nil {
		return bigganPlan{}, err
	}
	switch {
	case o.Conditional != "" && o.Conditional != "auto" && o.Conditional != "true" && o.Conditional != "false" && o.Conditional != "yes" && o.Conditional != "no":
		return bigganPlan{}, fmt.Errorf("conditional: %q; want true, false or auto", o.Conditional)
	case o.Width < 8:
		return bigganPlan{}, fmt.Errorf("width: must be at least 8 (attention divides it by 8), got %d", o.Width)
	case o.Width > MaxWidth:
		return bigganPlan{}, fmt.Errorf("width: must be at most %d, got %d", MaxWidth, o.Width)
	case o.conditional(d) && (o.SharedDim < 1 || o.SharedDim > MaxWidth):
		return bigganPlan{}, fmt.Errorf("shared_dim: a conditional model needs a shared embedding of width 1 to %d, got %d", MaxWidth, o.SharedDim)
	case o.DPlain < 0 || o.DPlain > 16:
		return bigganPlan{}, fmt.Errorf("d_plain_blocks: must be 0 to 16, got %d", o.DPlain)
	}
	// D halves the image while it is larger than 8×8 (BigGAN-PyTorch's
	// CIFAR discriminator ends at 8×8; 28×28 images end at 7×7), then runs
	// its plain blocks.
	p := bigganPlan{start: start, ups: ups, attnG: -1, attnD: -1}
	for s := d.Height; s > 8; s /= 2 {
		p.downs++
	}
	attn := o.Attention
	if attn < 0 {
		attn = d.Height / 2
	}
	if attn != 0 {
		for k := range ups {
			if start<<(k+1) == attn {
				p.attnG = k
			}
		}
		for k := range p.downs {
			if d.Height>>(k+1) == attn {
				p.attnD = k
			}
		}
		if p.attnG < 0 || p.attnD < 0 || attn%2 != 0 {
			var res []int
			for k := range p.downs {
				res = append(res, d.Height>>(k+1))
			}
			return p, fmt.Errorf("attention: %d is not a resolution where both G and D can attend for %s; use one of %v, 0 (none) or -1 (half the size)", attn, d, res)
		}
	}
	return p, nil
}

// bigganNorm is a batch norm of a G block: conditional (a module reading
// nn.Ctx.Cond) or plain.
func bigganNorm(o *BigGANOptions, c, ydim int, rng *tensor.RNG) nn.Module {
	if ydim > 0 {
		return nn.NewConditionalBatchNorm(c, ydim, rng)
	}
	return nn.NewBatchNorm(c)
}

// BigGANUp is G's block: norm → ReLU → upsample → conv3×3 → norm → ReLU →
// conv3×3, plus upsample → conv1×1 (computed as conv1×1 → upsample: a 1×1
// convolution commutes with nearest upsampling, value for value, and costs
// a quarter on the small image); the norms read the block's conditioning
// vector. Children: bn1, conv1, bn2, conv2, shortcut.
type BigGANUp struct {
	nn.Base
	BN1, BN2     nn.Module
	Conv1, Conv2 *nn.Conv2D
	Shortcut     *nn.Conv2D
}

func newBigGANUp(o *BigGANOptions, ydim int, rng *tensor.RNG) *BigGANUp {
	c := o.Width
	b := &BigGANUp{}
	b.BN1 = nn.Add(&b.Base, "bn1", bigganNorm(o, c, ydim, rng))
	b.Conv1 = nn.Add(&b.Base, "conv1", nn.NewConv2D(c, c, 3, 1, 1, true, rng))
	b.BN2 = nn.Add(&b.Base, "bn2", bigganNorm(o, c, ydim, rng))
	b.Conv2 = nn.Add(&b.Base, "conv2", nn.NewConv2D(c, c, 3, 1, 1, true, rng))
	b.Shortcut = nn.Add(&b.Base, "shortcut", nn.NewConv2D(c, c, 1, 1, 0, true, rng))
	return b
}

// Forward maps x (N, H, W, C) to (N, 2H, 2W, C).
func (b *BigGANUp) Forward(c *nn.Ctx, x *autograd.Node) *autograd.Node {
	t := c.Tape
	h := nn.Upsample2D(t, normReLU(c, b.BN1, x), 2)
	h = b.Conv2.Forward(c, normReLU(c, b.BN2, b.Conv1.Forward(c, h)))
	return t.Add(h, nn.Upsample2D(t, b.Shortcut.Forward(c, x), 2))
}

// normReLU is ReLU(norm(x)), one op where the norm fuses the ReLU
// (nn.ConditionalBatchNorm's ForwardReLU).
func normReLU(c *nn.Ctx, norm nn.Module, x *autograd.Node) *autograd.Node {
	if f, ok := norm.(interface {
		ForwardReLU(*nn.Ctx, *autograd.Node) *autograd.Node
	}); ok {
		return f.ForwardReLU(c, x)
	}
	return c.Tape.ReLU(norm.Forward(c, x))
}

// BigGANGenerator is BigGAN's G: z (split into chunks when hierarchical),
// a Linear layer to a start×start map, up-blocks whose batch norms are
// conditioned on [z_k, shared(class)], self-attention at one resolution,
// then batch norm, ReLU, a 3×3 convolution to the image's channels and
// tanh. For 32×32×3 with the defaults it is ../shared/bench's G32.
// Children: shared (conditional), fc, blocks.0, ..., attention, bn, out.
type BigGANGenerator struct {
	nn.Base
	Opt    BigGANOptions
	Data   Data
	Shared *nn.Embedding // nil unless conditional
	FC     *nn.Linear
	Blocks []*BigGANUp
	Attn   *nn.SelfAttention // nil without attention
	BN     *nn.BatchNorm
	Out    *nn.Conv2D
	plan   bigganPlan
	chunk  int // latent chunk width (hierarchical), else latent
}

// NewBigGANGenerator builds G.
func NewBigGANGenerator(o *BigGANOptions, latent int, d Data, rng *tensor.RNG) (*BigGANGenerator, error) {
	p, err := newBigGANPlan(o, d)
	if err != nil {
		return nil, err
	}
	g := &BigGANGenerator{Opt: *o, Data: d, plan: p, chunk: latent}
	if o.Hier {
		if latent%(p.ups+1) != 0 {
			return nil, fmt.Errorf("latent: %d does not split into %d equal chunks (one for the first layer, one per block); use a multiple of %d", latent, p.ups+1, p.ups+1)
		}
		g.chunk = latent / (p.ups + 1)
	}
	ydim := 0
	if o.Hier {
		ydim += g.chunk
	}
	if o.conditional(d) {
		ydim += o.SharedDim
		g.Shared = nn.Add(&g.Base, "shared", nn.NewEmbedding(len(d.Classes), o.SharedDim, rng))
	}
	c := o.Width
	g.FC = nn.Add(&g.Base, "fc", nn.NewLinear(g.chunk, p.start*p.start*c, true, rng))
	for k := range p.ups {
		g.Blocks = append(g.Blocks, nn.Add(&g.Base, fmt.Sprintf("blocks.%d", k), newBigGANUp(o, ydim, rng)))
		if k == p.attnG {
			g.Attn = nn.Add(&g.Base, "attention", nn.NewSelfAttention(c, rng))
		}
	}
	g.BN = nn.Add(&g.Base, "bn", nn.NewBatchNorm(c))
	g.Out = nn.Add(&g.Base, "out", nn.NewConv2D(c, d.Channels, 3, 1, 1, true, rng))
	var skip []nn.Module
	if g.Shared != nil {
		skip = append(skip, g.Shared) // BigGAN does not normalise the shared embedding
	}
	if err := bigganFinish(g, o, rng, skip...); err != nil {
		return nil, err
	}
	return g, nil
}

// bigganFinish applies the orthogonal initialisation and the spectral
// norm that the options ask for (spectral norm not on skip).
func bigganFinish(m nn.Module, o *BigGANOptions, rng *tensor.RNG, skip ...nn.Module) error {
	if o.Ortho {
		nn.Walk(m, func(_ string, mm nn.Module) {
			switch l := mm.(type) {
			case *nn.Linear:
				nn.InitOrthogonal(l.W, 1, rng)
			case *nn.Conv2D:
				nn.InitOrthogonal(l.W, 1, rng)
			case *nn.Embedding:
				nn.InitOrthogonal(l.W, 1, rng)
			}
		})
	}
	if o.SN {
		return nn.SpectralNormAll(m, rng, skip...)
	}
	return nil
}

// Start is the side of the first map, which FC's output fills
// channel-last: (N, Start, Start, Width).
func (g *BigGANGenerator) Start() int { return g.plan.start }

// Chunk is the width of each chunk of a hierarchical z (FC reads the
// first, block k the chunk k+1), or the whole latent size otherwise.
func (g *BigGANGenerator) Chunk() int { return g.chunk }

// AttentionAfter is the index of the block after which self-attention
// runs (-1: none).
func (g *BigGANGenerator) AttentionAfter() int { return g.plan.attnG }

// Forward maps z (N, latent) with c.Labels (conditional) to images
// (N, H·W·C).
func (g *BigGANGenerator) Forward(c *nn.Ctx, z *autograd.Node) *autograd.Node {
	t := c.Tape
	n := z.Shape()[0]
	prev := c.Cond
	defer func() { c.Cond = prev }()
	var e *autograd.Node
	if g.Shared != nil {
		if len(c.Labels) != n {
			return t.Failf("a conditional BigGAN needs %d labels, got %d", n, len(c.Labels))
		}
		e = g.Shared.Lookup(c, c.Labels)
	}
	first := z
	if g.Opt.Hier {
		first = t.Slice(z, 1, 0, g.chunk)
	}
	h := t.Reshape(g.FC.Forward(c, first), n, g.plan.start, g.plan.start, g.Opt.Width)
	for k, b := range g.Blocks {
		var y *autograd.Node
		switch {
		case g.Opt.Hier && e != nil:
			y = t.Concat(1, t.Slice(z, 1, (k+1)*g.chunk, (k+2)*g.chunk), e)
		case g.Opt.Hier:
			y = t.Slice(z, 1, (k+1)*g.chunk, (k+2)*g.chunk)
		default:
			y = e
		}
		c.Cond = y
		h = b.Forward(c, h)
		if k == g.plan.attnG {
			h = g.Attn.Forward(c, h)
		}
	}
	h = g.Out.Forward(c, g.BN.ForwardReLU(c, h))
	return t.Reshape(t.Tanh(h), n, -1)
}

// BigGANDown is D's block: (ReLU →) conv3×3 → ReLU → conv3×3 (→ average
// pooling), plus a shortcut that is a 1×1 convolution (of the pooled x
// when downsampling; pooling and a 1×1 convolution commute) when the block
// downsamples or changes the channels, else x. Children: conv1, conv2,
// shortcut (if any).
type BigGANDown struct {
	nn.Base
	Conv1, Conv2 *nn.Conv2D
	Shortcut     *nn.Conv2D
	Down, Preact bool
}

// NewBigGANDown makes a D block from in to out channels.
func NewBigGANDown(in, out int, down, preact bool, rng *tensor.RNG) *BigGANDown {
	b := &BigGANDown{Down: down, Preact: preact}
	b.Conv1 = nn.Add(&b.Base, "conv1", nn.NewConv2D(in, out, 3, 1, 1, true, rng))
	b.Conv2 = nn.Add(&b.Base, "conv2", nn.NewConv2D(out, out, 3, 1, 1, true, rng))
	if down || in != out {
		b.Shortcut = nn.Add(&b.Base, "shortcut", nn.NewConv2D(in, out, 1, 1, 0, true, rng))
	}
	return b
}

// Forward maps x (N, H, W, in) to (N, H/2, W/2, out) when it downsamples.
func (b *BigGANDown) Forward(c *nn.Ctx, x *autograd.Node) *autograd.Node {
	t := c.Tape
	h := x
	if b.Preact {
		h = t.ReLU(h)
	}
	h = b.Conv2.Forward(c, b.Conv1.ForwardReLU(c, h))
	sc := x
	if b.Down {
		h, sc = nn.AvgPool2D(t, h, 2), nn.AvgPool2D(t, x, 2)
	}
	if b.Shortcut != nil {
		sc = b.Shortcut.Forward(c, sc)
	}
	return t.Add(h, sc)
}

// BigGANDiscriminator is BigGAN's D: down-blocks (the first without
// pre-activation), self-attention at one resolution, plain blocks, ReLU,
// a sum over the pixels, and a linear output plus, when conditional, the
// projection ⟨embed(class), h⟩ (Miyato & Koyama 2018). For 32×32×3 with the
// defaults it is ../shared/bench's D32. Children: blocks.0, ...,
// attention, fc, embed (conditional).
type BigGANDiscriminator struct {
	nn.Base
	Opt    BigGANOptions
	Data   Data
	Blocks []*BigGANDown
	Attn   *nn.SelfAttention
	FC     *nn.Linear
	Embed  *nn.Embedding // nil unless conditional
	plan   bigganPlan
}

// NewBigGANDiscriminator builds D.
func NewBigGANDiscriminator(o *BigGANOptions, d Data, rng *tensor.RNG) (*BigGANDiscriminator, error) {
	p, err := newBigGANPlan(o, d)
	if err != nil {
		return nil, err
	}
	dis := &BigGANDiscriminator{Opt: *o, Data: d, plan: p}
	c, in := o.Width, d.Channels
	for k := range p.downs + o.DPlain {
		b := NewBigGANDown(in, c, k < p.downs, k > 0, rng)
		dis.Blocks = append(dis.Blocks, nn.Add(&dis.Base, fmt.Sprintf("blocks.%d", k), b))
		if k == p.attnD {
			dis.Attn = nn.Add(&dis.Base, "attention", nn.NewSelfAttention(c, rng))
		}
		in = c
	}
	dis.FC = nn.Add(&dis.Base, "fc", nn.NewLinear(c, 1, true, rng))
	if o.conditional(d) {
		dis.Embed = nn.Add(&dis.Base, "embed", nn.NewEmbedding(len(d.Classes), c, rng))
	}
	if err := bigganFinish(dis, o, rng); err != nil {
		return nil, err
	}
	return dis, nil
}

// Forward maps images (N, H·W·C) with c.Labels (conditional) to logits
// (N, 1).
func (d *BigGANDiscriminator) Forward(c *nn.Ctx, x *autograd.Node) *autograd.Node {
	t := c.Tape
	n := x.Shape()[0]
	h := t.Reshape(x, n, d.Data.Height, d.Data.Width, d.Data.Channels)
	for k, b := range d.Blocks {
		h = b.Forward(c, h)
		if k == d.plan.attnD {
			h = d.Attn.Forward(c, h)
		}
	}
	h = t.Sum(t.ReLU(h), false, 1, 2) // (N, C)
	out := d.FC.Forward(c, h)
	if d.Embed != nil {
		if len(c.Labels) != n {
			return t.Failf("a conditional BigGAN needs %d labels, got %d", n, len(c.Labels))
		}
		proj := t.Sum(t.Mul(d.Embed.Lookup(c, c.Labels), h), true, 1)
		out = t.Add(out, proj)
	}
	return out
}
