// Package textplot draws charts as plain text lines on asciigraph, safe for
// any data (empty, NaN, ±Inf) and any size: the explorer's panels and the
// headless report's chart are both drawn with it. It knows nothing of
// terminals or styles; callers that colour text pass a Paint.
package textplot

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/guptarohit/asciigraph"
)

// Line styles that tell the series apart without colour.
var (
	Thin  = asciigraph.DefaultCharSet
	Heavy = asciigraph.CharSet{Horizontal: "━", VerticalLine: "┃", ArcDownRight: "┏", ArcDownLeft: "┓",
		ArcUpRight: "┗", ArcUpLeft: "┛", EndCap: "╸", StartCap: "╺", UpRight: "└", DownHorizontal: "┬"}
	Dots    = asciigraph.CreateCharSet("·")
	Bullets = asciigraph.CreateCharSet("∙")
	// Big is the true sup's glyph in the explorer; Dashed and HeavyDashed
	// the previous run's L∞ and L2, grey: every series its own glyph.
	Big         = asciigraph.CreateCharSet("◆")
	Dashed      = asciigraph.CreateCharSet("╌")
	HeavyDashed = asciigraph.CreateCharSet("╍")
)

// LogFloor: values below are drawn at the floor (log10 needs v > 0).
const LogFloor = 1e-16

// Log10 is log10(max(v, LogFloor)), NaN kept.
func Log10(v float64) float64 {
	if math.IsNaN(v) {
		return math.NaN()
	}
	return math.Log10(math.Max(v, LogFloor))
}

// ExpLabel formats a log10 axis value as a readable power of ten.
func ExpLabel(v float64) string { return fmt.Sprintf("%.1e", math.Pow(10, v)) }

// CountLabel writes a count compactly: 316, 3.16k, 100k, 1M.
func CountLabel(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}

// Series is one curve sampled on the chart's columns (NaN = no data).
type Series struct {
	Vals  []float64
	Chars asciigraph.CharSet
	Color asciigraph.AnsiColor
}

