package tui

import (
	"context"
	"fmt"
	"math"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/reluscope/reluscope/experiment"
	tp "github.com/reluscope/reluscope/experiment/textplot"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// functionView is the panel of the teacher and the student along a line,
// computed in the background (experiment.NewLineProfile).
type functionView struct {
	lineView[funcData]
}

// funcData is the function view's data.
type funcData = experiment.LineProfile

// drawKey is what a panel drawn from a background computation shows: the
// run, the data, the true sups known and the size.
type drawKey struct {
	id    int
	data  any
	sups  int
	ckpts int
	w, h  int
}

func newFunctionView(st *Styles) functionView {
	return functionView{newLineView[funcData](st, screenTrain, "function view", funcCols)}
}

func (f functionView) setSize(w, _ int) functionView { return functionView{f.sized(w)} }

func (f functionView) reset() functionView { return functionView{f.cleared()} }

// refresh starts a computation for the run's latest student, or marks the
// view stale when one is in flight.
func (f functionView) refresh(r *runState) (functionView, tea.Cmd) {
	cfg, student, inputs := r.cfg, r.student, r.inputs
	l, cmd := f.compute(r, func(ctx context.Context, cols int) (funcData, error) {
		return experiment.NewLineProfile(ctx, cfg, student, inputs, cols)
	})
	return functionView{l}, cmd
}

// receive takes a finished drawing (a stale one is redrawn).
func (f functionView) receive(msg computedMsg, r *runState) (functionView, tea.Cmd, error) {
	l, stale, err := f.take(msg, r)
	f = functionView{l}
	var cmd tea.Cmd
	if stale {
		f, cmd = f.refresh(r)
	}
	return f, cmd, err
}

// view draws the panel, w×h, re-rendered only when the data or size changed.
func (f functionView) view(r *runState, w, h int) string {
	sup := r.lastSup()
	name := teacherWord(r.cfg)
	body := f.cache.get(drawKey{id: r.id, data: f.data, sups: len(r.sups), w: w, h: h}, func() string {
		return renderFunction(f.st, f.data, sup, name, w-2, h-2)
	})
	return panel(f.st, name+" and student along a line", body, w, h)
}

// teacherWord is what the run learns, one word everywhere: the teacher,
// or the target of the sine preset (a function, not a network).
func teacherWord(c experiment.Config) string {
	if c.Target == experiment.TargetSine {
		return "target"
	}
	return "teacher"
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
func renderFunction(st *Styles, fd *funcData, sup *supPoint, name string, w, h int) string {
	if fd == nil || len(fd.Student) == 0 {
		return tp.Placeholder(st.paint(), "drawing teacher and student…", w, h)
	}
	if fd.NoTeacher {
		return renderStudentOnly(st, fd, w, h)
	}
	where := "on the x-axis"
	if fd.Dim > 1 {
		where = fmt.Sprintf("on the diagonal x = (t, …, t) of [−½, ½]^%d", fd.Dim)
	}
	if fd.Dim > 1 && ansi.StringWidth("── "+name+"  ━━ student  "+where) > w {
		where = "on x = (t, …, t)"
	}
	head := tp.Legend(w, st.Teacher.Render("── "+name), st.Student.Render("━━ student"), st.Muted.Render(where))
	extra := 2 // the head line and the worst-error marker
	if fd.Rug != nil {
		extra++
	}
	plotH := h - extra // rows of the plot
	if plotH < 2 {
		return tp.Placeholder(st.paint(), "window too small", w, h)
	}
	ss := []tp.Series{{Vals: fd.Teacher, Chars: tp.Thin, Color: st.plot.Teacher}, {Vals: fd.Student, Chars: tp.Heavy, Color: st.plot.Student}}
	lines, col0 := tp.Plot(ss, plotH-1, func(v float64) string { return fmt.Sprintf("%6.2f", v) }, nil, st.colour, 0)
	out := []string{tp.Fit(head, w)}
	for _, l := range lines {
		out = append(out, tp.Fit(l, w))
	}
	pad := strings.Repeat(" ", col0)
	if fd.Rug != nil {
		out = append(out, tp.Fit(pad+st.Muted.Render(rugLine(fd.Rug))+st.Muted.Render(fitsAfter(ansi.StringWidth(pad)+len(fd.Rug), w, " samples")), w))
	}
	wc := int(math.Round((fd.WorstT + 0.5) * float64(fd.Cols-1)))
	note := fmt.Sprintf("worst |e| %.3g at t=%.3f", fd.WorstErr, fd.WorstT)
	if sup != nil && fd.Dim == 1 && sup.b.Method == uniform.MethodExact {
		// The exact sup of the last checkpoint and where it is attained.
		wc = int(math.Round((sup.b.At[0] + 0.5) * float64(fd.Cols-1)))
		note = fmt.Sprintf("sup |e| %.3g at x=%.3f (exact, epoch %d)", sup.b.Upper, sup.b.At[0], sup.epoch)
	}
	mark := markUnder(st, col0+max(0, wc), w, "▲ "+note)
	out = append(out, tp.Fit(mark, w))
	return tp.Box(out, w, h)
}

// renderStudentOnly draws a data run's student along the line, its samples
// under it (d = 1): there is no teacher to draw.
func renderStudentOnly(st *Styles, fd *funcData, w, h int) string {
	head := st.Student.Render("━━ student") + st.Muted.Render("  (the samples of a data file: no teacher)")
	extra := 1
	if fd.Rug != nil {
		extra++
	}
	if h-extra < 2 {
		return tp.Placeholder(st.paint(), "window too small", w, h)
	}
	lines, col0 := tp.Plot([]tp.Series{{Vals: fd.Student, Chars: tp.Heavy, Color: st.plot.Student}}, h-extra-1,
		func(v float64) string { return fmt.Sprintf("%6.2f", v) }, nil, st.colour, 0)
	out := []string{tp.Fit(head, w)}
	for _, l := range lines {
		out = append(out, tp.Fit(l, w))
	}
	if fd.Rug != nil {
		out = append(out, tp.Fit(strings.Repeat(" ", col0)+st.Muted.Render(rugLine(fd.Rug)+fitsAfter(col0+len(fd.Rug), w, " samples")), w))
	}
	return tp.Box(out, w, h)
}
