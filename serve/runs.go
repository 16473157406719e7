package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/generator"
	"github.com/minmaxgan/minmax/run"
)

// runDir is one run the server follows: its directory and what has been
// read of it (metrics by byte offset, the generator by file version).
type runDir struct {
	name, dir string

	mu      sync.Mutex
	metrics metricsLog
	gen     *generator.Generator
	genAt   fileStamp
	genErr  error
}

// fileStamp identifies a version of a file: runs replace their files by
// renaming, so a new version has a new modification time, size or inode.
type fileStamp struct {
	mod  time.Time
	size int64
	ino  uint64
}

func stampOf(fi os.FileInfo) fileStamp {
	return fileStamp{mod: fi.ModTime(), size: fi.Size(), ino: inode(fi)}
}

// metricsLog is metrics.jsonl as read so far: the complete lines, each
// with its step, and the byte offset up to which they were read.
type metricsLog struct {
	at      fileStamp // of the file when last read (inode; a rewrite starts over)
	offset  int64
	lines   []json.RawMessage
	steps   []int
	version int // bumped when the file was rewritten (a resume drops lines)
	// lastEval is the index in lines of the last evaluation record when
	// hasEval: the runs page's scores, found without scanning back.
	lastEval int
	hasEval  bool
}

// maxLine bounds one metrics line (an evaluation with hundreds of
// spectral norms is a few tens of kilobytes).
const maxLine = 4 << 20

// refresh reads the lines appended since the last call. A file that got
// shorter or was replaced (a resume rewrites it without the lines after
// its checkpoint) is read again from the start.
func (m *metricsLog) refresh(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		if m.offset > 0 {
			*m = metricsLog{version: m.version + 1}
		}
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	st := stampOf(fi)
	if st.ino != m.at.ino || fi.Size() < m.offset {
		if m.offset > 0 {
			*m = metricsLog{version: m.version + 1}
		}
	}
	m.at = st
	if fi.Size() == m.offset {
		return nil
	}
	if _, err := f.Seek(m.offset, io.SeekStart); err != nil {
		return err
	}
	b, err := io.ReadAll(io.LimitReader(f, fi.Size()-m.offset))
	if err != nil {
		return err
	}
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if len(b) > maxLine {
				return fmt.Errorf("%s: a line longer than %d bytes at byte %d", path, maxLine, m.offset)
			}
			return nil // a line being written: read it next time
		}
		line := bytes.TrimSpace(b[:i])
		m.offset += int64(i + 1)
		b = b[i+1:]
		if len(line) == 0 {
			continue
		}
		var head struct {
			Step *int            `json:"step"`
			Eval json.RawMessage `json:"eval"`
		}
		if err := json.Unmarshal(line, &head); err != nil || head.Step == nil {
			continue // not a record (a torn line from a killed writer)
		}
		if len(head.Eval) > 0 {
			m.lastEval, m.hasEval = len(m.lines), true
		}
		m.lines = append(m.lines, json.RawMessage(slices.Clone(line)))
		m.steps = append(m.steps, *head.Step)
	}
}

// RunSummary is a run as the runs page lists it.
type RunSummary struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	// Error says why a run failed or was interrupted.
	Error string `json:"error,omitempty"`
	Step  int    `json:"step"`
	Steps int    `json:"steps"`
	// Data is the data set or distribution spec, Kind "images" or
	// "points", Dim the dimension of a point.
	Data   string `json:"data"`
	Kind   string `json:"kind"`
	Dim    int    `json:"dim,omitempty"`
	Arch   string `json:"arch"`
	Loss   string `json:"loss"`
	Preset string `json:"preset,omitempty"`
	Seed   uint64 `json:"seed"`
	// Precision is "bf16" for a run whose training products are bfloat16
	// (optim.precision); empty for float32.
	Precision string `json:"precision,omitempty"`
	// Classes are the class names of a conditional run.
	Classes []string `json:"classes,omitempty"`
	// Equilibrium is the value of D's loss at the game's optimum (P =
	// Q_G, D optimal), drawn as a line on the loss curves: 2 log 2 for the
	// seed's V_D (eq. 10).
	Equilibrium *Line `json:"equilibrium,omitempty"`
	// Scores are the latest evaluation's headline figures.
	Scores  map[string]float64 `json:"scores,omitempty"`
	Updated time.Time          `json:"updated"`
	// Generator says whether the run has a generator file to sample.
	Generator bool `json:"generator"`
}

