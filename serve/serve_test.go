package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minmaxgan/minmax/arch"
	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/generator"
	"github.com/minmaxgan/minmax/imgdata"
	"github.com/minmaxgan/minmax/lab"
	"github.com/minmaxgan/minmax/recipe"
	"github.com/minmaxgan/minmax/run"
)

// toyRecipe is a small ring8 run: seconds to train.
func toyRecipe(steps int) recipe.Recipe {
	c, _ := recipe.Preset("ring8")
	c.Optim.Steps, c.Optim.Batch, c.Run.EvalEvery, c.Run.CheckpointEvery, c.Run.JSDEvery = steps, 64, 10, 20, 0
	c.Model.Options = &arch.MLPOptions{GHidden: []int{32, 32}, DHidden: []int{32, 32}, GActivation: "relu", DActivation: "relu"}
	return c
}

// fakeDigits writes an MNIST-like data set (IDX files, 10 classes of flat
// grey images) into root/mnist and returns that folder.
func fakeDigits(t testing.TB, root string, n int) string {
	t.Helper()
	dir := filepath.Join(root, "mnist")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{"train", "t10k"} {
		pix := make([]uint8, n*784)
		lab := make([]uint8, n)
		for i := range n {
			lab[i] = uint8(i % 10)
			for p := range 784 {
				pix[i*784+p] = uint8(25*(i%10) + p%7)
			}
		}
		if err := imgdata.WriteIDX(filepath.Join(dir, split+"-images-idx3-ubyte"), []int{n, 28, 28}, pix); err != nil {
			t.Fatal(err)
		}
		if err := imgdata.WriteIDX(filepath.Join(dir, split+"-labels-idx1-ubyte"), []int{n}, lab); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// imageRecipe is a tiny class-conditional BigGAN on fake digits.
func imageRecipe(t testing.TB, data string, steps int) recipe.Recipe {
	c, err := recipe.Preset("biggan-mnist")
	if err != nil {
		t.Fatal(err)
	}
	c.Data.Source = data
	o := c.Model.Options.(*arch.BigGANOptions)
	o.Width, o.SharedDim = 8, 4
	c.Model.Latent = 12
	c.Optim.Batch, c.Optim.Epochs, c.Optim.Steps = 8, 0, steps
	c.Run.EvalEvery, c.Run.CheckpointEvery = 2, 2
	c.Optim.GEMAStart = 0
	return c
}

func train(t testing.TB, rec recipe.Recipe, dir string) {
	t.Helper()
	r, err := run.New(rec, dir, run.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// fixture is a runs folder with a finished toy run and a finished
// conditional image run, made once for the package's tests.
var fixture struct {
	once sync.Once
	root string
	err  error
}

func runsFolder(t *testing.T) string {
	t.Helper()
	fixture.once.Do(func() {
		root, err := os.MkdirTemp("", "minmax-serve-test")
		if err != nil {
			fixture.err = err
			return
		}
		fixture.root = filepath.Join(root, "runs")
		train(t, toyRecipe(40), filepath.Join(fixture.root, "toy"))
		train(t, imageRecipe(t, fakeDigits(t, root, 40), 4), filepath.Join(fixture.root, "digits"))
	})
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
	return fixture.root
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.root != "" {
		os.RemoveAll(filepath.Dir(fixture.root))
	}
	os.Exit(code)
}

func newServer(t *testing.T, roots ...string) *httptest.Server {
	t.Helper()
	s, err := New(Options{Roots: roots, Poll: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); ts.Close() })
	return ts
}

func fetch(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// apiErr decodes a JSON error answer.
func apiErr(t *testing.T, b []byte) (msg, param string) {
	t.Helper()
	var e struct{ Error, Param string }
	if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
		t.Fatalf("not a JSON error: %s", b)
	}
	return e.Error, e.Param
}

// treeState lists every file under dir with its size and modification
// time, to show that serving leaves a run untouched.
func treeState(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("%s %d %d", p, fi.Size(), fi.ModTime().UnixNano()))
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestRunsAndDetail(t *testing.T) {
	root := runsFolder(t)
	before := treeState(t, root)
	ts := newServer(t, root)
	_, b := fetch(t, ts.URL+"/api/runs")
	var list struct{ Runs []RunSummary }
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	byName := map[string]RunSummary{}
	for _, r := range list.Runs {
		byName[r.Name] = r
	}
	toy, img := byName["toy"], byName["digits"]
	if toy.Status != run.StateFinished || toy.Step != 40 || toy.Kind != "points" || toy.Dim != 2 || toy.Scores["modes_total"] != 8 || !toy.Generator {
		t.Errorf("toy run: %+v", toy)
	}
	if toy.Equilibrium == nil || toy.Equilibrium.Value != 2*math.Ln2 {
		t.Errorf("the seed's loss should carry the 2 log 2 line of eq. 10: %+v", toy.Equilibrium)
	}
	if img.Status != run.StateFinished || img.Kind != "images" || len(img.Classes) != 10 || img.Loss != "hinge" || img.Equilibrium.Value != 2 {
		t.Errorf("image run: %+v", img)
	}
	var d RunDetail
	_, b = fetch(t, ts.URL+"/api/runs/digits")
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Snapshots) != 3 || d.Snapshots[2].Step != 4 || d.Snapshots[2].Grid == "" || !strings.Contains(d.Config, "biggan") {
		t.Errorf("image run detail: %+v", d)
	}
	resp, b := fetch(t, ts.URL+d.Snapshots[1].Grid)
	if _, err := png.Decode(bytes.NewReader(b)); err != nil || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("snapshot grid: %v %s", err, resp.Header.Get("Content-Type"))
	}
	_, b = fetch(t, ts.URL+"/api/runs/toy")
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Snapshots) != 5 || d.Snapshots[4].Field == "" {
		t.Fatalf("toy run snapshots: %+v", d.Snapshots)
	}
	var f run.Field
	_, b = fetch(t, ts.URL+d.Snapshots[4].Field)
	if err := json.Unmarshal(b, &f); err != nil || f.Dim != 2 || f.N*f.N != len(f.D) || len(f.Real) != 1000 || f.Step != 40 {
		t.Errorf("toy field: dim %d n %d d %d real %d step %d: %v", f.Dim, f.N, len(f.D), len(f.Real), f.Step, err)
	}
	// Metrics after a step.
	_, b = fetch(t, ts.URL+"/api/runs/toy/metrics?since=30")
	var m struct{ Records []map[string]any }
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Records) != 11 || m.Records[0]["step"].(float64) != 31 { // steps 31-40 and the evaluation at 40
		t.Errorf("metrics since 30: %d records, first %v", len(m.Records), m.Records[0])
	}
	if after := treeState(t, root); after != before {
		t.Errorf("serving changed the runs:\nbefore\n%s\nafter\n%s", before, after)
	}
}

