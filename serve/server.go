package serve

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/minmaxgan/minmax/run"
)

//go:embed assets
var assets embed.FS

// Options configures a Server. The zero value serves runs/ with the
// default limits.
type Options struct {
	// Roots are the folders to find runs in: each a run, or a folder of
	// runs (default: runs).
	Roots []string
	// MaxSamples bounds n of a sampling request (default 1,024).
	MaxSamples int
	// MaxConcurrent is how many sampling requests generate at once
	// (default 2); others wait, up to Timeout.
	MaxConcurrent int
	// Timeout bounds a sampling or theory request, waiting included
	// (default 30 s).
	Timeout time.Duration
	// Poll is how often a live page's event stream looks at the run's
	// files (default 500 ms).
	Poll time.Duration
}

// Server is the dashboard and the sampling API over a set of run
// folders. It reads runs and never writes into them.
type Server struct {
	opt Options

	mu   sync.Mutex
	runs map[string]*runDir

	work chan struct{} // one token per generation or theory computation
	mux  *http.ServeMux

	// done ends the event streams (Close).
	done      chan struct{}
	closeOnce sync.Once
}

// DefaultMaxSamples is the default bound on n in a sampling request.
const DefaultMaxSamples = 1024

// New makes a server over opt.Roots.
func New(opt Options) (*Server, error) {
	if len(opt.Roots) == 0 {
		opt.Roots = []string{"runs"}
	}
	for _, r := range opt.Roots {
		fi, err := os.Stat(r)
		switch {
		case errors.Is(err, os.ErrNotExist) && len(opt.Roots) == 1 && r == "runs":
			// No run yet: the page says how to start one, and runs
			// appear as they are made.
		case err != nil:
			return nil, fmt.Errorf("serve: %w", err)
		case !fi.IsDir():
			return nil, fmt.Errorf("serve: %s is not a folder: give run folders or folders of runs", r)
		}
	}
	if opt.MaxSamples <= 0 {
		opt.MaxSamples = DefaultMaxSamples
	}
	if opt.MaxConcurrent <= 0 {
		opt.MaxConcurrent = 2
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Second
	}
	if opt.Poll <= 0 {
		opt.Poll = 500 * time.Millisecond
	}
	s := &Server{opt: opt, runs: map[string]*runDir{}, work: make(chan struct{}, opt.MaxConcurrent), mux: http.NewServeMux(), done: make(chan struct{})}
	s.routes()
	return s, nil
}

// Close ends the event streams of open pages, which otherwise last as long
// as the pages; call it before http.Server.Shutdown.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.done) }) }

// ServeHTTP serves the dashboard and the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	static, _ := fs.Sub(assets, "assets")
	page := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, err := fs.ReadFile(static, name)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			w.Write(b)
		}
	}
	s.mux.HandleFunc("GET /{$}", page("index.html"))
	s.mux.HandleFunc("GET /theory", page("theory.html"))
	s.mux.HandleFunc("GET /runs/{run}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.lookup(w, r); ok {
			page("run.html")(w, r)
		}
	})
	s.mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(static)))

	s.mux.HandleFunc("GET /api/runs", s.listRuns)
	s.mux.HandleFunc("GET /api/runs/{run}", s.oneRun)
	s.mux.HandleFunc("GET /api/runs/{run}/metrics", s.metrics)
	s.mux.HandleFunc("GET /api/runs/{run}/events", s.events)
	s.mux.HandleFunc("GET /api/runs/{run}/snapshots", s.snapshotList)
	// The requests that compute are bounded in time as well as in size: a
	// client waits at most Timeout (then 503), whatever the load.
	bounded := func(h http.HandlerFunc) http.Handler {
		return http.TimeoutHandler(h, s.opt.Timeout,
			fmt.Sprintf(`{"error":"the answer took longer than %v: the server is busy, or the request is too large; try again or ask for less"}`, s.opt.Timeout))
	}
	s.mux.Handle("GET /api/runs/{run}/samples", bounded(s.samples))
	s.mux.Handle("GET /api/runs/{run}/interpolate", bounded(s.interpolate))
	s.mux.HandleFunc("GET /api/runs/{run}/files/{path...}", s.file)
	s.mux.Handle("GET /api/theory", bounded(s.theory))
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			apiError(w, http.StatusMethodNotAllowed, "", "the API only reads: use GET")
			return
		}
		apiError(w, http.StatusNotFound, "", "no such API endpoint: "+r.URL.Path)
	})
}

// apiError writes a JSON error naming the parameter at fault.
func apiError(w http.ResponseWriter, status int, param, msg string) {
	writeJSON(w, status, struct {
		Error string `json:"error"`
		Param string `json:"param,omitempty"`
	}{msg, param})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer: `+strings.ReplaceAll(err.Error(), `"`, `'`)+`"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}

// refresh finds the runs under the roots, keeping what was read of the
// runs already known.
func (s *Server) refresh() []*runDir {
	found := discover(s.opt.Roots)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*runDir, 0, len(found))
	for _, f := range found {
		r := s.runs[f.name]
		if r == nil || r.dir != f.dir {
			r = &runDir{name: f.name, dir: f.dir}
			s.runs[f.name] = r
		}
		out = append(out, r)
	}
	return out
}

