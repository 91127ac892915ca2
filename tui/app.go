// Package tui is reluscope's interactive explorer: settings on the left,
// the uniform (L∞) and L2 errors against epochs and the teacher and student
// along a line on the right, status and keys below. Each run is an
// experiment.Start in the background; the UI never blocks on it.
package tui

import (
	"context"
	"fmt"
	"io"
	"log"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
)

// Debounce is how long settings must rest before a new run starts.
const Debounce = 250 * time.Millisecond

// Options configure the explorer.
type Options struct {
	// Context bounds every run (default: Background).
	Context context.Context
	// SaveDir is where the save key writes runs (default "results").
	SaveDir string
	// Log receives diagnostics (default: discarded). Never stdout.
	Log *log.Logger
	// Theme (default: ThemeFromEnv).
	Theme *Theme
	// Now is the clock (default time.Now); tests fix it.
	Now func() time.Time
	// Note is shown in the status line at start (e.g. a backend fallback).
	Note string
}

// runState is what the UI knows of the current run.
type runState struct {
	id          int
	cfg         experiment.Config
	backendName string
	teacher     *backend.Net
	student     *backend.Net
	inputs      []float64
	hist        []experiment.Checkpoint
	epochLoss   []float64
	epoch       int
	step        int64
	lr, loss    float64
	stepsPerSec float64
	elapsed     time.Duration
	started     bool
	done        bool
	err         error
	result      *experiment.Result
}

// Model is the explorer's root model.
type Model struct {
	opt       Options
	keys      keyMap
	help      help.Model
	styles    Styles
	width     int
	height    int
	selected  int
	editing   bool
	input     textinput.Model
	showHelp  bool
	showLoss  bool
	ladderOn  bool // the sample-complexity view is shown
	ladder    ladderState
	ladderSeq int

	cfg     experiment.Config // the settings shown (the next run's)
	run     runState
	cancel  context.CancelFunc
	ctl     *experiment.Control
	events  <-chan experiment.Event
	paused  bool
	pending int // debounce token of the restart waiting to start, 0 if none
	changed time.Time

	fn       *funcData
	fnSeq    int
	fnBusy   bool
	fnDirty  bool
	status   string
	statusOK bool

	cache *renderCache
}

// renderCache keeps rendered panels between frames (View has a value
// receiver, so the cache lives behind a pointer) and times frames.
type renderCache struct {
	errKey, fnKey string
	errView       string
	fnView        string
	frames        int
	frameTotal    time.Duration
	frameMax      time.Duration
	lastReport    time.Time
}

// New builds the explorer for the starting settings cfg.
func New(cfg experiment.Config, opt Options) Model {
	if opt.Context == nil {
		opt.Context = context.Background()
	}
	if opt.SaveDir == "" {
		opt.SaveDir = "results"
	}
	if opt.Log == nil {
		opt.Log = log.New(io.Discard, "", 0)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	th := ThemeFromEnv()
	if opt.Theme != nil {
		th = *opt.Theme
	}
	in := textinput.New()
	in.Prompt = ""
	in.CharLimit = 24
	m := Model{
		opt:    opt,
		keys:   defaultKeyMap(),
		help:   help.New(),
		styles: NewStyles(th),
		width:  80,
		height: 24,
		input:  in,
		cfg:    cfg,
		cache:  &renderCache{},
		status: opt.Note,
	}
	m.help.Styles.ShortKey = m.styles.Value
	m.help.Styles.ShortDesc = m.styles.Muted
	m.help.Styles.FullKey = m.styles.Value
	m.help.Styles.FullDesc = m.styles.Muted
	return m
}

// Init starts the first run.
func (m Model) Init() tea.Cmd { return m.startCmd() }

// startCmd asks Update to start a run now (a restart with token 0 is never stale).
func (m Model) startCmd() tea.Cmd { return func() tea.Msg { return restartMsg{} } }

// ExplorerConfig tunes the checkpoints for live curves: up to 100 of them,
// each on enough fresh points that evaluation costs about a quarter of the
// training, between 4096 and 65536 points.
func ExplorerConfig(c experiment.Config) experiment.Config {
	n := min(c.Epochs, 100)
	c.EvalEvery = max(1, c.Epochs/n)
	ps := float64(backend.NumParams(c.StudentSizes()))
	pt := float64(backend.NumParams(c.TeacherSizes()))
	train := 6 * ps * float64(c.Samples) * float64(c.Epochs)
	pts := 0.25 * train / (2 * (ps + pt) * float64(n+1))
	p := 4096
	for p < 65536 && float64(p) < pts {
		p *= 2
	}
	c.EvalPoints = p
	return c
}

// startRun cancels the current run and starts one with m.cfg.
func (m *Model) startRun() tea.Cmd {
	m.stopRun()
	cfg := ExplorerConfig(m.cfg)
	ctx, cancel := context.WithCancel(m.opt.Context)
	m.cancel = cancel
	m.ctl = experiment.NewControl()
	m.paused = false // a new run starts running
	id := m.run.id + 1
	m.run = runState{id: id, cfg: cfg}
	m.fn, m.fnDirty, m.fnBusy = nil, false, false
	m.events = experiment.Start(ctx, cfg, experiment.Options{Control: m.ctl})
	m.opt.Log.Printf("run %d: start %+v", id, cfg)
	return waitForEvent(id, m.events)
}

func (m *Model) stopRun() {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
}

// Close cancels the running experiment; the program calls it on exit.
func (m Model) Close() {
	if m.cancel != nil {
		m.cancel()
	}
	if m.ladder.cancel != nil {
		m.ladder.cancel()
	}
}

// waitForEvent is the one blocking receive a Cmd does.
func waitForEvent(id int, ch <-chan experiment.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return runClosedMsg{id: id}
		}
		return eventMsg{id: id, ev: ev}
	}
}

