// Package tui is reluscope's interactive explorer: settings on the left,
// the uniform (L∞) and L2 errors against epochs and the teacher and student
// along a line on the right, status and keys below. Each run is an
// experiment.Start in the background; the UI never blocks on it.
//
// The root Model owns what every view shares — the settings being edited
// (cfg), the current run (run) and its controls — and routes messages to
// its views, each a value type in its own file with its own state, update,
// view and size: settingsPanel (settings.go), errorChart (chart.go),
// functionView (function.go), complexityView (complexity.go) and statusLine
// (status.go).
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
	tp "github.com/reluscope/reluscope/experiment/textplot"
	"github.com/reluscope/reluscope/experiment/uniform"
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
	// Pace is the starting pace in epochs a second: 0 picks one at which
	// the run lasts about 20 s, +Inf is full speed.
	Pace float64
	// IgnoreMemory lets settings through whose estimated peak memory
	// exceeds what the machine has.
	IgnoreMemory bool
}

// runState is what the UI knows of the current run; every view reads it.
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
	// sups is the true uniform error at checkpoints, computed in the
	// background (exact in 1-D, a bracket otherwise), in epoch order.
	sups    []supPoint
	supBusy bool
	supNext *supJob // the latest checkpoint waiting while one is computed
	ctx     context.Context
}

// supPoint is the true sup of |student − teacher| at a checkpoint.
type supPoint struct {
	epoch int
	b     uniform.Bracket
}

// supJob is a checkpoint's student to bound.
type supJob struct {
	epoch   int
	student *backend.Net
}

// supSeconds limits the explorer's brackets (d ≥ 2) so they keep up.
const supSeconds = 1

// screen is what the right of the explorer shows.
type screen int

const (
	screenTrain      screen = iota // the error chart over the function view
	screenHide                     // the error between the samples
	screenFool                     // the fooling pair
	screenComplexity               // the sample-complexity view
)

// Model is the explorer's root model.
type Model struct {
	opt    Options
	keys   keyMap
	help   help.Model
	styles *Styles
	width  int
	height int

	cfg     experiment.Config // the settings shown (the next run's)
	run     runState
	cancel  context.CancelFunc
	ctl     *experiment.Control
	events  <-chan experiment.Event
	paused  bool
	pending int // debounce token of the restart waiting to start, 0 if none
	changed time.Time

	// Which screen is up: the help overlay over everything; on the right
	// the training views, the fooling pair or the sample-complexity view.
	showHelp bool
	screen   screen

	settings   settingsPanel
	chart      errorChart
	fn         functionView
	fool       foolView
	hide       hideView
	complexity complexityView
	status     statusLine

	frames *frameStats

	// The pace: an index into paceLevels (len: full speed), the one before
	// full speed was turned on, and keep-training mode.
	pace, lastPace int
	forever        bool
}

// paceLevels are the watchable paces in epochs a second.
var paceLevels = []float64{0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}

// defaultPace is the level at which a run of cfg's epochs lasts about 20 s
// (full speed when even the fastest is slower than that).
func defaultPace(epochs int) int {
	want := float64(epochs) / 20
	for i, v := range paceLevels {
		if v >= want {
			return i
		}
	}
	return len(paceLevels)
}

// paceFor maps epochs a second (0: the default, +Inf: full speed) to a level.
func paceFor(epochsPerSec float64, epochs int) int {
	switch {
	case epochsPerSec == 0:
		return defaultPace(epochs)
	case math.IsInf(epochsPerSec, 1):
		return len(paceLevels)
	}
	best := 0
	for i, v := range paceLevels {
		if math.Abs(math.Log(v/epochsPerSec)) < math.Abs(math.Log(paceLevels[best]/epochsPerSec)) {
			best = i
		}
	}
	return best
}

// applyPace tells the run its pace in Adam steps a second.
func (m *Model) applyPace() {
	if m.ctl == nil {
		return
	}
	if m.pace >= len(paceLevels) {
		m.ctl.SetPace(0)
		return
	}
	m.ctl.SetPace(paceLevels[m.pace] * float64(m.run.cfg.StepsPerEpoch()))
}

