package viz

import (
	"image/gif"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
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

// The legend goes where it covers no line: a free corner first, else
// room made above the data.
func TestLegendCoversNoLine(t *testing.T) {
	xs := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	rising := make([]float64, len(xs))
	for i, x := range xs {
		rising[i] = x * x // the top right is taken, the top left free
	}
	flatHigh, flatLow := make([]float64, len(xs)), make([]float64, len(xs))
	for i := range xs {
		flatHigh[i], flatLow[i] = 1, 0 // every corner crossed
	}
	canvas := vgdraw.New(vgimg.New(9*vg.Inch, 2.8*vg.Inch))
	for _, c := range []struct {
		name          string
		panel         Panel
		top, left     bool
		raised, fixed bool
	}{
		{"free top left", Panel{Title: "a", Curves: []Curve{{Name: "x²", X: xs, Y: rising, Color: ColP}}}, true, true, false, false},
		{"no free corner", Panel{Title: "b", Curves: []Curve{{Name: "one", X: xs, Y: flatHigh, Color: ColP}, {Name: "zero", X: xs, Y: flatLow, Color: ColQ}},
			HLine: 0.5, HLineLabel: "a half"}, true, false, true, false},
		{"a mark's label in the free corner", Panel{Title: "d", Curves: []Curve{{Name: "x²", X: xs, Y: rising, Color: ColP}},
			Marks: []Mark{{X: 1.5, Y: 80, Label: "a mark with a rather long label that reaches far left"}}}, false, false, false, false},
		{"fixed range, no free corner", Panel{Title: "c", Curves: []Curve{{Name: "one", X: xs, Y: flatHigh, Color: ColP}, {Name: "zero", X: xs, Y: flatLow, Color: ColQ}},
			YMin: 0, YMax: 1.05}, true, false, true, true},
	} {
		p, fit, err := c.panel.build()
		if err != nil {
			t.Fatal(err)
		}
		max0 := p.Y.Max
		fit.place(p, canvas)
		if p.Legend.Top != c.top || p.Legend.Left != c.left || (p.Y.Max > max0) != c.raised {
			t.Errorf("%s: legend top %v left %v, y axis top %v (was %v)", c.name, p.Legend.Top, p.Legend.Left, p.Y.Max, max0)
		}
		area := p.DataCanvas(canvas).Size()
		bw, bh := fit.size(p, area)
		if n := fit.crossings(p, area, p.Legend.Top, p.Legend.Left, bw, bh); n != 0 {
			t.Errorf("%s: the legend crosses %d segments", c.name, n)
		}
	}
}

func TestClips(t *testing.T) {
	for _, c := range []struct {
		ax, ay, bx, by float64
		want           bool
	}{
		{0, 0, 1, 1, true},           // through the box [0.4, 0.6]²
		{0, 0.5, 1, 0.5, true},       // across it
		{0.5, 0.5, 0.5, 0.5, true},   // a point inside
		{0, 0, 0.3, 0.3, false},      // short of it
		{0, 0.7, 1, 0.7, false},      // above it
		{0, 0.2, 1, 0.35, false},     // below, rising
		{0.45, 0, 0.45, 0.39, false}, // under it, vertical
		{0.45, 0, 0.45, 0.41, true},
	} {
		if got := clips(c.ax, c.ay, c.bx, c.by, 0.4, 0.6, 0.4, 0.6); got != c.want {
			t.Errorf("clips(%v, %v)-(%v, %v) = %v, want %v", c.ax, c.ay, c.bx, c.by, got, c.want)
		}
	}
}

// In an animation every frame's legend takes the same place and its y
// axis the same range, clear of the lines of every frame.
func TestSteadyLegends(t *testing.T) {
	xs := []float64{0, 2, 4, 6, 8, 10}
	up, down := make([]float64, len(xs)), make([]float64, len(xs))
	for i, x := range xs {
		up[i], down[i] = x/10, 1-x/10
	}
	frame := func(y []float64) []Panel {
		return []Panel{{Title: "f", YMin: 0, YMax: 1, Curves: []Curve{{Name: "a line", X: xs, Y: y, Color: ColP}}}}
	}
	frames := [][]Panel{frame(up), frame(down)}
	plots := make([][][]*plot.Plot, len(frames))
	fits := make([][][]*legendFit, len(frames))
	for i, panels := range frames {
		p, fit, err := panels[0].build()
		if err != nil {
			t.Fatal(err)
		}
		plots[i], fits[i] = [][]*plot.Plot{{p}}, [][]*legendFit{{fit}}
	}
	tiles := vgdraw.Tiles{Rows: 1, Cols: 1}
	canvas := func(int) (*vgimg.Canvas, vgdraw.Canvas) {
		c := vgimg.New(8*vg.Inch, 3*vg.Inch)
		return c, vgdraw.New(c)
	}
	if !steadyLegends(plots, fits, tiles, canvas) {
		t.Fatal("frames on the same axes not placed together")
	}
	a, b := plots[0][0][0], plots[1][0][0]
	if a.Legend.Top != b.Legend.Top || a.Legend.Left != b.Legend.Left || a.Y.Max != b.Y.Max || a.Y.Max <= 1 {
		t.Errorf("frame legends: top %v/%v, left %v/%v, y axis top %v/%v (both lines cross every corner of [0, 1])",
			a.Legend.Top, b.Legend.Top, a.Legend.Left, b.Legend.Left, a.Y.Max, b.Y.Max)
	}
	_, dc := canvas(1)
	area := a.DataCanvas(plot.Align([][]*plot.Plot{{a}}, tiles, dc)[0][0]).Size()
	for i, f := range fits {
		p := plots[i][0][0]
		bw, bh := f[0][0].size(p, area)
		if n := f[0][0].crossings(p, area, p.Legend.Top, p.Legend.Left, bw, bh); n != 0 {
			t.Errorf("frame %d: the legend crosses %d segments", i, n)
		}
	}
}