func (m *Model) setStatus(ok bool, format string, args ...any) {
	m.status = fmt.Sprintf(format, args...)
	m.statusOK = ok
}

// scheduleRestart cancels the current run and starts the new settings after
// the debounce, unless another change comes first.
func (m *Model) scheduleRestart() tea.Cmd {
	m.stopRun()
	m.run.id++ // the cancelled run's last events are stale from now on
	m.pending++
	tok := m.pending
	m.changed = m.opt.Now()
	return tea.Tick(Debounce, func(time.Time) tea.Msg { return restartMsg{token: tok} })
}

// Update handles one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = msg.Width
		return m, m.refreshFunction()
	case tea.KeyMsg:
		// Keys typed faster than the program reads arrive as one message
		// of several runes ("jj"): handle them one at a time.
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste && !m.editing {
			var cmds []tea.Cmd
			var cur tea.Model = m
			for _, r := range msg.Runes {
				var cmd tea.Cmd
				cur, cmd = cur.(Model).handleKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
				cmds = append(cmds, cmd)
			}
			return cur, tea.Batch(cmds...)
		}
		return m.handleKey(msg)
	case restartMsg:
		if msg.token != 0 && msg.token != m.pending {
			return m, nil // a later change superseded this one
		}
		m.pending = 0
		if base, ok := strings.CutSuffix(m.status, " — restarting"); ok {
			m.status = base + " — new run started"
		}
		cmd := m.startRun()
		if m.ladderOn {
			m.ctl.Pause() // the ladder has the cores; the run waits
			cmd = tea.Batch(cmd, m.startLadder())
		}
		return m, cmd
	case eventMsg:
		if msg.id != m.run.id {
			return m, nil // a cancelled run's event: drop, do not re-arm
		}
		cmd := m.applyEvent(msg.ev)
		return m, tea.Batch(cmd, waitForEvent(msg.id, m.events))
	case runClosedMsg:
		return m, nil
	case ladderMsg:
		return m, m.applyRung(msg)
	case funcMsg:
		if msg.id != m.run.id {
			return m, nil
		}
		m.fnBusy = false
		if msg.err != nil {
			m.setStatus(false, "function view: %v", msg.err)
		} else {
			fd := msg.fd
			m.fn = &fd
		}
		if m.fnDirty {
			return m, m.refreshFunction()
		}
		return m, nil
	case savedMsg:
		if msg.err != nil {
			m.setStatus(false, "save failed: %v", msg.err)
		} else {
			m.setStatus(true, "saved to %s", msg.path)
		}
		return m, nil
	}
	return m, nil
}