// Line is a labelled horizontal line on a chart.
type Line struct {
	Value float64 `json:"value"`
	Label string  `json:"label"`
}

// equilibria are D's loss at P = Q_G with D optimal, by loss.
var equilibria = map[string]Line{
	"minimax":       {2 * math.Ln2, "2 log 2: V_D at P = Q_G (eq. 10)"},
	"nonsaturating": {2 * math.Ln2, "2 log 2: V_D at P = Q_G (eq. 10)"},
	"hinge":         {2, "2: hinge loss at P = Q_G"},
	"wasserstein":   {0, "0: critic loss at P = Q_G"},
	"leastsquares":  {0.25, "1/4: least-squares loss at P = Q_G"},
}

// summary reads the run's state and latest figures.
func (r *runDir) summary() (RunSummary, error) {
	s := RunSummary{Name: r.name}
	rec, err := run.LoadRecipe(r.dir)
	if err != nil {
		return s, err
	}
	s.Data, s.Arch, s.Loss, s.Preset, s.Seed = rec.Data.Source, rec.Model.Arch, rec.Loss.Name, rec.Preset, rec.Run.Seed
	s.Steps, s.Precision = rec.Optim.Steps, rec.Optim.Precision
	s.Kind = "images"
	if p, err := dist.Parse(rec.Data.Source); err == nil {
		s.Kind, s.Dim = "points", p.Dim()
	}
	if l, ok := equilibria[rec.Loss.Name]; ok {
		s.Equilibrium = &l
	}
	st, err := run.ReadStatus(r.dir)
	if err != nil {
		return s, err
	}
	s.Status, s.Error, s.Updated = st.State, st.Error, st.Updated
	if st.Steps > 0 {
		s.Steps = st.Steps
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.metrics.refresh(filepath.Join(r.dir, run.MetricsFile)); err != nil {
		return s, err
	}
	if n := len(r.metrics.steps); n > 0 {
		s.Step = r.metrics.steps[n-1]
	}
	if r.metrics.hasEval {
		s.Scores = headline(r.metrics.lines[r.metrics.lastEval])
	}
	if fi, err := os.Stat(filepath.Join(r.dir, run.MetricsFile)); err == nil && fi.ModTime().After(s.Updated) {
		s.Updated = fi.ModTime().UTC()
	}
	if fi, err := os.Stat(filepath.Join(r.dir, run.GeneratorFile)); err == nil && fi.Mode().IsRegular() {
		s.Generator = true
		if g, err := r.generatorLocked(); err == nil && g.Info.Conditional() {
			s.Classes = g.Info.Data.Classes
		}
	}
	return s, nil
}

// headline picks the figures of an evaluation record.
func headline(line json.RawMessage) map[string]float64 {
	var rec struct {
		Eval *struct {
			Images *struct {
				FD        *float64                `json:"fd"`
				KID       struct{ Mean *float64 } `json:"kid"`
				Precision *float64                `json:"precision"`
				Recall    *float64                `json:"recall"`
				Density   *float64                `json:"density"`
				Coverage  *float64                `json:"coverage"`
				Cond      *float64                `json:"conditional_accuracy"`
			} `json:"images"`
			Coverage *struct {
				Modes *float64 `json:"modes_covered"`
				Total *float64 `json:"modes_total"`
				HQ    *float64 `json:"hq_fraction"`
				RKL   *float64 `json:"reverse_kl"`
			} `json:"coverage"`
			JSD *float64 `json:"jsd_estimate"`
		} `json:"eval"`
	}
	if json.Unmarshal(line, &rec) != nil || rec.Eval == nil {
		return nil
	}
	out := map[string]float64{}
	put := func(k string, v *float64) {
		if v != nil {
			out[k] = *v
		}
	}
	if im := rec.Eval.Images; im != nil {
		put("fd", im.FD)
		put("kid", im.KID.Mean)
		put("precision", im.Precision)
		put("recall", im.Recall)
		put("density", im.Density)
		put("coverage", im.Coverage)
		put("class_accuracy", im.Cond)
	}
	if c := rec.Eval.Coverage; c != nil {
		put("modes", c.Modes)
		put("modes_total", c.Total)
		put("hq_fraction", c.HQ)
		put("reverse_kl", c.RKL)
	}
	put("jsd", rec.Eval.JSD)
	return out
}

// errNoGenerator is returned for a run that has not saved its generator.
var errNoGenerator = errors.New("the run has not saved a generator yet (it writes one at each checkpoint)")

// generator returns the run's generator, loaded once per version of its
// file and shared by every request.
func (r *runDir) generator() (*generator.Generator, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.generatorLocked()
}

func (r *runDir) generatorLocked() (*generator.Generator, error) {
	fi, err := os.Stat(filepath.Join(r.dir, run.GeneratorFile))
	if err != nil {
		return nil, errNoGenerator
	}
	st := stampOf(fi)
	if st == r.genAt && (r.gen != nil || r.genErr != nil) {
		return r.gen, r.genErr
	}
	r.gen, r.genErr = run.LoadGenerator(r.dir)
	r.genAt = st
	return r.gen, r.genErr
}

// Snapshot is one evaluation step's pictures: a sample grid (image runs)
// or a field of the game (toy runs), as URLs of the API.
type Snapshot struct {
	Step  int    `json:"step"`
	Grid  string `json:"grid,omitempty"`
	Field string `json:"field,omitempty"`
}

var snapshotFile = regexp.MustCompile(`^step_([0-9]{6,9})\.(png|json)$`)

// snapshots lists samples/ by step.
func (r *runDir) snapshots() ([]Snapshot, error) {
	entries, err := os.ReadDir(filepath.Join(r.dir, "samples"))
	if errors.Is(err, os.ErrNotExist) {
		return []Snapshot{}, nil
	}
	if err != nil {
		return nil, err
	}
	by := map[int]*Snapshot{}
	for _, e := range entries {
		m := snapshotFile.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		step, _ := strconv.Atoi(m[1])
		s := by[step]
		if s == nil {
			s = &Snapshot{Step: step}
			by[step] = s
		}
		url := "/api/runs/" + r.name + "/files/samples/" + e.Name()
		if m[2] == "png" {
			s.Grid = url
		} else {
			s.Field = url
		}
	}
	out := make([]Snapshot, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Step < out[j].Step })
	return out, nil
}

