package tui

import (
	"context"
	"fmt"
	"math"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/reluscope/reluscope/experiment"
	tp "github.com/reluscope/reluscope/experiment/textplot"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// errorView is the error where it hides: |student − teacher| along the line
// on a log axis, its peak between the samples beside its value at them.
type errorView struct {
	lineView[errorViewData]
}

// errorViewData is the error view's data.
type errorViewData = experiment.ErrorProfile

func newErrorView(st *Styles) errorView {
	return errorView{newLineView[errorViewData](st, screenErrorView, "error view", errorViewCols)}
}

func (v errorView) setSize(w, _ int) screen { return errorView{v.sized(w)} }

func (v errorView) reset() screen { return errorView{v.cleared()} }

func (errorView) statusText() string {
	return "|student − teacher| along the line: low at the samples, high between; e goes back"
}

// errorViewCols is the number of plot columns in a w-wide error view.
func errorViewCols(w int) int { return max(8, w-tp.Gutter(len(tp.ExpLabel(-1.5)))) }

func (v errorView) refresh(r *runState) (screen, tea.Cmd) {
	cfg, student, inputs := r.cfg, r.student, r.inputs
	l, cmd := v.compute(r, func(ctx context.Context, cols int) (errorViewData, error) {
		return experiment.NewErrorProfile(ctx, cfg, student, inputs, cols)
	})
	return errorView{l}, cmd
}

func (v errorView) update(msg screenMsg, r *runState) (screen, tea.Cmd, error) {
	l, stale, err := v.take(msg, r)
	if stale {
		s, cmd := errorView{l}.refresh(r)
		return s, cmd, err
	}
	return errorView{l}, nil, err
}

func (v errorView) view(r *runState, _ experiment.Config, w, h int) string {
	sup := r.lastSup()
	body := v.cache.get(drawKey{id: r.id, data: v.data, sups: len(r.sups), w: w, h: h}, func() string {
		return renderErrorView(v.st, v.data, sup, w-2, h-2)
	})
	return panel(v.st, "where the error hides: |student − "+teacherWord(r.cfg)+"| (log)", body, w, h)
}

// errorViewPeak is the error's peak between the samples: the exact sup where
// it is known (1-D), else the largest on the line; where, and what it is.
func errorViewPeak(hd *errorViewData, sup *supPoint) (peak, at float64, what string) {
	if sup != nil && sup.b.Method == uniform.MethodExact && hd.Dim == 1 {
		return sup.b.Upper, sup.b.At[0], fmt.Sprintf("exact sup, epoch %d", sup.epoch)
	}
	return hd.Peak, hd.PeakT, "largest on the line"
}

// errorViewSummary is the view's last line in 1-D: |e| at the samples against
// its peak between them (the tour's caption says the same).
func errorViewSummary(hd *errorViewData, peak float64) string {
	return fmt.Sprintf("at the %d samples |e| ≤ %.2g, between %.2g: %.0f×", hd.Samples, hd.AtMax, peak, peak/math.Max(hd.AtMax, 1e-300))
}

// renderErrorView draws |e| between the samples (a line) and at them (dots) on
// a log axis, the true sup marked, in a w×h box.
func renderErrorView(st *Styles, hd *errorViewData, sup *supPoint, w, h int) string {
	if hd != nil && hd.Why != "" {
		return tp.Placeholder(st.paint(), hd.Why, w, h)
	}
	if hd == nil || len(hd.Between) == 0 {
		return tp.Placeholder(st.paint(), "measuring the error along the line…", w, h)
	}
	second := st.L2.Render("∙ |e| at the samples")
	if hd.Dim > 1 {
		second = st.Muted.Render(fmt.Sprintf("on the diagonal of [−½, ½]^%d", hd.Dim))
	}
	head := tp.Legend(w, st.Linf.Render("── |e| between samples"), second)
	plotH := h - 3 // head, marker and the summary line
	if plotH < 2 {
		return tp.Placeholder(st.paint(), fmt.Sprintf("max |e| %.3g", hd.Peak), w, h)
	}
	ss := []tp.Series{{Vals: log10s(hd.Between), Chars: tp.Thin, Color: st.plot.Linf}}
	if hd.Dim == 1 {
		ss = append(ss, tp.Series{Vals: log10s(hd.At), Chars: tp.Bullets, Color: st.plot.L2})
	}
	lines, col0 := tp.Plot(ss, plotH-1, tp.ExpLabel, nil, st.colour, 1)
	out := []string{tp.Fit(head, w)}
	for _, l := range lines {
		out = append(out, tp.Fit(l, w))
	}
	peak, peakT, what := errorViewPeak(hd, sup)
	pc := max(0, min(hd.Cols-1, int((peakT+0.5)*float64(hd.Cols))))
	note := fmt.Sprintf("▲ %.3g (%s)", peak, what)
	mark := markUnder(st, col0+pc, w, note)
	out = append(out, tp.Fit(mark, w))
	var sum string
	if hd.Dim == 1 && hd.Samples > 0 {
		sum = errorViewSummary(hd, peak)
	} else {
		sum = fmt.Sprintf("the samples are not on this line; sup |e| on it %.3g", hd.Peak)
		if sup != nil {
			sum = fmt.Sprintf("on this line %.3g; on the whole cube sup ∈ [%.3g, %.3g]", hd.Peak, sup.b.Lower, sup.b.Upper)
		}
	}
	out = append(out, tp.Fit(st.Muted.Render(sum), w))
	return tp.Box(out, w, h)
}

// log10s is v on a log10 axis (NaN stays a gap).
func log10s(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = tp.Log10(x)
	}
	return out
}