func (m *Model) applyEvent(ev experiment.Event) tea.Cmd {
	r := &m.run
	switch ev.Kind {
	case experiment.KindStart:
		r.started = true
		r.teacher, r.inputs, r.student = ev.Teacher, ev.Inputs, ev.Student
		r.backendName = ev.Backend
		r.lr = ev.LR
		if !m.changed.IsZero() {
			m.opt.Log.Printf("run %d: first event %.1f ms after the last settings change", r.id, float64(m.opt.Now().Sub(m.changed).Microseconds())/1000)
			m.changed = time.Time{}
		}
		return m.refreshFunction()
	case experiment.KindProgress:
		r.epoch, r.step, r.lr, r.loss = ev.Epoch, ev.Step, ev.LR, ev.Loss
		r.stepsPerSec, r.elapsed = ev.StepsPerSec, ev.Elapsed
		r.hist = append(r.hist, ev.Checkpoints...)
		r.epochLoss = append(r.epochLoss, ev.EpochLoss...)
		if ev.Student != nil {
			r.student = ev.Student
			return m.refreshFunction()
		}
	case experiment.KindDone:
		r.done = true
		r.err = ev.Err
		r.result = ev.Result
		if ev.Result != nil {
			r.elapsed = ev.Result.Elapsed
			if ev.Result.Student != nil {
				r.student = ev.Result.Student
			}
		}
		m.cancel = nil
		if ev.Err != nil {
			m.setStatus(false, "run stopped: %v", ev.Err)
		} else if f := r.result.Final(); f != nil {
			m.setStatus(true, "finished in %s: the worst error L∞ is %.1f× L2 — try more samples", r.elapsed.Round(time.Millisecond), f.Linf/f.L2)
		}
		m.opt.Log.Printf("run %d: done err=%v", r.id, ev.Err)
		return m.refreshFunction()
	}
	return nil
}

// refreshFunction recomputes the function view in the background; at most
// one computation is in flight, a newer snapshot marks it dirty.
func (m *Model) refreshFunction() tea.Cmd {
	r := &m.run
	if !r.started || r.student == nil {
		return nil
	}
	if m.fnBusy {
		m.fnDirty = true
		return nil
	}
	m.fnBusy, m.fnDirty = true, false
	m.fnSeq++
	id, cfg, student, inputs := r.id, r.cfg, r.student, r.inputs
	cols := funcCols(m.rightWidth() - 2)
	return func() tea.Msg {
		fd, err := computeFunction(cfg, student, inputs, cols)
		return funcMsg{id: id, fd: fd, err: err}
	}
}

func (m Model) handleKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	if m.editing {
		switch msg.Type {
		case tea.KeyEnter:
			m.editing = false
			next := m.cfg
			f := fields[m.selected]
			if err := f.set(&next, m.input.Value()); err != nil {
				m.setStatus(false, "%v", err)
				return m, nil
			}
			return m.commit(next, f.name)
		case tea.KeyEsc:
			m.editing = false
			m.setStatus(true, "edit cancelled")
			return m, nil
		case tea.KeyCtrlC:
			return m.quit()
		}
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return m, cmd
	}
	if m.showHelp {
		if key.Matches(msg, m.keys.Quit) {
			return m.quit()
		}
		m.showHelp = false
		return m, nil
	}
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.Up):
		m.selected = (m.selected + len(fields) - 1) % len(fields)
	case key.Matches(msg, k.Down):
		m.selected = (m.selected + 1) % len(fields)
	case key.Matches(msg, k.Inc), key.Matches(msg, k.Dec):
		dir := 1
		if key.Matches(msg, k.Dec) {
			dir = -1
		}
		next := m.cfg
		f := fields[m.selected]
		if err := f.step(&next, dir); err != nil {
			m.setStatus(false, "%v", err)
			return m, nil
		}
		return m.commit(next, f.name)
	case key.Matches(msg, k.Edit):
		m.editing = true
		m.input.SetValue(fields[m.selected].get(m.cfg))
		m.input.CursorEnd()
		return m, m.input.Focus()
	case key.Matches(msg, k.Pause):
		if m.run.done {
			m.setStatus(true, "the run has finished: r restarts it")
			return m, nil
		}
		m.paused = !m.paused
		if m.paused {
			m.ctl.Pause()
			m.setStatus(true, "paused after this epoch — space resumes, . steps one epoch")
		} else {
			m.ctl.Resume()
			m.setStatus(true, "resumed")
		}
	case key.Matches(msg, k.Step):
		if m.run.done {
			m.setStatus(true, "the run has finished: r restarts it")
			return m, nil
		}
		m.paused = true
		m.ctl.Pause()
		m.ctl.Step()
		m.setStatus(true, "one epoch, then paused — space resumes")
	case key.Matches(msg, k.Restart):
		m.pending = 0
		m.setStatus(true, "restarted with the same seeds")
		m.changed = m.opt.Now()
		return m, m.startRun()
	case key.Matches(msg, k.NewTeacher):
		next := m.cfg
		next.TeacherSeed++
		m.setStatus(true, "new teacher (seed %d)", next.TeacherSeed)
		m.cfg = next
		return m, m.scheduleRestart()
	case key.Matches(msg, k.NewStudent):
		next := m.cfg
		next.InitSeed++
		next.DataSeed = next.InitSeed
		m.setStatus(true, "new student and training data (seed %d)", next.InitSeed)
		m.cfg = next
		return m, m.scheduleRestart()
	case key.Matches(msg, k.Loss):
		m.showLoss = !m.showLoss
	case key.Matches(msg, k.View):
		m.ladderOn = !m.ladderOn
		if m.ladderOn {
			if m.ctl != nil {
				m.ctl.Pause()
			}
			m.setStatus(true, "sample complexity: training the current setting for m = 10 … 10000; v goes back")
			return m, m.startLadder()
		}
		m.stopLadder()
		if m.ctl != nil && !m.paused {
			m.ctl.Resume()
		}
		m.setStatus(true, "back to training")
	case key.Matches(msg, k.Save):
		return m, m.saveCmd()
	}
	return m, nil
}

