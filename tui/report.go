package tui

import (
	"fmt"
	"math"
	"strings"

	"github.com/guptarohit/asciigraph"

	"github.com/reluscope/reluscope/experiment"
)

// ReportChart draws one problem's aggregated L∞ and L2 against m on log–log
// axes with the reference rates m^(−(1/p+1/d)), in a w×h block of plain text
// (no colour), for `reluscope report`.
func ReportChart(rep experiment.Report, w, h int) string {
	st := NewStyles(NoColorTheme())
	var ms []float64
	for _, p := range rep.Points {
		ms = append(ms, float64(p.M))
	}
	errs := func(k int) []float64 {
		out := make([]float64, len(rep.Points))
		for i, p := range rep.Points {
			out[i] = p.Err[k]
		}
		return out
	}
	lines := strings.Split(renderLogLog(&st, ms, errs(2), errs(1), rep.RefSlope[2], rep.RefSlope[1], w, h), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// renderLogLog draws L∞ (thin) and L2 (heavy) against m, with the reference
// lines m^refInf and m^ref2 dotted, on log–log axes.
func renderLogLog(st *Styles, ms, linf, l2 []float64, refInf, ref2 float64, w, h int) string {
	if len(ms) == 0 {
		return placeholder(st, "no finished runs yet", w, h)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, m := range ms {
		lo, hi = math.Min(lo, math.Log10(m)), math.Max(hi, math.Log10(m))
	}
	span := math.Max(hi-lo, 1e-9)
	ncol := max(2, w-gutter(len(expLabel(-1.5)))-3) // room for the last x label
	xs := make([]float64, len(ms))
	ly := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for i, y := range v {
			out[i] = log10c(y)
		}
		return out
	}
	for i, m := range ms {
		xs[i] = math.Log10(m) - lo
	}
	ref := func(slope float64) []float64 {
		out := make([]float64, ncol)
		for c := range out {
			out[c] = slope * (lo + span*float64(c)/float64(ncol-1))
		}
		return out
	}
	// The references first, so the measured curves are drawn over them.
	ss := []series{
		{ref(refInf), dotChars, asciigraph.Red},
		{ref(ref2), asciigraph.CreateCharSet("∙"), asciigraph.Blue},
		{bucketCols(xs, ly(linf), span, ncol, true), thinChars, asciigraph.Red},
		{bucketCols(xs, ly(l2), span, ncol, false), heavyChars, asciigraph.Blue},
	}
	legend := st.Linf.Render("── L∞") + "  " + st.L2.Render("━━ L2") + "  " +
		st.Linf.Render(fmt.Sprintf("·· m^%.2f", refInf)) + "  " + st.L2.Render(fmt.Sprintf("∙∙ m^%.2f", ref2)) + st.Muted.Render("  (reference, constant 1)")
	plotH := h - 3
	if plotH < 2 {
		return placeholder(st, "window too small", w, h)
	}
	lines, _ := plot(ss, plotH-1, expLabel, &[2]float64{lo, hi}, func(v float64) string { return countLabel(math.Pow(10, v)) }, st.colour, 1)
	out := []string{fit(legend, w)}
	for _, l := range lines {
		out = append(out, fit(l, w))
	}
	return box(out, w, h)
}

// countLabel writes a sample count compactly: 316, 3.16k, 100k, 1M.
func countLabel(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}
