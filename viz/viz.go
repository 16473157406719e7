package viz

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"github.com/minmaxgan/minmax/internal/atomicfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Colours used consistently: P (real data) blue, Q (the generator) orange,
// the optimum D* black, the trained D red.
var (
	ColP     = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	ColQ     = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	ColDStar = color.RGBA{A: 255}
	ColD     = color.RGBA{R: 214, G: 39, B: 40, A: 255}
)

// Curve is a named line.
type Curve struct {
	Name   string
	X, Y   []float64
	Color  color.Color
	Dashed bool
	Dotted bool
}

// Panel is one plot of a figure.
type Panel struct {
	Title, XLabel, YLabel string
	Curves                []Curve
	// XMin, XMax fix the x range when XMin < XMax (panels over the same
	// steps then share their ticks).
	XMin, XMax float64
	// YMin, YMax fix the y range when YMin < YMax. The legend goes in a
	// corner where it covers no line; where every corner has one, the top
	// of the y axis is raised to make room (at most tripling the range;
	// past that the legend takes the corner crossed least: legendFit).
	YMin, YMax float64
	// HLine draws a labelled horizontal reference line when HLineLabel is set.
	HLine      float64
	HLineLabel string
	// Marks are labelled points (e.g. a maximum).
	Marks []Mark
	// ErrorPoints are estimates with symmetric error bars.
	ErrorPoints *ErrorPoints
}

// Mark is a labelled point.
type Mark struct {
	X, Y  float64
	Label string
}

// ErrorPoints are points with vertical error bars.
type ErrorPoints struct {
	Name      string
	X, Y, Err []float64
	Color     color.Color
}

func xys(x, y []float64) plotter.XYs {
	pts := make(plotter.XYs, 0, len(x))
	for i := range x {
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			continue
		}
		pts = append(pts, plotter.XY{X: x[i], Y: y[i]})
	}
	return pts
}

// segments splits a curve into its runs of finite values.
func segments(x, y []float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i := range x {
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: x[i], Y: y[i]})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func newPlot(title, xl, yl string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = xl
	p.Y.Label.Text = yl
	p.X.Label.TextStyle.Font.Size = vg.Points(11)
	p.Y.Label.TextStyle.Font.Size = vg.Points(11)
	p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	return p
}

// plainTicks are gonum's default ticks labelled without trailing zeros
// ("250", "1750", "0.5" rather than "250.00", "1750.00", "0.50").
type plainTicks struct{}

// Ticks implements plot.Ticker. Where gonum's ticks would label fewer
// than three values (a run of 2,811 steps got only "0" and "2500"), the
// axis gets labels at a round step of about a fifth of its range instead.
func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	labelled := 0
	for _, t := range ts {
		if t.Label != "" {
			labelled++
		}
	}
	if labelled < 3 && max > min {
		ts = roundTicks(min, max)
	}
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'g', 6, 64)
		}
	}
	return ts
}

// roundTicks labels the multiples of a round step (1, 2 or 5 times a
// power of ten) of about (max−min)/5 in [min, max], with unlabelled ticks
// halfway between.
func roundTicks(min, max float64) []plot.Tick {
	raw := (max - min) / 5
	step := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*step >= raw {
			step *= m
			break
		}
	}
	var ts []plot.Tick
	for k := math.Ceil(min / step * 2); k*step/2 <= max; k++ {
		v := k * step / 2
		t := plot.Tick{Value: v}
		if int64(k)%2 == 0 {
			t.Label = strconv.FormatFloat(v, 'g', 6, 64)
		}
		ts = append(ts, t)
	}
	return ts
}

