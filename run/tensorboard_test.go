package run

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minmaxgan/minmax/tboard"
	"github.com/minmaxgan/minmax/tboard/tfpb"
)

// tbPoint is one scalar of a run: a tag at a step.
type tbPoint struct {
	step int64
	tag  string
}

// metricsScalars reads a run's metrics.jsonl and returns every finite
// number of every line by its step and its JSON path joined by "/" (the
// "step" keys and arrays left out), as the run's event files must hold
// them.
func metricsScalars(t *testing.T, dir string) map[tbPoint]float32 {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[tbPoint]float32{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		step := int64(line["step"].(float64))
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					if k == "step" {
						continue
					}
					p := k
					if path != "" {
						p = path + "/" + k
					}
					walk(p, e)
				}
			case float64:
				if _, dup := out[tbPoint{step, path}]; dup {
					t.Fatalf("metrics.jsonl has %s at step %d twice", path, step)
				}
				out[tbPoint{step, path}] = float32(x)
			}
		}
		walk("", line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// tbEvents reads every event file of a run's tb/ (in name order, as
// TensorBoard does), checks that each begins with the file version, and
// returns its scalars (each at most once) and its image summaries.
func tbEvents(t *testing.T, dir string) (files int, scalars map[tbPoint]float32, images []*tfpb.Event) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, TBDir, tboard.FilePrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	scalars = map[tbPoint]float32{}
	for _, p := range paths {
		evs, err := tboard.ReadEvents(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 || evs[0].GetFileVersion() != "brain.Event:2" {
			t.Fatalf("%s does not begin with the file version: %v", p, evs[:min(1, len(evs))])
		}
		for _, ev := range evs[1:] {
			if ev.GetSummary() == nil || ev.GetWallTime() < 1e9 {
				t.Fatalf("%s: event %v", p, ev)
			}
			for _, v := range ev.GetSummary().GetValue() {
				if v.GetImage() != nil {
					images = append(images, ev)
					continue
				}
				k := tbPoint{ev.GetStep(), v.GetTag()}
				if _, dup := scalars[k]; dup {
					t.Fatalf("%s at step %d is in the event files twice", k.tag, k.step)
				}
				scalars[k] = v.GetSimpleValue()
			}
		}
	}
	return len(paths), scalars, images
}

// sameScalars fails unless the event files hold exactly the numbers of
// metrics.jsonl.
func sameScalars(t *testing.T, want, got map[tbPoint]float32) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("the event files have no %s at step %d", k.tag, k.step)
		} else if math.Float32bits(g) != math.Float32bits(v) {
			t.Errorf("%s at step %d: %v in the event files, %v in metrics.jsonl", k.tag, k.step, g, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("the event files have %s at step %d, metrics.jsonl has not", k.tag, k.step)
		}
	}
}

