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
// the trainer adds, within Options.Poll.
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
