package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/generator"
	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/run"
)

// paramError is a bad query parameter: answered 400, naming it.
type paramError struct{ param, msg string }

func (e *paramError) Error() string { return e.param + ": " + e.msg }

func badParam(param, format string, args ...any) error {
	return &paramError{param, fmt.Sprintf(format, args...)}
}

func parseInt(param, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badParam(param, "want a whole number, got %q", v)
	}
	if n < lo || n > hi {
		return 0, badParam(param, "%d is out of range: want %d to %d", n, lo, hi)
	}
	return n, nil
}

// query reads the parameters of a sampling request, refusing any it does
// not know (a typo must not silently be ignored).
type query struct {
	v    url.Values
	err  error
	used map[string]bool
}

func (q *query) get(name string) string {
	q.used[name] = true
	return q.v.Get(name)
}

func (q *query) int(name string, def, lo, hi int) int {
	v := q.get(name)
	if v == "" || q.err != nil {
		return def
	}
	n, err := parseInt(name, v, lo, hi)
	if err != nil {
		q.err = err
	}
	return n
}

func (q *query) seed(name string, def uint64) uint64 {
	v := q.get(name)
	if v == "" || q.err != nil {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		q.err = badParam(name, "want a seed (a whole number from 0 to 18446744073709551615), got %q", v)
	}
	return n
}

func (q *query) float(name string, def, lo, hi float64) float64 {
	v := q.get(name)
	if v == "" || q.err != nil {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		q.err = badParam(name, "want a number, got %q", v)
	case f < lo || f > hi:
		q.err = badParam(name, "%g is out of range: want %g to %g", f, lo, hi)
	}
	return f
}

// finish refuses parameters that were not read.
func (q *query) finish() error {
	if q.err != nil {
		return q.err
	}
	for k := range q.v {
		if !q.used[k] {
			return badParam(k, "unknown parameter")
		}
	}
	return nil
}

// options reads class and truncation for generator g.
func (q *query) options(g *generator.Generator) generator.Options {
	o := generator.Options{Seed: q.seed("seed", 1), Class: -1}
	o.Truncation = q.float("truncation", 0, 0, 100)
	if c := q.get("class"); c != "" && q.err == nil {
		if !g.Info.Conditional() {
			q.err = badParam("class", "this run's generator is not class-conditional; it takes no class")
		} else if k, err := g.ClassIndex(c); err != nil {
			q.err = badParam("class", "%v", err)
		} else {
			o.Class = k
		}
	}
	return o
}

// format reads format, defaulting to png for images and json for points.
func (q *query) format(d arch.Data) string {
	f := q.get("format")
	image := d.Kind == arch.Images
	switch {
	case f == "" && image:
		return "png"
	case f == "":
		return "json"
	case q.err != nil:
	case f == "npy":
	case f == "png" && !image:
		q.err = badParam("format", "png grids are for image generators; this one makes %d-D points: use json or npy", d.Dim)
	case f == "json" && image:
		q.err = badParam("format", "json is for point generators; this one makes images: use png or npy")
	case f != "png" && f != "json":
		q.err = badParam("format", "%q: want png (images), json (points) or npy", f)
	}
	return f
}

// prepare finds the run and its generator and starts reading the query;
// it answers the request itself when something is wrong.
func (s *Server) prepare(w http.ResponseWriter, r *http.Request) (*generator.Generator, *query, bool) {
	rd, ok := s.lookup(w, r)
	if !ok {
		return nil, nil, false
	}
	g, err := rd.generator()
	switch {
	case errors.Is(err, errNoGenerator):
		apiError(w, http.StatusConflict, "run", fmt.Sprintf("run %s: %v", rd.name, err))
		return nil, nil, false
	case err != nil:
		apiError(w, http.StatusInternalServerError, "run", fmt.Sprintf("run %s: %v", rd.name, err))
		return nil, nil, false
	}
	return g, &query{v: r.URL.Query(), used: map[string]bool{}}, true
}

// generate runs f with a generation token, within the request's deadline.
func (s *Server) generate(w http.ResponseWriter, r *http.Request, f func() error) bool {
	ctx, cancel := context.WithTimeout(r.Context(), s.opt.Timeout)
	defer cancel()
	if !s.acquire(ctx) {
		w.Header().Set("Retry-After", "1")
		apiError(w, http.StatusServiceUnavailable, "", fmt.Sprintf("the server is busy generating (at most %d requests at a time); try again", s.opt.MaxConcurrent))
		return false
	}
	defer s.release()
	if err := f(); err != nil {
		var pe *paramError
		if errors.As(err, &pe) {
			apiError(w, http.StatusBadRequest, pe.param, pe.msg)
		} else {
			apiError(w, http.StatusInternalServerError, "", err.Error())
		}
		return false
	}
	return true
}

