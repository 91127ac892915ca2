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

// foolView is the fooling pair of the run's samples: the student, and the
// student plus a network of the teacher's class that is zero on every
// training sample yet tall between them, along a line through its peak.
// Both fit the samples equally well; no learner can tell them apart.
type foolView struct {
	lineView[foolData]
	// before is the bump of the settings before the last change: the
	// chart is autoscaled, so a bump 16× taller (depth 5 → 6) looks the
	// same; the legend says how the height changed.
	before *foolBefore
}

// foolBefore is the previous settings' bump height and what changed.
type foolBefore struct {
	height float64
	label  string
}

// settingsChanged keeps the bump's height so far for the next chart.
func (f foolView) settingsChanged(r *runState, next experiment.Config) screen {
	if f.data != nil && f.data.Fool != nil && f.data.id == r.id {
		f.before = &foolBefore{height: f.data.Fool.Height, label: changes(r.cfg, experiment.ExplorerConfig(next))}
	}
	return f
}

// foolData is the pair of run id.
type foolData struct {
	id int
	experiment.FoolProfile
}

func newFoolView(st *Styles) foolView {
	return foolView{lineView: newLineView[foolData](st, screenFool, "fooling pair", funcCols)}
}

func (f foolView) setSize(w, _ int) screen {
	f.lineView = f.sized(w)
	return f
}

func (f foolView) reset() screen {
	f.lineView = f.cleared()
	return f
}

func (foolView) statusText() string { return "the fooling pair of this run's samples; f goes back" }

// refresh recomputes the pair for the run's latest student (the cube and
// the heights are kept while the run is the same).
func (f foolView) refresh(r *runState) (screen, tea.Cmd) {
	var prev *experiment.FoolProfile
	if f.data != nil && f.data.id == r.id {
		prev = &f.data.FoolProfile
	}
	id, cfg, student, inputs := r.id, r.cfg, r.student, r.inputs
	var cmd tea.Cmd
	f.lineView, cmd = f.compute(r, func(ctx context.Context, cols int) (foolData, error) {
		p, err := experiment.NewFoolProfile(ctx, cfg, student, inputs, cols, prev)
		return foolData{id: id, FoolProfile: p}, err
	})
	return f, cmd
}

func (f foolView) update(msg screenMsg, r *runState) (screen, tea.Cmd, error) {
	var stale bool
	var err error
	f.lineView, stale, err = f.take(msg, r)
	if stale {
		s, cmd := f.refresh(r)
		return s, cmd, err
	}
	return f, nil, err
}

// view draws the panel, w×h.
func (f foolView) view(r *runState, _ experiment.Config, w, h int) string {
	sup := r.lastSup()
	var last *experiment.Checkpoint
	if n := len(r.hist); n > 0 {
		last = &r.hist[n-1]
	}
	body := f.cache.get(drawKey{id: r.id, data: f.data, sups: len(r.sups), ckpts: len(r.hist), w: w, h: h}, func() string {
		return renderFool(f.st, f.data, f.before, r.cfg, sup, last, w-2, h-2)
	})
	return panel(f.st, "fooling pair: 0 on every sample, tall between", body, w, h)
}

// renderFool draws the pair in a w×h box: the plot along the line, the
// samples under it, the two norms of the bump beside the student's error,
// and the bump's height for neighbouring depths and widths.
func renderFool(st *Styles, fd *foolData, before *foolBefore, cfg experiment.Config, sup *supPoint, last *experiment.Checkpoint, w, h int) string {
	if fd == nil {
		return tp.Placeholder(st.paint(), "building the bump…", w, h)
	}
	if fd.Why != "" {
		return tp.Placeholder(st.paint(), fd.Why, w, h)
	}
	f := fd.Fool
	d := cfg.Dim
	where := "along x"
	if d > 1 {
		where = "along x1 through the peak"
	}
	beforeEntry := ""
	if before != nil {
		beforeEntry = st.Value.Render(fmt.Sprintf("%s: bump %.3g → %.3g (×%.3g)", before.label, before.height, f.Height, f.Height/before.height))
	}
	head := tp.Legend(w, st.Student.Render("━━ student"), st.Linf.Render("── student + bump"), beforeEntry, st.Muted.Render(where))
	// Rows under the plot: samples, marker, norms (3), verdict, growth (2).
	below := []string{}
	rugNote := fmt.Sprintf(" %d samples", f.Samples)
	if d > 1 {
		rugNote = fmt.Sprintf(" %d samples near the line", fd.Nearby)
	}
	pc := min(fd.Cols-1, int((f.Center[0]+0.5)*float64(fd.Cols)))
	mark := fmt.Sprintf("▲ bump %.3g at x=%s, no sample within %.2g", f.Height, experiment.FormatPoint(f.Center, 3, true), f.HalfSide)
	verdict := []string{
		fmt.Sprintf("bump on all %d samples: max |·| = %.1g", f.Samples, fd.OnData),
		fmt.Sprintf("→ any learner errs ≥ %.3g on 0 or on the bump", f.Height/2),
	}
	norms, growth := foolNorms(st, fd, sup, last), foolGrowth(st, fd)
	below = append(append(append(append(below, "", mark), norms...), verdict...), growth...)
	plotH := h - 1 - len(below)
	// Drop the least essential rows first when the panel is short.
	for plotH < 3 && len(below) > 2 {
		below = below[:len(below)-1]
		plotH++
	}
	if plotH < 2 {
		return tp.Placeholder(st.paint(), fmt.Sprintf("bump %.3g, L2 %.3g", f.Height, f.L2), w, h)
	}
	ss := []tp.Series{
		{Vals: fd.Plus, Chars: tp.Thin, Color: st.plot.Linf},
		{Vals: fd.Student, Chars: tp.Heavy, Color: st.plot.Student},
	}
	lines, col0 := tp.Plot(ss, plotH-1, func(v float64) string { return fmt.Sprintf("%6.3g", v) }, nil, st.colour, 0)
	out := []string{tp.Fit(head, w)}
	for _, l := range lines {
		out = append(out, tp.Fit(l, w))
	}
	pad := strings.Repeat(" ", col0)
	below[0] = pad + st.Muted.Render(rugLine(fd.Rug)+fitsAfter(col0+len(fd.Rug), w, rugNote))
	below[1] = markUnder(st, col0+pc, w, mark, fmt.Sprintf("▲ bump %.3g, no sample within %.2g", f.Height, f.HalfSide))
	for _, l := range below {
		out = append(out, tp.Fit(l, w))
	}
	return tp.Box(out, w, h)
}