// commit accepts new settings if they validate and schedules a restart.
func (m Model) commit(next experiment.Config, name string) (tea.Model, tea.Cmd) {
	if err := next.Validate(); err != nil {
		m.setStatus(false, "%s refused: %v", name, err)
		return m, nil
	}
	m.cfg = next
	m.setStatus(true, "%s = %s — restarting", name, fields[fieldIndex(name)].get(next))
	return m, m.scheduleRestart()
}

func (m Model) quit() (tea.Model, tea.Cmd) {
	m.stopRun()
	m.stopLadder()
	m.cache.report(m.opt.Log, true)
	return m, tea.Quit
}

// saveCmd writes the current run (finished or not) in the background.
func (m Model) saveCmd() tea.Cmd {
	r := m.run
	if !r.started {
		return func() tea.Msg { return savedMsg{err: fmt.Errorf("no run to save yet")} }
	}
	res := r.result
	if res == nil {
		res = &experiment.Result{Config: r.cfg, History: r.hist, EpochLoss: r.epochLoss, Teacher: r.teacher,
			Student: r.student, Steps: r.step, Elapsed: r.elapsed, Err: "saved while running"}
	}
	stamp := m.opt.Now().Format("20060102-150405")
	dir := filepath.Join(m.opt.SaveDir, fmt.Sprintf("run-%s-d%d-L%d-w%d-m%d", stamp, r.cfg.Dim, r.cfg.Depth, r.cfg.Width, r.cfg.Samples))
	return func() tea.Msg {
		if err := experiment.SaveRun(dir, res); err != nil {
			return savedMsg{err: err}
		}
		return savedMsg{path: dir}
	}
}

// ---- view ----

const controlsWidth = 28

func (m Model) rightWidth() int { return max(20, m.width-controlsWidth) }

// View renders the whole screen.
func (m Model) View() string {
	t0 := time.Now()
	defer func() { m.cache.frame(time.Since(t0), m.opt.Log) }()
	w, h := m.width, m.height
	title := m.styles.Title.Render("reluscope") + m.styles.Muted.Render(" — the L2 error falls easily, the uniform error L∞ does not")
	footer := m.help.ShortHelpView(m.keys.ShortHelp())
	status := m.statusView(w)
	bodyH := h - lipgloss.Height(title) - lipgloss.Height(status) - lipgloss.Height(footer)
	var body string
	if m.showHelp {
		body = m.panel("keys", "\n"+m.help.FullHelpView(m.keys.FullHelp())+"\n\n"+m.styles.Muted.Render("any key closes this help"), w, bodyH)
	} else {
		right := m.rightView(m.rightWidth(), bodyH)
		if m.ladderOn {
			right = m.ladderView(m.rightWidth(), bodyH)
		}
		body = lipgloss.JoinHorizontal(lipgloss.Top, m.controlsView(bodyH), right)
	}
	out := lipgloss.JoinVertical(lipgloss.Left, fit(title, w), body, status, fit(footer, w))
	return box(strings.Split(out, "\n"), w, h)
}

// panel draws a rounded box of outer size w×h with the title in its top border.
func (m Model) panel(title, content string, w, h int) string {
	b := m.styles.Border
	t := fit(" "+title+" ", max(0, w-4))
	top := b.Render("╭─") + m.styles.PanelTitle.Render(t) + b.Render(strings.Repeat("─", max(0, w-3-ansi.StringWidth(t)))+"╮")
	inner := strings.Split(box(strings.Split(content, "\n"), w-2, h-2), "\n")
	lines := []string{top}
	side := b.Render("│")
	for _, l := range inner {
		lines = append(lines, side+fit(l, w-2)+side)
	}
	lines = append(lines, b.Render("╰"+strings.Repeat("─", max(0, w-2))+"╯"))
	return strings.Join(lines, "\n")
}

