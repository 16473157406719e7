package arch

import (
	"fmt"
	"strings"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/tensor"
)

// DCGANOptions are the options of the dcgan architecture.
type DCGANOptions struct {
	Width int `yaml:"width" help:"base width: channels of G's last hidden layer and D's first, doubling toward the small end"`
}

func init() {
	Register(Builder[DCGANOptions]{
		Name:     "dcgan",
		Doc:      "the DCGAN of Radford et al. (2016), as PyTorch's DCGAN example: transposed convolutions up, strided convolutions down, batch norm; 28, 32 or 64 pixels",
		Kind:     Images,
		Defaults: DCGANOptions{Width: 64},
		Check: func(o *DCGANOptions, d Data) error {
			_, _, err := dcganSteps(o, d)
			return err
		},
		G: func(o *DCGANOptions, latent int, d Data, rng *tensor.RNG) (nn.Module, error) {
			return NewDCGANGenerator(o, latent, d, rng)
		},
		D: func(o *DCGANOptions, d Data, rng *tensor.RNG) (nn.Module, error) {
			return NewDCGANDiscriminator(o, d, rng)
		},
	})
}

// dcganSteps returns the start size (7 or 4) and the number of ×2 steps.
func dcganSteps(o *DCGANOptions, d Data) (start, n int, err error) {
	if start, n, err = SquarePlan("dcgan", d); err != nil {
		return 0, 0, err
	}
	if d.Channels != 1 && d.Channels != 3 {
		return 0, 0, fmt.Errorf("the dcgan architecture takes 1 or 3 channels, got %s", d)
	}
	if o.Width < 1 || o.Width > MaxWidth/2 {
		return 0, 0, fmt.Errorf("width: must be 1 to %d (the widest layer has 8 times as many channels), got %d", MaxWidth/2, o.Width)
	}
	return start, n, nil
}

// DCGANGenerator maps a latent code to an image: a Linear layer (no bias)
// to a start×start map, batch norm and ReLU, then transposed convolutions
// (kernel 4, stride 2, padding 1) that double the size, each followed by
// batch norm and ReLU except the last, which ends in tanh. For 28×28 with
// width 64 it is exactly the generator of ../shared/bench's dcgan28:
// Linear(100→128·7·7) → BN → ReLU → ConvT(128→64) → BN → ReLU →
// ConvT(64→1) → tanh. Images come out flattened, (N, H·W·C), channel-last.
// Children: fc, bn0, up1, bn1, up2, ...
type DCGANGenerator struct {
	nn.Base
	Data  Data
	FC    *nn.Linear
	Norms []*nn.BatchNorm // after FC and after every hidden up-step
	Ups   []*nn.ConvTranspose2D
	start int
}

// NewDCGANGenerator builds the generator with DCGAN's initialisation:
// weights N(0, 0.02), batch-norm scales N(1, 0.02), biases 0.
func NewDCGANGenerator(o *DCGANOptions, latent int, d Data, rng *tensor.RNG) (*DCGANGenerator, error) {
	start, n, err := dcganSteps(o, d)
	if err != nil {
		return nil, err
	}
	g := &DCGANGenerator{Data: d, start: start}
	ch := o.Width << (n - 1)
	g.FC = nn.Add(&g.Base, "fc", nn.NewLinear(latent, start*start*ch, false, rng))
	g.Norms = append(g.Norms, nn.Add(&g.Base, "bn0", nn.NewBatchNorm(ch)))
	for i := 1; i <= n; i++ {
		out := ch / 2
		last := i == n
		if last {
			out = d.Channels
		}
		g.Ups = append(g.Ups, nn.Add(&g.Base, fmt.Sprintf("up%d", i), nn.NewConvTranspose2D(ch, out, 4, 2, 1, last, rng)))
		if !last {
			g.Norms = append(g.Norms, nn.Add(&g.Base, fmt.Sprintf("bn%d", i), nn.NewBatchNorm(out)))
		}
		ch = out
	}
	dcganInit(g, rng)
	return g, nil
}

