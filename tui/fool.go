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

// foolView is the fooling pair of the run's samples: the student, and the
// student plus a network of the teacher's class that is zero on every
// training sample yet tall between them, along a line through its peak.
// Both fit the samples equally well; no learner can tell them apart.
type foolView struct {
	st   *Styles
	cols int
	computed[foolData]
	cache *viewCache
}

func newFoolView(st *Styles) foolView {
	return foolView{st: st, cols: funcCols(20 - 2), cache: &viewCache{}}
}

func (f foolView) setSize(w, _ int) foolView {
	f.cols = funcCols(w - 2)
	return f
}

func (f foolView) reset() foolView {
	f.computed = f.computed.reset()
	return f
}

// foolData is the fooling pair of one run, drawn on cols columns.
type foolData struct {
	id      int
	fool    *uniform.Fool
	err     string // why there is no pair for this class
	cols    int
	student []float64 // the student along the line, one value per column
	plus    []float64 // student + bump, the column's peak
	rug     []int     // samples near the line per column
	nearby  int       // how many samples are near the line (d ≥ 2)
	onData  float64   // max |bump| over every training sample
	// growth: the bump's height for the depths and widths around the class.
	depths, widths []int
	byDepth        []float64
	byWidth        []float64
}

// foolFine is how many fine points each column takes its peak over.
const foolFine = 32

// refresh recomputes the pair for the run's latest student (the cube and
// the heights are kept while the run is the same).
func (f foolView) refresh(r *runState) (foolView, tea.Cmd) {
	var prev *foolData
	if f.data != nil && f.data.id == r.id {
		prev = f.data
	}
	id, cfg, student, inputs, cols := r.id, r.cfg, r.student, r.inputs, f.cols
	var cmd tea.Cmd
	f.computed, cmd = f.computed.start(r, func() (foolData, error) { return computeFool(id, cfg, student, inputs, cols, prev) })
	return f, cmd
}

// foolClass is the teacher class with depth L and width n (L layers of
// weights: L−1 hidden layers).
func foolClass(cfg experiment.Config, depth, width int) uniform.Class {
	sz := []int{cfg.Dim}
	for i := 1; i < depth; i++ {
		sz = append(sz, width)
	}
	return uniform.Class{Sizes: append(sz, 1), C: cfg.Coef}
}

// computeFool builds the pair for the run's samples and draws it on the
// line through the bump's peak parallel to the first axis.
func computeFool(id int, cfg experiment.Config, student *backend.Net, inputs []float64, cols int, prev *foolData) (foolData, error) {
	fd := foolData{id: id, cols: cols}
	d := cfg.Dim
	if cfg.Target == experiment.TargetSine {
		fd.err = "the sine target is not a network: there is no class to fool"
		return fd, nil
	}
	if prev != nil && prev.fool != nil {
		fd.fool, fd.onData = prev.fool, prev.onData
		fd.depths, fd.widths, fd.byDepth, fd.byWidth = prev.depths, prev.widths, prev.byDepth, prev.byWidth
	} else {
		z, r := uniform.EmptyCube(inputs, d, cfg.DataSeed)
		m := len(inputs) / d
		f, err := uniform.BuildFoolIn(foolClass(cfg, cfg.Depth, cfg.TeacherWidth), z, r, m)
		if err != nil {
			fd.err = err.Error()
			return fd, nil
		}
		fd.fool = f
		// The bump on every sample: zero, as the construction promises.
		n := min(m, 1<<20)
		y, err := predictAll(f.Net, inputs[:n*d], n)
		if err != nil {
			return fd, err
		}
		for _, v := range y {
			fd.onData = max(fd.onData, math.Abs(v))
		}
		height := func(depth, width int) float64 {
			g, err := uniform.BuildFoolIn(foolClass(cfg, depth, width), z, r, m)
			if err != nil {
				return math.NaN()
			}
			return g.Height
		}
		L, N := cfg.Depth, cfg.TeacherWidth
		fd.depths = []int{max(2, L-1), L, L + 1}
		fd.widths = []int{max(1, N/2), N, 2 * N}
		for _, l := range fd.depths {
			fd.byDepth = append(fd.byDepth, height(l, N))
		}
		for _, w := range fd.widths {
			fd.byWidth = append(fd.byWidth, height(L, w))
		}
	}
	f := fd.fool
	z := f.Center
	// The line x(t) = (t, z2, …, zd); each column's fine points and the
	// peak itself.
	fine := make([]float64, cols*foolFine)
	for i := range fine {
		fine[i] = -0.5 + (float64(i)+0.5)/float64(len(fine))
	}
	line := func(ts []float64) []float64 {
		x := make([]float64, len(ts)*d)
		for i, t := range ts {
			copy(x[i*d:], z)
			x[i*d] = t
		}
		return x
	}
	fx := line(fine)
	bump, err := predictAll(f.Net, fx, len(fine))
	if err != nil {
		return fd, err
	}
	stu, err := predictAll(student, fx, len(fine))
	if err != nil {
		return fd, err
	}
	peak, err := predictAll(f.Net, line([]float64{z[0]}), 1)
	if err != nil {
		return fd, err
	}
	pc := min(cols-1, int((z[0]+0.5)*float64(cols)))
	fd.student = make([]float64, cols)
	fd.plus = make([]float64, cols)
	for c := 0; c < cols; c++ {
		mid := c*foolFine + foolFine/2
		fd.student[c] = stu[mid]
		best := mid
		for i := c * foolFine; i < (c+1)*foolFine; i++ {
			if math.Abs(bump[i]) > math.Abs(bump[best]) {
				best = i
			}
		}
		fd.plus[c] = stu[best] + bump[best]
	}
	if math.Abs(peak[0]) > math.Abs(fd.plus[pc]-fd.student[pc]) {
		fd.plus[pc] = fd.student[pc] + peak[0]
	}
	// Samples near the line: for d = 1 all of them; otherwise those within
	// the cube's half side of it in every other coordinate.
	fd.rug = make([]int, cols)
	m := len(inputs) / d
	for i := 0; i < m; i++ {
		near := true
		for k := 1; k < d && near; k++ {
			near = math.Abs(inputs[i*d+k]-z[k]) <= f.HalfSide
		}
		if !near {
			continue
		}
		fd.nearby++
		c := int((inputs[i*d] + 0.5) * float64(cols))
		fd.rug[max(0, min(cols-1, c))]++
	}
	return fd, nil
}

