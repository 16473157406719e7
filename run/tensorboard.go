package run

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/minmaxgan/minmax/internal/atomicfile"
	"github.com/minmaxgan/minmax/tboard"
)

// TBDir is the folder of a run's TensorBoard event files
// (tb/events.out.tfevents.*, package tboard): `tensorboard --logdir runs`
// shows every run under runs/.
//
// Each training process (a new run, each resume) writes a file of its own
// with every metrics.jsonl line as one event at that line's step: each
// finite number of the line is a scalar, tagged with its JSON path joined
// by "/" ("loss_d", "eval/images/fd", "eval/spectral_norms/D.fc.weight");
// the step itself, strings, booleans, nulls (metrics that were not finite)
// and arrays (such as eval/coverage/per_mode) are left out. An image run
// adds each sample grid (samples/step_NNNNNN.png) as an image tagged
// "samples" at its step. A resumed run first drops the events past its
// checkpoint from the earlier files, as metrics.jsonl drops its lines, and
// a run started afresh in its folder removes them all, so that the files
// together hold what metrics.jsonl holds.
const TBDir = "tb"

// tbGridTag is the tag of the sample grids in TensorBoard.
const tbGridTag = "samples"

// openTB prepares tb/ for a run (re)starting at step (the earlier files
// trimmed to it) and opens this process's event file.
func (r *Run) openTB(step int) error {
	dir := filepath.Join(r.Dir, TBDir)
	if err := r.trimTB(dir, step); err != nil {
		return err
	}
	w, err := tboard.Create(dir)
	if err != nil {
		r.metrics.Close()
		r.metrics = nil
		return fmt.Errorf("the TensorBoard log in %s: %w", dir, err)
	}
	r.tb = w
	return nil
}

// trimTB removes the event files of tb/ for a run started afresh (step
// 0), and rewrites those of a resumed run without their summaries past
// step (written after the checkpoint it resumes from) and without a record
// that a killed process left unfinished.
func (r *Run) trimTB(dir string, step int) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, tboard.FilePrefix) {
			continue
		}
		path := filepath.Join(dir, name)
		if step == 0 {
			if err := os.Remove(path); err != nil {
				return err
			}
			continue
		}
		evs, rerr := tboard.ReadEvents(path)
		var ce *tboard.CorruptError
		if rerr != nil && !errors.As(rerr, &ce) {
			return rerr
		}
		kept, summaries := evs[:0:0], 0
		for _, ev := range evs {
			if ev.GetSummary() != nil {
				if ev.GetStep() > int64(step) {
					continue
				}
				summaries++
			}
			kept = append(kept, ev)
		}
		if rerr == nil && len(kept) == len(evs) {
			continue
		}
		if rerr != nil {
			why := "the rest of the file is dropped"
			if ce.Truncated {
				why = "a process stopped while writing it"
			}
			r.warn(fmt.Sprintf("%v (%s): kept the %d events before it", rerr, why, len(evs)))
		}
		if summaries == 0 {
			if err := os.Remove(path); err != nil {
				return err
			}
			continue
		}
		err := atomicfile.Write(path, func(w io.Writer) error {
			enc := tboard.NewEncoder(w)
			for _, ev := range kept {
				if err := enc.Encode(ev); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// tbScalars writes the numbers of line, a line of metrics.jsonl, as one
// event of scalars at step.
func (r *Run) tbScalars(step int, line []byte) error {
	if r.tb == nil {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return fmt.Errorf("writing %s: %w", r.tb.Path(), err)
	}
	s := flattenScalars(nil, "", v)
	if len(s) == 0 {
		return nil
	}
	return r.tb.AddScalars(int64(step), time.Time{}, s)
}

// flattenScalars appends the finite numbers of the JSON value v (decoded
// with UseNumber) to dst, tagged with their path below prefix joined by
// "/", objects' keys in order; "step" keys, arrays and other values are
// skipped.
func flattenScalars(dst []tboard.Scalar, prefix string, v any) []tboard.Scalar {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			if k != "step" {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			tag := k
			if prefix != "" {
				tag = prefix + "/" + k
			}
			dst = flattenScalars(dst, tag, x[k])
		}
	case json.Number:
		if f, err := x.Float64(); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && prefix != "" {
			dst = append(dst, tboard.Scalar{Tag: prefix, Value: float32(f)})
		}
	}
	return dst
}

// tbImage adds the sample grid at path (a PNG the run has just written) as
// an image at step.
func (r *Run) tbImage(step int, path string) error {
	if r.tb == nil {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return r.tb.AddImage(tbGridTag, int64(step), b, cfg.Height, cfg.Width, r.Data.Channels, time.Time{})
}

// closeTB closes this process's event file.
func (r *Run) closeTB() error {
	if r.tb == nil {
		return nil
	}
	err := r.tb.Close()
	r.tb = nil
	return err
}