// paceLabel is the pace as the status line says it.
func (m Model) paceLabel() string {
	if m.pace >= len(paceLevels) {
		return "full speed"
	}
	return fmt.Sprintf("%g ep/s", paceLevels[m.pace])
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
	st := NewStyles(th)
	m := Model{
		opt:        opt,
		keys:       defaultKeyMap(),
		help:       help.New(),
		styles:     &st,
		cfg:        cfg,
		settings:   newSettingsPanel(&st),
		chart:      newErrorChart(&st),
		fn:         newFunctionView(&st),
		fool:       newFoolView(&st),
		hide:       newHideView(&st),
		complexity: newComplexityView(&st, opt.Context, opt.Log),
		status:     statusLine{msg: opt.Note},
		frames:     &frameStats{},
	}
	checkMemory = func(c experiment.Config) error { return experiment.CheckMemory(c, 0, 1) }
	if opt.IgnoreMemory {
		checkMemory = nil
	}
	m.pace = paceFor(opt.Pace, cfg.Epochs)
	m.lastPace = m.pace
	if m.pace == len(paceLevels) {
		m.lastPace = defaultPace(cfg.Epochs)
	}
	m.help.Styles.ShortKey = st.Value
	m.help.Styles.ShortDesc = st.Muted
	m.help.Styles.FullKey = st.Value
	m.help.Styles.FullDesc = st.Muted
	m.setSize(80, 24)
	return m
}

// Init starts the first run.
func (m Model) Init() tea.Cmd { return m.startCmd() }

// startCmd asks Update to start a run now (a restart with token 0 is never stale).
func (m Model) startCmd() tea.Cmd { return func() tea.Msg { return restartMsg{} } }

