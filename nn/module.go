package nn

import (
	"errors"
	"fmt"
	"strings"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/tensor"
)

// Ctx is what a forward pass carries besides its input: the tape that
// records it, the mode, and the condition. One Ctx is passed down through
// every child, so the mode and the condition reach all layers at once
// without new parameters in any Forward.
type Ctx struct {
	// Tape records the pass.
	Tape *autograd.Tape
	// Training selects training behaviour (batch statistics in batch norm,
	// running averages updated, power iterations of spectral norm); false
	// is evaluation mode. The mode travels with the pass rather than living
	// in the modules, so one model can be sampled in evaluation mode by
	// several goroutines, each with its own Ctx and tape.
	Training bool
	// Labels is the condition of a class-conditional model: one class per
	// sample of the batch (nil for an unconditional pass).
	Labels []int
	// Cond is a conditioning vector per sample, (N, width), that a model
	// computes from the labels (and, in BigGAN, a chunk of z) and sets
	// before running the layers that read it (ConditionalBatchNorm).
	Cond *autograd.Node
	// Step is the training step the pass belongs to (counted from 1; 0
	// outside training). Transforms that act once per step (a power
	// iteration) compare it with the last step they acted on.
	Step int
	// SyncBN makes batch norm in training mode take its statistics over
	// the rows of every rank of the tape's data-parallel group
	// (autograd.SyncBatchNorm over c.Tape's AllReducer) instead of this
	// process's rows alone.
	SyncBN bool
	// BatchStats makes batch norm in evaluation mode (Training false)
	// normalise by the batch's own statistics and fold them into its
	// running averages, as in training, while every other layer stays in
	// evaluation mode (spectral norm does not iterate): the passes that
	// accumulate BigGAN's standing statistics.
	BatchStats bool
}

// batchStats reports whether batch norm takes the batch's statistics.
func (c *Ctx) batchStats() bool { return c.Training || c.BatchStats }

// optParam records p on the tape, or returns nil for a nil p (a layer
// made without its bias).
func (c *Ctx) optParam(p *autograd.Param) *autograd.Node {
	if p == nil {
		return nil
	}
	return c.Tape.Param(p)
}

// Module is a layer or a model: a Forward function and named state. Every
// module embeds Base, which holds its parameters, buffers and children
// and satisfies the unexported part of the interface; nothing else is
// needed to take part in State, Params, checkpoints, the EMA and the
// optimisers.
type Module interface {
	// Forward records the module's computation of x on c.Tape.
	Forward(c *Ctx, x *autograd.Node) *autograd.Node
	base() *Base
}

// Base is the state of a module, embedded in every module type: its own
// parameters (trainable tensors) and buffers (persistent tensors that are
// not trained, e.g. batch norm's running statistics), in the order they
// were registered, its children, and the transforms attached to its
// parameters.
type Base struct {
	params   []param
	buffers  []buffer
	children []child
	err      error
}

type param struct {
	name string
	p    *autograd.Param
	t    Transform
}

type buffer struct {
	name string
	t    *tensor.Tensor
}

type child struct {
	name string
	m    Module
}

func (b *Base) base() *Base { return b }

func (b *Base) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf(""+format, args...)
	}
}

// checkName records an error for a name that is empty, has a leading,
// trailing or doubled dot, or is taken in b.
func (b *Base) checkName(name string) {
	if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		b.fail("bad state name %q", name)
		return
	}
	for _, p := range b.params {
		if p.name == name {
			b.fail("%q is registered twice", name)
		}
	}
	for _, x := range b.buffers {
		if x.name == name {
			b.fail("%q is registered twice", name)
		}
	}
	for _, c := range b.children {
		if c.name == name {
			b.fail("%q is registered twice", name)
		}
	}
}

// NewParam registers a trainable tensor of the given shape (zeros) under
// name ("weight", "bias") and returns it.
func (b *Base) NewParam(name string, shape ...int) *autograd.Param {
	b.checkName(name)
	p := autograd.NewParam(name, tensor.New(shape...))
	b.params = append(b.params, param{name: name, p: p})
	return p
}

// NewBuffer registers a persistent, untrained tensor of the given shape
// (zeros) under name ("running_mean") and returns it.
func (b *Base) NewBuffer(name string, shape ...int) *tensor.Tensor {
	b.checkName(name)
	t := tensor.New(shape...)
	b.buffers = append(b.buffers, buffer{name: name, t: t})
	return t
}

// Add registers m as a child of parent under name ("fc1", "blocks.0") and
// returns it. A child's state is named by the path to it:
// "blocks.0.conv1.weight".
func Add[M Module](parent *Base, name string, m M) M {
	parent.checkName(name)
	parent.children = append(parent.children, child{name: name, m: m})
	return m
}

// Weight returns the node of parameter p (one of b's) for this pass: its
// leaf on the tape, or, when a Transform is attached to p, the
// transform's output computed from that leaf. Layers read their weights
// through Weight, so a transform (spectral norm, weight standardisation)
// applies to any layer without a change to it.
func (b *Base) Weight(c *Ctx, p *autograd.Param) *autograd.Node {
	w := c.Tape.Param(p)
	for i := range b.params {
		if b.params[i].p == p && b.params[i].t != nil {
			return b.params[i].t.Apply(c, w)
		}
	}
	return w
}