func TestSamplesAreThoseOfMinmaxSample(t *testing.T) {
	root := runsFolder(t)
	ts := newServer(t, root)
	for _, name := range []string{"toy", "digits"} {
		g, err := generator.Load(filepath.Join(root, name, run.GeneratorFile))
		if err != nil {
			t.Fatal(err)
		}
		o := generator.Options{Seed: 7, Class: -1}
		q := "n=20&seed=7&format=npy"
		if name == "digits" {
			o.Class, q = 3, q+"&class=3"
		}
		want, _, err := g.Sample(20, o)
		if err != nil {
			t.Fatal(err)
		}
		d := g.Info.Data
		shape := []int{20, d.Dim}
		if d.Kind == arch.Images {
			want, shape = run.ToCHW(want, 20, d.Height, d.Width, d.Channels), []int{20, d.Channels, d.Height, d.Width}
		}
		var wantNPY bytes.Buffer
		run.EncodeNPY(&wantNPY, want, shape...)
		resp, b := fetch(t, ts.URL+"/api/runs/"+name+"/samples?"+q)
		if resp.StatusCode != 200 || !bytes.Equal(b, wantNPY.Bytes()) {
			t.Errorf("%s: the API's samples differ from the generator's at the same seed (status %d)", name, resp.StatusCode)
		}
		_, again := fetch(t, ts.URL+"/api/runs/"+name+"/samples?"+q)
		_, other := fetch(t, ts.URL+"/api/runs/"+name+"/samples?"+strings.Replace(q, "seed=7", "seed=8", 1))
		if !bytes.Equal(b, again) || bytes.Equal(b, other) {
			t.Errorf("%s: same seed must give the same samples and another seed others", name)
		}
	}
	// Points as JSON, images as a PNG grid with one row per class.
	_, b := fetch(t, ts.URL+"/api/runs/toy/samples?n=5&seed=1")
	var pts struct{ Points [][]float64 }
	if err := json.Unmarshal(b, &pts); err != nil || len(pts.Points) != 5 || len(pts.Points[0]) != 2 {
		t.Errorf("points: %s", b)
	}
	resp, b := fetch(t, ts.URL+"/api/runs/digits/samples?n=20&seed=1&truncation=0.5")
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("png grid: %v %d", err, resp.StatusCode)
	}
	// 10 rows of 2 columns: 28×28 at 3× with 2-pixel borders.
	if bd := img.Bounds(); bd.Dx() != 2+2*(84+2) || bd.Dy() != 2+10*(84+2) {
		t.Errorf("a grid of 20 samples of 10 classes is %v, want 2 columns and 10 rows", bd)
	}
	resp, b = fetch(t, ts.URL+"/api/runs/digits/interpolate?seed=1&to=2&steps=6&class=7")
	if img, err := png.Decode(bytes.NewReader(b)); err != nil || img.Bounds().Dx() != 2+6*(84+2) {
		t.Errorf("interpolation: %v %d", err, resp.StatusCode)
	}
}

