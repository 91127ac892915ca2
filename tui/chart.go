package tui

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/guptarohit/asciigraph"

	"github.com/reluscope/reluscope/experiment"
	tp "github.com/reluscope/reluscope/experiment/textplot"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// errorChart is the panel of L∞ and L2 (and √train-mse) against epochs.
type errorChart struct {
	st       *Styles
	showLoss bool
	ghost    *ghostRun // the run before the last change, dimmed
	cache    *viewCache[chartKey]
}

// chartKey is what the chart shows.
type chartKey struct {
	id, hist, loss, sups int
	showLoss             bool
	ghost                *ghostRun
	w, h                 int
}

// ghostRun is a previous run's curves and what changed since.
type ghostRun struct {
	hist   []experiment.Checkpoint
	epochs int
	label  string            // e.g. "samples 1000 → 2000"
	cfg    experiment.Config // the settings it was run with
}

// keep makes run r the ghost of the change to settings next, labelled
// with every setting that differs (r's own, not the settings shown: several
// quick changes make one label, e.g. "dim 1 → 3").
func (c errorChart) keep(r *runState, next experiment.Config) errorChart {
	nx := experiment.ExplorerConfig(next)
	if len(r.hist) < 2 { // nothing drawn yet: keep the older ghost, say what changed since it
		if c.ghost != nil {
			g := *c.ghost
			g.label = changes(g.cfg, nx)
			c.ghost = &g
		}
		return c
	}
	c.ghost = &ghostRun{hist: r.hist, epochs: r.cfg.Epochs, cfg: r.cfg, label: changes(r.cfg, nx)}
	return c
}

// changes says what differs from a to b: "dim 1 → 3, width 32 → 64".
func changes(a, b experiment.Config) string {
	var diffs []string
	for _, f := range fields {
		if x, y := f.get(a), f.get(b); x != y {
			diffs = append(diffs, fmt.Sprintf("%s %s → %s", f.name, x, y))
		}
	}
	if len(diffs) == 0 {
		return "same settings"
	}
	return strings.Join(diffs, ", ")
}

func newErrorChart(st *Styles) errorChart { return errorChart{st: st, cache: &viewCache[chartKey]{}} }

func (c errorChart) toggleLoss() errorChart {
	c.showLoss = !c.showLoss
	return c
}

// view draws the run's curves in a w×h panel, re-rendered only when the
// run's data or the size changed.
func (c errorChart) view(r *runState, w, h int) string {
	key := chartKey{r.id, len(r.hist), len(r.epochLoss), len(r.sups), c.showLoss, c.ghost, w, h}
	body := c.cache.get(key, func() string {
		if r.cfg.UsesLearner() { // one fit: the zero network, then the fitted one
			return renderErrors(c.st, r.hist, r.epochLoss, r.sups, nil, 1, c.showLoss, w-2, h-2, r.cfg.Learner)
		}
		return renderErrors(c.st, r.hist, r.epochLoss, r.sups, c.ghost, max(r.cfg.TotalEpochs(), r.epoch), c.showLoss, w-2, h-2, "")
	})
	title := "errors on fresh points vs epoch (log scale)"
	if r.cfg.EvalPoints > 0 {
		title = fmt.Sprintf("errors on %d fresh points vs epoch (log)", r.cfg.EvalPoints)
	}
	if r.cfg.UsesLearner() {
		title = "errors: zero net, then fitted (log)"
	}
	if r.cfg.DataFile != "" {
		title = "training loss on the data file's samples vs epoch (log)"
	}
	return panel(c.st, title, body, w, h)
}

// paint is the chart colours of the styles.
func (st *Styles) paint() tp.Paint {
	r := func(s lipgloss.Style) func(string) string { return func(t string) string { return s.Render(t) } }
	return tp.Paint{Linf: r(st.Linf), L2: r(st.L2), Muted: r(st.Muted), Colour: st.colour, Series: st.plot}
}

