package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/minmaxgan/minmax/cluster"
	"github.com/minmaxgan/minmax/internal/version"
	"github.com/minmaxgan/minmax/mpi"
	"github.com/minmaxgan/minmax/optim"
	"github.com/minmaxgan/minmax/recipe"
	"github.com/minmaxgan/minmax/run"
)

// world is this process's place in an MPI job (mpirun -np N minmax train):
// nil comm for a single process.
type world struct {
	mpi  *mpi.World
	comm cluster.Comm // nil unless more than one rank
}

// startWorld joins the MPI job this process belongs to, if mpirun (or
// another MPI launcher) started it. A minmax built without MPI refuses a
// job of several processes: each would train alone into the same run.
func startWorld() (*world, error) {
	size, rank, launched := mpi.Launched()
	if !launched {
		return &world{}, nil
	}
	if !mpi.Built {
		if size == 1 {
			return &world{}, nil
		}
		return nil, fmt.Errorf("rank %d of %d: %w", rank, size, mpi.ErrNotBuilt)
	}
	w, err := mpi.Init()
	if err != nil {
		return nil, fmt.Errorf("rank %d of %d: %w", rank, size, err)
	}
	out := &world{mpi: w}
	if w.Size() > 1 {
		out.comm = w
	}
	return out, nil
}

// rank is this process's rank (0 for a single process).
func (w *world) rank() int {
	if w.comm == nil {
		return 0
	}
	return w.comm.Rank()
}

// size is the number of ranks (1 for a single process).
func (w *world) size() int {
	if w.comm == nil {
		return 1
	}
	return w.comm.Size()
}

// finish ends MPI: Finalize after a run every rank ended the same way, or
// Abort (every rank killed, mpirun names this one) after an error that
// may be this rank's alone, when the others may be waiting for it in a
// collective.
func (w *world) finish(err error) {
	if w == nil || w.mpi == nil {
		return
	}
	if err != nil && w.comm != nil && !together(err) {
		fmt.Fprintf(os.Stderr, "minmax: rank %d: %v\nminmax: rank %d: aborting the MPI job\n", w.rank(), err, w.rank())
		w.mpi.Abort(1)
	}
	w.mpi.Finalize()
}

// together reports whether err ends every rank at the same point: an
// interruption (agreed at a step), a divergence (judged on the whole
// batch's loss and gradient), or an error every rank gathered.
func together(err error) bool {
	var ee exitError
	var ge gatheredError
	var ue usageError
	return errors.As(err, &ee) || errors.As(err, &ge) || errors.As(err, &ue) || errors.Is(err, optim.ErrDiverged)
}

// gatheredError is an error that every rank has (cluster.Gather).
type gatheredError struct{ error }

func (e gatheredError) Unwrap() error { return e.error }

// gather makes any rank's error every rank's: rank 0 returns them all
// (joined, each naming its rank); another rank returns its own, or a
// silent exit when only other ranks failed (rank 0 reports those).
func (w *world) gather(err error) error {
	if w.comm == nil {
		return err
	}
	all := cluster.Gather(w.comm, err)
	switch {
	case all == nil:
		return nil
	case w.rank() == 0:
		return gatheredError{all}
	case err != nil:
		return gatheredError{cluster.RankError{Rank: w.rank(), Err: err}}
	default:
		return gatheredError{exitError{1}}
	}
}

// agree checks, before anything is trained, that every rank runs the same
// minmax binary with the same command line.
func (w *world) agree(args []string) error {
	if w.comm == nil {
		return nil
	}
	if err := cluster.Agree(w.comm, "the minmax binary", []byte(binaryFingerprint()), nil); err != nil {
		return err
	}
	return cluster.Agree(w.comm, "the command line", []byte(strings.Join(args, "\x00")), func(a, b []byte) string {
		return fmt.Sprintf("it was started with %q, rank 0 with %q", strings.ReplaceAll(string(b), "\x00", " "), strings.ReplaceAll(string(a), "\x00", " "))
	})
}

