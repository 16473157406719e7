package arch

import (
	"fmt"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

// ResNetOptions are the options of the resnet architecture.
type ResNetOptions struct {
	Width int `yaml:"width" help:"channels of every block of G and D"`
}

func init() {
	Register(Builder[ResNetOptions]{
		Name: "resnet",
		Doc: "the ResNet GAN of SNGAN (Miyato et al. 2018) and BigGAN, small: G of up-blocks (batch norm, ReLU, nearest upsampling, " +
			"3x3 convolutions, a 1x1 shortcut), D of pre-activation down-blocks (average pooling) and sum pooling; 28, 32 or 64 pixels",
		Kind:     Images,
		Defaults: ResNetOptions{Width: 64},
		Check: func(o *ResNetOptions, d Data) error {
			_, _, err := resnetSteps(o, d)
			return err
		},
		G: func(o *ResNetOptions, latent int, d Data, rng *tensor.RNG) (nn.Module, error) {
			return NewResNetGenerator(o, latent, d, rng)
		},
		D: func(o *ResNetOptions, d Data, rng *tensor.RNG) (nn.Module, error) {
			return NewResNetDiscriminator(o, d, rng)
		},
	})
}

// resnetSteps returns G's start size and the number of ×2 blocks: 7 and 2
// for 28 pixels, 4 and 3 for 32, 4 and 4 for 64.
func resnetSteps(o *ResNetOptions, d Data) (start, n int, err error) {
	if start, n, err = SquarePlan("resnet", d); err != nil {
		return 0, 0, err
	}
	if o.Width < 1 || o.Width > MaxWidth {
		return 0, 0, fmt.Errorf("width: must be 1 to %d, got %d", MaxWidth, o.Width)
	}
	return start, n, nil
}

// ResUp is a generator block: x + F(x) at twice the size, with
// F = conv2 ∘ ReLU ∘ BN ∘ conv1 ∘ upsample ∘ ReLU ∘ BN and the shortcut a
// 1×1 convolution of the upsampled x. Children: bn1, conv1, bn2, conv2,
// shortcut.
type ResUp struct {
	nn.Base
	BN1, BN2     *nn.BatchNorm
	Conv1, Conv2 *nn.Conv2D
	Shortcut     *nn.Conv2D
}

// NewResUp makes an up-block from in to out channels.
func NewResUp(in, out int, rng *tensor.RNG) *ResUp {
	b := &ResUp{}
	b.BN1 = nn.Add(&b.Base, "bn1", nn.NewBatchNorm(in))
	b.Conv1 = nn.Add(&b.Base, "conv1", nn.NewConv2D(in, out, 3, 1, 1, true, rng))
	b.BN2 = nn.Add(&b.Base, "bn2", nn.NewBatchNorm(out))
	b.Conv2 = nn.Add(&b.Base, "conv2", nn.NewConv2D(out, out, 3, 1, 1, true, rng))
	b.Shortcut = nn.Add(&b.Base, "shortcut", nn.NewConv2D(in, out, 1, 1, 0, true, rng))
	return b
}

// Forward maps x (N, H, W, in) to (N, 2H, 2W, out).
func (b *ResUp) Forward(c *nn.Ctx, x *autograd.Node) *autograd.Node {
	t := c.Tape
	h := t.ReLU(b.BN1.Forward(c, x))
	h = b.Conv1.Forward(c, nn.Upsample2D(t, h, 2))
	h = b.Conv2.Forward(c, t.ReLU(b.BN2.Forward(c, h)))
	return t.Add(h, b.Shortcut.Forward(c, nn.Upsample2D(t, x, 2)))
}

// ResDown is a discriminator block: x + F(x), with F = conv2 ∘ ReLU ∘
// conv1 ∘ ReLU (the first ReLU left out in D's first block, which sees
// the image), both followed by 2×2 average pooling when the block
// downsamples; the shortcut is a 1×1 convolution (then the pooling) when
// the channels change or the block downsamples, else x. Children: conv1,
// conv2 and shortcut (if any).
type ResDown struct {
	nn.Base
	Conv1, Conv2 *nn.Conv2D
	Shortcut     *nn.Conv2D // nil for the identity
	Down, Preact bool
}

// NewResDown makes a down-block from in to out channels.
func NewResDown(in, out int, down, preact bool, rng *tensor.RNG) *ResDown {
	b := &ResDown{Down: down, Preact: preact}
	b.Conv1 = nn.Add(&b.Base, "conv1", nn.NewConv2D(in, out, 3, 1, 1, true, rng))
	b.Conv2 = nn.Add(&b.Base, "conv2", nn.NewConv2D(out, out, 3, 1, 1, true, rng))
	if in != out || down {
		b.Shortcut = nn.Add(&b.Base, "shortcut", nn.NewConv2D(in, out, 1, 1, 0, true, rng))
	}
	return b
}

// Forward maps x (N, H, W, in) to (N, H/2, W/2, out) when it downsamples,
// (N, H, W, out) otherwise.
func (b *ResDown) Forward(c *nn.Ctx, x *autograd.Node) *autograd.Node {
	t := c.Tape
	h := x
	if b.Preact {
		h = t.ReLU(h)
	}
	h = b.Conv2.Forward(c, b.Conv1.ForwardReLU(c, h))
	sc := x
	if b.Shortcut != nil {
		sc = b.Shortcut.Forward(c, x)
	}
	if b.Down {
		h, sc = nn.AvgPool2D(t, h, 2), nn.AvgPool2D(t, sc, 2)
	}
	return t.Add(h, sc)
}

// ResNetGenerator maps z through a Linear layer to a start×start map of
// Width channels, up-blocks to the image size, then batch norm, ReLU, a
// 3×3 convolution to the image's channels and tanh. Children: fc,
// blocks.0, blocks.1, ..., bn, out.
type ResNetGenerator struct {
	nn.Base
	Data   Data
	FC     *nn.Linear
	Blocks []*ResUp
	BN     *nn.BatchNorm
	Out    *nn.Conv2D
	start  int
}

// NewResNetGenerator builds the generator.
func NewResNetGenerator(o *ResNetOptions, latent int, d Data, rng *tensor.RNG) (*ResNetGenerator, error) {
	start, n, err := resnetSteps(o, d)
	if err != nil {
		return nil, err
	}
	g := &ResNetGenerator{Data: d, start: start}
	ch := o.Width
	g.FC = nn.Add(&g.Base, "fc", nn.NewLinear(latent, start*start*ch, true, rng))
	for i := range n {
		g.Blocks = append(g.Blocks, nn.Add(&g.Base, fmt.Sprintf("blocks.%d", i), NewResUp(ch, ch, rng)))
	}
	g.BN = nn.Add(&g.Base, "bn", nn.NewBatchNorm(ch))
	g.Out = nn.Add(&g.Base, "out", nn.NewConv2D(ch, d.Channels, 3, 1, 1, true, rng))
	return g, nil
}

// Start is the side of the first map, which FC's output fills
// channel-last: (N, Start, Start, Width).
func (g *ResNetGenerator) Start() int { return g.start }

// Forward maps z, shape (N, latent), to images, shape (N, H·W·C).
func (g *ResNetGenerator) Forward(c *nn.Ctx, z *autograd.Node) *autograd.Node {
	t := c.Tape
	n := z.Shape()[0]
	h := t.Reshape(g.FC.Forward(c, z), n, g.start, g.start, -1)
	for _, b := range g.Blocks {
		h = b.Forward(c, h)
	}
	h = g.Out.Forward(c, t.ReLU(g.BN.Forward(c, h)))
	return t.Reshape(t.Tanh(h), n, -1)
}

// ResNetDiscriminator maps an image through down-blocks (as many as G has
// up-blocks) and one block at the final size, then ReLU, a sum over the
// pixels and a Linear layer to one logit. Children: blocks.0, ..., fc.
type ResNetDiscriminator struct {
	nn.Base
	Data   Data
	Blocks []*ResDown
	FC     *nn.Linear
}

// NewResNetDiscriminator builds the discriminator.
func NewResNetDiscriminator(o *ResNetOptions, d Data, rng *tensor.RNG) (*ResNetDiscriminator, error) {
	_, n, err := resnetSteps(o, d)
	if err != nil {
		return nil, err
	}
	dis := &ResNetDiscriminator{Data: d}
	in := d.Channels
	for i := range n + 1 {
		b := NewResDown(in, o.Width, i < n, i > 0, rng)
		dis.Blocks = append(dis.Blocks, nn.Add(&dis.Base, fmt.Sprintf("blocks.%d", i), b))
		in = o.Width
	}
	dis.FC = nn.Add(&dis.Base, "fc", nn.NewLinear(o.Width, 1, true, rng))
	return dis, nil
}

// Forward maps images, shape (N, H·W·C) channel-last, to logits (N, 1).
func (d *ResNetDiscriminator) Forward(c *nn.Ctx, x *autograd.Node) *autograd.Node {
	t := c.Tape
	n := x.Shape()[0]
	h := t.Reshape(x, n, d.Data.Height, d.Data.Width, d.Data.Channels)
	for _, b := range d.Blocks {
		h = b.Forward(c, h)
	}
	h = t.Sum(t.ReLU(h), false, 1, 2) // sum pooling: (N, Width)
	return d.FC.Forward(c, h)
}