func TestBadRequests(t *testing.T) {
	root := runsFolder(t)
	ts := newServer(t, root)
	for _, c := range []struct {
		path   string
		status int
		param  string
		says   string
	}{
		{"/api/runs/toy/samples?n=0", 400, "n", "want 1 to 1024"},
		{"/api/runs/toy/samples?n=1025", 400, "n", "want 1 to 1024"},
		{"/api/runs/toy/samples?n=ten", 400, "n", "whole number"},
		{"/api/runs/toy/samples?seed=-1", 400, "seed", "seed"},
		{"/api/runs/toy/samples?truncation=NaN", 400, "truncation", "number"},
		{"/api/runs/toy/samples?class=1", 400, "class", "not class-conditional"},
		{"/api/runs/toy/samples?format=png", 400, "format", "json or npy"},
		{"/api/runs/digits/samples?format=json", 400, "format", "png or npy"},
		{"/api/runs/digits/samples?class=Sneaker", 400, "class", "not a class"},
		{"/api/runs/digits/samples?class=10", 400, "class", "not a class"},
		{"/api/runs/digits/samples?size=3", 400, "size", "unknown parameter"},
		{"/api/runs/digits/interpolate?seed=1", 400, "to", "missing"},
		{"/api/runs/digits/interpolate?seed=1&to=2&steps=1", 400, "steps", "want 2 to"},
		{"/api/runs/nosuch/samples", 404, "run", "no run named"},
		{"/api/runs/..%2F..%2Fetc/samples", 400, "run", "not a run name"},
		{"/api/runs/.../metrics", 400, "run", "not a run name"},
		{"/api/runs/toy/files/samples%2F..%2Fconfig.yaml", 400, "path", "not a file"},
		{"/api/runs/toy/files/checkpoint.safetensors", 400, "path", "not a file"},
		{"/api/runs/toy/files/nosuch.png", 404, "path", "has no"},
		{"/api/runs/toy/metrics?since=x", 400, "since", "whole number"},
		{"/api/theory?p=N(0,1)&q=N(0,", 400, "q", "expected"},
		{"/api/theory?p=N(0,1)&q=ring(8,r=2,sd=0.1)", 400, "q", "must agree"},
		{"/api/theory?q=N(0,1)", 400, "p", "missing"},
		{"/api/nothing", 404, "", "no such API endpoint"},
	} {
		resp, b := fetch(t, ts.URL+c.path)
		msg, param := apiErr(t, b)
		if resp.StatusCode != c.status || param != c.param || !strings.Contains(msg, c.says) {
			t.Errorf("%s: %d %q %q, want %d naming %q and saying %q", c.path, resp.StatusCode, param, msg, c.status, c.param, c.says)
		}
	}
	resp, err := http.Post(ts.URL+"/api/runs", "text/plain", nil)
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %v %v", err, resp.Status)
	}
	// A theory error carries the column of the trouble.
	_, b := fetch(t, ts.URL+"/api/theory?p=N(0,1)&q="+url.QueryEscape("ring(8, sd=)"))
	var te theoryError
	json.Unmarshal(b, &te)
	if te.Pos != 12 || te.Param != "q" {
		t.Errorf("theory error %+v, want column 12 of q", te)
	}
}