// agreeRecipe checks that every rank resolved the same recipe (a --config
// file that differs between hosts would not): the error names the keys.
func (w *world) agreeRecipe(rec recipe.Recipe) error {
	if w.comm == nil {
		return nil
	}
	y, err := rec.Marshal()
	if err != nil {
		return err
	}
	return cluster.Agree(w.comm, "the recipe", y, func(a, b []byte) string {
		ra, errA := recipe.Parse(a, recipe.Recipe{})
		rb, errB := recipe.Parse(b, recipe.Recipe{})
		if errA != nil || errB != nil {
			return "its recipe does not read as rank 0's does"
		}
		keys, err := recipe.Diff(ra, rb)
		if err != nil || len(keys) == 0 {
			return "its recipe differs from rank 0's"
		}
		var d []string
		for _, k := range keys {
			va, _ := ra.Value(k)
			vb, _ := rb.Value(k)
			d = append(d, fmt.Sprintf("%s %s (rank 0: %s)", k, vb, va))
		}
		return strings.Join(d, ", ")
	})
}

// binaryFingerprint names this binary: the version and a hash of the
// executable file (builds of the same commit with other flags differ).
func binaryFingerprint() string {
	fp := version.Version + " " + runtime.Version()
	exe, err := os.Executable()
	if err != nil {
		return fp
	}
	f, err := os.Open(exe)
	if err != nil {
		return fp
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fp
	}
	return fp + " sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}

// threadsPerRank is the default --threads of a rank: the cores shared
// among the ranks on this host.
func threadsPerRank(def int) int {
	n := mpi.LocalSize()
	if n <= 1 {
		return def
	}
	return max(1, runtime.NumCPU()/n)
}

// follow makes every rank's run of a data-parallel run once rank 0 has
// opened its own (r): rank 0 sends the recipe as it built it (with its
// steps, and the checkpoint's recipe when resuming), the other ranks build
// the same game without files (run.Follow), and Distribute copies rank 0's
// state to all. A single process's run is returned as it is.
func (w *world) follow(r *run.Run) (*run.Run, error) {
	if w.comm == nil {
		return r, nil
	}
	var y []byte
	if w.rank() == 0 {
		var err error
		if y, err = r.Recipe.Marshal(); err != nil {
			return nil, err
		}
	}
	y, err := cluster.BroadcastBytes(w.comm, y, 0)
	if err != nil {
		return nil, err
	}
	if w.rank() > 0 {
		rec, perr := recipe.Parse(y, recipe.Recipe{})
		if perr == nil {
			r, perr = run.Follow(rec, w.comm)
		}
		err = perr
	}
	if err := w.gather(err); err != nil {
		return nil, err
	}
	if b := r.Recipe.Optim.Batch; b < w.size() {
		return nil, gatheredError{fmt.Errorf("the global batch of %d (--batch) cannot be shared by %d ranks: each needs at least one sample", b, w.size())}
	}
	if err := r.Distribute(); err != nil {
		return nil, err
	}
	return r, nil
}

// describe is the ranks part of the line that starts or resumes a run
// (" on 2 ranks"; nothing for a single process).
func (w *world) describe() string {
	if w.comm == nil {
		return ""
	}
	return fmt.Sprintf(" on %d ranks", w.size())
}

// launcher is how the run was started, for the line that says how to
// resume it.
func (w *world) launcher() string {
	if w.comm == nil {
		return ""
	}
	return fmt.Sprintf("mpirun -np %d ", w.size())
}

// end finishes MPI for the train and bench commands and decides what this
// rank reports. Rank 0 prints its error before MPI_Finalize (after it, the
// other ranks may exit, and mpirun then ends rank 0, perhaps before it
// printed); a rank other than 0 stays silent about errors every rank has,
// keeping their exit status.
func (w *world) end(err error) error {
	if err != nil && w.comm != nil && w.rank() == 0 && together(err) {
		var ee exitError
		if !errors.As(err, &ee) {
			fmt.Fprintln(os.Stderr, "minmax:", err)
			err = exitError{exitCode(err)}
		}
	}
	w.finish(err)
	if err == nil || w.rank() == 0 || !together(err) {
		return err
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee
	}
	var ge gatheredError
	if errors.As(err, &ge) {
		var re cluster.RankError
		if errors.As(err, &re) && re.Rank == w.rank() {
			return err // this rank's own failure: it says so
		}
	}
	return exitError{exitCode(err)}
}

// exitCode is the status main gives err: 2 for a usage error, else 1.
func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