// supGap is the fewest columns from one true-sup marker to the next.
const supGap = 4

// renderErrors draws L∞ and L2 (and √train-mse) against epochs on a log10
// axis in a w×h box. A learner other than Adam (learner named) fits once:
// its axis has two points, the zero network and the fitted one.
func renderErrors(st *Styles, hist []experiment.Checkpoint, epochLoss []float64, sups []supPoint, ghost *ghostRun, epochs int, showLoss bool, w, h int, learner string) string {
	if len(hist) == 0 {
		return tp.Placeholder(st.paint(), "waiting for the first checkpoint…", w, h)
	}
	noErrors := true // a data file's samples: no teacher, no L∞ or L2
	for _, c := range hist {
		noErrors = noErrors && math.IsNaN(c.L2)
	}
	if noErrors {
		if len(epochLoss) == 0 {
			return tp.Placeholder(st.paint(), "no teacher (a data file): the training loss shows after the first epoch", w, h)
		}
		showLoss, hist, sups = true, nil, nil
	}
	legend := errorsLegend(st, sups, showLoss, noErrors, w)
	plotH := h - 3 // rows of the plot: the legend above, the x axis (2 lines) below
	var ghostLine string
	if ghost != nil && plotH >= 4 {
		ghostLine = st.Muted.Render(tp.Legend(w, "before: "+ghost.label, "╌╌ L∞", "╍╍ L2"))
		plotH--
		epochs = max(epochs, ghost.epochs)
	} else {
		ghost = nil
	}
	if plotH < 2 {
		return tp.Placeholder(st.paint(), "window too small", w, h)
	}
	ncol := max(2, w-tp.Gutter(len(tp.ExpLabel(-1.5))))
	xmax := float64(epochs)
	var ss []tp.Series
	if showLoss && len(epochLoss) > 0 { // first: the errors are drawn over it
		lx := make([]float64, len(epochLoss))
		ly := make([]float64, len(epochLoss))
		for i, v := range epochLoss {
			lx[i], ly[i] = float64(i+1), tp.Log10(math.Sqrt(v))
		}
		ss = append(ss, tp.Series{Vals: tp.BucketCols(lx, ly, xmax, ncol, false), Chars: tp.Dots, Color: st.plot.Loss})
	}
	if ghost != nil { // early: the current run's curves are drawn over it
		ss = append(ss, errorCurves(ghost.hist, xmax, ncol, tp.Dashed, tp.HeavyDashed, st.plot.Ghost, st.plot.Ghost)...)
	}
	if !noErrors {
		ss = append(ss, errorCurves(hist, xmax, ncol, tp.Thin, tp.Heavy, st.plot.Linf, st.plot.L2)...)
	}
	if len(sups) > 0 { // last: drawn over the L∞ line where they meet
		ss = append(ss, supMarkers(sups, xmax, ncol, st.plot.Sup))
	}
	out := []string{tp.Fit(legend, w)}
	if ghostLine != "" {
		out = append(out, tp.Fit(ghostLine, w))
	}
	for _, l := range errorPlot(st, ss, plotH, xmax, ncol, w, learner) {
		out = append(out, tp.Fit(l, w))
	}
	return tp.Box(out, w, h)
}

