package viz

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// A panel's legend must not hide its data: a loss that settles at the top
// of its axis ran under gonum's top-right legend, and a coverage of 1
// under the legend of a [0, 1.05] axis. legendFit keeps what a panel drew
// (its lines as segments, in data coordinates) and the legend's entries,
// so that once the panel's size on the page is known (after plot.Align)
// place can put the legend where it covers nothing.
type legendFit struct {
	texts []string
	segs  [][2]plotter.XY // every line's segments; a point is a segment of length 0
	marks []markLabel
}

// markLabel is a Mark's label as drawn: centred over the point (X, Y),
// its bottom markGap above it, w wide and h high.
type markLabel struct {
	X, Y float64
	w, h vg.Length
}

// markGap is the space between a mark and the bottom of its label.
const markGap = vg.Length(9) // points: the mark glyph is 5 high

// line adds the segments between consecutive points of pts (a lone
// point as a segment of length 0).
func (f *legendFit) line(pts plotter.XYs) {
	if len(pts) == 1 {
		f.segs = append(f.segs, [2]plotter.XY{pts[0], pts[0]})
	}
	for i := 1; i < len(pts); i++ {
		f.segs = append(f.segs, [2]plotter.XY{pts[i-1], pts[i]})
	}
}

// legendMargin is the gap kept between the legend and the data, as a
// fraction of the data area.
const legendMargin = 0.03

// maxHeadroom bounds how far place raises the top of the y axis to clear a
// corner: by at most this many times the axis's range before (the data's,
// or the panel's YMin to YMax where it fixes them).
const maxHeadroom = 2.0

// place sets p's legend in the corner of the data area, drawn on c, where
// it crosses none of the panel's lines, trying top right, top left, bottom
// right and bottom left in turn. Where every corner is crossed it raises
// the top of the y axis until the top-right or top-left corner is clear
// (whichever needs less), or, where that would more than triple the
// axis, takes the corner crossed least.
func (f *legendFit) place(p *plot.Plot, c draw.Canvas) {
	if len(f.texts) == 0 {
		return
	}
	area := p.DataCanvas(c).Size()
	bw, bh := f.size(p, area)
	type corner struct{ top, left bool }
	best, fewest := corner{true, false}, math.MaxInt
	for _, k := range []corner{{true, false}, {true, true}, {false, false}, {false, true}} {
		n := f.crossings(p, area, k.top, k.left, bw, bh)
		if n == 0 {
			p.Legend.Top, p.Legend.Left = k.top, k.left
			return
		}
		if n < fewest {
			best, fewest = k, n
		}
	}
	if top, left, ok := f.headroom(p, area, bw, bh); ok {
		p.Y.Max = top
		p.Legend.Top, p.Legend.Left = true, left
		return
	}
	p.Legend.Top, p.Legend.Left = best.top, best.left
}

// size returns the legend's width and height as fractions of the data
// area's size s, margin included, as gonum's Legend.Draw lays it out.
func (f *legendFit) size(p *plot.Plot, s vg.Point) (w, h float64) {
	l := &p.Legend
	var width, entry vg.Length
	for _, t := range f.texts {
		width = max(width, l.ThumbnailWidth+l.TextStyle.Rectangle(" "+t).Max.X)
		entry = max(entry, l.TextStyle.Rectangle(t).Max.Y)
	}
	n := vg.Length(len(f.texts))
	height := n*entry + (n-1)*l.Padding + l.TextStyle.FontExtents().Descent
	if s.X <= 0 || s.Y <= 0 {
		return 1, 1
	}
	return float64(width/s.X) + legendMargin, float64(height/s.Y) + legendMargin
}

// box returns m's label as a box in coordinates normalised to the
// axes' ranges, on a data area of size s.
func (m markLabel) box(p *plot.Plot, s vg.Point) (x0, x1, y0, y1 float64) {
	nx, ny := p.X.Norm(m.X), p.Y.Norm(m.Y)
	hw, gap, h := float64(m.w/2/s.X), float64(markGap/s.Y), float64(m.h/s.Y)
	return nx - hw, nx + hw, ny + gap, ny + gap + h
}

