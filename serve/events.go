package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/minmaxgan/minmax/run"
)

// events streams a run as server-sent events, following its files:
//
//	event: detail     the run's summary, snapshots and pictures (at the start and when they change)
//	event: metrics    {"records": [...]}: new metrics.jsonl records, in order
//	event: reset      metrics.jsonl was rewritten (a resume): drop the records received
//
// A page that opens the stream receives the whole run first, then what
// the trainer adds, within Options.Poll. A history longer than maxBacklog
// training steps is thinned to every k-th step for that first message
// (every evaluation and the last step are kept): a chart a few hundred
// pixels wide shows no more, and a run of 100,000 steps opens at once.
// GET /api/runs/{run}/metrics gives every record.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rd, ok := s.lookup(w, r)
	if !ok {
		return
	}
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream has no end
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	send := func(event string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return err
		}
		return nil
	}
	var (
		sent      int // records sent of this version of metrics.jsonl
		version   = -1
		lastShown []byte // the detail last sent, to send it again only when it changes
	)
	tick := time.NewTicker(s.opt.Poll)
	defer tick.Stop()
	lastWrite := time.Now()
	for {
		// The run's summary, snapshots and pictures.
		d, err := s.detail(rd)
		if err != nil {
			send("failure", map[string]string{"error": err.Error()})
		} else {
			d.Config = "" // sent by GET /api/runs/{run}; it does not change
			d.Updated = time.Time{}
			b, _ := json.Marshal(d)
			if !bytes.Equal(b, lastShown) {
				if send("detail", d) != nil {
					return
				}
				lastShown = b
				lastWrite = time.Now()
			}
		}
		// New metrics records.
		rd.mu.Lock()
		err = rd.metrics.refresh(filepath.Join(rd.dir, run.MetricsFile))
		reset := rd.metrics.version != version && version >= 0
		if rd.metrics.version != version {
			version, sent = rd.metrics.version, 0
		}
		fresh := rd.metrics.lines[min(sent, len(rd.metrics.lines)):]
		if sent == 0 {
			fresh = thin(fresh, rd.metrics.steps, maxBacklog)
		}
		sent = len(rd.metrics.lines)
		rd.mu.Unlock()
		if err != nil {
			send("failure", map[string]string{"error": err.Error()})
		}
		if reset {
			if send("reset", struct{}{}) != nil {
				return
			}
		}
		for len(fresh) > 0 {
			k := min(len(fresh), 500)
			if send("metrics", struct {
				Records []json.RawMessage `json:"records"`
			}{fresh[:k]}) != nil {
				return
			}
			fresh = fresh[k:]
			lastWrite = time.Now()
		}
		if time.Since(lastWrite) > 15*time.Second {
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
			lastWrite = time.Now()
		}
		if rc.Flush() != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-tick.C:
		}
	}
}

// maxBacklog is the most training-step records of the first metrics sent
// to a page.
const maxBacklog = 4000

// thin keeps every k-th training-step record of lines (steps gives their
// steps) so that at most max remain, and every evaluation record (records
// that share a step with the record before them) and the last record.
func thin(lines []json.RawMessage, steps []int, max int) []json.RawMessage {
	if len(lines) <= max {
		return lines
	}
	base := len(steps) - len(lines)
	k := (len(lines) + max - 1) / max
	out := make([]json.RawMessage, 0, max+len(lines)/50)
	for i, l := range lines {
		j := base + i
		eval := j > 0 && steps[j] == steps[j-1]
		if eval || steps[j]%k == 0 || i == len(lines)-1 {
			out = append(out, l)
		}
	}
	return out
}
