package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/guptarohit/asciigraph"

	tp "github.com/reluscope/reluscope/experiment/textplot"
)

// Chart draws one problem's aggregated L∞ and L2 against m on log–log axes
// with the reference rates, in a w×h block of plain text (no colour, no
// trailing spaces), for `reluscope report`.
func Chart(rep Report, w, h int) string {
	var ms []float64
	for _, p := range rep.Points {
		ms = append(ms, float64(p.M))
	}
	errs := func(k Metric) []float64 {
		out := make([]float64, len(rep.Points))
		for i, p := range rep.Points {
			out[i] = p.Err[k]
		}
		return out
	}
	avgs := func(k Metric) []float64 {
		out := make([]float64, len(rep.Points))
		for i, p := range rep.Points {
			out[i] = p.Avg[k]
		}
		return out
	}
	lines := strings.Split(LogLogChart(tp.Paint{}, ms, errs(Linf), errs(L2), rep.RefSlope[Linf], rep.RefSlope[L2], w, h, avgs(Linf), avgs(L2)), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// dashed draws the min-avg curves.
var dashed = asciigraph.CreateCharSet("╌")

// LogLogChart draws L∞ (thin) and L2 (heavy) against m, with the reference
// lines m^refInf and m^ref2 dotted, on log–log axes in a w×h block; avg,
// when given, is the min-avg L∞ and L2, drawn dashed.
func LogLogChart(p tp.Paint, ms, linf, l2 []float64, refInf, ref2 float64, w, h int, avg ...[]float64) string {
	if len(ms) == 0 {
		return tp.Placeholder(p, "no finished runs yet", w, h)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, m := range ms {
		lo, hi = math.Min(lo, math.Log10(m)), math.Max(hi, math.Log10(m))
	}
	span := math.Max(hi-lo, 1e-9)
	ncol := max(2, w-tp.Gutter(len(tp.ExpLabel(-1.5)))-3) // room for the last x label
	xs := make([]float64, len(ms))
	ly := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for i, y := range v {
			out[i] = tp.Log10(y)
		}
		return out
	}
	for i, m := range ms {
		xs[i] = math.Log10(m) - lo
	}
	// Each reference line goes through the curve's first point, so it sits
	// by the data whatever its constant.
	ref := func(slope float64, ys []float64) []float64 {
		a := 0.0 // log10 of the constant
		for i := range ys {
			if y := tp.Log10(ys[i]); !math.IsNaN(y) {
				a = y - slope*math.Log10(ms[i])
				break
			}
		}
		out := make([]float64, ncol)
		for c := range out {
			out[c] = a + slope*(lo+span*float64(c)/float64(ncol-1))
		}
		return out
	}
	// The references first, so the measured curves are drawn over them.
	ss := []tp.Series{
		{Vals: ref(refInf, linf), Chars: tp.Dots, Color: p.Series.Linf},
		{Vals: ref(ref2, l2), Chars: tp.Bullets, Color: p.Series.L2},
	}
	if len(avg) == 2 { // the min-avg curves under the measured min-max ones
		ss = append(ss,
			tp.Series{Vals: tp.BucketCols(xs, ly(avg[0]), span, ncol, true), Chars: dashed, Color: p.Series.Linf},
			tp.Series{Vals: tp.BucketCols(xs, ly(avg[1]), span, ncol, false), Chars: dashed, Color: p.Series.L2})
	}
	ss = append(ss,
		tp.Series{Vals: tp.BucketCols(xs, ly(linf), span, ncol, true), Chars: tp.Thin, Color: p.Series.Linf},
		tp.Series{Vals: tp.BucketCols(xs, ly(l2), span, ncol, false), Chars: tp.Heavy, Color: p.Series.L2})
	// Two legend lines when there is room: the curves, then what the
	// dotted lines are, so that a slope steeper or shallower than its line
	// is not read as a contradiction.
	rate := func(slope float64) string { return strings.ReplaceAll(fmt.Sprintf("m^%.2f", slope), "-", "−") }
	curves := []string{tp.Render(p.Linf, "── L∞"), tp.Render(p.L2, "━━ L2")}
	if len(avg) == 2 {
		curves = []string{tp.Render(p.Linf, "── L∞"), tp.Render(p.L2, "━━ L2 min-max"), "╌╌ min-avg"}
	}
	refs := []string{tp.Render(p.Linf, "·· "+rate(refInf)), tp.Render(p.L2, "∙∙ "+rate(ref2)), ""}
	for _, what := range []string{"worst-case lower-bound rates, through the 1st point", "lower-bound rates via 1st point", "lower-bound rates"} {
		if refs[2] = tp.Render(p.Muted, what); ansi.StringWidth(tp.Legend(1<<20, refs...)) <= w {
			break
		}
	}
	legend := []string{tp.Legend(w, curves...), tp.Legend(w, refs...)}
	plotH := h - 4
	if plotH < 4 {
		legend = []string{tp.Legend(w, append(curves, refs[:2]...)...)}
		plotH = h - 3
	}
	if plotH < 2 {
		return tp.Placeholder(p, "window too small", w, h)
	}
	// The y axis in whole decades, labelled at the powers of ten when the
	// rows divide into them.
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, v := range s.Vals {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				ylo, yhi = math.Min(ylo, v), math.Max(yhi, v)
			}
		}
	}
	// The x axis is ticked at the m values run (asciigraph's even ticks
	// would fall between them: 56.2, 316, 1.78k).
	var lines []string
	var col0 int
	if dec := int(math.Ceil(yhi) - math.Floor(ylo)); dec >= 1 && plotH-1 >= dec {
		rows := plotH - 1
		lines, col0 = tp.PlotRange(ss, rows, tp.NearDecadeLabel(float64(dec)/float64(rows)), nil, p.Colour, math.Floor(ylo), math.Ceil(yhi))
	} else {
		lines, col0 = tp.Plot(ss, plotH-1, tp.ExpLabel, nil, p.Colour, 1)
	}
	at := make([]int, len(ms))
	labels := make([]string, len(ms))
	for i, m := range ms {
		at[i] = int(math.Round(xs[i] / span * float64(ncol-1)))
		labels[i] = tp.CountLabel(m)
	}
	lines = append(lines, tp.TickAxis(col0, ncol, at, labels)...)
	out := legend
	for _, l := range lines {
		out = append(out, tp.Fit(l, w))
	}
	for i := range out[:len(legend)] {
		out[i] = tp.Fit(out[i], w)
	}
	return tp.Box(out, w, h)
}
