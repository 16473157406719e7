package run

import (
	"context"
	"errors"
	"fmt"

	"github.com/minmaxgan/minmax/cluster"
	"github.com/minmaxgan/minmax/gan"
	"github.com/minmaxgan/minmax/nn"
	"github.com/minmaxgan/minmax/recipe"
)

// A data-parallel run (mpirun -np N minmax train) is one Run per rank.
// Rank 0's is the run as a single process has it, directory and all: it
// writes the metrics, pictures, checkpoints and the generator file, and
// evaluates. Every other rank has a follower (Follow): the same game, no
// directory, no files; it only steps. Both loops agree at each step
// whether to stop (Ctrl-C or SIGTERM reaching any rank stops all at the
// same step, and rank 0 saves the checkpoint).

// ErrStopped is a follower's (or rank 0's) error when another rank was
// interrupted and the group stopped with it.
var ErrStopped = errors.New("stopped because another rank was interrupted")

// Follow makes the Run of a rank other than 0 of a data-parallel run: the
// game of rec (the recipe rank 0 trains, as built there: its steps set)
// with no directory. Its Train only steps, in lockstep with rank 0's.
func Follow(rec recipe.Recipe, comm cluster.Comm) (*Run, error) {
	rec.Run.NoPictures = true
	b, err := rec.Build()
	if err != nil {
		return nil, err
	}
	r := &Run{Recipe: b.Recipe, Game: b.Game, Data: b.Data, P: b.P, Images: b.Images, opt: Options{Comm: comm}, follower: true}
	return r, nil
}

// Distribute makes the run's game one rank of opt.Comm's group (every
// rank calls it, after New, Resume or Follow succeeded on all):
// gan.Game.Distribute, with batch norm synchronised as the recipe says.
// Rank 0's state, fresh or restored from its checkpoint, is copied to
// every rank.
func (r *Run) Distribute() error {
	c := r.opt.Comm
	if c == nil {
		return nil
	}
	if err := r.Game.Distribute(c, r.Recipe.Optim.SyncBN); err != nil {
		return err
	}
	if lo, hi := r.Game.Rows(); !r.Recipe.Optim.SyncBN && hi-lo < smallShard && hasBatchNorm(r.Game) {
		r.warn(fmt.Sprintf("each of the %d ranks normalises batch norm over its own %d or so rows of the batch of %d; with so few, --sync-bn (statistics over the whole batch) trains as one process would", c.Size(), hi-lo, r.Recipe.Optim.Batch))
	}
	return nil
}

// smallShard is the per-rank batch under which per-rank batch-norm
// statistics are too noisy to go unmentioned.
const smallShard = 16

// hasBatchNorm reports whether G or D normalises with batch statistics.
func hasBatchNorm(g *gan.Game) bool {
	found := false
	for _, m := range []nn.Module{g.G(), g.D()} {
		nn.Walk(m, func(_ string, mm nn.Module) {
			if _, ok := mm.(*nn.BatchNorm); ok {
				found = true
			}
		})
	}
	return found
}

// IsFollower reports whether the run is a rank's other than 0 (no files).
func (r *Run) IsFollower() bool { return r.follower }

// stop says whether to stop before the next step: ctx cancelled here, or,
// in a data-parallel run, on any rank (a sum of flags across the ranks).
// The error is ctx's, or ErrStopped when only another rank was stopped.
func (r *Run) stop(ctx context.Context) error {
	err := ctx.Err()
	c := r.opt.Comm
	if c == nil || c.Size() == 1 {
		return err
	}
	var flag [1]float64
	if err != nil {
		flag[0] = 1
	}
	if aerr := c.AllReduceFloat64(flag[:]); aerr != nil {
		return fmt.Errorf("agreeing to go on: %w", aerr)
	}
	if flag[0] == 0 {
		return nil
	}
	if err == nil {
		err = ErrStopped
	}
	return err
}

// follow is a follower's training loop: Game.Step in lockstep with rank
// 0, stopping where it stops.
func (r *Run) follow(ctx context.Context) error {
	for r.Game.StepsDone() < r.Steps() {
		if err := r.stop(ctx); err != nil {
			return err
		}
		if _, err := r.Game.Step(); err != nil {
			return err
		}
	}
	return nil
}

// ranks is the number of processes training the run (1 for a single one).
func (o Options) ranks() int {
	if o.Comm == nil {
		return 1
	}
	return o.Comm.Size()
}
