package tui

import (
	"fmt"
	"math"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/guptarohit/asciigraph"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
	tp "github.com/reluscope/reluscope/experiment/textplot"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// hideView is the error where it hides: |student − teacher| along the line
// on a log axis, its peak between the samples beside its value at them.
type hideView struct {
	st   *Styles
	cols int
	computed[hideData]
	cache *viewCache
}

func newHideView(st *Styles) hideView {
	return hideView{st: st, cols: hideCols(20 - 2), cache: &viewCache{}}
}

func (v hideView) setSize(w, _ int) hideView {
	v.cols = hideCols(w - 2)
	return v
}

func (v hideView) reset() hideView {
	v.computed = v.computed.reset()
	return v
}

// hideCols is the number of plot columns in a w-wide error view.
func hideCols(w int) int { return max(8, w-tp.Gutter(len(tp.ExpLabel(-1.5)))) }

// hideData is |e| along the line, on cols columns.
type hideData struct {
	cols    int
	dim     int
	between []float64 // log10 of the column's largest |e| on a fine grid
	at      []float64 // log10 of the column's largest |e| at a training sample (NaN: none)
	// The largest |e| on the fine grid, at the samples, and their count.
	peak, peakT float64
	atMax       float64
	samples     int
}

func (v hideView) refresh(r *runState) (hideView, tea.Cmd) {
	cfg, student, inputs, cols := r.cfg, r.student, r.inputs, v.cols
	var cmd tea.Cmd
	v.computed, cmd = v.computed.start(r, func() (hideData, error) { return computeHide(cfg, student, inputs, cols) })
	return v, cmd
}

// computeHide evaluates |e| on a fine grid of the line (x for d = 1, the
// diagonal otherwise) and, in one dimension, at every training sample.
func computeHide(cfg experiment.Config, student *backend.Net, inputs []float64, cols int) (hideData, error) {
	d := student.Sizes[0]
	hd := hideData{cols: cols, dim: d}
	target, err := experiment.NewTarget(cfg)
	if err != nil {
		return hd, err
	}
	defer target.Close()
	absErr := func(x []float64, n int) ([]float64, error) {
		yt, err := targetAt(target, x, d, n)
		if err != nil {
			return nil, err
		}
		ys, err := predictAll(student, x, n)
		if err != nil {
			return nil, err
		}
		for i := range yt {
			yt[i] = math.Abs(ys[i] - yt[i])
		}
		return yt, nil
	}
	per := max(4, min(foolFine, int(4e8/float64(2*student.NumParams())/float64(cols))))
	fine := make([]float64, cols*per)
	for i := range fine {
		fine[i] = -0.5 + (float64(i)+0.5)/float64(len(fine))
	}
	e, err := absErr(lineX(fine, d), len(fine))
	if err != nil {
		return hd, err
	}
	hd.between = make([]float64, cols)
	hd.at = make([]float64, cols)
	for c := range hd.between {
		top := 0.0
		for _, v := range e[c*per : (c+1)*per] {
			top = max(top, v)
		}
		hd.between[c] = tp.Log10(top)
		hd.at[c] = math.NaN()
	}
	for i, v := range e {
		if v > hd.peak {
			hd.peak, hd.peakT = v, fine[i]
		}
	}
	if d != 1 {
		return hd, nil
	}
	n := min(len(inputs), 1<<20)
	es, err := absErr(inputs[:n], n)
	if err != nil {
		return hd, err
	}
	hd.samples = n
	for i, v := range es {
		hd.atMax = max(hd.atMax, v)
		c := max(0, min(cols-1, int((inputs[i]+0.5)*float64(cols))))
		if lv := tp.Log10(v); math.IsNaN(hd.at[c]) || lv > hd.at[c] {
			hd.at[c] = lv
		}
	}
	return hd, nil
}

func (v hideView) view(r *runState, w, h int) string {
	var sup *supPoint
	if n := len(r.sups); n > 0 {
		sup = &r.sups[n-1]
	}
	key := fmt.Sprintf("%d/%p/%p/%d/%d", r.id, v.data, sup, w, h)
	if key != v.cache.key {
		v.cache.key = key
		v.cache.view = renderHide(v.st, v.data, sup, w-2, h-2)
	}
	return panel(v.st, "where the error hides: |student − target| (log)", v.cache.view, w, h)
}

// renderHide draws |e| between the samples (a line) and at them (dots) on
// a log axis, the true sup marked, in a w×h box.
func renderHide(st *Styles, hd *hideData, sup *supPoint, w, h int) string {
	if hd == nil || len(hd.between) == 0 {
		return tp.Placeholder(st.paint(), "measuring the error along the line…", w, h)
	}
	head := st.Linf.Render("── |e| between samples")
	if hd.dim == 1 {
		head += "  " + st.L2.Render("∙ |e| at the samples")
	} else {
		head += st.Muted.Render(fmt.Sprintf("  on the diagonal of [−½, ½]^%d", hd.dim))
	}
	plotH := h - 3 // head, marker and the summary line
	if plotH < 2 {
		return tp.Placeholder(st.paint(), fmt.Sprintf("max |e| %.3g", hd.peak), w, h)
	}
	ss := []tp.Series{{Vals: hd.between, Chars: tp.Thin, Color: asciigraph.Red}}
	if hd.dim == 1 {
		ss = append(ss, tp.Series{Vals: hd.at, Chars: tp.Bullets, Color: asciigraph.Blue})
	}
	lines, col0 := tp.Plot(ss, plotH-1, tp.ExpLabel, nil, st.colour, 1)
	out := []string{tp.Fit(head, w)}
	for _, l := range lines {
		out = append(out, tp.Fit(l, w))
	}
	peak, peakT, what := hd.peak, hd.peakT, "largest on the line"
	if sup != nil && sup.b.Method == uniform.MethodExact && hd.dim == 1 {
		peak, peakT, what = sup.b.Upper, sup.b.At[0], fmt.Sprintf("exact sup, epoch %d", sup.epoch)
	}
	pc := max(0, min(hd.cols-1, int((peakT+0.5)*float64(hd.cols))))
	note := fmt.Sprintf("▲ %.3g (%s)", peak, what)
	mark := strings.Repeat(" ", col0+pc) + st.Worst.Render(note)
	if col0+pc+len([]rune(note)) > w {
		mark = strings.Repeat(" ", col0+pc) + st.Worst.Render("▲")
	}
	out = append(out, tp.Fit(mark, w))
	var sum string
	if hd.dim == 1 && hd.samples > 0 {
		sum = fmt.Sprintf("at the %d samples |e| ≤ %.2g, between %.2g: %.0f×", hd.samples, hd.atMax, peak, peak/math.Max(hd.atMax, 1e-300))
	} else {
		sum = fmt.Sprintf("the samples are not on this line; sup |e| on it %.3g", hd.peak)
		if sup != nil {
			sum = fmt.Sprintf("on this line %.3g; on the whole cube sup ∈ [%.3g, %.3g]", hd.peak, sup.b.Lower, sup.b.Upper)
		}
	}
	out = append(out, tp.Fit(st.Muted.Render(sum), w))
	return tp.Box(out, w, h)
}
