// Package tui is reluscope's interactive explorer: settings on the left,
// a screen on the right (the uniform (L∞) and L2 errors against epochs
// over the teacher and student along a line; the error between the
// samples; the fooling pair; the sample complexity), status and keys
// below. Each run is an experiment.Start in the background; the UI never
// blocks on it, and the numbers it draws are computed in experiment.
//
// The root Model is a router: it owns the settings being edited (cfg) and
// the run session (session.go: the run, its controls, the true sup), and
// routes messages and keys to the settings panel (settings.go) and to the
// screens (screen.go: one table, a file each), laid out by layout.go.
package tui

import (
	"context"
	"io"
	"log"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

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
	// Pace is the starting pace in epochs a second: 0 picks one at which
	// the run lasts about 20 s, +Inf is full speed.
	Pace float64
	// IgnoreMemory lets settings through whose estimated peak memory
	// exceeds what the machine has.
	IgnoreMemory bool
	// Preset and Base are the preset the settings started from and its
	// config: the share key's command starts from them.
	Preset string
	Base   experiment.Config
	// Present starts in the focus view with the high-contrast theme (a
	// class; --present).
	Present bool
	// Clipboard receives the share key's command (Run: the terminal's
	// clipboard by OSC 52; nil: none).
	Clipboard func(string)
	// Tour opens the guided tour (reluscope tour) at step TourStep
	// (0-based) instead of the free explorer.
	Tour     bool
	TourStep int
}

// Model is the explorer's root model.
type Model struct {
	opt    Options
	keys   keyMap
	styles *Styles
	width  int
	height int

	cfg experiment.Config // the settings shown (the next run's)
	// start is the settings the explorer opened with.
	start experiment.Config
	// sess is the run of the settings and its controls (session.go).
	sess session

	// Which screen is up: the help overlay over everything; on the right
	// the screen of the table screens.
	showHelp bool
	helpPage int // the page of keys shown when they do not all fit
	screen   screenID
	// focus shows one chart of the screen over the whole terminal (part
	// of a parted screen), the status in one line: for a class.
	focus   bool
	part    int
	screens [numScreens]screen

	settings settingsPanel
	status   statusLine
	frames   *frameStats
	// tour is the guided lecture while it runs (tour.go), else nil.
	tour *tour
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
	if opt.Present && th != NoColorTheme() {
		th = PresentTheme()
	}
	if opt.Theme != nil {
		th = *opt.Theme
	}
	st := NewStyles(th)
	m := Model{
		opt:      opt,
		keys:     defaultKeyMap(),
		styles:   &st,
		cfg:      cfg,
		start:    cfg,
		sess:     newSession(opt.Log, opt.Now, opt.Pace, cfg.Epochs),
		settings: newSettingsPanel(&st),
		status:   statusLine{msg: opt.Note},
		frames:   &frameStats{},
	}
	for id, e := range screens {
		m.screens[id] = e.build(&st, opt)
	}
	if !opt.IgnoreMemory {
		m.settings.checkMemory = func(c experiment.Config) error { return experiment.CheckMemory(c, 0, 1) }
	}
	m.focus = opt.Present
	m.setSize(80, 24)
	if opt.Tour {
		m.tourSetup(&tour{steps: tourSteps(), base: m.start, fall: map[string]float64{}}, opt.TourStep)
	}
	return m
}

// Init starts the first run.
func (m Model) Init() tea.Cmd { return func() tea.Msg { return restartMsg{} } }

// runConfig is the settings shown as the explorer runs them (its
// checkpoints filled in): computed once on the way from a key to a run.
func (m *Model) runConfig() experiment.Config { return experiment.ExplorerConfig(m.cfg) }

// startRun starts a run of cfg (runConfig); the screens forget the
// previous run.
func (m *Model) startRun(cfg experiment.Config) tea.Cmd {
	cmd := m.sess.start(m.opt.Context, cfg)
	for id := range m.screens {
		m.screens[id] = m.screens[id].reset()
	}
	return cmd
}