func (m Model) controlsView(h int) string {
	w := controlsWidth - 2
	var lines []string
	for i, f := range fields {
		val := f.get(m.cfg)
		if m.editing && i == m.selected {
			val = m.input.View()
		}
		name := fmt.Sprintf("%-13s", f.name)
		line := name + val
		if i == m.selected {
			line = m.styles.Selected.Render(fmt.Sprintf("%-*s", w, "▸ "+name+val))
			if m.editing {
				line = m.styles.Selected.Render("▸ "+name) + val
			}
		} else {
			line = "  " + m.styles.Label.Render(name) + m.styles.Value.Render(val)
		}
		lines = append(lines, line)
	}
	c := m.cfg
	extra := []string{
		"",
		m.styles.Muted.Render(fmt.Sprintf("batch %d · %d steps/epoch", c.BatchSize(), c.StepsPerEpoch())),
		m.styles.Muted.Render(fmt.Sprintf("params: t %d · s %d", backend.NumParams(c.TeacherSizes()), backend.NumParams(c.StudentSizes()))),
		m.styles.Muted.Render("ε=0.01 needs m ≳ ") + m.styles.Value.Render(boundSamples(c, 0.01)),
		m.styles.Muted.Render("(c^L·ΠN/ε)^d: shape only"),
	}
	if c.Target == experiment.TargetSine {
		// An analytic target: no teacher class, no bound to show.
		extra[2] = m.styles.Muted.Render(fmt.Sprintf("student %d params", backend.NumParams(c.StudentSizes())))
		extra[3] = m.styles.Muted.Render("target: Figure 1,")
		extra[4] = m.styles.Muted.Render("log(sin 50x + 2) + sin 5x")
	}
	room := h - 2 - len(lines)
	lines = append(lines, extra[:max(0, min(len(extra), room))]...)
	return m.panel("settings", strings.Join(lines, "\n"), controlsWidth, h)
}

// boundSamples is the lower bound's shape (c^L·ΠN_ℓ/ε)^d for the teacher class.
func boundSamples(c experiment.Config, eps float64) string {
	lg := float64(c.Depth)*math.Log10(c.Coef) + float64(c.Depth-1)*math.Log10(float64(c.TeacherWidth)) - math.Log10(eps)
	lg *= float64(c.Dim)
	if lg < 6 {
		return fmt.Sprintf("%.0f", math.Pow(10, lg))
	}
	e := math.Floor(lg)
	return fmt.Sprintf("%.1fe%.0f", math.Pow(10, lg-e), e)
}

func (m Model) rightView(w, h int) string {
	errH := max(5, h*11/20)
	fnH := h - errH
	r := m.run
	ekey := fmt.Sprintf("%d/%d/%d/%v/%d/%d", r.id, len(r.hist), len(r.epochLoss), m.showLoss, w, errH)
	if ekey != m.cache.errKey {
		m.cache.errKey = ekey
		m.cache.errView = renderErrors(&m.styles, r.hist, r.epochLoss, r.cfg.Epochs, m.showLoss, w-2, errH-2)
	}
	title := "errors on fresh points vs epoch (log scale)"
	if r.cfg.EvalPoints > 0 {
		title = fmt.Sprintf("errors on %d fresh points vs epoch (log)", r.cfg.EvalPoints)
	}
	top := m.panel(title, m.cache.errView, w, errH)
	fkey := fmt.Sprintf("%d/%p/%d/%d", r.id, m.fn, w, fnH)
	if fkey != m.cache.fnKey {
		m.cache.fnKey = fkey
		m.cache.fnView = renderFunction(&m.styles, m.fn, w-2, fnH-2)
	}
	bottom := m.panel("target and student along a line", m.cache.fnView, w, fnH)
	return lipgloss.JoinVertical(lipgloss.Left, top, bottom)
}