// build makes the panel's plot, with what drew it for placing its legend
// once its size is known (legendFit.place).
func (pn Panel) build() (*plot.Plot, *legendFit, error) {
	p := newPlot(pn.Title, pn.XLabel, pn.YLabel)
	fit := &legendFit{}
	for _, c := range pn.Curves {
		// NaN or infinite values leave gaps: each finite run is its own line.
		named := false
		for _, seg := range segments(c.X, c.Y) {
			l, err := plotter.NewLine(seg)
			if err != nil {
				return nil, nil, fmt.Errorf("curve %q: %w", c.Name, err)
			}
			fit.line(seg)
			l.Color = c.Color
			l.Width = vg.Points(1.8)
			if c.Dashed {
				l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			}
			if c.Dotted {
				l.Dashes = []vg.Length{vg.Points(1.5), vg.Points(3)}
			}
			p.Add(l)
			if c.Name != "" && !named {
				p.Legend.Add(c.Name, l)
				fit.texts = append(fit.texts, c.Name)
				named = true
			}
		}
	}
	if pn.ErrorPoints != nil {
		e := pn.ErrorPoints
		pts := xys(e.X, e.Y)
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, nil, err
		}
		s.GlyphStyle.Color = e.Color
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		s.GlyphStyle.Radius = vg.Points(3)
		yerr := make(plotter.Errors, len(e.Err))
		for i, v := range e.Err {
			yerr[i].Low, yerr[i].High = v, v
			if y := e.Y[i]; !math.IsNaN(y) && !math.IsInf(y, 0) {
				fit.line(plotter.XYs{{X: e.X[i], Y: y - v}, {X: e.X[i], Y: y + v}})
			}
		}
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{xys(e.X, e.Y), plotter.YErrors(yerr)})
		if err != nil {
			return nil, nil, err
		}
		eb.LineStyle.Color = e.Color
		p.Add(s, eb)
		p.Legend.Add(e.Name, s)
		fit.texts = append(fit.texts, e.Name)
	}
	if pn.HLineLabel != "" {
		xmin, xmax := p.X.Min, p.X.Max
		if pn.XMin < pn.XMax {
			xmin, xmax = pn.XMin, pn.XMax
		} else if xmin >= xmax {
			xmin, xmax = 0, 1
		}
		l, _ := plotter.NewLine(plotter.XYs{{X: xmin, Y: pn.HLine}, {X: xmax, Y: pn.HLine}})
		l.Color = color.Gray{Y: 90}
		l.Dashes = []vg.Length{vg.Points(2), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(pn.HLineLabel, l)
		fit.texts = append(fit.texts, pn.HLineLabel)
		fit.line(plotter.XYs{{X: xmin, Y: pn.HLine}, {X: xmax, Y: pn.HLine}})
	}
	for _, m := range pn.Marks {
		s, _ := plotter.NewScatter(plotter.XYs{{X: m.X, Y: m.Y}})
		s.GlyphStyle.Shape = draw.PyramidGlyph{}
		s.GlyphStyle.Radius = vg.Points(5)
		s.GlyphStyle.Color = ColD
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: m.X, Y: m.Y}}, Labels: []string{m.Label}})
		if err != nil {
			return nil, nil, err
		}
		// Centred above the point, clear of a curve peaking there (the
		// legend keeps clear of it: legendFit).
		lb.Offset = vg.Point{Y: markGap}
		lb.TextStyle[0].XAlign = draw.XCenter
		r := lb.TextStyle[0].Rectangle(m.Label)
		fit.line(plotter.XYs{{X: m.X, Y: m.Y}})
		fit.marks = append(fit.marks, markLabel{X: m.X, Y: m.Y, w: r.Max.X - r.Min.X, h: r.Max.Y - r.Min.Y})
		p.Add(s, lb)
	}
	if pn.YMin < pn.YMax {
		p.Y.Min, p.Y.Max = pn.YMin, pn.YMax
	}
	if pn.XMin < pn.XMax { // after every plotter, each of which widens the range to its data
		p.X.Min, p.X.Max = pn.XMin, pn.XMax
	}
	return p, fit, nil
}

// SavePanels writes panels stacked vertically into one PNG of the given
// width and per-panel height (in inches).
func SavePanels(path string, width, panelHeight float64, panels []Panel) error {
	rows := make([][]*plot.Plot, len(panels))
	fits := make([][]*legendFit, len(panels))
	for i, pn := range panels {
		p, fit, err := pn.build()
		if err != nil {
			return err
		}
		rows[i], fits[i] = []*plot.Plot{p}, []*legendFit{fit}
	}
	return saveGrid(path, vg.Length(width)*vg.Inch, vg.Length(panelHeight*float64(len(panels)))*vg.Inch, rows, fits)
}

// saveGrid draws rows of plots onto one PNG, placing each legend of fits
// (nil where a plot has none to place) once the plots are laid out.
func saveGrid(path string, w, h vg.Length, rows [][]*plot.Plot, fits [][]*legendFit) error {
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110))
	dc := draw.New(img)
	// White background.
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	t := draw.Tiles{Rows: len(rows), Cols: len(rows[0]), PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := alignPlacing(rows, fits, t, dc)
	for i := range rows {
		for j := range rows[i] {
			if rows[i][j] != nil {
				rows[i][j].Draw(canvases[i][j])
			}
		}
	}
	return writePNG(path, img)
}

// alignPlacing lays out rows of plots on dc (plot.Align), places the
// legends of fits in the data areas that gives them, and lays the plots
// out again, since a raised y axis may have widened its tick labels.
func alignPlacing(rows [][]*plot.Plot, fits [][]*legendFit, t draw.Tiles, dc draw.Canvas) [][]draw.Canvas {
	canvases := plot.Align(rows, t, dc)
	if fits == nil {
		return canvases
	}
	for i := range rows {
		for j := range rows[i] {
			if rows[i][j] != nil && i < len(fits) && j < len(fits[i]) && fits[i][j] != nil {
				fits[i][j].place(rows[i][j], canvases[i][j])
			}
		}
	}
	return plot.Align(rows, t, dc)
}