// ExplorerConfig fills in the checkpoints left to the explorer (EvalEvery
// or EvalPoints 0) for live curves: up to 100 checkpoints, each on enough
// fresh points that evaluation costs about a quarter of the training,
// between 4096 and 65536 points. Values the user set are kept.
func ExplorerConfig(c experiment.Config) experiment.Config {
	if c.EvalEvery == 0 {
		c.EvalEvery = max(1, c.Epochs/min(c.Epochs, 100))
	}
	if c.EvalPoints == 0 {
		n := float64(c.Epochs/c.EvalEvery + 1)
		ps := float64(backend.NumParams(c.StudentSizes()))
		pt := float64(backend.NumParams(c.TeacherSizes()))
		train := 6 * ps * float64(c.Samples) * float64(c.Epochs)
		pts := 0.25 * train / (2 * (ps + pt) * n)
		p := 4096
		for p < 65536 && float64(p) < pts {
			p *= 2
		}
		c.EvalPoints = p
	}
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
	m.run = runState{id: id, cfg: cfg, ctx: ctx}
	m.fn = m.fn.reset()
	m.fool = m.fool.reset()
	m.hide = m.hide.reset()
	m.applyPace()
	m.ctl.SetForever(m.forever)
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

// Close cancels the running experiment and the sample-complexity runs; the
// program calls it on exit.
func (m Model) Close() {
	if m.cancel != nil {
		m.cancel()
	}
	m.complexity.stop()
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

// setSize lays the views out for a w×h terminal.
func (m *Model) setSize(w, h int) {
	m.width, m.height = w, h
	m.help.Width = w
	rw := m.rightWidth()
	m.fn = m.fn.setSize(rw, 0)
	m.fool = m.fool.setSize(rw, 0)
	m.hide = m.hide.setSize(rw, 0)
}

// Update handles one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.setSize(msg.Width, msg.Height)
		return m, m.refreshFunction()
	case tea.KeyMsg:
		// Keys typed faster than the program reads arrive as one message
		// of several runes ("jj"): handle them one at a time.
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste && !m.settings.editing {
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
		m.status.restarted()
		cmd := m.startRun()
		if m.screen == screenComplexity {
			m.ctl.Pause() // the sample-complexity runs have the cores; the run waits
			var ccmd tea.Cmd
			m.complexity, ccmd = m.complexity.start(m.cfg)
			cmd = tea.Batch(cmd, ccmd)
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
	case rungMsg:
		var cmd tea.Cmd
		m.complexity, cmd = m.complexity.update(msg)
		return m, cmd
	case computedMsg[funcData]:
		cmd := receive(&m, &m.fn.computed, msg, "function view")
		return m, cmd
	case computedMsg[foolData]:
		cmd := receive(&m, &m.fool.computed, msg, "fooling pair")
		return m, cmd
	case computedMsg[hideData]:
		cmd := receive(&m, &m.hide.computed, msg, "error view")
		return m, cmd
	case supMsg:
		if msg.id != m.run.id {
			return m, nil
		}
		r := &m.run
		r.supBusy = false
		if msg.err != nil {
			m.opt.Log.Printf("run %d: sup at epoch %d: %v", r.id, msg.epoch, msg.err)
		} else {
			r.sups = append(r.sups, supPoint{msg.epoch, msg.b})
		}
		if j := r.supNext; j != nil {
			r.supNext = nil
			return m, m.startSup(*j)
		}
		return m, nil
	case savedMsg:
		if msg.err != nil {
			m.status.event(false, "save failed: %v", msg.err)
		} else {
			m.status.event(true, "saved to %s", msg.path)
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
			var sup tea.Cmd
			if n := len(ev.Checkpoints); n > 0 {
				sup = m.startSup(supJob{epoch: ev.Checkpoints[n-1].Epoch, student: ev.Student})
			}
			return tea.Batch(m.refreshFunction(), sup)
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
			m.status.event(false, "run stopped: %v", ev.Err)
		} else if f := r.result.Final(); f != nil {
			m.status.event(true, "finished in %s: the worst error L∞ is %.1f× L2 — c keeps training, r restarts", r.elapsed.Round(time.Millisecond), f.Linf/f.L2)
		}
		m.opt.Log.Printf("run %d: done err=%v", r.id, ev.Err)
		return m.refreshFunction()
	}
	return nil
}

// startSup computes the true uniform error of a checkpoint's student in
// the background; while one is in flight the latest waits.
func (m *Model) startSup(j supJob) tea.Cmd {
	r := &m.run
	if r.teacher == nil || r.ctx == nil {
		return nil // an analytic target: no network to bound
	}
	if r.supBusy {
		r.supNext = &j
		return nil
	}
	r.supBusy = true
	id, ctx, teacher := r.id, r.ctx, r.teacher
	var starts []float64
	if n := len(r.hist); n > 0 {
		starts = append(starts, r.hist[n-1].ArgMax...)
	}
	return func() tea.Msg {
		b, err := uniform.Sup(ctx, j.student, teacher, uniform.Options{Time: supSeconds * time.Second, Starts: starts, Gap: 0.01})
		return supMsg{id: id, epoch: j.epoch, b: b, err: err}
	}
}

// receive takes a view's finished computation of the current run (a
// cancelled run's is dropped), reports a failure and redoes a stale one.
func receive[T any](m *Model, c *computed[T], msg computedMsg[T], what string) tea.Cmd {
	if msg.id != m.run.id {
		return nil
	}
	var err error
	*c, err = c.finish(msg)
	if err != nil {
		m.status.event(false, "%s: %v", what, err)
	}
	if c.stale {
		return m.refreshFunction()
	}
	return nil
}

// refreshFunction asks the view on screen that draws the current run's
// networks to redraw them.
func (m *Model) refreshFunction() tea.Cmd {
	var cmd tea.Cmd
	switch m.screen {
	case screenTrain:
		m.fn, cmd = m.fn.refresh(&m.run)
	case screenFool:
		m.fool, cmd = m.fool.refresh(&m.run)
	case screenHide:
		m.hide, cmd = m.hide.refresh(&m.run)
	}
	return cmd
}

// setScreen shows s on the right (the training views when s is already up).
func (m Model) setScreen(s screen) (Model, tea.Cmd) {
	if m.screen == s {
		s = screenTrain
	}
	if m.screen == screenComplexity && s != screenComplexity {
		m.complexity.stop()
		if m.ctl != nil && !m.paused {
			m.ctl.Resume()
		}
	}
	m.screen = s
	switch s {
	case screenComplexity:
		if m.ctl != nil {
			m.ctl.Pause()
		}
		m.status.set(true, "sample complexity: training the current setting for m = 10 … 10000; v goes back")
		var cmd tea.Cmd
		m.complexity, cmd = m.complexity.start(m.cfg)
		return m, cmd
	case screenFool:
		m.status.set(true, "the fooling pair of this run's samples; f goes back")
	case screenHide:
		m.status.set(true, "|student − target| along the line: low at the samples, high between; e goes back")
	default:
		m.status.set(true, "back to training")
	}
	return m, m.refreshFunction()
}

func (m Model) handleKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	m.status.keep = false // a kept refusal goes with the next key
	if m.settings.editing {
		if msg.Type == tea.KeyCtrlC {
			return m.quit()
		}
		return m.settingsKey(msg)
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
	case key.Matches(msg, k.Pause):
		if m.run.done {
			m.status.set(true, "the run has finished: c keeps training, r restarts it")
			return m, nil
		}
		m.paused = !m.paused
		if m.paused {
			m.ctl.Pause()
			m.status.set(true, "paused — space resumes, . trains to the next checkpoint")
		} else {
			m.ctl.Resume()
			m.status.set(true, "resumed")
		}
	case key.Matches(msg, k.Step):
		if m.run.done {
			m.status.set(true, "the run has finished: c keeps training, r restarts it")
			return m, nil
		}
		m.paused = true
		m.ctl.Pause()
		m.ctl.Step()
		m.status.set(true, "to the next checkpoint (every %d epochs), then paused — space resumes", m.run.cfg.EvalEvery)
	case key.Matches(msg, k.Slower), key.Matches(msg, k.Faster):
		d := 1
		if key.Matches(msg, k.Slower) {
			d = -1
		}
		m.pace = max(0, min(len(paceLevels), m.pace+d))
		m.applyPace()
		m.status.set(true, "pace: %s", m.paceLabel())
	case key.Matches(msg, k.FullSpeed):
		if m.pace == len(paceLevels) {
			m.pace, m.lastPace = m.lastPace, len(paceLevels)
		} else {
			m.pace, m.lastPace = len(paceLevels), m.pace
		}
		m.applyPace()
		m.status.set(true, "pace: %s", m.paceLabel())
	case key.Matches(msg, k.KeepGoing):
		m.forever = !m.forever
		if m.run.done && m.forever {
			// Go on from the finished run: a new run with the same seeds
			// replays it (deterministic) and keeps going.
			m.status.set(true, "keep training: on — trains past epoch %d until paused (c stops at the next epoch)", m.cfg.Epochs)
			m.changed = m.opt.Now()
			steps := m.run.step
			cmd := m.startRun()
			m.ctl.SetCatchUp(steps) // replay to where it ended at full speed
			return m, cmd
		}
		if m.ctl != nil {
			m.ctl.SetForever(m.forever)
		}
		if m.forever {
			m.status.set(true, "keep training: on — trains past epoch %d until paused (c stops at the next epoch)", m.cfg.Epochs)
		} else {
			m.status.set(true, "keep training: off — stops at epoch %d (or the next epoch if past it)", m.cfg.Epochs)
		}
	case key.Matches(msg, k.Restart):
		m.pending = 0
		m.status.set(true, "restarted with the same seeds")
		m.changed = m.opt.Now()
		return m, m.startRun()
	case key.Matches(msg, k.NewTeacher):
		if m.cfg.Target == experiment.TargetSine {
			m.status.set(false, "the sine target is one fixed function: there is no teacher to draw")
			return m, nil
		}
		if m.cfg.TeacherFile != "" {
			m.status.set(false, "the teacher is loaded from %s: there is no teacher to draw", m.cfg.TeacherFile)
			return m, nil
		}
		next := m.cfg
		next.TeacherSeed++
		m.status.set(true, "new teacher (seed %d)", next.TeacherSeed)
		m.chart = m.chart.keep(&m.run, next)
		m.cfg = next
		return m, m.scheduleRestart()
	case key.Matches(msg, k.NewStudent):
		next := m.cfg
		next.InitSeed++
		next.DataSeed = next.InitSeed
		m.chart = m.chart.keep(&m.run, next)
		m.status.set(true, "new student and training data (seed %d)", next.InitSeed)
		m.cfg = next
		return m, m.scheduleRestart()
	case key.Matches(msg, k.Loss):
		m.chart = m.chart.toggleLoss()
	case key.Matches(msg, k.View):
		return m.setScreen(screenComplexity)
	case key.Matches(msg, k.Fool):
		return m.setScreen(screenFool)
	case key.Matches(msg, k.ErrorView):
		return m.setScreen(screenHide)
	case key.Matches(msg, k.Back) && m.screen != screenTrain:
		return m.setScreen(m.screen)
	case key.Matches(msg, k.Save):
		if m.screen == screenComplexity {
			return m, m.saveComplexityCmd()
		}
		return m, m.saveCmd()
	default:
		return m.settingsKey(msg)
	}
	return m, nil
}

// settingsKey hands a key to the settings panel and acts on what it asks:
// a new setting restarts the run after the debounce.
func (m Model) settingsKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	var ch settingsChange
	var cmd tea.Cmd
	m.settings, ch, cmd = m.settings.update(msg, m.keys, m.cfg)
	switch {
	case ch.err != nil:
		m.status.set(false, "%v", ch.err)
	case ch.note != "":
		m.status.set(true, "%s", ch.note)
	case ch.next != nil && *ch.next == m.cfg:
		m.status.set(true, "%s unchanged (%s)", ch.field, fields[fieldIndex(ch.field)].get(m.cfg))
	case ch.next != nil:
		m.chart = m.chart.keep(&m.run, *ch.next)
		m.cfg = *ch.next
		m.status.set(true, "%s = %s — restarting", ch.field, fields[fieldIndex(ch.field)].get(m.cfg))
		return m, m.scheduleRestart()
	}
	return m, cmd
}