// BucketCols places (x, y) points on ncol columns spanning [0, xmax]: a
// column takes the max of its points when useMax (a spike never vanishes),
// else the last one. Columns between data are interpolated; columns past the
// last point stay NaN.
func BucketCols(xs, ys []float64, xmax float64, ncol int, useMax bool) []float64 {
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

// PointCols is BucketCols without the interpolation: a column holds a
// value only where a point falls (the largest), so that values measured
// at a few points are drawn as dots, not as a line through the gaps.
func PointCols(xs, ys []float64, xmax float64, ncol int) []float64 {
	out := make([]float64, ncol)
	for i := range out {
		out[i] = math.NaN()
	}
	for i, x := range xs {
		y := ys[i]
		if ncol == 0 || math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		c := 0
		if xmax > 0 {
			c = int(math.Round(x / xmax * float64(ncol-1)))
		}
		c = max(0, min(ncol-1, c))
		if math.IsNaN(out[c]) || y > out[c] {
			out[c] = y
		}
	}
	return out
}

// Axis is an x axis from Lo to Hi with its label format.
type Axis struct {
	Lo, Hi float64
	Ticks  int // 5 when 0
	Format func(float64) string
}

// Plot draws the series with asciigraph, height+1 rows of plot (and the x
// axis when given), and returns its lines and the column of the plot's
// first data cell. A flat range is widened to minSpan so the labels stay
// distinct. It never panics on empty or NaN data.
func Plot(ss []Series, height int, yfmt func(float64) string, xaxis *Axis, colour bool, minSpan float64) ([]string, int) {
	return plot(ss, height, yfmt, xaxis, colour, minSpan, nil)
}

// PlotRange is Plot with the y range fixed to [lo, hi] (data beyond it
// widens it, as asciigraph does).
func PlotRange(ss []Series, height int, yfmt func(float64) string, xaxis *Axis, colour bool, lo, hi float64) ([]string, int) {
	return plot(ss, height, yfmt, xaxis, colour, 0, &[2]float64{lo, hi})
}

// DecadeLabel labels a log10 axis at powers of ten only ("1e-2"), blank
// between them.
func DecadeLabel(v float64) string {
	if r := math.Round(v); math.Abs(v-r) < 1e-6 {
		return fmt.Sprintf("1e%+03d", int(r))
	}
	return ""
}

// NearDecadeLabel labels a log10 axis whose lines are step apart: the
// line nearest each power of ten gets it ("1e-2"), the others are blank,
// so that no row is spent to make the decades fall on lines.
func NearDecadeLabel(step float64) func(float64) string {
	return func(v float64) string {
		d := math.Round(v)
		if off := v - d; off >= -step/2 && off < step/2 {
			return fmt.Sprintf("1e%+03d", int(d))
		}
		return ""
	}
}

func plot(ss []Series, height int, yfmt func(float64) string, xaxis *Axis, colour bool, minSpan float64, bounds *[2]float64) ([]string, int) {
	var data [][]float64
	var chars []asciigraph.CharSet
	var colors []asciigraph.AnsiColor
	for _, s := range ss {
		ok := false
		for _, v := range s.Vals {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				ok = true
				break
			}
		}
		if !ok {
			continue
		}
		vals, copied := s.Vals, false
		for i, v := range vals {
			if math.IsInf(v, 0) { // drawn as a gap; the caller's slice is left as it is
				if !copied {
					vals, copied = append([]float64(nil), s.Vals...), true
				}
				vals[i] = math.NaN()
			}
		}
		data = append(data, vals)
		chars = append(chars, s.Chars)
		colors = append(colors, s.Color)
	}
	if len(data) == 0 || height < 1 {
		return nil, 0
	}
	opts := []asciigraph.Option{asciigraph.Height(height), asciigraph.SeriesChars(chars...)}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, d := range data {
		for _, v := range d {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if bounds != nil {
		opts = append(opts, asciigraph.LowerBound(bounds[0]), asciigraph.UpperBound(bounds[1]))
	} else if hi-lo < minSpan {
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
		ticks := xaxis.Ticks
		if ticks == 0 {
			ticks = 5
		}
		opts = append(opts, asciigraph.XAxisRange(xaxis.Lo, xaxis.Hi), asciigraph.XAxisTickCount(ticks))
		if xaxis.Format != nil {
			opts = append(opts, asciigraph.XAxisValueFormatter(xaxis.Format))
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

// Gutter is the width asciigraph's labels take for labels of this width.
func Gutter(labelWidth int) int { return labelWidth + 4 }

// Fit cuts a line to w cells (ANSI-aware).
func Fit(s string, w int) string {
	out := ansi.Truncate(s, max(0, w), "")
	if OnCutWord != nil && len(out) < len(s) {
		if plain, rest := []rune(ansi.Strip(out)), []rune(strings.TrimPrefix(ansi.Strip(s), ansi.Strip(out))); len(plain) > 0 && len(rest) > 0 &&
			wordRune(plain[len(plain)-1]) && wordRune(rest[0]) {
			OnCutWord(ansi.Strip(s), w)
		}
	}
	return out
}

// FitWords is Fit at a word boundary for plain text: a line wider than w
// keeps the whole words that fit and ends with "…" (a word wider than w
// alone is cut).
func FitWords(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	words := strings.Fields(s)
	for k := len(words) - 1; k >= 1; k-- {
		if t := strings.Join(words[:k], " ") + " …"; ansi.StringWidth(t) <= w {
			return t
		}
	}
	return ansi.Truncate(s, max(0, w), "…")
}

// OnCutWord, when set (by tests), is told of every line Fit cuts inside a
// word: text the reader would see cut, as "does" for "does not".
var OnCutWord func(line string, w int)

// wordRune is a rune of text (a letter, digit or punctuation of a word or
// number), not of a chart's drawing or a space.
func wordRune(r rune) bool {
	switch {
	case r == ' ' || r == '\t':
		return false
	case r >= 0x2500 && r <= 0x259F: // box drawing and blocks: the charts' lines
		return false
	case strings.ContainsRune("•◆∙·╌╍━─┃│:", r): // and the samples rug's ":"
		return false
	}
	return true
}

// TickAxis is an x axis of two lines under a plot whose data starts at
// column col0 and spans ncol columns: a tick at each column of at (0 is
// the first data column) and its label centred under it. A label that
// would touch the one before it is left out; its tick stays.
func TickAxis(col0, ncol int, at []int, labels []string) []string {
	rule := []rune(strings.Repeat(" ", max(0, col0-1)) + "└" + strings.Repeat("─", max(0, ncol)))
	lab := []rune(strings.Repeat(" ", col0+ncol+8))
	next := 0 // the first column a label may use
	for i, c := range at {
		if c < 0 || c >= ncol {
			continue
		}
		pos := col0 + c
		rule[pos] = '┬'
		l := []rune(labels[i])
		start := max(0, pos-(len(l)-1)/2)
		if start < next || start+len(l) > len(lab) {
			continue
		}
		copy(lab[start:], l)
		next = start + len(l) + 1
	}
	return []string{string(rule), strings.TrimRight(string(lab), " ")}
}

// Legend joins a legend's entries, most important first, with two spaces,
// keeping those that fit in w cells: a legend too wide for its chart loses
// whole entries, never part of a word. Empty entries are skipped.
func Legend(w int, entries ...string) string {
	var b strings.Builder
	used := 0
	for _, e := range entries {
		ew := ansi.StringWidth(e)
		if ew == 0 {
			continue
		}
		sep := 0
		if used > 0 {
			sep = 2
		}
		if used+sep+ew > w {
			continue
		}
		if sep > 0 {
			b.WriteString("  ")
		}
		b.WriteString(e)
		used += sep + ew
	}
	return b.String()
}

// Box pads or cuts lines to exactly h lines of width w.
func Box(lines []string, w, h int) string {
	h = max(0, h)
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

// Paint colours the parts of a chart; the zero Paint leaves text plain.
type Paint struct {
	Linf, L2, Muted func(string) string
	// Colour turns on asciigraph's series colours, taken from Series.
	Colour bool
	Series Palette
}

// Palette is the colours of a chart's series, as asciigraph's 256-colour
// codes: one per role, for the background the terminal has.
type Palette struct {
	Linf, L2, Loss, Ghost, Teacher, Student, Sup asciigraph.AnsiColor
}

// DarkPalette is bright on a dark background.
func DarkPalette() Palette {
	return Palette{Linf: asciigraph.Red, L2: asciigraph.Blue, Loss: asciigraph.Gray, Ghost: 245,
		Teacher: asciigraph.Lime, Student: asciigraph.Yellow, Sup: asciigraph.Fuchsia}
}

// LightPalette is the deeper shade of each role, for a light background
// (a projector's white), where bright yellow and lime fade: 1 maroon,
// 4 navy, 2 green, 136 dark goldenrod.
func LightPalette() Palette {
	return Palette{Linf: asciigraph.Maroon, L2: asciigraph.Navy, Loss: asciigraph.Gray, Ghost: 248,
		Teacher: asciigraph.Green, Student: asciigraph.DarkGoldenrod, Sup: asciigraph.Purple}
}

// Render is f(s), or s itself when f is nil (a Paint's unset colour).
func Render(f func(string) string, s string) string {
	if f == nil {
		return s
	}
	return f(s)
}

// Placeholder is a w×h block with msg in its middle row.
func Placeholder(p Paint, msg string, w, h int) string {
	lines := make([]string, max(0, h))
	if h > 0 {
		lines[h/2] = Render(p.Muted, FitWords(msg, w))
	}
	return Box(lines, w, h)
}