// view draws the panel, w×h.
func (f foolView) view(r *runState, w, h int) string {
	var sup *supPoint
	if n := len(r.sups); n > 0 {
		sup = &r.sups[n-1]
	}
	var last *experiment.Checkpoint
	if n := len(r.hist); n > 0 {
		last = &r.hist[n-1]
	}
	key := fmt.Sprintf("%d/%p/%p/%p/%d/%d", r.id, f.data, sup, last, w, h)
	if key != f.cache.key {
		f.cache.key = key
		f.cache.view = renderFool(f.st, f.data, r.cfg, sup, last, w-2, h-2)
	}
	return panel(f.st, "fooling pair: 0 on every sample, tall between", f.cache.view, w, h)
}

// renderFool draws the pair in a w×h box: the plot along the line, the
// samples under it, the two norms of the bump beside the student's error,
// and the bump's height for neighbouring depths and widths.
func renderFool(st *Styles, fd *foolData, cfg experiment.Config, sup *supPoint, last *experiment.Checkpoint, w, h int) string {
	if fd == nil {
		return tp.Placeholder(st.paint(), "building the bump…", w, h)
	}
	if fd.err != "" {
		return tp.Placeholder(st.paint(), fd.err, w, h)
	}
	f := fd.fool
	d := cfg.Dim
	where := "along x"
	if d > 1 {
		where = "along x1 through the peak"
	}
	head := st.Student.Render("━━ student") + "  " + st.Linf.Render("── student + bump") + st.Muted.Render("  "+where)
	// Rows under the plot: samples, marker, norms (3), verdict, growth (2).
	below := []string{}
	rugNote := fmt.Sprintf(" %d samples", f.Samples)
	if d > 1 {
		rugNote = fmt.Sprintf(" %d samples near the line", fd.nearby)
	}
	pc := min(fd.cols-1, int((f.Center[0]+0.5)*float64(fd.cols)))
	mark := fmt.Sprintf("▲ peak %.3g at x=%s, no sample within %.2g", f.Height, experiment.FormatPoint(f.Center, 3, true), f.HalfSide)
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
	norms := []string{
		st.Muted.Render(fmt.Sprintf("%-16s %10s %10s", "", "sup (L∞)", "L2 (RMS)")),
		fmt.Sprintf("%-16s %s %s", "bump", st.Linf.Render(fmt.Sprintf("%10.3g", f.Height)), st.L2.Render(fmt.Sprintf("%10.3g", f.L2))) +
			st.Muted.Render(fmt.Sprintf("  sup/L2 %.0f×", f.Height/f.L2)),
		fmt.Sprintf("%-16s %10.3g %10.3g", "student−teacher", errSup, errL2) + st.Muted.Render("  "+errWhat),
	}
	verdict := []string{
		fmt.Sprintf("bump on all %d samples: max |·| = %.1g", f.Samples, fd.onData),
		fmt.Sprintf("→ any learner errs ≥ %.3g on 0 or on the bump", f.Height/2),
	}
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
	growth := []string{
		st.Muted.Render("height by depth  ") + hs(fd.depths, fd.byDepth),
		st.Muted.Render("height by width  ") + hs(fd.widths, fd.byWidth),
	}
	below = append(below, "", mark)
	below = append(below, norms...)
	below = append(below, verdict...)
	below = append(below, growth...)
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
		{Vals: fd.plus, Chars: tp.Thin, Color: asciigraph.Red},
		{Vals: fd.student, Chars: tp.Heavy, Color: asciigraph.Yellow},
	}
	lines, col0 := tp.Plot(ss, plotH-1, func(v float64) string { return fmt.Sprintf("%6.3g", v) }, nil, st.colour, 0)
	out := []string{tp.Fit(head, w)}
	for _, l := range lines {
		out = append(out, tp.Fit(l, w))
	}
	pad := strings.Repeat(" ", col0)
	below[0] = pad + st.Muted.Render(rugLine(fd.rug)+rugNote)
	switch {
	case col0+pc+ansi.StringWidth(mark) <= w:
		below[1] = pad + strings.Repeat(" ", pc) + st.Worst.Render(mark)
	default:
		alt := fmt.Sprintf("▲ peak %.3g, no sample within %.2g", f.Height, f.HalfSide)
		if col0+pc+ansi.StringWidth(alt) <= w {
			below[1] = pad + strings.Repeat(" ", pc) + st.Worst.Render(alt)
		} else {
			below[1] = st.Worst.Render(alt)
		}
	}
	for _, l := range below {
		out = append(out, tp.Fit(l, w))
	}
	return tp.Box(out, w, h)
}
