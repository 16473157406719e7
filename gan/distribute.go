package gan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/cluster"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/tensor"
)

// shard is what a game needs to be one rank of a synchronous
// data-parallel group (Distribute); nil for a single process.
type shard struct {
	comm   cluster.Comm
	syncBN bool
	weight float64 // this rank's rows over the global batch: its share of every mean
	// rowOf[b] is this rank's row holding image b of the global batch, or
	// -1; jointRowOf the same for the 2·Batch images D judges at once
	// (Joint: the generated batch, then the real one). DiffAugment's
	// ApplyRows reads them.
	rowOf, jointRowOf []int
	grads             []float32
	bn                []*tensor.Tensor // batch-norm running statistics, averaged over the ranks after each step
	bnBuf             []float32
	// extra are the current move's figures that sum rides along with the
	// gradients; sum is s.reduce, made once (a method value allocates).
	extra []float64
	sum   optim.Sync
}

// Distribute makes the game rank c.Rank() of a synchronous data-parallel
// group of c.Size() processes, each of which must call it (with the same
// recipe) before its first step.
//
// Config.Batch stays the global batch: every rank draws the whole batch's
// data, latent codes, classes and random augmentations from its random
// source, which stays identical on every rank, and computes on its own
// shard (cluster.Shard). Each rank's losses are means over its rows; its
// gradients are weighted by its share of the batch and summed across the
// ranks in one fused buffer per player before the update, so every rank
// applies the same update to the same weights, and the step is the one a
// single process computes with the whole batch, to float32 rounding.
// Spectral-norm vectors, the EMA of G and the data order follow and stay
// identical. Batch norm takes its statistics over each rank's rows, and
// the running averages are averaged across the ranks after each step;
// syncBN takes them over the whole batch instead (autograd.SyncBatchNorm),
// which is then the single process's batch norm too.
//
// Distribute first copies rank 0's whole state (State) to every rank, so a
// game restored from a checkpoint on rank 0 alone continues on all. A
// group of one leaves the game as it is.
func (g *Game) Distribute(c cluster.Comm, syncBN bool) error {
	if c == nil || c.Size() == 1 {
		return nil
	}
	if g.shard != nil {
		return fmt.Errorf("the game is already distributed")
	}
	n := c.Size()
	if g.cfg.Batch < n {
		return fmt.Errorf("a global batch of %d cannot be shared by %d ranks: each needs at least one sample (use a batch of at least %d, or fewer ranks)", g.cfg.Batch, n, n)
	}
	lo, hi := cluster.Shard(g.cfg.Batch, c.Rank(), n)
	s := &shard{comm: c, syncBN: syncBN, weight: float64(hi-lo) / float64(g.cfg.Batch)}
	s.sum = s.reduce
	s.rowOf = rowMap(g.cfg.Batch, lo, hi, 0)
	if g.cfg.judgesJointly() {
		// This rank holds its rows of the generated half, then of the
		// real half.
		s.jointRowOf = rowMap(2*g.cfg.Batch, lo, hi, 0)
		copy(s.jointRowOf[g.cfg.Batch:], rowMap(g.cfg.Batch, lo, hi, hi-lo))
	}
	if !syncBN {
		nn.Walk(g.g, func(_ string, m nn.Module) { s.bn = appendBN(s.bn, m) })
		nn.Walk(g.d, func(_ string, m nn.Module) { s.bn = appendBN(s.bn, m) })
	}
	if err := g.broadcastState(c); err != nil {
		return err
	}
	g.setRows(lo, hi)
	g.shard = s
	if syncBN {
		g.tp.SetAllReducer(c)
	}
	return nil
}

// rowMap is a batch of n images of which this rank holds [lo, hi), at
// its rows first, first+1, ...: -1 for the others.
func rowMap(n, lo, hi, first int) []int {
	m := make([]int, n)
	for b := range m {
		m[b] = -1
		if b >= lo && b < hi {
			m[b] = first + b - lo
		}
	}
	return m
}

func appendBN(list []*tensor.Tensor, m nn.Module) []*tensor.Tensor {
	if b, ok := m.(*nn.BatchNorm); ok {
		list = append(list, b.RunningMean, b.RunningVar)
	}
	return list
}

// Comm returns the group the game trains in (nil for a single process).
func (g *Game) Comm() cluster.Comm {
	if g.shard == nil {
		return nil
	}
	return g.shard.comm
}

// Rows returns this rank's part [lo, hi) of the global batch.
func (g *Game) Rows() (lo, hi int) { return g.lo, g.hi }

// setRows points the views of this rank's rows into the global buffers.
func (g *Game) setRows(lo, hi int) {
	g.lo, g.hi = lo, hi
	b := hi - lo
	view := func(t *tensor.Tensor) *tensor.Tensor {
		w := t.Dim(1)
		v, err := tensor.FromData(t.Data[lo*w:hi*w], b, w)
		if err != nil {
			panic(err) // unreachable: lo, hi are within the batch
		}
		return v
	}
	g.zLoc, g.realLoc, g.epsLoc = view(g.z), view(g.real), view(g.eps)
	if g.cfg.Classes > 0 {
		g.jointLabels = make([]int, 2*b)
	}
}