// The theory endpoint computes what minmax theory computes.
func TestTheoryIsTheLabs(t *testing.T) {
	ts := newServer(t, t.TempDir())
	for _, c := range [][2]string{{"mix(0.3:N(-2, 0.5), 0.7:N(1, 1))", "Laplace(0, 1.5)"}, {"ring(8, r=2, sd=0.3)", "N2(0, 0, 1.5)"}} {
		_, b := fetch(t, ts.URL+"/api/theory?p="+url.QueryEscape(c[0])+"&q="+url.QueryEscape(c[1]))
		var a TheoryAnswer
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatalf("%s", b)
		}
		ex, err := lab.ComputeExact(dist.MustParse(c[0]), dist.MustParse(c[1]))
		if err != nil {
			t.Fatal(err)
		}
		if a.JSD != ex.JSD || a.VDEq1 != ex.VDStarEq1 || math.Abs(a.VDEq7-(2*math.Ln2-2*a.JSD)) > 1e-15 {
			t.Errorf("%v: JSD %v V_D %v, the lab says %v %v", c, a.JSD, a.VDEq1, ex.JSD, ex.VDStarEq1)
		}
		if math.Abs(a.VDEq1-a.VDEq7) > 1e-8 {
			t.Errorf("%v: the two sides of eq. 7 differ by %g", c, a.VDEq1-a.VDEq7)
		}
		if want := map[int]int{1: 400, 2: 80 * 80}[a.Dim]; len(a.DStar) != want {
			t.Errorf("%v: %d values of D*, want %d", c, len(a.DStar), want)
		}
	}
}

// The event stream sends the whole run, then what the trainer adds, while
// it trains; the run's status goes from running to finished.
func TestEventsFollowATrainingRun(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "live")
	rec := toyRecipe(600)
	rec.Run.EvalEvery = 100
	r, err := run.New(rec, dir, run.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, root)
	trained := make(chan error, 1)
	go func() {
		_, err := r.Train(context.Background())
		r.Close()
		trained <- err
	}()
	resp, err := http.Get(ts.URL + "/api/runs/live/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 8<<20)
	var event string
	steps, last := 0, -1
	statuses := map[string]bool{}
	deadline := time.After(2 * time.Minute)
	for done := false; !done; {
		select {
		case <-deadline:
			t.Fatalf("the stream did not reach the end of the run: %d steps, statuses %v", steps, statuses)
		default:
		}
		if !sc.Scan() {
			t.Fatalf("stream ended: %v", sc.Err())
		}
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = line[7:]
		case strings.HasPrefix(line, "data: "):
			data := []byte(line[6:])
			switch event {
			case "metrics":
				var m struct{ Records []map[string]any }
				if err := json.Unmarshal(data, &m); err != nil {
					t.Fatal(err)
				}
				for _, rec := range m.Records {
					if _, ok := rec["loss_d"]; ok {
						s := int(rec["step"].(float64))
						if s != last+1 && last >= 0 {
							t.Fatalf("step %d after %d: records lost or repeated", s, last)
						}
						last, steps = s, steps+1
					}
				}
			case "detail":
				var d RunDetail
				json.Unmarshal(data, &d)
				statuses[d.Status] = true
				done = d.Status == run.StateFinished && last == 600
			}
		}
	}
	if err := <-trained; err != nil {
		t.Fatal(err)
	}
	if steps != 600 || !statuses[run.StateRunning] {
		t.Errorf("received %d steps, statuses %v: want all 600 steps, seen running then finished", steps, statuses)
	}
}