// A toy run, interrupted, left with the events of a process killed past
// its checkpoint, and resumed: its event files hold the scalars of its
// metrics.jsonl, each once.
func TestTensorBoardToyRun(t *testing.T) {
	cfg := smallConfig()
	cfg.Optim.Steps = 20 // evaluations at 0, 10, 20; JSD at 20
	dir := filepath.Join(t.TempDir(), "r")
	// An empty tb/ folder does not make the directory someone else's.
	if err := os.MkdirAll(filepath.Join(dir, TBDir), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	opt := Options{NoPictures: true, JSDSteps: 20}
	o2 := opt
	o2.Progress = &cancelAt{step: 12, cancel: cancel}
	cut, err := New(cfg, dir, o2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cut.Train(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v", err)
	}
	cut.Close()
	files, sc, _ := tbEvents(t, dir)
	if files != 1 || len(sc) == 0 {
		t.Fatalf("after the first process: %d event files, %d scalars", files, len(sc))
	}
	sameScalars(t, metricsScalars(t, dir), sc)
	if _, ok := sc[tbPoint{0, "eval/coverage/modes_covered"}]; !ok {
		t.Errorf("no eval/coverage/modes_covered at step 0: %v", sc)
	}
	if _, ok := sc[tbPoint{12, "loss_d"}]; !ok {
		t.Errorf("no loss_d at step 12")
	}

	// What a process killed after the checkpoint at step 12 leaves: events
	// past it, the last of them cut short; and a file of a second process
	// killed before its first checkpoint.
	paths, _ := filepath.Glob(filepath.Join(dir, TBDir, tboard.FilePrefix+"*"))
	var extra bytes.Buffer
	enc := tboard.NewEncoder(&extra)
	for _, ev := range []*tfpb.Event{
		{WallTime: 2e9, Step: 13, What: &tfpb.Event_Summary{Summary: &tfpb.Summary{Value: []*tfpb.Summary_Value{{Tag: "loss_d", Value: &tfpb.Summary_Value_SimpleValue{SimpleValue: 99}}}}}},
		{WallTime: 2e9, Step: 14, What: &tfpb.Event_Summary{Summary: &tfpb.Summary{Value: []*tfpb.Summary_Value{{Tag: "loss_d", Value: &tfpb.Summary_Value_SimpleValue{SimpleValue: 99}}}}}},
	} {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(paths[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	rec := extra.Bytes()
	_, err = f.Write(rec[:len(rec)-5])
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	w, err := tboard.Create(filepath.Join(dir, TBDir))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddScalar("loss_d", 13, 99, time.Time{}); err != nil {
		t.Fatal(err)
	}
	w.Close()

	var warned []string
	opt.Warn = func(msg string) { warned = append(warned, msg) }
	res, err := Resume(dir, 0, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	res.Close()
	if !slices.ContainsFunc(warned, func(m string) bool {
		return strings.Contains(m, paths[0]+": truncated record at byte") && strings.Contains(m, "a process stopped while writing it")
	}) {
		t.Errorf("warnings %q, want one about the truncated record of %s", warned, paths[0])
	}
	files, sc, _ = tbEvents(t, dir)
	if files != 2 {
		t.Errorf("%d event files after the resume, want 2 (the first process's, the resumed one's)", files)
	}
	want := metricsScalars(t, dir)
	sameScalars(t, want, sc)
	if v := sc[tbPoint{13, "loss_d"}]; v == 99 || len(want) < 20*6 {
		t.Errorf("loss_d at step 13 is %v; metrics.jsonl has %d numbers", v, len(want))
	}
	for _, tag := range []string{"eval/jsd_estimate", "eval/coverage/hq_fraction", "grad_norm_g"} {
		if _, ok := sc[tbPoint{20, tag}]; !ok {
			t.Errorf("no %s at step 20", tag)
		}
	}
}

// An image run writes its sample grids as images, the PNGs of
// samples/step_NNNNNN.png, at their steps.
func TestTensorBoardImageRun(t *testing.T) {
	cfg := imageConfig(tinyImages(t, 96))
	cfg.Optim.Epochs = 1 // 6 steps, evaluations at 0, 4 and 6
	r, err := New(cfg, filepath.Join(t.TempDir(), "img"), Options{NoPictures: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.Close()
	files, sc, images := tbEvents(t, r.Dir)
	if files != 1 {
		t.Fatalf("%d event files", files)
	}
	sameScalars(t, metricsScalars(t, r.Dir), sc)
	var steps []int64
	for _, ev := range images {
		v := ev.GetSummary().GetValue()[0]
		im := v.GetImage()
		steps = append(steps, ev.GetStep())
		grid, err := os.ReadFile(filepath.Join(r.Dir, "samples", fmt.Sprintf("step_%06d.png", ev.GetStep())))
		if err != nil {
			t.Fatal(err)
		}
		if v.GetTag() != "samples" || !bytes.Equal(im.GetEncodedImageString(), grid) || im.GetColorspace() != 1 {
			t.Errorf("step %d: tag %q, colorspace %d, %d bytes of image (the grid has %d)", ev.GetStep(), v.GetTag(), im.GetColorspace(), len(im.GetEncodedImageString()), len(grid))
		}
		img, err := png.Decode(bytes.NewReader(im.GetEncodedImageString()))
		if err != nil {
			t.Fatalf("step %d: %v", ev.GetStep(), err)
		}
		if b := img.Bounds(); b.Dx() != int(im.GetWidth()) || b.Dy() != int(im.GetHeight()) || b.Dx() < 8*28 || b.Dy() < 8*28 {
			t.Errorf("step %d: a PNG of %d×%d pixels said to be %d×%d", ev.GetStep(), b.Dx(), b.Dy(), im.GetWidth(), im.GetHeight())
		}
	}
	if fmt.Sprint(steps) != "[0 4 6]" {
		t.Errorf("images at steps %v, want [0 4 6]", steps)
	}
}

// A run started afresh in the folder of one that stopped before its first
// checkpoint drops the earlier event files, as it empties metrics.jsonl; a
// folder whose tb/ holds files but no run is not taken over.
func TestTensorBoardFreshStart(t *testing.T) {
	cfg := smallConfig()
	dir := filepath.Join(t.TempDir(), "r")
	for range 2 {
		r, err := New(cfg, dir, Options{NoPictures: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.record(1, map[string]float64{"loss_d": 1}); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if files, sc, _ := tbEvents(t, dir); files != 1 || len(sc) != 1 {
			t.Fatalf("%d event files, %d scalars, want 1 and 1", files, len(sc))
		}
	}
	other := t.TempDir()
	if err := os.MkdirAll(filepath.Join(other, TBDir, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, other, Options{}); err == nil || !strings.Contains(err.Error(), "is not empty (tb)") {
		t.Fatalf("New in a folder with a tb/ of other files: %v", err)
	}
}