// crossings counts the segments and mark labels that cross the legend's
// box in the given corner, in coordinates normalised to the axes' ranges,
// on a data area of size s.
func (f *legendFit) crossings(p *plot.Plot, s vg.Point, top, left bool, bw, bh float64) int {
	x0, x1, y0, y1 := 1-bw, 1.0, 1-bh, 1.0
	if left {
		x0, x1 = 0, bw
	}
	if !top {
		y0, y1 = 0, bh
	}
	n := 0
	for _, g := range f.segs {
		if clips(p.X.Norm(g[0].X), p.Y.Norm(g[0].Y), p.X.Norm(g[1].X), p.Y.Norm(g[1].Y), x0, x1, y0, y1) {
			n++
		}
	}
	for _, m := range f.marks {
		if mx0, mx1, my0, my1 := m.box(p, s); mx0 < x1 && x0 < mx1 && my0 < y1 && y0 < my1 {
			n++
		}
	}
	return n
}

// headroom returns the top of the y axis that clears the legend's box in
// a top corner (right or left, whichever needs the lower top), and false
// where that would more than triple the axis's range.
func (f *legendFit) headroom(p *plot.Plot, s vg.Point, bw, bh float64) (top float64, left, ok bool) {
	lo, hi := p.Y.Min, p.Y.Max
	if !(hi > lo) || bh >= 1 {
		return 0, false, false
	}
	top = math.Inf(1)
	for _, l := range []bool{false, true} {
		x0, x1 := 1-bw, 1.0
		if l {
			x0, x1 = 0, bw
		}
		// The highest point drawn within the box's columns: data above a
		// fixed top (a spike the panel clips on purpose) is not drawn, and
		// is not revealed either.
		peak := lo
		for _, g := range f.segs {
			peak = max(peak, min(hi, bandMax(p.X.Norm(g[0].X), g[0].Y, p.X.Norm(g[1].X), g[1].Y, x0, x1)))
		}
		// The data's top then sits just under the box's bottom edge.
		t := lo + (peak-lo)/(1-bh-1e-6)
		// A label's top stays a fixed height above its point.
		for _, m := range f.marks {
			if mx0, mx1, _, my1 := m.box(p, s); mx0 < x1 && x0 < mx1 {
				above := my1 - p.Y.Norm(m.Y)
				if room := 1 - bh - above - 1e-6; room > 0 {
					t = max(t, lo+(m.Y-lo)/room)
				} else {
					t = math.Inf(1)
				}
			}
		}
		if t < top {
			top, left = t, l
		}
	}
	if top <= hi {
		top = hi // the box is clear already (crossings saw a point on its edge)
	}
	return top, left, top-lo <= (1+maxHeadroom)*(hi-lo)
}

// bandMax returns the largest y of the segment (ax, ay)-(bx, by) over the
// columns x0 ≤ x ≤ x1 (x normalised, y not), or −Inf where it has none
// there.
func bandMax(ax, ay, bx, by, x0, x1 float64) float64 {
	if ax > bx {
		ax, ay, bx, by = bx, by, ax, ay
	}
	if bx < x0 || ax > x1 {
		return math.Inf(-1)
	}
	at := func(x float64) float64 {
		if bx == ax {
			return max(ay, by)
		}
		return ay + (by-ay)*(x-ax)/(bx-ax)
	}
	return max(at(max(ax, x0)), at(min(bx, x1)))
}

// clips reports whether the segment (ax, ay)-(bx, by) meets the box
// [x0, x1]×[y0, y1] (Liang and Barsky's clipping).
func clips(ax, ay, bx, by, x0, x1, y0, y1 float64) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := bx-ax, by-ay
	for _, e := range [4][2]float64{{-dx, ax - x0}, {dx, x1 - ax}, {-dy, ay - y0}, {dy, y1 - ay}} {
		q, r := e[0], e[1]
		if q == 0 {
			if r < 0 {
				return false
			}
			continue
		}
		t := r / q
		if q < 0 {
			t0 = max(t0, t)
		} else {
			t1 = min(t1, t)
		}
		if t0 > t1 {
			return false
		}
	}
	return true
}