// A run whose trainer died without a word is interrupted, not running.
func TestKilledRunIsInterrupted(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "dead")
	train(t, toyRecipe(20), dir)
	st := run.Status{State: run.StateRunning, Step: 10, Steps: 20, PID: 1 << 22}
	b, _ := json.Marshal(st)
	os.WriteFile(filepath.Join(dir, run.StatusFile), b, 0o644)
	ts := newServer(t, root)
	_, b = fetch(t, ts.URL+"/api/runs/dead")
	var d RunDetail
	json.Unmarshal(b, &d)
	if d.Status != run.StateInterrupted || !strings.Contains(d.Error, "ended without saving") {
		t.Errorf("status %q (%s), want interrupted", d.Status, d.Error)
	}
}

// Many clients at once: every answer is right, and the latencies are
// reported (a bounded load test on the loopback).
func TestLoad(t *testing.T) {
	root := runsFolder(t)
	ts := newServer(t, root)
	clients, total := 16, 2000
	if testing.Short() {
		total = 320
	}
	want := map[string][]byte{}
	paths := []string{"/api/runs/toy/samples?n=64&seed=3&format=npy", "/api/runs/digits/samples?n=4&seed=3&format=npy", "/api/runs", "/api/runs/toy/metrics?since=35"}
	for _, p := range paths[:2] {
		_, want[p] = fetch(t, ts.URL+p)
	}
	lat := make([]time.Duration, total)
	var wg sync.WaitGroup
	errs := make(chan error, total)
	next := make(chan int, total)
	for i := range total {
		next <- i
	}
	close(next)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				p := paths[i%len(paths)]
				t0 := time.Now()
				resp, err := http.Get(ts.URL + p)
				if err != nil {
					errs <- err
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				switch {
				case err != nil:
					errs <- err
				case resp.StatusCode != 200:
					errs <- fmt.Errorf("%s: %s %s", p, resp.Status, b)
				case want[p] != nil && !bytes.Equal(b, want[p]):
					errs <- fmt.Errorf("%s: a different answer under load", p)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	wall := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pc := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	t.Logf("%d requests from %d clients in %v (%.0f/s): latency p50 %v, p90 %v, p99 %v, max %v",
		total, clients, wall.Round(time.Millisecond), float64(total)/wall.Seconds(), pc(0.5), pc(0.9), pc(0.99), lat[len(lat)-1])
}

// A server whose generation slots are all taken answers 503 within its
// time bound, with a JSON error, and serves again once a slot is free.
func TestBusyServerAnswersInTime(t *testing.T) {
	root := runsFolder(t)
	s, err := New(Options{Roots: []string{root}, MaxConcurrent: 1, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	s.work <- struct{}{} // a long generation holds the only slot
	t0 := time.Now()
	resp, b := fetch(t, ts.URL+"/api/runs/toy/samples?n=4")
	waited := time.Since(t0)
	<-s.work
	if msg, _ := apiErr(t, b); resp.StatusCode != http.StatusServiceUnavailable || waited > 2*time.Second || !strings.Contains(msg, "busy") {
		t.Errorf("busy: %d after %v: %s", resp.StatusCode, waited, b)
	}
	if resp, _ := fetch(t, ts.URL+"/api/runs/toy/samples?n=4"); resp.StatusCode != 200 {
		t.Errorf("after the slot is free: %d", resp.StatusCode)
	}
}

// A long history is thinned for a page's first message, keeping every
// evaluation and the last step.
func TestThinKeepsEvaluations(t *testing.T) {
	var lines []json.RawMessage
	var steps []int
	for s := 1; s <= 10001; s++ {
		lines = append(lines, json.RawMessage(fmt.Sprintf(`{"step":%d,"loss_d":1}`, s)))
		steps = append(steps, s)
		if s%1000 == 0 {
			lines = append(lines, json.RawMessage(fmt.Sprintf(`{"step":%d,"eval":{}}`, s)))
			steps = append(steps, s)
		}
	}
	out := thin(lines, steps, 4000)
	evals, last := 0, ""
	for _, l := range out {
		if strings.Contains(string(l), "eval") {
			evals++
		}
		last = string(l)
	}
	if len(out) > 4000+10 || evals != 10 || !strings.Contains(last, `"step":10001`) {
		t.Errorf("thinned to %d records with %d evaluations, last %s", len(out), evals, last)
	}
	if got := thin(lines[:100], steps[:100], 4000); len(got) != 100 {
		t.Errorf("a short history was thinned to %d", len(got))
	}
}