// errorsLegend names the series drawn, each entry in full, or all short
// when the full ones do not fit: every series drawn keeps its entry.
func errorsLegend(st *Styles, sups []supPoint, showLoss, noErrors bool, w int) string {
	entries := []string{st.Linf.Render("── L∞ (uniform)"), st.L2.Render("━━ L2 (RMS)")}
	short := []string{st.Linf.Render("── L∞"), st.L2.Render("━━ L2")}
	if noErrors {
		entries = []string{st.Muted.Render("no teacher: no L∞ or L2 off the samples")}
		short = []string{st.Muted.Render("no teacher: no L∞, L2")}
	}
	if n := len(sups); n > 0 {
		// Exact in 1-D; otherwise the bracket's lower end, a value of |e|
		// found by ascent (its upper end after a second is often loose).
		what := "true sup (exact)"
		if b := sups[n-1].b; b.Method != uniform.MethodExact {
			what = "true sup ≥"
			if b.Closed {
				what = fmt.Sprintf("true sup (±%.0f%%)", 100*b.Gap())
			}
		}
		entries = append(entries, st.Sup.Render("◆ "+what))
		short = append(short, st.Sup.Render("◆ sup"))
	}
	if showLoss {
		entries = append(entries, st.Loss.Render("·· train RMS √mse"))
		short = append(short, st.Loss.Render("·· train"))
	}
	if ansi.StringWidth(strings.Join(entries, "  ")) > w {
		entries = short
	}
	return tp.Legend(w, entries...)
}

// errorCurves are the L∞ and L2 curves of hist on ncol columns.
func errorCurves(hist []experiment.Checkpoint, xmax float64, ncol int, linfChars, l2Chars asciigraph.CharSet, linfColor, l2Color asciigraph.AnsiColor) []tp.Series {
	xs, linf, l2 := make([]float64, len(hist)), make([]float64, len(hist)), make([]float64, len(hist))
	for i, c := range hist {
		xs[i], linf[i], l2[i] = float64(c.Epoch), tp.Log10(c.Linf), tp.Log10(c.L2)
	}
	return []tp.Series{
		{Vals: tp.BucketCols(xs, linf, xmax, ncol, true), Chars: linfChars, Color: linfColor},
		{Vals: tp.BucketCols(xs, l2, xmax, ncol, false), Chars: l2Chars, Color: l2Color},
	}
}

// supMarkers are the true sups as markers, not a line: after a marked
// column the next supGap−1 stay empty, so that no two join (asciigraph
// draws a lone value two cells wide and the segment between neighbours,
// over the L∞ line, in the marker's glyph) and the L∞ line shows between.
// A bracket shows its lower end (an exact sup its value).
func supMarkers(sups []supPoint, xmax float64, ncol int, color asciigraph.AnsiColor) tp.Series {
	sx, sy := make([]float64, len(sups)), make([]float64, len(sups))
	for i, p := range sups {
		v := p.b.Upper
		if p.b.Method != uniform.MethodExact {
			v = p.b.Lower
		}
		sx[i], sy[i] = float64(p.epoch), tp.Log10(v)
	}
	vals := tp.PointCols(sx, sy, xmax, ncol)
	for i, last := 0, -supGap; i < len(vals); i++ {
		switch {
		case math.IsNaN(vals[i]):
		case i-last < supGap:
			vals[i] = math.NaN()
		default:
			last = i
		}
	}
	return tp.Series{Vals: vals, Chars: tp.Big, Color: color}
}

// errorPlot draws the series over epochs (0 … xmax) in plotH rows with
// their x axis; a one-shot learner's axis has two ticks, the zero network
// at the left edge and the fit at the right.
func errorPlot(st *Styles, ss []tp.Series, plotH int, xmax float64, ncol, w int, learner string) []string {
	if learner == "" {
		lines, _ := tp.Plot(ss, plotH-1, tp.ExpLabel, &tp.Axis{Lo: 0, Hi: xmax, Format: func(v float64) string { return tp.CountLabel(math.Round(v)) }}, st.colour, 1)
		return lines
	}
	lines, col0 := tp.Plot(ss, plotH-1, tp.ExpLabel, nil, st.colour, 1)
	fitted := "fitted by " + learner
	if col0+8+2+len(fitted) > w {
		fitted = "fitted"
	}
	return append(lines, tp.TickAxis(col0, ncol, []int{0, ncol - 1}, []string{"", ""})[0],
		strings.Repeat(" ", max(0, col0-4))+"zero net"+strings.Repeat(" ", max(1, w-(col0+4)-len(fitted)))+fitted)
}