func (m Model) statusView(w int) string {
	r := m.run
	st := m.styles
	var state string
	switch {
	case r.done && r.err != nil:
		state = st.Error.Render("✗ stopped")
	case r.done:
		state = st.OK.Render("✓ done")
	case m.pending != 0:
		state = st.Muted.Render("… restarting")
	case m.ladderOn:
		state = st.Value.Render("‖ held")
	case m.paused:
		state = st.Value.Render("‖ paused")
	case r.started:
		state = st.OK.Render("▶ training")
	default:
		state = st.Muted.Render("… starting")
	}
	E := max(1, r.cfg.Epochs)
	frac := float64(r.epoch) / float64(E)
	left := "—"
	if r.epoch > 0 && !r.done {
		left = clock(time.Duration(float64(r.elapsed) * float64(E-r.epoch) / float64(r.epoch)))
	} else if r.done {
		left = "0:00"
	}
	be := r.backendName
	if be == "" {
		be = r.cfg.Backend
	}
	pre := fmt.Sprintf("%s  epoch %d/%d ", state, r.epoch, E)
	post := fmt.Sprintf(" lr %.2g  %s steps/s  %s, %s left  %s", r.lr, humanRate(r.stepsPerSec), clock(r.elapsed), left, be)
	barW := max(6, min(30, w-ansi.StringWidth(pre)-ansi.StringWidth(post)))
	fill := int(frac*float64(barW) + 0.5)
	bar := st.Bar.Render(strings.Repeat("█", fill)) + st.BarEmpty.Render(strings.Repeat("░", barW-fill))
	line1 := pre + bar + post
	line2 := st.Muted.Render("no checkpoint yet")
	if n := len(r.hist); n > 0 {
		c := r.hist[n-1]
		ratio := c.Linf / c.L2
		// The fullest line that fits: 3 decimals in the location, then 2,
		// then without L1 (a point in d ≥ 3 does not fit 80 columns whole).
		for _, v := range []struct {
			digits int
			l1     bool
		}{{3, true}, {2, true}, {2, false}} {
			l1 := ""
			if v.l1 {
				l1 = "L1 " + st.Value.Render(fmt.Sprintf("%.3g", c.L1)) + "  "
			}
			line2 = fmt.Sprintf("epoch %d:  %sL2 %s  L∞/L2 %s  L∞ %s at x=%s",
				c.Epoch, l1, st.L2.Render(fmt.Sprintf("%.3g", c.L2)),
				st.Value.Render(fmt.Sprintf("%.1f×", ratio)), st.Linf.Render(fmt.Sprintf("%.3g", c.Linf)), pointDigits(c.ArgMax, v.digits))
			if ansi.StringWidth(line2) <= w {
				break
			}
		}
	}
	msg := m.status
	if m.statusOK {
		msg = st.Muted.Render(msg)
	} else {
		msg = st.Error.Render(msg)
	}
	return strings.Join([]string{fit(line1, w), fit(line2, w), fit(msg, w)}, "\n")
}

func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func humanRate(v float64) string {
	switch {
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.1f", v)
	}
}

func point(x []float64) string { return pointDigits(x, 3) }

// pointDigits formats a point with the given decimals, eliding coordinates
// after the third of a point in more than four dimensions.
func pointDigits(x []float64, digits int) string {
	parts := make([]string, len(x))
	for i, v := range x {
		parts[i] = fmt.Sprintf("%.*f", digits, v)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	if len(parts) > 4 {
		parts = append(parts[:3], "…")
	}
	return "(" + strings.Join(parts, ",") + ")"
}

// frame records one View's duration and logs a summary every 5 s.
func (c *renderCache) frame(d time.Duration, l *log.Logger) {
	c.frames++
	c.frameTotal += d
	c.frameMax = max(c.frameMax, d)
	if time.Since(c.lastReport) > 5*time.Second {
		c.report(l, false)
	}
}

func (c *renderCache) report(l *log.Logger, final bool) {
	if c.frames == 0 {
		return
	}
	l.Printf("frames: %d, mean %.2f ms, max %.2f ms (final=%v)", c.frames,
		float64(c.frameTotal.Microseconds())/1000/float64(c.frames), float64(c.frameMax.Microseconds())/1000, final)
	c.frames, c.frameTotal, c.frameMax = 0, 0, 0
	c.lastReport = time.Now()
}

// Run opens the explorer on the terminal and returns when the user quits.
func Run(cfg experiment.Config, opt Options) error {
	m := New(cfg, opt)
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(m.opt.Context))
	final, err := p.Run()
	if fm, ok := final.(Model); ok {
		fm.Close()
	}
	if err != nil && !errorsIsKilled(err) {
		return err
	}
	return nil
}

func errorsIsKilled(err error) bool {
	return err == tea.ErrProgramKilled || strings.Contains(err.Error(), "context canceled")
}