func answerParamError(w http.ResponseWriter, err error) {
	var pe *paramError
	if errors.As(err, &pe) {
		apiError(w, http.StatusBadRequest, pe.param, pe.msg)
		return
	}
	apiError(w, http.StatusBadRequest, "", err.Error())
}

// samples is GET /api/runs/{run}/samples: n samples from the run's
// generator at codes drawn from seed, as minmax sample draws them.
func (s *Server) samples(w http.ResponseWriter, r *http.Request) {
	g, q, ok := s.prepare(w, r)
	if !ok {
		return
	}
	d := g.Info.Data
	defN := 64
	if d.Kind != arch.Images {
		defN = s.opt.MaxSamples
	}
	n := q.int("n", min(defN, s.opt.MaxSamples), 1, s.opt.MaxSamples)
	o := q.options(g)
	format := q.format(d)
	if err := q.finish(); err != nil {
		answerParamError(w, err)
		return
	}
	var x []float32
	var labels []int
	if !s.generate(w, r, func() (err error) {
		x, labels, err = g.Sample(n, o)
		return err
	}) {
		return
	}
	cols := 8
	if format == "png" && labels != nil && o.Class < 0 && n%len(d.Classes) == 0 && n > len(d.Classes) {
		// Classes cycle: one row per class, as minmax sample draws grids.
		k := len(d.Classes)
		x, cols = run.ClassRows(x, n, k), n/k
		labels = classRowLabels(n, k)
	}
	s.answer(w, format, d, x, n, labels, cols)
}

// classRowLabels are the classes of samples reordered by ClassRows.
func classRowLabels(n, k int) []int {
	l := make([]int, n)
	for i := range l {
		l[i] = i / (n / k)
	}
	return l
}

// interpolate is GET /api/runs/{run}/interpolate: steps samples on the
// line from the code of seed to the code of to, at a fixed class.
func (s *Server) interpolate(w http.ResponseWriter, r *http.Request) {
	g, q, ok := s.prepare(w, r)
	if !ok {
		return
	}
	d := g.Info.Data
	o := q.options(g)
	to := q.seed("to", 0)
	if q.err == nil && q.v.Get("to") == "" {
		q.err = badParam("to", "the seed of the code to interpolate to is missing")
	}
	steps := q.int("steps", 8, 2, min(s.opt.MaxSamples, 256))
	format := q.format(d)
	if err := q.finish(); err != nil {
		answerParamError(w, err)
		return
	}
	var x []float32
	if !s.generate(w, r, func() (err error) {
		x, err = g.Interpolate(o.Seed, to, steps, o)
		return err
	}) {
		return
	}
	var labels []int
	if g.Info.Conditional() {
		labels = make([]int, steps)
		for i := range labels {
			labels[i] = max(o.Class, 0)
		}
	}
	s.answer(w, format, d, x, steps, labels, steps)
}

// answer writes n samples x (channel-last images, or points) in format.
func (s *Server) answer(w http.ResponseWriter, format string, d arch.Data, x []float32, n int, labels []int, cols int) {
	switch format {
	case "png":
		set, err := run.ImageSet(d, x, n)
		if err != nil {
			apiError(w, http.StatusInternalServerError, "", err.Error())
			return
		}
		img, err := imgdata.GridImage(set, imgdata.GridOptions{Cols: cols})
		if err != nil {
			apiError(w, http.StatusInternalServerError, "", err.Error())
			return
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			apiError(w, http.StatusInternalServerError, "", err.Error())
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(b.Bytes())
	case "npy":
		shape := []int{n, d.Dim}
		if d.Kind == arch.Images {
			shape = []int{n, d.Channels, d.Height, d.Width}
			x = run.ToCHW(x, n, d.Height, d.Width, d.Channels)
		}
		var b bytes.Buffer
		if err := run.EncodeNPY(&b, x, shape...); err != nil {
			apiError(w, http.StatusInternalServerError, "", err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="samples.npy"`)
		w.Write(b.Bytes())
	case "json":
		pts := make([][]float32, n)
		for i := range pts {
			pts[i] = x[i*d.Dim : (i+1)*d.Dim]
		}
		writeJSON(w, http.StatusOK, struct {
			Points  [][]float32 `json:"points"`
			Classes []int       `json:"classes,omitempty"`
		}{pts, labels})
	}
}