// foolNorms is the table of the bump's and the student's error's sup and
// L2 (the true sup where known, else the sampled L∞).
func foolNorms(st *Styles, fd *foolData, sup *supPoint, last *experiment.Checkpoint) []string {
	f := fd.Fool
	errSup, errWhat := math.NaN(), "sampled"
	if sup != nil {
		errSup, errWhat = sup.b.Upper, "exact"
		if sup.b.Method != uniform.MethodExact {
			errWhat = "≤"
		}
	} else if last != nil {
		errSup = last.Linf
	}
	errL2 := math.NaN()
	if last != nil {
		errL2 = last.L2
	}
	return []string{
		st.Muted.Render(fmt.Sprintf("%-16s %10s %10s", "", "sup (L∞)", "L2 (RMS)")),
		fmt.Sprintf("%-16s %s %s", "bump", st.Linf.Render(fmt.Sprintf("%10.3g", f.Height)), st.L2.Render(fmt.Sprintf("%10.3g", f.L2))) +
			st.Muted.Render(fmt.Sprintf("  sup/L2 %.0f×", f.Height/f.L2)),
		fmt.Sprintf("%-16s %10.3g %10.3g", "student−teacher", errSup, errL2) + st.Muted.Render("  "+errWhat),
	}
}

// foolGrowth is the bump's height for neighbouring depths and widths
// ("—" where none was built).
func foolGrowth(st *Styles, fd *foolData) []string {
	hs := func(xs []int, hs []float64) string {
		var parts []string
		for i := range xs {
			v := "—"
			if !math.IsNaN(hs[i]) {
				v = fmt.Sprintf("%.3g", hs[i])
			}
			parts = append(parts, fmt.Sprintf("%d:%s", xs[i], v))
		}
		return strings.Join(parts, "  ")
	}
	return []string{
		st.Muted.Render("height by depth  ") + hs(fd.Depths, fd.ByDepth),
		st.Muted.Render("height by width  ") + hs(fd.Widths, fd.ByWidth),
	}
}

// fitsAfter is note when it fits whole after the first used cells of w,
// else nothing.
func fitsAfter(used, w int, note string) string {
	if used+ansi.StringWidth(note) <= w {
		return note
	}
	return ""
}

// markUnder writes a marker line for the column at: the first of marks
// ("▲ text") that fits, its ▲ under the column, the text to the right of
// it, to its left ("text ▲"), or around it, split between two words
// (after a comma if it can: "bump 49.5, ▲ no sample within 0.018").
func markUnder(st *Styles, at, w int, marks ...string) string {
	at = max(0, min(at, w-1))
	for _, m := range marks {
		text := strings.TrimPrefix(m, "▲ ")
		n := ansi.StringWidth(text)
		switch {
		case at+2+n <= w:
			return strings.Repeat(" ", at) + st.Worst.Render("▲ "+text)
		case n+2 <= at:
			return strings.Repeat(" ", at-n-1) + st.Worst.Render(text+" ▲")
		}
		words := strings.Fields(text)
		for _, commaOnly := range []bool{true, false} {
			for k := 1; k < len(words); k++ {
				if commaOnly && !strings.HasSuffix(words[k-1], ",") {
					continue
				}
				left, right := strings.Join(words[:k], " "), strings.Join(words[k:], " ")
				if l := ansi.StringWidth(left); l+1 <= at && at+2+ansi.StringWidth(right) <= w {
					return strings.Repeat(" ", at-l-1) + st.Worst.Render(left+" ▲ "+right)
				}
			}
		}
	}
	return strings.Repeat(" ", max(0, min(at, w-1))) + st.Worst.Render("▲")
}