func (m Model) quit() (tea.Model, tea.Cmd) {
	m.stopRun()
	m.complexity.stop()
	m.frames.report(m.opt.Log, true)
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
			Student: r.student, Steps: r.step, Elapsed: r.elapsed, Error: "saved while running"}
	}
	stamp := m.opt.Now().Format("20060102-150405")
	dir := filepath.Join(m.opt.SaveDir, fmt.Sprintf("run-%s-d%d-L%d-w%d-m%d", stamp, r.cfg.Dim, r.cfg.Depth, r.cfg.Width, r.cfg.Samples))
	return func() tea.Msg {
		// Two saves in one second get distinct folders: each claims its
		// own with an exclusive Mkdir.
		if err := os.MkdirAll(m.opt.SaveDir, 0o755); err != nil {
			return savedMsg{err: err}
		}
		base := dir
		for k := 2; ; k++ {
			err := os.Mkdir(dir, 0o755)
			if err == nil {
				break
			}
			if !os.IsExist(err) || k > 1000 {
				return savedMsg{err: err}
			}
			dir = fmt.Sprintf("%s-%d", base, k)
		}
		if err := experiment.SaveRun(dir, res); err != nil {
			return savedMsg{err: err}
		}
		return savedMsg{path: dir}
	}
}

// saveComplexityCmd writes the sample-complexity view's runs, table and
// figure in the background.
func (m Model) saveComplexityCmd() tea.Cmd {
	v := m.complexity
	results := make(map[int]experiment.Record, len(v.results))
	for k, r := range v.results {
		results[k] = r
	}
	v.results = results // a copy: the view goes on adding rungs
	dir := filepath.Join(m.opt.SaveDir, fmt.Sprintf("complexity-%s-d%d-L%d-w%d", m.opt.Now().Format("20060102-150405"), m.cfg.Dim, m.cfg.Depth, m.cfg.Width))
	return func() tea.Msg {
		if err := v.save(dir); err != nil {
			return savedMsg{err: err}
		}
		return savedMsg{path: dir + " (results.jsonl, table.csv, figure.png)"}
	}
}