// Start is the side of the first map, which FC's output fills
// channel-last: (N, Start, Start, channels).
func (g *DCGANGenerator) Start() int { return g.start }

// Forward maps z, shape (N, latent), to images, shape (N, H·W·C).
func (g *DCGANGenerator) Forward(c *nn.Ctx, z *autograd.Node) *autograd.Node {
	t := c.Tape
	n := z.Shape()[0]
	h := g.FC.Forward(c, z)
	h = t.Reshape(h, n, g.start, g.start, -1)
	h = g.Norms[0].ForwardReLU(c, h)
	for i, up := range g.Ups {
		h = up.Forward(c, h)
		if i+1 < len(g.Ups) {
			h = g.Norms[i+1].ForwardReLU(c, h)
		}
	}
	return t.Reshape(t.Tanh(h), n, -1)
}

// DCGANDiscriminator maps an image to one logit: convolutions (kernel 4,
// stride 2, padding 1) that halve the size, each followed by LeakyReLU(0.2),
// with batch norm (and no bias) on all but the first, then a Linear layer.
// For 28×28 with width 64 it is exactly the discriminator of
// ../shared/bench's dcgan28: Conv(1→64) → LReLU → Conv(64→128, no bias) →
// BN → LReLU → Linear(128·7·7→1). Children: conv1, conv2, bn2, ..., fc.
type DCGANDiscriminator struct {
	nn.Base
	Data  Data
	Convs []*nn.Conv2D
	Norms []*nn.BatchNorm // Norms[i] follows Convs[i+1]
	FC    *nn.Linear
}

// NewDCGANDiscriminator builds the discriminator with DCGAN's
// initialisation.
func NewDCGANDiscriminator(o *DCGANOptions, d Data, rng *tensor.RNG) (*DCGANDiscriminator, error) {
	start, n, err := dcganSteps(o, d)
	if err != nil {
		return nil, err
	}
	dis := &DCGANDiscriminator{Data: d}
	in, ch := d.Channels, o.Width
	for i := 1; i <= n; i++ {
		dis.Convs = append(dis.Convs, nn.Add(&dis.Base, fmt.Sprintf("conv%d", i), nn.NewConv2D(in, ch, 4, 2, 1, i == 1, rng)))
		if i > 1 {
			dis.Norms = append(dis.Norms, nn.Add(&dis.Base, fmt.Sprintf("bn%d", i), nn.NewBatchNorm(ch)))
		}
		in, ch = ch, ch*2
	}
	dis.FC = nn.Add(&dis.Base, "fc", nn.NewLinear(start*start*in, 1, true, rng))
	dcganInit(dis, rng)
	return dis, nil
}

// Forward maps images, shape (N, H·W·C) channel-last, to logits, shape
// (N, 1).
func (d *DCGANDiscriminator) Forward(c *nn.Ctx, x *autograd.Node) *autograd.Node {
	t := c.Tape
	n := x.Shape()[0]
	h := t.Reshape(x, n, d.Data.Height, d.Data.Width, d.Data.Channels)
	for i, conv := range d.Convs {
		if i == 0 {
			h = conv.ForwardLeaky(c, h, 0.2)
			continue
		}
		h = d.Norms[i-1].ForwardLeaky(c, conv.Forward(c, h), 0.2)
	}
	return d.FC.Forward(c, t.Reshape(h, n, -1))
}

// dcganInit applies DCGAN's initialisation (Radford et al. 2016, as in
// PyTorch's DCGAN example) to every parameter of m, in the order of
// nn.Params: convolution and linear weights N(0, 0.02), batch-norm scales
// N(1, 0.02), every bias and shift 0.
func dcganInit(m nn.Module, rng *tensor.RNG) {
	for _, p := range nn.Params(m) {
		switch {
		case strings.HasSuffix(p.Name, ".bias"):
			nn.InitZero(p.Param)
		case p.Param.Value.Rank() == 1: // a batch-norm scale
			nn.InitNormal(p.Param, 1, 0.02, rng)
		default:
			nn.InitNormal(p.Param, 0, 0.02, rng)
		}
	}
}
