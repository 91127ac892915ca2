package tui

import (
	"fmt"
	"math"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/report"
	tp "github.com/reluscope/reluscope/experiment/textplot"
)

// The tour (reluscope tour, T in the explorer): a lecture through the
// theorem in steps. Each step sets the explorer up — settings, view, the
// focus view — runs it, and captions it in two lines that state what the
// class should see with the live numbers. space/→ next, ← back, q leaves
// the tour into the free explorer at the step's settings and view.

// tourStep is one step: its title, the keys that reach the same state in
// the free explorer (from the default), its settings (from the settings
// the explorer opened with), its view, and its caption.
type tourStep struct {
	title   string
	keys    string
	set     func(experiment.Config) experiment.Config
	screen  screenID
	caption func(m *Model) string
}

// tour is where the lecture stands: its steps and the one shown; base is
// the settings each step starts from.
type tour struct {
	steps []tourStep
	at    int
	base  experiment.Config
	// fall remembers a step's measured numbers that a later caption
	// compares with (the d = 1 fall of L∞ per ×10 samples).
	fall map[string]float64
}

// TourSteps is the number of the tour's steps.
func TourSteps() int { return len(tourSteps()) }

func same(c experiment.Config) experiment.Config { return c }

// tourSteps are the lecture: the claim, the five demonstrations of the
// README's "Teaching with reluscope", and the lower bound's shape.
func tourSteps() []tourStep {
	dim3 := func(c experiment.Config) experiment.Config { c.Dim = 3; return c }
	few := func(c experiment.Config) experiment.Config {
		c.Samples, c.Batch, c.Epochs = 10, experiment.Batch{Size: 10}, 3000
		return c
	}
	depth6 := func(c experiment.Config) experiment.Config { c.Depth = 6; return c }
	return []tourStep{
		{"the claim", "go run .", same, screenTrain, captionClaim},
		{"L2 falls, L∞ does not", "j → →", dim3, screenTrain, captionDim3},
		{"where the error hides", "--preset few-samples, e", few, screenErrorView, captionErrorView},
		{"more samples, d = 1", "v", same, screenComplexity, captionSlopes1},
		{"more samples, d = 3", "v j → → v", dim3, screenComplexity, captionSlopes3},
		{"the fooling pair", "f", same, screenFool, captionFool},
		{"depth raises the bump", "f →", depth6, screenFool, captionDepth},
		{"the theorem (Berner, Grohs, Voigtlaender 2023)", "f j → →", dim3, screenFool, captionTheorem},
	}
}

// startTour opens the tour at step i.
func (m Model) startTour(i int) (Model, tea.Cmd) {
	m.tourSetup(&tour{steps: tourSteps(), base: m.start, fall: map[string]float64{}}, i)
	return m, m.restartNow(m.runConfig())
}

// tourGo shows step i of the tour: its settings run now (no debounce, no
// waiting gate: every step runs in seconds), its view in the focus view.
func (m Model) tourGo(i int) (Model, tea.Cmd) {
	m.tourSetup(m.tour, i)
	return m, m.restartNow(m.runConfig())
}

// tourSetup sets the explorer up for step i (clamped) of t; the caller
// starts the run.
func (m *Model) tourSetup(t *tour, i int) {
	nt := *t
	nt.at = max(0, min(i, len(nt.steps)-1))
	m.tour = &nt
	st := nt.steps[nt.at]
	if h, ok := m.screens[m.screen].(holder); ok {
		m.screens[m.screen] = h.stop()
		m.sess.release()
	}
	m.showHelp = false
	m.settings.editing = false
	m.cfg = st.set(nt.base)
	m.screen = st.screen
	m.focus, m.part = true, 0
	m.sess.pending, m.sess.asking = 0, false
	m.sess.confirmed = experiment.ConfigHash(m.runConfig())
	m.setSize(m.width, m.height)
	m.status.event(true, "tour %d/%d: %s", nt.at+1, len(nt.steps), st.title) // the caption says it
}