// broadcastState copies rank 0's state (tensors and metadata) to every
// rank, after checking that every rank's models have the same tensors.
func (g *Game) broadcastState(c cluster.Comm) error {
	st, err := g.State()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(st.Tensors))
	for k := range st.Tensors {
		names = append(names, k)
	}
	slices.Sort(names)
	var layout strings.Builder
	total := 0
	for _, k := range names {
		t := st.Tensors[k]
		fmt.Fprintf(&layout, "%s%s;", k, tensor.FormatShape(t.Shape()))
		total += t.Len()
	}
	if err := cluster.Agree(c, "the models' state (tensor names and shapes)", []byte(layout.String()), func(a, b []byte) string {
		return "its models' tensors differ from rank 0's (different architectures or options)"
	}); err != nil {
		return err
	}
	buf := make([]float32, total)
	if c.Rank() == 0 {
		off := 0
		for _, k := range names {
			off += copy(buf[off:], st.Tensors[k].Data)
		}
	}
	if err := cluster.BroadcastFloat32(c, buf, 0); err != nil {
		return err
	}
	meta, err := json.Marshal(st.Meta)
	if err != nil {
		return err
	}
	if meta, err = cluster.BroadcastBytes(c, meta, 0); err != nil {
		return err
	}
	if c.Rank() == 0 {
		return nil
	}
	off := 0
	for _, k := range names {
		off += copy(st.Tensors[k].Data, buf[off:])
	}
	m := map[string]string{}
	if err := json.Unmarshal(meta, &m); err != nil {
		return fmt.Errorf("rank 0's game metadata: %w", err)
	}
	return g.Restore(m)
}

// sync returns the gradient synchronisation of one player's move (nil for
// a single process): the gradients, the loss and the extra figures (each
// weighted by this rank's share), summed across the ranks in one buffer.
// extra is read before and overwritten by the sums after.
func (g *Game) sync(extra []float64) optim.Sync {
	if g.shard == nil {
		return nil
	}
	g.shard.extra = extra
	return g.shard.sum
}

// reduce is the optim.Sync of a move: see Game.sync.
func (s *shard) reduce(ps []*autograd.Param, loss float64) (float64, error) {
	extra := s.extra
	n := 0
	for _, p := range ps {
		n += p.Grad.Len()
	}
	if cap(s.grads) < n+1+len(extra) {
		s.grads = make([]float32, n+1+len(extra))
	}
	buf := s.grads[:n+1+len(extra)]
	// The losses were scaled by the weight before the backward pass, so
	// the gradients are already this rank's share.
	off := 0
	for _, p := range ps {
		off += copy(buf[off:], p.Grad.Data)
	}
	buf[n] = float32(loss)
	for i, v := range extra {
		buf[n+1+i] = float32(v * s.weight)
	}
	if err := s.comm.AllReduceFloat32(buf); err != nil {
		return 0, err
	}
	off = 0
	for _, p := range ps {
		off += copy(p.Grad.Data, buf[off:off+p.Grad.Len()])
	}
	for i := range extra {
		extra[i] = float64(buf[n+1+i])
	}
	return float64(buf[n]), nil
}

// scaleLoss weights a rank's loss by its share of the global batch.
func (g *Game) scaleLoss(tp *autograd.Tape, loss *autograd.Node) *autograd.Node {
	if g.shard == nil {
		return loss
	}
	return tp.Scale(loss, float32(g.shard.weight))
}

// allMeans replaces per-rank means by the global batch's (weighted sums
// across the ranks).
func (g *Game) allMeans(v []float64) error {
	s := g.shard
	if s == nil {
		return nil
	}
	for i := range v {
		v[i] *= s.weight
	}
	return s.comm.AllReduceFloat64(v)
}

// averageBN averages the batch-norm running statistics over the ranks
// (per-rank batch norm updates them from different rows).
func (g *Game) averageBN() error {
	s := g.shard
	if s == nil || len(s.bn) == 0 {
		return nil
	}
	n := 0
	for _, t := range s.bn {
		n += t.Len()
	}
	if cap(s.bnBuf) < n {
		s.bnBuf = make([]float32, n)
	}
	buf := s.bnBuf[:n]
	off := 0
	for _, t := range s.bn {
		off += copy(buf[off:], t.Data)
	}
	if err := s.comm.AllReduceFloat32(buf); err != nil {
		return err
	}
	inv := 1 / float32(s.comm.Size())
	off = 0
	for _, t := range s.bn {
		for i := range t.Data {
			t.Data[i] = buf[off+i] * inv
		}
		off += t.Len()
	}
	return nil
}
