// Package viz draws minmax's pictures with gonum.org/v1/plot: the theory
// lab's plots of P, Q, D* and a trained D, heatmaps in 2-D, the sweep of
// V_D(G_θ, D*) over a family of generators, and a run's curves (Panel,
// SavePanels). Every function writes a PNG atomically (temporary file,
// then rename).
//
// A panel's legend never hides its data: once the panels are laid out on
// the page, each legend goes to the first corner of its data area (top
// right, top left, bottom right, bottom left) that no line, error bar or
// mark label crosses; where every corner is crossed, the top of the y axis
// is raised until a top corner is clear, by at most twice its range, else
// the legend takes the corner crossed least (legend.go). Panels over the same
// steps can share their x range (Panel.XMin, XMax) so that their ticks
// line up down the page.
package viz