// tourKey handles a key in the tour: it reports whether it took it.
func (m Model) tourKey(msg tea.KeyMsg) (Model, tea.Cmd, bool) {
	switch msg.String() {
	case " ", "right", "n", "pgdown":
		if m.tour.at+1 < len(m.tour.steps) {
			m, cmd := m.tourGo(m.tour.at + 1)
			return m, cmd, true
		}
		m.status.set(true, "the tour's last step: ← back, q leaves the tour")
		return m, nil, true
	case "left", "b", "pgup":
		if m.tour.at > 0 {
			m, cmd := m.tourGo(m.tour.at - 1)
			return m, cmd, true
		}
		return m, nil, true
	case "q", "esc":
		// The free explorer at this step's settings and view, its panels
		// and keys shown (unless it opened for a class, --present).
		m.tour = nil
		m.focus = m.opt.Present
		m.setSize(m.width, m.height)
		m.status.set(true, "left the tour: the explorer is yours (T the tour again, z the chart alone)")
		return m, m.refreshScreen(), true
	}
	return m, nil, false
}

// tourCaption is the step's caption and key line at width w: three rows,
// wrapped at spaces.
func (m Model) tourCaption(w int) []string {
	t := m.tour
	st := t.steps[t.at]
	lines := wrapWords(st.caption(&m), w, 2)
	for len(lines) < 2 {
		lines = append(lines, "")
	}
	for i := range lines {
		lines[i] = m.styles.Value.Render(lines[i])
	}
	// The step's title stays; the keys shorten to fit.
	nav := fmt.Sprintf("tour %d/%d %s", t.at+1, len(t.steps), st.title)
	for _, k := range []string{" · space next · ← back · q free explorer", " · space next · ← back · q leave", " · space/←/q", ""} {
		if ansi.StringWidth(nav+k) <= w {
			nav += k
			break
		}
	}
	return append(lines, m.styles.Muted.Render(tp.Fit(nav, w)))
}

// wrapWords wraps s at spaces into at most n lines of width w (wordWrap);
// what does not fit ends the last line with "…" after a whole word.
func wrapWords(s string, w, n int) []string {
	lines := wordWrap(s, w)
	if len(lines) <= n {
		return lines
	}
	last := strings.Fields(strings.Join(lines[n-1:], " "))
	for len(last) > 0 && ansi.StringWidth(strings.Join(last, " ")+" …") > w {
		last = last[:len(last)-1]
	}
	return append(lines[:n-1], strings.Join(append(last, "…"), " "))
}

// wordWrap breaks s into lines of at most w columns at spaces only: never
// inside a flag (--data-seed), a negative number or a path, as a hyphen
// breakpoint would. A word wider than w alone is cut into pieces.
func wordWrap(s string, w int) []string {
	w = max(1, w)
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		for ansi.StringWidth(word) > w {
			if cur != "" {
				lines, cur = append(lines, cur), ""
			}
			lines = append(lines, ansi.Truncate(word, w, ""))
			word = ansi.TruncateLeft(word, w, "")
		}
		switch {
		case cur == "":
			cur = word
		case ansi.StringWidth(cur)+1+ansi.StringWidth(word) <= w:
			cur += " " + word
		default:
			lines, cur = append(lines, cur), word
		}
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, cur)
	}
	return lines
}

// last is the run's latest checkpoint.
func last(m *Model) (experiment.Checkpoint, bool) {
	if n := len(m.sess.run.hist); n > 0 {
		return m.sess.run.hist[n-1], true
	}
	return experiment.Checkpoint{}, false
}

// g3 writes a number as the captions do: three significant digits.
func g3(v float64) string { return fmt.Sprintf("%.3g", v) }

func captionClaim(m *Model) string {
	s := fmt.Sprintf("A student learns from m = %d samples (d = %d): the average error L2 falls faster than the worst L∞.", m.cfg.Samples, m.cfg.Dim)
	if c, ok := last(m); ok {
		return s + fmt.Sprintf(" Epoch %d: L2 %s, L∞ %s = %.1f× L2.", c.Epoch, g3(c.L2), g3(c.Linf), c.Linf/c.L2)
	}
	return s + " (first checkpoint in a moment)"
}

func captionDim3(m *Model) string {
	s := "In d = 3 the heavy L2 line keeps falling while L∞ flattens out."
	c, ok := last(m)
	if !ok {
		return s + " (first checkpoint in a moment)"
	}
	tail := " so far"
	if m.sess.run.done {
		tail = " — and stays"
	}
	return s + fmt.Sprintf(" Epoch %d: L∞ %s is %.1f× L2 %s%s.", c.Epoch, g3(c.Linf), c.Linf/c.L2, g3(c.L2), tail)
}