// lookup finds the run named in the request's path, answering 400 for a
// name that is not a run name (one that tries to leave the runs folder)
// and 404 for an unknown run.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*runDir, bool) {
	name := r.PathValue("run")
	if !validName.MatchString(name) {
		apiError(w, http.StatusBadRequest, "run", fmt.Sprintf("%q is not a run name (one folder name: letters, digits, '_', '-', '.', '+'; not '.' or '..')", name))
		return nil, false
	}
	s.mu.Lock()
	rd := s.runs[name]
	s.mu.Unlock()
	if rd == nil || !isRun(rd.dir) {
		for _, x := range s.refresh() {
			if x.name == name {
				rd = x
			}
		}
	}
	if rd == nil {
		apiError(w, http.StatusNotFound, "run", fmt.Sprintf("no run named %q in %s", name, strings.Join(s.opt.Roots, ", ")))
		return nil, false
	}
	return rd, true
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	runs := s.refresh()
	out := make([]RunSummary, 0, len(runs))
	for _, rd := range runs {
		sum, err := rd.summary()
		if err != nil {
			sum.Status, sum.Error = run.StateFailed, "unreadable: "+err.Error()
		}
		out = append(out, sum)
	}
	writeJSON(w, http.StatusOK, struct {
		Roots []string     `json:"roots"`
		Runs  []RunSummary `json:"runs"`
	}{s.opt.Roots, out})
}

// RunDetail is GET /api/runs/{run}: the summary, the snapshots and the
// run's pictures.
type RunDetail struct {
	RunSummary
	Snapshots []Snapshot `json:"snapshots"`
	Pictures  []string   `json:"pictures"`
	Config    string     `json:"config"`
}

func (s *Server) detail(rd *runDir) (RunDetail, error) {
	sum, err := rd.summary()
	if err != nil {
		return RunDetail{}, err
	}
	snaps, err := rd.snapshots()
	if err != nil {
		return RunDetail{}, err
	}
	cfg, _ := os.ReadFile(filepath.Join(rd.dir, run.ConfigFile))
	return RunDetail{RunSummary: sum, Snapshots: snaps, Pictures: rd.pictures(), Config: string(cfg)}, nil
}

func (s *Server) oneRun(w http.ResponseWriter, r *http.Request) {
	rd, ok := s.lookup(w, r)
	if !ok {
		return
	}
	d, err := s.detail(rd)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	rd, ok := s.lookup(w, r)
	if !ok {
		return
	}
	since := -1
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := parseInt("since", v, -1, 1<<40)
		if err != nil {
			apiError(w, http.StatusBadRequest, "since", err.Error())
			return
		}
		since = n
	}
	rd.mu.Lock()
	err := rd.metrics.refresh(filepath.Join(rd.dir, run.MetricsFile))
	var lines []json.RawMessage
	for i, st := range rd.metrics.steps {
		if st > since {
			lines = append(lines, rd.metrics.lines[i])
		}
	}
	rd.mu.Unlock()
	if err != nil {
		apiError(w, http.StatusInternalServerError, "", err.Error())
		return
	}
	if lines == nil {
		lines = []json.RawMessage{}
	}
	writeJSON(w, http.StatusOK, struct {
		Records []json.RawMessage `json:"records"`
	}{lines})
}

func (s *Server) snapshotList(w http.ResponseWriter, r *http.Request) {
	rd, ok := s.lookup(w, r)
	if !ok {
		return
	}
	snaps, err := rd.snapshots()
	if err != nil {
		apiError(w, http.StatusInternalServerError, "", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, snaps)
}

var sampleFile = regexp.MustCompile(`^samples/step_[0-9]{6,9}\.(png|json|csv)$`)

// file serves a picture of the run: samples/step_NNNNNN.{png,json,csv}
// or one of the run's own pictures (*.png, *.gif at its top level).
func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	rd, ok := s.lookup(w, r)
	if !ok {
		return
	}
	p := r.PathValue("path")
	if !sampleFile.MatchString(p) && !pictureFile.MatchString(p) {
		apiError(w, http.StatusBadRequest, "path", fmt.Sprintf("%q is not a file the dashboard serves: samples/step_NNNNNN.png, .json or .csv, or a .png or .gif of the run", p))
		return
	}
	f, err := os.Open(filepath.Join(rd.dir, filepath.FromSlash(p)))
	if err != nil {
		apiError(w, http.StatusNotFound, "path", fmt.Sprintf("run %s has no %s", rd.name, p))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		apiError(w, http.StatusNotFound, "path", fmt.Sprintf("run %s has no file %s", rd.name, p))
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// acquire takes a generation token, waiting at most until ctx ends.
func (s *Server) acquire(ctx context.Context) bool {
	select {
	case s.work <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Server) release() { <-s.work }

// Loopback reports whether addr (host:port) listens on the loopback
// interface only.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