// restartNow starts a run of cfg (runConfig), and the screen's own runs
// when it has them (the run then waits).
func (m *Model) restartNow(cfg experiment.Config) tea.Cmd {
	m.sess.forever = false // keep training (c) was the last run's, not every run's
	cmd := m.startRun(cfg)
	if h, ok := m.screens[m.screen].(holder); ok {
		m.sess.hold() // the screen's runs have the cores; the run waits
		var hcmd tea.Cmd
		m.screens[m.screen], hcmd = h.start(m.cfg)
		cmd = tea.Batch(cmd, hcmd)
	}
	return cmd
}

// Close cancels the running experiment and the screens' own runs; the
// program calls it on exit.
func (m Model) Close() {
	m.sess.stop()
	for _, s := range m.screens {
		if h, ok := s.(holder); ok {
			h.stop()
		}
	}
}

// setSize lays the views out for a w×h terminal.
func (m *Model) setSize(w, h int) {
	m.width, m.height = w, h
	for id := range m.screens {
		m.screens[id] = m.screens[id].setSize(m.screenWidth(), 0)
	}
}

// screenWidth is the width the screens are drawn at: the right-hand
// panel, or the whole terminal in focus.
func (m Model) screenWidth() int {
	if m.focus {
		return max(20, m.width)
	}
	return m.rightWidth()
}

// closeHelp closes the help and lets the run go on (unless a screen's
// runs hold the cores or the user paused it).
func (m *Model) closeHelp() {
	m.showHelp = false
	if _, held := m.screens[m.screen].(holder); !held {
		m.sess.release()
	}
}

// share shows the command that reproduces the run shown (its settings
// and seeds, the explorer's checkpoints) and copies it to the clipboard.
func (m Model) share() (tea.Model, tea.Cmd) {
	cfg := m.sess.run.cfg
	if cfg.Epochs == 0 {
		cfg = experiment.ExplorerConfig(m.cfg)
	}
	line := experiment.Command(cfg, m.opt.Base, m.opt.Preset)
	m.opt.Log.Printf("share: %s", line)
	if m.opt.Clipboard == nil {
		m.status.set(true, "%s", line)
		return m, nil
	}
	// OSC 52 gets no answer: whether the terminal took it cannot be known,
	// so the line says where it was sent, not that it arrived.
	m.status.set(true, "sent to the clipboard (OSC 52, if the terminal takes it): %s", line)
	clip := m.opt.Clipboard
	return m, func() tea.Msg { clip(line); return nil }
}

// toggleFocus enters or leaves the focus view; next moves focus to the
// screen's next chart.
func (m Model) toggleFocus(next bool) (tea.Model, tea.Cmd) {
	parts := []string{"the view"}
	if p, ok := m.screens[m.screen].(parted); ok {
		parts = p.parts()
	}
	if next {
		m.focus, m.part = true, (m.part+1)%len(parts)
	} else {
		m.focus = !m.focus
		m.part = min(m.part, len(parts)-1)
	}
	if m.focus {
		m.status.set(true, "focus on %s — z back, Z next chart", parts[m.part])
	} else {
		m.status.set(true, "focus off")
	}
	m.setSize(m.width, m.height)
	return m, m.refreshScreen()
}

// Update handles one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := m.update(msg)
	if nm, ok := next.(Model); ok && nm.width >= minWidth && nm.height >= minHeight && !nm.focus {
		// The settings' scroll follows the selection here, once, so that
		// the list drawn and the rows the mouse finds are the same.
		nm.settings.top, _ = nm.settings.window(nm.bodyHeight())
		return nm, cmd
	}
	return next, cmd
}

