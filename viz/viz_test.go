package viz

import (
	"image/gif"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestSegmentsSplitAtNaN(t *testing.T) {
	x := []float64{0, 1, 2, 3, 4, 5}
	y := []float64{1, 2, math.NaN(), 3, math.Inf(1), 4}
	seg := segments(x, y)
	if len(seg) != 3 || len(seg[0]) != 2 || len(seg[1]) != 1 || len(seg[2]) != 1 {
		t.Fatalf("segments = %v", seg)
	}
}

// Every writer produces a file its decoder accepts, of the expected kind.
func TestWritersProduceValidImages(t *testing.T) {
	dir := t.TempDir()
	xs := []float64{0, 1, 2, 3}
	panel := Panel{Title: "t", XLabel: "x", YLabel: "y", Curves: []Curve{{Name: "a", X: xs, Y: []float64{0, 1, 4, 9}, Color: ColP}},
		HLine: 2, HLineLabel: "two", Marks: []Mark{{X: 2, Y: 4, Label: "max"}},
		ErrorPoints: &ErrorPoints{Name: "e", X: xs, Y: []float64{0, 1, 4, 9}, Err: []float64{0.1, 0.1, 0.2, 0.3}, Color: ColD}}
	f := Field{Xs: []float64{0, 1, 2}, Ys: []float64{0, 1}, Zs: []float64{-1, 0, 1, 2, 3, 4}}
	checks := []struct {
		name  string
		write func(string) error
	}{
		{"panels.png", func(p string) error { return SavePanels(p, 6, 3, []Panel{panel, panel}) }},
		{"heat.png", func(p string) error {
			return SaveHeatmaps(p, []HeatPanel{{Title: "h", Field: f, Points: []Points{{Name: "p", XY: []float64{0.5, 0.5}, Color: ColQ}}}}, 3, "z")
		}},
		{"scatter.png", func(p string) error {
			return SaveScatterGrid(p, []ScatterFrame{{Title: "a", Real: []float32{0, 0}, Fake: []float32{1, 1}}}, 2, -2, 2, "title")
		}},
		{"anim.gif", func(p string) error { return SaveGIF(p, [][]Panel{{panel}, {panel}}, 5, 3, 10) }},
	}
	for _, c := range checks {
		path := filepath.Join(dir, c.name)
		if err := c.write(path); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Ext(path) == ".gif" {
			g, err := gif.DecodeAll(fh)
			if err != nil || len(g.Image) != 2 {
				t.Fatalf("%s: %v (%d frames)", c.name, err, len(g.Image))
			}
		} else if img, err := png.Decode(fh); err != nil || img.Bounds().Dx() < 300 {
			t.Fatalf("%s: %v", c.name, err)
		}
		fh.Close()
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(checks) {
		t.Fatalf("temporary files left behind: %d entries", len(entries))
	}
}

// An axis gets at least three labelled ticks, inside its range (gonum's
// own ticks labelled only 0 and 2500 on a run of 2,811 steps).
func TestTicksLabelThree(t *testing.T) {
	for _, r := range [][2]float64{{0, 2811}, {1, 2811}, {0, 9370}, {0, 1}, {-2.5, 13.5}, {0.3, 0.31}} {
		var labels []string
		for _, tk := range (plainTicks{}).Ticks(r[0], r[1]) {
			if tk.Label == "" {
				continue
			}
			if tk.Value < r[0]-1e-9*(r[1]-r[0]) || tk.Value > r[1]+1e-9*(r[1]-r[0]) {
				t.Errorf("%v: tick %v outside the range", r, tk.Value)
			}
			labels = append(labels, tk.Label)
		}
		if len(labels) < 3 {
			t.Errorf("%v: labels %v, want at least 3", r, labels)
		}
	}
}