// ---- view ----

const controlsWidth = 28

func (m Model) rightWidth() int { return max(20, m.width-controlsWidth) }

// View renders the whole screen.
func (m Model) View() string {
	t0 := time.Now()
	defer func() { m.frames.frame(time.Since(t0), m.opt.Log) }()
	w, h := m.width, m.height
	title := m.styles.Title.Render("reluscope") + m.styles.Muted.Render(" — the L2 error falls easily, the uniform error L∞ does not")
	if w < minWidth || h < minHeight {
		return m.smallView(title, w, h)
	}
	footer := m.keyBar(w)
	status := m.statusView(w)
	bodyH := h - lipgloss.Height(title) - lipgloss.Height(status) - lipgloss.Height(footer)
	var body string
	if m.showHelp {
		body = panel(m.styles, "keys", m.helpView(w-2, bodyH-2), w, bodyH)
	} else {
		var right string
		switch m.screen {
		case screenComplexity:
			right = m.complexity.view(m.cfg, m.rightWidth(), bodyH)
		case screenFool:
			right = m.fool.view(&m.run, m.rightWidth(), bodyH)
		case screenHide:
			right = m.hide.view(&m.run, m.rightWidth(), bodyH)
		default:
			right = m.rightView(m.rightWidth(), bodyH)
		}
		body = lipgloss.JoinHorizontal(lipgloss.Top, m.settings.view(m.cfg, controlsWidth, bodyH), right)
	}
	out := lipgloss.JoinVertical(lipgloss.Left, tp.Fit(title, w), body, status, tp.Fit(footer, w))
	return tp.Box(strings.Split(out, "\n"), w, h)
}