func (m Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.setSize(msg.Width, msg.Height)
		return m, m.refreshScreen()
	case tea.KeyMsg:
		return m.typed(msg)
	case restartMsg:
		if msg.token != 0 && msg.token != m.sess.pending {
			return m, nil // a later change superseded this one
		}
		m.sess.pending = 0
		return m, m.restartOrAsk()
	case rateMsg:
		return m, m.rateMeasured(msg)
	case eventMsg:
		if msg.id != m.sess.run.id {
			return m, nil // a cancelled run's event: drop, do not re-arm
		}
		redraw, cmd := m.sess.apply(msg.ev, &m.status)
		if redraw {
			cmd = tea.Batch(cmd, m.refreshScreen())
		}
		return m, tea.Batch(cmd, waitForEvent(msg.id, m.sess.events))
	case runClosedMsg:
		return m, nil
	case tea.MouseMsg:
		return m.mouse(msg)
	case clockMsg:
		return m, m.sess.tick(msg.id)
	case screenMsg:
		to := msg.screen()
		if to == supSlot {
			return m, m.sess.receiveSup(msg.(computedMsg))
		}
		var cmd tea.Cmd
		var err error
		m.screens[to], cmd, err = m.screens[to].update(msg, &m.sess.run)
		if err != nil {
			m.status.event(false, "%v", err)
		}
		return m, cmd
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

// refreshScreen asks the screen shown to redraw from the run's latest
// student.
func (m *Model) refreshScreen() tea.Cmd {
	var cmd tea.Cmd
	m.screens[m.screen], cmd = m.screens[m.screen].refresh(&m.sess.run)
	return cmd
}

// setScreen shows s on the right (the training views when s is already up).
func (m Model) setScreen(s screenID) (Model, tea.Cmd) {
	if m.screen == s {
		s = screenTrain
	}
	if h, ok := m.screens[m.screen].(holder); ok && s != m.screen {
		m.screens[m.screen] = h.stop()
		m.sess.release()
	}
	m.screen = s
	m.status.set(true, "%s", m.screens[s].statusText())
	if h, ok := m.screens[s].(holder); ok {
		m.sess.hold()
		var cmd tea.Cmd
		m.screens[s], cmd = h.start(m.cfg)
		return m, cmd
	}
	return m, m.refreshScreen()
}

// changeSettings makes next the settings shown and restarts after the
// debounce; the screens keep what they need of the run so far.
func (m Model) changeSettings(next experiment.Config) (Model, tea.Cmd) {
	for id, s := range m.screens {
		if w, ok := s.(watcher); ok {
			m.screens[id] = w.settingsChanged(&m.sess.run, next)
		}
	}
	m.cfg = next
	return m, m.sess.scheduleRestart()
}

// finished refuses a run control once the run has finished.
func (m *Model) finished() bool {
	if m.sess.run.done {
		m.status.set(true, "the run has finished: c keeps training, r restarts it")
	}
	return m.sess.run.done
}

// typed handles a key message. Keys typed faster than the program reads
// arrive as one message of several runes ("jj"): one at a time.
func (m Model) typed(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	if msg.Type != tea.KeyRunes || len(msg.Runes) < 2 || msg.Paste || m.settings.editing {
		return m.handleKey(msg)
	}
	var cmds []tea.Cmd
	var cur tea.Model = m
	for _, r := range msg.Runes {
		var cmd tea.Cmd
		cur, cmd = cur.(Model).handleKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
		cmds = append(cmds, cmd)
	}
	return cur, tea.Batch(cmds...)
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
		// ? shows the next page of keys where they do not all fit; any
		// other key closes the help (the run waited meanwhile) and, unless
		// it is esc, also does what it does.
		if key.Matches(msg, m.keys.Help) && m.helpPage+1 < m.helpPages() {
			m.helpPage++
			return m, nil
		}
		m.closeHelp()
		if key.Matches(msg, m.keys.Help) || key.Matches(msg, m.keys.Back) {
			return m, nil
		}
	}
	k := m.keys
	if m.tour != nil {
		if next, cmd, ok := m.tourKey(msg); ok {
			return next, cmd
		}
	}
	if m.sess.asking && key.Matches(msg, k.Restart) {
		cfg := m.runConfig()
		m.sess.confirmed = experiment.ConfigHash(cfg)
		if m.sess.askedFor == "" {
			m.status.set(true, "started before its estimate")
		} else {
			m.status.set(true, "started: about %s here", m.sess.askedFor)
		}
		return m, m.startRun(cfg)
	}
	for id, e := range screens {
		if e.key != nil && key.Matches(msg, e.key(k)) {
			return m.setScreen(screenID(id))
		}
	}
	for id, s := range m.screens {
		if ks, ok := s.(keyed); ok {
			var handled bool
			if m.screens[id], handled = ks.key(msg, k); handled {
				return m, nil
			}
		}
	}
	for _, a := range keyActions {
		if key.Matches(msg, a.binding(k)) {
			return a.do(m, msg)
		}
	}
	return m.settingsKey(msg)
}
