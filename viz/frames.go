package viz

import (
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"io"

	"github.com/minmaxgan/minmax/internal/atomicfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// ScatterFrame is one small panel of 2-D points: real data and generated
// samples at one moment of training.
type ScatterFrame struct {
	Title      string
	Real, Fake []float32 // x0 y0 x1 y1 ...
}

// SaveScatterGrid draws frames as small multiples, cols per row, all on the
// same square axes [lo, hi]², real points blue and generated orange.
func SaveScatterGrid(path string, frames []ScatterFrame, cols int, lo, hi float64, title string) error {
	if len(frames) == 0 {
		return fmt.Errorf("no frames to draw")
	}
	rows := (len(frames) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
	}
	for i, f := range frames {
		p := plot.New()
		p.Title.Text = f.Title
		p.Title.TextStyle.Font.Size = vg.Points(10)
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
		p.X.Tick.Label.Font.Size = vg.Points(7)
		p.Y.Tick.Label.Font.Size = vg.Points(7)
		p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{} // "2.5", not "2.50"
		for _, set := range []struct {
			pts []float32
			col color.Color
			r   vg.Length
		}{{f.Real, ColP, 1.3}, {f.Fake, ColQ, 1.1}} {
			xy := make(plotter.XYs, 0, len(set.pts)/2)
			for k := 0; k+1 < len(set.pts); k += 2 {
				x, y := float64(set.pts[k]), float64(set.pts[k+1])
				if x >= lo && x <= hi && y >= lo && y <= hi {
					xy = append(xy, plotter.XY{X: x, Y: y})
				}
			}
			s, err := plotter.NewScatter(xy)
			if err != nil {
				return err
			}
			s.GlyphStyle.Color = set.col
			s.GlyphStyle.Radius = vg.Points(float64(set.r))
			s.GlyphStyle.Shape = vgdraw.CircleGlyph{}
			p.Add(s)
		}
		grid[i/cols][i%cols] = p
	}
	w := vg.Length(cols) * 2.6 * vg.Inch
	h := vg.Length(rows)*2.6*vg.Inch + 0.4*vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(100))
	dc := vgdraw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	// Title strip.
	dc.FillText(vgdraw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(14)),
		XAlign: vgdraw.XCenter, YAlign: vgdraw.YCenter, Handler: plot.DefaultTextHandler},
		vg.Point{X: w / 2, Y: h - 0.2*vg.Inch}, title)
	body := vgdraw.Crop(dc, 0, 0, 0, -0.4*vg.Inch)
	t := vgdraw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 3, PadY: vg.Millimeter * 3,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(grid, t, body)
	for r := range grid {
		for c := range grid[r] {
			if grid[r][c] != nil {
				grid[r][c].Draw(canvases[r][c])
			}
		}
	}
	return writePNG(path, img)
}

// SaveGIF renders each frame (a list of stacked panels) and writes an
// animated GIF that loops, delay hundredths of a second per frame (the
// last frame held three times as long).
func SaveGIF(path string, frames [][]Panel, width, panelHeight float64, delay int) error {
	if len(frames) == 0 {
		return fmt.Errorf("no frames to animate")
	}
	plots := make([][][]*plot.Plot, len(frames))
	fits := make([][][]*legendFit, len(frames))
	for i, panels := range frames {
		plots[i], fits[i] = make([][]*plot.Plot, len(panels)), make([][]*legendFit, len(panels))
		for k, pn := range panels {
			p, fit, err := pn.build()
			if err != nil {
				return err
			}
			plots[i][k], fits[i][k] = []*plot.Plot{p}, []*legendFit{fit}
		}
	}
	t := vgdraw.Tiles{Rows: len(frames[0]), Cols: 1, PadY: vg.Millimeter * 5, PadTop: vg.Millimeter * 2,
		PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 3}
	canvas := func(rows int) (*vgimg.Canvas, vgdraw.Canvas) {
		w := vg.Length(width) * vg.Inch
		h := vg.Length(panelHeight*float64(rows)) * vg.Inch
		c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(80))
		dc := vgdraw.New(c)
		dc.SetColor(color.White)
		dc.Fill(dc.Rectangle.Path())
		return c, dc
	}
	if steadyLegends(plots, fits, t, canvas) {
		fits = nil // placed once for the whole animation
	}
	anim := &gif.GIF{}
	for i, rows := range plots {
		c, dc := canvas(len(rows))
		t.Rows = len(rows)
		var f [][]*legendFit
		if fits != nil {
			f = fits[i]
		}
		cs := alignPlacing(rows, f, t, dc)
		for k := range rows {
			rows[k][0].Draw(cs[k][0])
		}
		src := c.Image()
		pal := image.NewPaletted(src.Bounds(), palette.Plan9)
		draw.Draw(pal, src.Bounds(), src, image.Point{}, draw.Src)
		anim.Image = append(anim.Image, pal)
		d := delay
		if i == len(frames)-1 {
			d *= 3
		}
		anim.Delay = append(anim.Delay, d)
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { return gif.EncodeAll(w, anim) }); err != nil {
		return fmt.Errorf("%w", err)
	}
	return nil
}

// steadyLegends places each panel's legend once for a whole animation, so
// that it neither jumps between corners nor moves the y axis from frame to
// frame: in the corner (and with the top of the y axis) that clears the
// lines of every frame, set on every frame's plot. It does so, and
// returns true, only where every frame has the same panels on the same
// axes; otherwise each frame places its own.
func steadyLegends(plots [][][]*plot.Plot, fits [][][]*legendFit, t vgdraw.Tiles, canvas func(int) (*vgimg.Canvas, vgdraw.Canvas)) bool {
	first := plots[0]
	for _, rows := range plots[1:] {
		if len(rows) != len(first) {
			return false
		}
		for k := range rows {
			p, q := rows[k][0], first[k][0]
			if p.X.Min != q.X.Min || p.X.Max != q.X.Max || p.Y.Min != q.Y.Min || p.Y.Max != q.Y.Max {
				return false
			}
		}
	}
	_, dc := canvas(len(first))
	cs := plot.Align(first, t, dc)
	for k := range first {
		all := &legendFit{}
		for i := range fits {
			f := fits[i][k][0]
			if len(f.texts) > len(all.texts) { // a curve all NaN in one frame has no entry there
				all.texts = f.texts
			}
			all.segs = append(all.segs, f.segs...)
			all.marks = append(all.marks, f.marks...)
		}
		p := first[k][0]
		all.place(p, cs[k][0])
		for _, rows := range plots[1:] {
			q := rows[k][0]
			q.Legend.Top, q.Legend.Left, q.Y.Max = p.Legend.Top, p.Legend.Left, p.Y.Max
		}
	}
	return true
}
