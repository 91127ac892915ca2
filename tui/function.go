package tui

import (
	"fmt"
	"math"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/guptarohit/asciigraph"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
	tp "github.com/reluscope/reluscope/experiment/textplot"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// functionView is the panel of the target and the student along a line,
// computed in the background.
type functionView struct {
	st   *Styles
	cols int // plot columns of the current width
	computed[funcData]
	cache *viewCache
}

func newFunctionView(st *Styles) functionView {
	return functionView{st: st, cols: funcCols(20 - 2), cache: &viewCache{}}
}

// setSize sets the panel width (its height is given to view).
func (f functionView) setSize(w, _ int) functionView {
	f.cols = funcCols(w - 2)
	return f
}

// reset forgets the previous run's drawing.
func (f functionView) reset() functionView {
	f.computed = f.computed.reset()
	return f
}

// refresh starts a computation for the run's latest student, or marks the
// view stale when one is in flight.
func (f functionView) refresh(r *runState) (functionView, tea.Cmd) {
	cfg, student, inputs, cols := r.cfg, r.student, r.inputs, f.cols
	var cmd tea.Cmd
	f.computed, cmd = f.computed.start(r, func() (funcData, error) { return computeFunction(cfg, student, inputs, cols) })
	return f, cmd
}

// view draws the panel, w×h, re-rendered only when the data or size changed.
func (f functionView) view(r *runState, w, h int) string {
	var sup *supPoint
	if n := len(r.sups); n > 0 {
		sup = &r.sups[n-1]
	}
	key := fmt.Sprintf("%d/%p/%p/%d/%d", r.id, f.data, sup, w, h)
	if key != f.cache.key {
		f.cache.key = key
		f.cache.view = renderFunction(f.st, f.data, sup, w-2, h-2)
	}
	return panel(f.st, "target and student along a line", f.cache.view, w, h)
}

// funcData is teacher and student along a line through the cube:
// x(t) = t·e1 for d = 1, x(t) = (t, …, t) for d > 1, t ∈ [−0.5, 0.5].
type funcData struct {
	cols             int
	teacher, student []float64 // one value per column
	worstT, worstErr float64   // largest |student − teacher| on a fine grid of the line
	gridPts          int
	rug              []int // training samples per column (d = 1 only)
	dim              int
}

// lineX fills x (n×d) with the points of the line at parameters ts.
func lineX(ts []float64, d int) []float64 {
	x := make([]float64, len(ts)*d)
	for i, t := range ts {
		for k := 0; k < d; k++ {
			x[i*d+k] = t
		}
	}
	return x
}

// targetAt is the target at the n points x (n×d).
func targetAt(t experiment.Target, x []float64, d, n int) ([]float64, error) {
	y := make([]float64, n)
	return y, backend.PredictChunks(t.Predict, y, x, d, experiment.TargetBatch)
}

func predictAll(net *backend.Net, x []float64, n int) ([]float64, error) {
	m, err := backend.Native{}.New(net, backend.Options{MaxBatch: min(n, 4096)})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	y := make([]float64, n)
	return y, backend.PredictChunks(m.Predict, y, x, net.Sizes[0], 4096)
}

// computeFunction evaluates both networks on the line; the fine grid's size
// shrinks for large students so that it stays a fraction of a second.
func computeFunction(cfg experiment.Config, student *backend.Net, inputs []float64, cols int) (funcData, error) {
	d := student.Sizes[0]
	target, err := experiment.NewTarget(cfg)
	if err != nil {
		return funcData{}, err
	}
	defer target.Close()
	teacher := func(x []float64, n int) ([]float64, error) { return targetAt(target, x, d, n) }
	fd := funcData{cols: cols, dim: d}
	ts := make([]float64, cols)
	for i := range ts {
		ts[i] = -0.5 + float64(i)/float64(max(1, cols-1))
	}
	x := lineX(ts, d)
	if fd.teacher, err = teacher(x, cols); err != nil {
		return fd, err
	}
	if fd.student, err = predictAll(student, x, cols); err != nil {
		return fd, err
	}
	fd.gridPts = max(cols*4, min(8192, int(4e8/float64(2*student.NumParams()))))
	fine := make([]float64, fd.gridPts)
	for i := range fine {
		fine[i] = -0.5 + float64(i)/float64(fd.gridPts-1)
	}
	fx := lineX(fine, d)
	yt, err := teacher(fx, len(fine))
	if err != nil {
		return fd, err
	}
	ys, err := predictAll(student, fx, len(fine))
	if err != nil {
		return fd, err
	}
	fd.worstErr = -1
	for i := range fine {
		if e := math.Abs(ys[i] - yt[i]); e > fd.worstErr {
			fd.worstErr, fd.worstT = e, fine[i]
		}
	}
	if d == 1 {
		fd.rug = make([]int, cols)
		for _, v := range inputs {
			c := int(math.Round((v + 0.5) * float64(cols-1)))
			fd.rug[max(0, min(cols-1, c))]++
		}
	}
	return fd, nil
}

// funcCols is the number of plot columns in a w-wide function view.
func funcCols(w int) int { return max(8, w-tp.Gutter(6)) }

var rugShades = []rune(" ·:░▒▓█")

// rugLine shades each column by its count of samples, the fullest darkest
// (blank: none).
func rugLine(counts []int) string {
	most := 0
	for _, c := range counts {
		most = max(most, c)
	}
	var b strings.Builder
	for _, c := range counts {
		k := 0
		if c > 0 {
			k = min(len(rugShades)-1, 1+int(float64(c)/float64(most)*float64(len(rugShades)-2)+0.5))
		}
		b.WriteRune(rugShades[k])
	}
	return b.String()
}

// renderFunction draws the function view in a w×h box.
func renderFunction(st *Styles, fd *funcData, sup *supPoint, w, h int) string {
	if fd == nil || len(fd.teacher) == 0 {
		return tp.Placeholder(st.paint(), "drawing teacher and student…", w, h)
	}
	where := "on the x-axis"
	if fd.dim > 1 {
		where = fmt.Sprintf("on the diagonal x = (t, …, t) of [−½, ½]^%d", fd.dim)
	}
	head := st.Teacher.Render("── target") + "  " + st.Student.Render("━━ student") + st.Muted.Render("  "+where)
	if fd.dim > 1 && ansi.StringWidth(head) > w {
		head = st.Teacher.Render("── target") + "  " + st.Student.Render("━━ student") + st.Muted.Render("  on x = (t, …, t)")
	}
	extra := 2 // the head line and the worst-error marker
	if fd.rug != nil {
		extra++
	}
	plotH := h - extra // rows of the plot
	if plotH < 2 {
		return tp.Placeholder(st.paint(), "window too small", w, h)
	}
	ss := []tp.Series{{Vals: fd.teacher, Chars: tp.Thin, Color: asciigraph.Green}, {Vals: fd.student, Chars: tp.Heavy, Color: asciigraph.Yellow}}
	lines, col0 := tp.Plot(ss, plotH-1, func(v float64) string { return fmt.Sprintf("%6.2f", v) }, nil, st.colour, 0)
	out := []string{tp.Fit(head, w)}
	for _, l := range lines {
		out = append(out, tp.Fit(l, w))
	}
	pad := strings.Repeat(" ", col0)
	if fd.rug != nil {
		out = append(out, tp.Fit(pad+st.Muted.Render(rugLine(fd.rug))+st.Muted.Render(" samples"), w))
	}
	wc := int(math.Round((fd.worstT + 0.5) * float64(fd.cols-1)))
	note := fmt.Sprintf("worst |e| %.3g at t=%.3f", fd.worstErr, fd.worstT)
	if sup != nil && fd.dim == 1 && sup.b.Method == uniform.MethodExact {
		// The exact sup of the last checkpoint and where it is attained.
		wc = int(math.Round((sup.b.At[0] + 0.5) * float64(fd.cols-1)))
		note = fmt.Sprintf("sup |e| %.3g at x=%.3f (exact, epoch %d)", sup.b.Upper, sup.b.At[0], sup.epoch)
	}
	var mark string
	switch {
	case col0+wc+2+len(note) <= w: // the note after the marker
		mark = pad + strings.Repeat(" ", max(0, wc)) + st.Worst.Render("▲ "+note)
	case wc >= len(note)+1: // the note before it
		mark = pad + strings.Repeat(" ", wc-len(note)-1) + st.Worst.Render(note+" ▲")
	default: // the marker alone; the note is in the status line too
		mark = pad + strings.Repeat(" ", max(0, wc)) + st.Worst.Render("▲")
	}
	out = append(out, tp.Fit(mark, w))
	return tp.Box(out, w, h)
}