// The smallest terminal the panels are drawn in; below it a summary.
const (
	minWidth  = 64
	minHeight = 20
)

// smallView is the explorer in a terminal too small for its panels: the
// run's state and numbers, and what size is needed.
func (m Model) smallView(title string, w, h int) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	r := &m.run
	lines := []string{title}
	lines = append(lines, fmt.Sprintf("epoch %d/%d", r.epoch, r.cfg.Epochs))
	if n := len(r.hist); n > 0 {
		c := r.hist[n-1]
		lines = append(lines, fmt.Sprintf("L2 %.3g  L∞ %.3g", c.L2, c.Linf))
	}
	lines = append(lines, m.styles.Error.Render(fmt.Sprintf("terminal %d×%d: the charts need %d×%d", w, h, minWidth, minHeight)), "q quits")
	if len(lines) > h { // keep the note and the way out
		lines = append(lines[:max(0, h-2)], lines[len(lines)-2:]...)
		lines = lines[len(lines)-h:]
	}
	for i := range lines {
		lines[i] = tp.Fit(lines[i], w)
	}
	return tp.Box(lines, w, h)
}

// helpView lists every key in as many columns as fit w×h.
func (m Model) helpView(w, h int) string {
	rows := m.keys.helpRows()
	kw := 0
	for _, r := range rows {
		kw = max(kw, ansi.StringWidth(r.keys))
	}
	var cells []string
	cw := 0
	for _, r := range rows {
		c := m.styles.Value.Render(fmt.Sprintf("%-*s", kw, r.keys)) + "  " + m.styles.Muted.Render(r.desc)
		cells = append(cells, c)
		cw = max(cw, ansi.StringWidth(c))
	}
	rowsPer := max(1, h-2)
	cols := (len(cells) + rowsPer - 1) / rowsPer
	for cols > 1 && cols*(cw+2) > w {
		cols-- // too narrow: the rest is cut, at least the first column shows whole
	}
	rowsPer = (len(cells) + cols - 1) / cols
	lines := make([]string, rowsPer)
	for i, c := range cells {
		r := i % rowsPer
		pad := cw + 2 - ansi.StringWidth(c)
		if i/rowsPer == cols-1 {
			pad = 0
		}
		lines[r] += c + strings.Repeat(" ", max(0, pad))
	}
	return strings.Join(append(lines, "", m.styles.Muted.Render("any key closes this help")), "\n")
}

