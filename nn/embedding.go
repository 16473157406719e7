package nn

import (
	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// Embedding is a table of K vectors of width D, looked up by class:
// PyTorch's nn.Embedding (weight N(0, 1)). Its state: "weight" (K, D).
type Embedding struct {
	Base
	K, D int
	W    *autograd.Param
}

// NewEmbedding makes a table of k vectors of width d, drawn N(0, 1).
func NewEmbedding(k, d int, rng *tensor.RNG) *Embedding {
	e := &Embedding{K: k, D: d}
	e.W = e.NewParam("weight", k, d)
	rng.Normal(e.W.Value.Data, 0, 1)
	return e
}

// Lookup returns the vectors of labels, shape (len(labels), D).
func (e *Embedding) Lookup(c *Ctx, labels []int) *autograd.Node {
	return c.Tape.Rows(e.Weight(c, e.W), labels)
}

// Forward looks up the pass's labels (c.Labels); x is not used.
func (e *Embedding) Forward(c *Ctx, _ *autograd.Node) *autograd.Node {
	return e.Lookup(c, c.Labels)
}