var pictureFile = regexp.MustCompile(`^[A-Za-z0-9_.-]+\.(png|gif)$`)

// pictures lists the run's own pictures (curves.png, samples.png, ...).
func (r *runDir) pictures() []string {
	entries, _ := os.ReadDir(r.dir)
	var out []string
	for _, e := range entries {
		if pictureFile.MatchString(e.Name()) && e.Type().IsRegular() {
			out = append(out, "/api/runs/"+r.name+"/files/"+e.Name())
		}
	}
	return out
}

// isRun says whether dir holds a run (its config.yaml).
func isRun(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, run.ConfigFile))
	return err == nil && fi.Mode().IsRegular()
}

// validName is what a run's name in a URL may be: one path element of
// ordinary characters, never "." or "..".
var validName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,199}$`)

// discover lists the runs under roots: a root that is a run, and the runs
// one level below a root. Names are the folders' names; a name found
// twice gets the root's position as a suffix (name~2).
func discover(roots []string) []struct{ name, dir string } {
	var out []struct{ name, dir string }
	seen := map[string]bool{}
	add := func(name, dir string, root int) {
		if !validName.MatchString(name) {
			return
		}
		if seen[name] {
			name = name + "~" + strconv.Itoa(root+1)
			if seen[name] {
				return
			}
		}
		seen[name] = true
		out = append(out, struct{ name, dir string }{name, dir})
	}
	for i, root := range roots {
		if isRun(root) {
			abs, _ := filepath.Abs(root)
			add(filepath.Base(abs), root, i)
			continue
		}
		entries, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		for _, e := range entries {
			dir := filepath.Join(root, e.Name())
			if (e.IsDir() || e.Type()&fs.ModeSymlink != 0) && isRun(dir) {
				add(e.Name(), dir, i)
			}
		}
	}
	return out
}