func writePNG(path string, img *vgimg.Canvas) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("%w", err)
	}
	return nil
}

// Field is a scalar function sampled on a regular grid (row-major in y:
// Zs[iy*len(Xs)+ix]).
type Field struct {
	Xs, Ys []float64
	Zs     []float64
}

// Dims implements plotter.GridXYZ.
func (f Field) Dims() (c, r int) { return len(f.Xs), len(f.Ys) }

// Z implements plotter.GridXYZ.
func (f Field) Z(c, r int) float64 { return f.Zs[r*len(f.Xs)+c] }

// X implements plotter.GridXYZ.
func (f Field) X(c int) float64 { return f.Xs[c] }

// Y implements plotter.GridXYZ.
func (f Field) Y(r int) float64 { return f.Ys[r] }

// Points is a named scatter of 2-D points (x0 y0 x1 y1 ...). The name,
// which should say the colour ("P (blue)"), goes under the x axis.
type Points struct {
	Name  string
	XY    []float64
	Color color.Color
}

// HeatPanel is a heatmap with optional points over it.
type HeatPanel struct {
	Title  string
	Field  Field
	Points []Points
}

// SaveHeatmaps writes heatmaps side by side with one shared, symmetric
// diverging colour scale [-limit, limit] (values beyond it are drawn at its
// ends) and a colour bar labelled zLabel.
func SaveHeatmaps(path string, panels []HeatPanel, limit float64, zLabel string) error {
	return SaveHeatmapsRange(path, panels, moreland.SmoothBlueRed(), -limit, limit, zLabel)
}

// Sequential is a perceptually uniform light-to-dark colour map for
// densities.
func Sequential() palette.ColorMap { return moreland.BlackBody() }

// SaveHeatmapsRange is SaveHeatmaps with a given colour map and range.
func SaveHeatmapsRange(path string, panels []HeatPanel, pal palette.ColorMap, lo, hi float64, zLabel string) error {
	pal.SetMin(lo)
	pal.SetMax(hi)
	colors := pal.Palette(255)
	row := make([]*plot.Plot, 0, len(panels)+1)
	for _, hp := range panels {
		xl := "x₁"
		if len(hp.Points) > 0 {
			xl += "      dots: "
			for i, pts := range hp.Points {
				if i > 0 {
					xl += ", "
				}
				xl += pts.Name
			}
		}
		p := newPlot(hp.Title, xl, "x₂")
		h := plotter.NewHeatMap(hp.Field, colors)
		h.Min, h.Max = lo, hi
		h.Underflow = colors.Colors()[0]
		h.Overflow = colors.Colors()[len(colors.Colors())-1]
		h.Rasterized = true
		p.Add(h)
		for _, pts := range hp.Points {
			xy := make(plotter.XYs, len(pts.XY)/2)
			for i := range xy {
				xy[i] = plotter.XY{X: pts.XY[2*i], Y: pts.XY[2*i+1]}
			}
			s, err := plotter.NewScatter(xy)
			if err != nil {
				return err
			}
			s.GlyphStyle.Color = pts.Color
			s.GlyphStyle.Radius = vg.Points(1.6)
			s.GlyphStyle.Shape = draw.CircleGlyph{}
			p.Add(s)
		}
		p.X.Min, p.X.Max = hp.Field.Xs[0], hp.Field.Xs[len(hp.Field.Xs)-1]
		p.Y.Min, p.Y.Max = hp.Field.Ys[0], hp.Field.Ys[len(hp.Field.Ys)-1]
		row = append(row, p)
	}
	cb := plot.New()
	cb.Title.Text = zLabel
	cb.HideX()
	cb.Add(&plotter.ColorBar{ColorMap: pal, Vertical: true})
	cb.Y.Min, cb.Y.Max = lo, hi
	row = append(row, cb)
	w := vg.Length(4.6*float64(len(panels))+1.1) * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w, 4.6*vg.Inch), vgimg.UseDPI(110))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	// Heatmaps square-ish, the colour bar narrow: lay out by hand.
	x := vg.Length(0)
	for i, p := range row {
		width := 4.6 * vg.Inch
		if i == len(row)-1 {
			width = 1.1 * vg.Inch
		}
		c := draw.Crop(dc, x, x+width-w, 0, 0)
		c = draw.Crop(c, vg.Millimeter*2, -vg.Millimeter*2, vg.Millimeter*2, -vg.Millimeter*2)
		p.Draw(c)
		x += width
	}
	return writePNG(path, img)
}