// Transform computes the weight a layer uses from its raw, trained
// weight, as torch.nn.utils.parametrize does (spectral norm divides the
// weight by an estimate of its largest singular value). Its own persistent
// tensors (spectral norm's u) are buffers of the layer, saved with it.
type Transform interface {
	// Apply returns the weight to use in this pass, computed (and
	// differentiable) from the raw weight's node w.
	Apply(c *Ctx, w *autograd.Node) *autograd.Node
	// Buffers returns the transform's persistent tensors by short name
	// ("u"); they are registered as PARAM_NAME (e.g. "weight_u").
	Buffers() []Named
}

// Parametrize attaches t to the parameter of m named name (one of m's
// own, e.g. "weight") and registers t's buffers in m as name+"_"+key. It
// must be called before the module is rooted (Root), so that the
// buffers get their full names. A parameter takes one transform.
func Parametrize(m Module, name string, t Transform) error {
	b := m.base()
	for i := range b.params {
		if b.params[i].name != name {
			continue
		}
		if b.params[i].t != nil {
			return fmt.Errorf("parameter %q already has a transform", name)
		}
		b.params[i].t = t
		for _, buf := range t.Buffers() {
			b.checkName(name + "_" + buf.Name)
			b.buffers = append(b.buffers, buffer{name: name + "_" + buf.Name, t: buf.Tensor})
		}
		return b.err
	}
	return fmt.Errorf("the module has no parameter %q (it has %s)", name, strings.Join(paramNames(b), ", "))
}

// TransformOf returns the transform attached to m's own parameter name,
// or nil.
func TransformOf(m Module, name string) Transform {
	for _, p := range m.base().params {
		if p.name == name {
			return p.t
		}
	}
	return nil
}

func paramNames(b *Base) []string {
	var out []string
	for _, p := range b.params {
		out = append(out, p.name)
	}
	return out
}

// Named is a tensor with its name in a module's state.
type Named struct {
	Name   string
	Tensor *tensor.Tensor
}

// NamedParam is a parameter with its name in a module's state.
type NamedParam struct {
	Name  string
	Param *autograd.Param
}

// Walk calls f for m and every module below it, parents before children
// and children in the order they were added, with each one's path ("" for
// m, "blocks.0.conv1" below).
func Walk(m Module, f func(path string, m Module)) {
	walk("", m, f)
}

func walk(path string, m Module, f func(string, Module)) {
	f(path, m)
	for _, c := range m.base().children {
		walk(join(path, c.name), c.m, f)
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// Params returns m's parameters with their names, in a fixed order: each
// module's own parameters (in the order registered), then its children's,
// depth first. This order is the order of the optimisers' states and of
// the checkpoints' tensors.
func Params(m Module) []NamedParam {
	var out []NamedParam
	Walk(m, func(path string, m Module) {
		for _, p := range m.base().params {
			out = append(out, NamedParam{join(path, p.name), p.p})
		}
	})
	return out
}

// ParamList returns the parameters of Params without their names.
func ParamList(m Module) []*autograd.Param {
	var out []*autograd.Param
	for _, p := range Params(m) {
		out = append(out, p.Param)
	}
	return out
}

// Buffers returns m's buffers with their names, in the order of Params.
func Buffers(m Module) []Named {
	var out []Named
	Walk(m, func(path string, m Module) {
		for _, b := range m.base().buffers {
			out = append(out, Named{join(path, b.name), b.t})
		}
	})
	return out
}

// State returns everything a saved model needs, by name: the values of
// its parameters, then its buffers (PyTorch's state_dict). The tensors
// alias the live ones, so restoring into them restores the model.
func State(m Module) []Named {
	var out []Named
	for _, p := range Params(m) {
		out = append(out, Named{p.Name, p.Param.Value})
	}
	return append(out, Buffers(m)...)
}

// StateMap is State as a map, prefixed: prefix+"."+name (no prefix when
// prefix is "").
func StateMap(m Module, prefix string) map[string]*tensor.Tensor {
	out := map[string]*tensor.Tensor{}
	for _, s := range State(m) {
		out[join(prefix, s.Name)] = s.Tensor
	}
	return out
}

// Root names a model: every parameter's Name becomes name + "." + its path
// ("G.fc1.weight"), which the optimisers and the EMA use for their own
// state. It returns the first error met while the model was built
// (a name registered twice, a transform on a missing parameter).
func Root(m Module, name string) error {
	var errs []error
	Walk(m, func(path string, m Module) {
		b := m.base()
		if b.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", join(name, path), b.err))
		}
		for _, p := range b.params {
			p.p.Name = join(name, join(path, p.name))
		}
	})
	return errors.Join(errs...)
}

// NumParams counts the scalar parameters of a module.
func NumParams(m Module) int {
	n := 0
	for _, p := range Params(m) {
		n += p.Param.Value.Len()
	}
	return n
}
