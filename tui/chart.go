package tui

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/guptarohit/asciigraph"

	"github.com/reluscope/reluscope/experiment"
)

// Line styles that tell the series apart without colour.
var (
	thinChars  = asciigraph.DefaultCharSet
	heavyChars = asciigraph.CharSet{Horizontal: "━", VerticalLine: "┃", ArcDownRight: "┏", ArcDownLeft: "┓",
		ArcUpRight: "┗", ArcUpLeft: "┛", EndCap: "╸", StartCap: "╺", UpRight: "└", DownHorizontal: "┬"}
	dotChars = asciigraph.CreateCharSet("·")
)

const logFloor = 1e-16 // values below are drawn at the floor (log10 needs v > 0)

func log10c(v float64) float64 {
	if math.IsNaN(v) {
		return math.NaN()
	}
	return math.Log10(math.Max(v, logFloor))
}

// expLabel formats a log10 axis value as a readable power of ten.
func expLabel(v float64) string { return fmt.Sprintf("%.1e", math.Pow(10, v)) }

// series is one curve sampled on the chart's columns (NaN = no data).
type series struct {
	vals  []float64
	chars asciigraph.CharSet
	color asciigraph.AnsiColor
}

// bucketCols places (x, y) points on ncol columns spanning [0, xmax]: a
// column takes the max of its points when useMax (a spike never vanishes),
// else the last one. Columns between data are interpolated; columns past the
// last point stay NaN.
func bucketCols(xs, ys []float64, xmax float64, ncol int, useMax bool) []float64 {
	out := make([]float64, ncol)
	for i := range out {
		out[i] = math.NaN()
	}
	if ncol == 0 {
		return out
	}
	for i, x := range xs {
		y := ys[i]
		if math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		c := 0
		if xmax > 0 {
			c = int(math.Round(x / xmax * float64(ncol-1)))
		}
		c = max(0, min(ncol-1, c))
		if math.IsNaN(out[c]) || !useMax || y > out[c] {
			out[c] = y
		}
	}
	prev := -1
	for c := range out {
		if math.IsNaN(out[c]) {
			continue
		}
		if prev >= 0 && c-prev > 1 {
			for k := prev + 1; k < c; k++ {
				f := float64(k-prev) / float64(c-prev)
				out[k] = out[prev] + f*(out[c]-out[prev])
			}
		}
		prev = c
	}
	return out
}

// plot draws the series with asciigraph and returns its lines and the
// column of the plot's first data cell. It never panics on empty or NaN data.
func plot(ss []series, height int, yfmt func(float64) string, xaxis *[2]float64, xfmt func(float64) string, colour bool, minSpan float64) ([]string, int) {
	var data [][]float64
	var chars []asciigraph.CharSet
	var colors []asciigraph.AnsiColor
	for _, s := range ss {
		ok := false
		for _, v := range s.vals {
			if !math.IsNaN(v) {
				ok = true
				break
			}
		}
		if !ok || len(s.vals) == 0 {
			continue
		}
		data = append(data, s.vals)
		chars = append(chars, s.chars)
		colors = append(colors, s.color)
	}
	if len(data) == 0 {
		return nil, 0
	}
	opts := []asciigraph.Option{asciigraph.Height(height), asciigraph.SeriesChars(chars...)}
	// Widen a flat range to minSpan so the axis labels stay distinct.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, d := range data {
		for _, v := range d {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if hi-lo < minSpan {
		mid := (lo + hi) / 2
		opts = append(opts, asciigraph.LowerBound(mid-minSpan/2), asciigraph.UpperBound(mid+minSpan/2))
	}
	if yfmt != nil {
		opts = append(opts, asciigraph.YAxisValueFormatter(yfmt))
	}
	if colour {
		opts = append(opts, asciigraph.SeriesColors(colors...))
	}
	if xaxis != nil {
		opts = append(opts, asciigraph.XAxisRange(xaxis[0], xaxis[1]), asciigraph.XAxisTickCount(5))
		if xfmt != nil {
			opts = append(opts, asciigraph.XAxisValueFormatter(xfmt))
		}
	}
	lines := strings.Split(asciigraph.PlotMany(data, opts...), "\n")
	axis := 0
	for _, l := range lines[:min(len(lines), height+1)] {
		plain := []rune(ansi.Strip(l))
		for i, r := range plain {
			if r == '┤' || r == '┼' {
				axis = max(axis, i)
				break
			}
		}
	}
	return lines, axis + 1
}

// gutter is the width asciigraph's labels take for labels of this width.
func gutter(labelWidth int) int { return labelWidth + 4 }

// renderErrors draws L∞ and L2 (and √train-mse) against epochs on a log10
// axis in a w×h box.
func renderErrors(st *Styles, hist []experiment.Checkpoint, epochLoss []float64, epochs int, showLoss bool, w, h int) string {
	if len(hist) == 0 {
		return placeholder(st, "waiting for the first checkpoint…", w, h)
	}
	legend := st.Linf.Render("── L∞ (uniform)") + "  " + st.L2.Render("━━ L2 (RMS)")
	if showLoss {
		legend += "  " + st.Loss.Render("·· train RMS √mse")
	}
	plotH := h - 3 // rows of the plot: the legend above, the x axis (2 lines) below
	if plotH < 2 {
		return placeholder(st, "window too small", w, h)
	}
	ncol := max(2, w-gutter(len(expLabel(-1.5))))
	xs := make([]float64, len(hist))
	linf := make([]float64, len(hist))
	l2 := make([]float64, len(hist))
	for i, c := range hist {
		xs[i], linf[i], l2[i] = float64(c.Epoch), log10c(c.Linf), log10c(c.L2)
	}
	xmax := float64(epochs)
	ss := []series{
		{bucketCols(xs, linf, xmax, ncol, true), thinChars, asciigraph.Red},
		{bucketCols(xs, l2, xmax, ncol, false), heavyChars, asciigraph.Blue},
	}
	if showLoss && len(epochLoss) > 0 {
		lx := make([]float64, len(epochLoss))
		ly := make([]float64, len(epochLoss))
		for i, v := range epochLoss {
			lx[i], ly[i] = float64(i+1), log10c(math.Sqrt(v))
		}
		ss = append(ss, series{bucketCols(lx, ly, xmax, ncol, false), dotChars, asciigraph.Gray})
	}
	lines, _ := plot(ss, plotH-1, expLabel, &[2]float64{0, xmax}, func(v float64) string { return fmt.Sprintf("%.0f", v) }, st.colour, 1)
	out := []string{fit(legend, w)}
	for _, l := range lines {
		out = append(out, fit(l, w))
	}
	return box(out, w, h)
}

// fit cuts a line to w cells (ANSI-aware).
func fit(s string, w int) string { return ansi.Truncate(s, w, "") }

// box pads or cuts lines to exactly h lines of width w.
func box(lines []string, w, h int) string {
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		if pad := w - ansi.StringWidth(l); pad > 0 {
			lines[i] = l + strings.Repeat(" ", pad)
		}
	}
	return strings.Join(lines, "\n")
}

func placeholder(st *Styles, msg string, w, h int) string {
	lines := make([]string, h)
	if h > 0 {
		lines[h/2] = st.Muted.Render(fit(msg, w))
	}
	return box(lines, w, h)
}