// keyBar is the line of keys under the status: as many as fit, and always
// the way to all keys and out.
func (m Model) keyBar(w int) string {
	st := m.styles
	item := func(k, d string) string { return st.Value.Render(k) + " " + st.Muted.Render(d) }
	sep := st.Muted.Render(" · ")
	items := []string{item("↑↓", "select"), item("←→", "change"), item("space", "pause"), item("<>", "pace"),
		item("e f v", "views"), item("enter", "type"), item("c", "keep going")}
	tail := item("?", "keys") + sep + item("q", "quit")
	out := ""
	for _, it := range items {
		next := out + it + sep
		if ansi.StringWidth(next+tail) > w {
			break
		}
		out = next
	}
	return tp.Fit(out+tail, w)
}

// panel draws a rounded box of outer size w×h with the title in its top border.
func panel(st *Styles, title, content string, w, h int) string {
	b := st.Border
	t := tp.Fit(" "+title+" ", max(0, w-4))
	top := b.Render("╭─") + st.PanelTitle.Render(t) + b.Render(strings.Repeat("─", max(0, w-3-ansi.StringWidth(t)))+"╮")
	inner := strings.Split(tp.Box(strings.Split(content, "\n"), w-2, h-2), "\n")
	lines := []string{top}
	side := b.Render("│")
	for _, l := range inner {
		lines = append(lines, side+tp.Fit(l, w-2)+side)
	}
	lines = append(lines, b.Render("╰"+strings.Repeat("─", max(0, w-2))+"╯"))
	return strings.Join(lines, "\n")
}

// rightView is the error chart above the function view.
func (m Model) rightView(w, h int) string {
	errH := max(5, h*11/20)
	fnH := h - errH
	return lipgloss.JoinVertical(lipgloss.Left, m.chart.view(&m.run, w, errH), m.fn.view(&m.run, w, fnH))
}

// statusView is the status line for the current run.
func (m Model) statusView(w int) string {
	var phase runPhase
	switch {
	case m.run.done && m.run.err != nil:
		phase = phaseStopped
	case m.run.done:
		phase = phaseDone
	case m.pending != 0:
		phase = phaseRestarting
	case m.screen == screenComplexity:
		phase = phaseHeld
	case m.paused:
		phase = phasePaused
	case m.run.started:
		phase = phaseTraining
	default:
		phase = phaseStarting
	}
	return m.status.view(m.styles, &m.run, phase, m.paceLabel(), m.forever, w)
}

// Run opens the explorer on the terminal and returns when the user quits.
func Run(cfg experiment.Config, opt Options) error {
	m := New(cfg, opt)
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(m.opt.Context))
	final, err := p.Run()
	if fm, ok := final.(Model); ok {
		fm.Close()
	}
	if err != nil && !cancelled(err) {
		return err
	}
	return nil
}

// cancelled is true when the program ended because its context was
// cancelled (Ctrl-C, SIGTERM), not because it failed or panicked.
func cancelled(err error) bool {
	return errors.Is(err, context.Canceled) ||
		(errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, tea.ErrProgramPanic))
}