func captionErrorView(m *Model) string {
	v, _ := m.screens[screenErrorView].(errorView)
	s := fmt.Sprintf("%d samples: at each sample (dots) |e| is tiny; between them it rises far higher.", m.cfg.Samples)
	if v.data == nil || v.data.Why != "" || len(v.data.Between) == 0 || v.data.Dim != 1 {
		return s + " (measuring the error along the line)"
	}
	peak, _, _ := errorViewPeak(v.data, m.sess.run.lastSup())
	return s + " A" + strings.TrimPrefix(errorViewSummary(v.data, peak), "a") + "."
}

// captionSlopes states the fitted slopes of the errors in m and what ten
// times the samples buy; the d = 1 fall is kept for the d = 3 caption.
func captionSlopes(m *Model, intro string) string {
	v, _ := m.screens[screenComplexity].(complexityView)
	ms, linf, l2, _ := v.series()
	runs := len(experiment.ComplexityMs)
	if len(ms) < runs {
		return intro + fmt.Sprintf(" (%d of %d runs done)", len(ms), runs)
	}
	f2, fi := report.FitPower(ms, l2), report.FitPower(ms, linf)
	fall := math.Pow(10, -fi.B)
	s := intro + fmt.Sprintf(" Slopes: L2 %.2f, L∞ %.2f: ×10 samples cut L2 %.1f×, L∞ %.1f×", f2.B, fi.B, math.Pow(10, -f2.B), fall)
	key := fmt.Sprintf("d%d", m.cfg.Dim)
	m.tour.fall[key] = fall
	if d1, ok := m.tour.fall["d1"]; ok && m.cfg.Dim != 1 {
		s += fmt.Sprintf(" (d = 1: %.1f×)", d1)
	}
	return s + "."
}

func captionSlopes1(m *Model) string {
	return captionSlopes(m, fmt.Sprintf("Seven students, m = 10 … 10⁴ (d = %d): both errors fall with m, L2 on the steeper line.", m.cfg.Dim))
}

func captionSlopes3(m *Model) string {
	return captionSlopes(m, fmt.Sprintf("The same in d = %d: both lines flatten — samples buy less uniform accuracy.", m.cfg.Dim))
}

// foolData is the fooling view's pair, or nil while it is built.
func foolOf(m *Model) *foolData {
	v, _ := m.screens[screenFool].(foolView)
	if v.data == nil || v.data.Why != "" || v.data.Fool == nil {
		return nil
	}
	return v.data
}

func captionFool(m *Model) string {
	fd := foolOf(m)
	if fd == nil {
		return "A network of the teacher's own class that is 0 on every training sample… (building it)"
	}
	f := fd.Fool
	return fmt.Sprintf("A network of the teacher's class is 0 on all %d samples (max |·| = %.1g) yet rises to %s between them: any learner errs by ≥ %s on 0 or on it.",
		f.Samples, fd.OnData, g3(f.Height), g3(f.Height/2))
}

func captionDepth(m *Model) string {
	fd := foolOf(m)
	if fd == nil {
		return fmt.Sprintf("Depth %d: the bump the samples cannot see… (building it)", m.cfg.Depth)
	}
	var by []string
	for i, d := range fd.Depths {
		by = append(by, fmt.Sprintf("%d→%s", d, g3(fd.ByDepth[i])))
	}
	c := m.cfg.Coef * float64(m.cfg.TeacherWidth)
	return fmt.Sprintf("Depth %d: the bump rises to %s, ×%s a layer (c·N = %s·%d). Height by depth %s.",
		m.cfg.Depth, g3(fd.Fool.Height), g3(c), g3(m.cfg.Coef), m.cfg.TeacherWidth, strings.Join(by, ", "))
}

// captionTheorem states the lower bound's shape with the bump measured
// here: its height falls like m^(−1/d), so reaching a uniform error ε
// takes m ≈ m₀·(H/(2ε))^d samples (constants illustrative).
func captionTheorem(m *Model) string {
	s := "Uniform error ε takes m ≳ (c^L·N^(L−1)/ε)^d samples, exponential in L and d."
	fd := foolOf(m)
	if fd == nil {
		return s + " (building the bump)"
	}
	const eps = 0.01
	h, d, m0 := fd.Fool.Height, float64(m.cfg.Dim), float64(fd.Fool.Samples)
	need := m0 * math.Pow(h/(2*eps), d)
	return s + fmt.Sprintf(" In d = %d the bump is %s at m = %d: ε = %g needs m ≈ %.0e (shape only).", m.cfg.Dim, g3(h), fd.Fool.Samples, eps, need)
}
