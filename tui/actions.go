package tui

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/reluscope/reluscope/experiment"
)

// keyAction is what a key of the key map does in the explorer, once the
// edit box, the help, the tour, the long-run gate and the screens have
// passed it on: one row per binding, in the order they are tried.
type keyAction struct {
	binding func(keyMap) key.Binding
	do      func(m Model, msg tea.KeyMsg) (tea.Model, tea.Cmd)
}

// keyActions are the explorer's own keys; a key none of them binds goes
// to the settings panel.
var keyActions = []keyAction{
	{func(k keyMap) key.Binding { return k.Quit }, func(m Model, _ tea.KeyMsg) (tea.Model, tea.Cmd) { return m.quit() }},
	{func(k keyMap) key.Binding { return k.Help }, func(m Model, _ tea.KeyMsg) (tea.Model, tea.Cmd) {
		m.showHelp, m.helpPage = true, 0
		m.sess.hold() // the run waits while the keys are read
		return m, nil
	}},
	{func(k keyMap) key.Binding { return k.Tour }, func(m Model, _ tea.KeyMsg) (tea.Model, tea.Cmd) { return m.startTour(0) }},
	{func(k keyMap) key.Binding { return k.Share }, func(m Model, _ tea.KeyMsg) (tea.Model, tea.Cmd) { return m.share() }},
	{func(k keyMap) key.Binding { return k.Reset }, changeBy(resetSettings)},
	{func(k keyMap) key.Binding { return k.Focus }, func(m Model, _ tea.KeyMsg) (tea.Model, tea.Cmd) { return m.toggleFocus(false) }},
	{func(k keyMap) key.Binding { return k.FocusNext }, func(m Model, _ tea.KeyMsg) (tea.Model, tea.Cmd) { return m.toggleFocus(true) }},
	{func(k keyMap) key.Binding { return k.Pause }, runKey(func(m *Model) {
		m.sess.togglePause()
		if m.sess.paused {
			m.status.set(true, "paused — space resumes, . trains to the next checkpoint")
		} else {
			m.status.set(true, "resumed")
		}
	})},
	{func(k keyMap) key.Binding { return k.Step }, runKey(func(m *Model) {
		m.sess.stepOnce()
		m.status.set(true, "to the next checkpoint (every %d epochs), then paused — space resumes", m.sess.run.cfg.EvalEvery)
	})},
	{func(k keyMap) key.Binding { return k.Slower }, paceKey(func(m *Model) { m.sess.stepPace(-1) })},
	{func(k keyMap) key.Binding { return k.Faster }, paceKey(func(m *Model) { m.sess.stepPace(1) })},
	{func(k keyMap) key.Binding { return k.FullSpeed }, paceKey(func(m *Model) { m.sess.toggleFullSpeed() })},
	{func(k keyMap) key.Binding { return k.KeepGoing }, func(m Model, _ tea.KeyMsg) (tea.Model, tea.Cmd) { return m.keepGoing() }},
	{func(k keyMap) key.Binding { return k.Restart }, func(m Model, _ tea.KeyMsg) (tea.Model, tea.Cmd) {
		m.sess.pending = 0
		m.status.set(true, "restarted with the same seeds")
		m.sess.changed = m.opt.Now()
		m.sess.forever = false
		return m, m.startRun(m.runConfig())
	}},
	{func(k keyMap) key.Binding { return k.NewTeacher }, changeBy(newTeacher)},
	{func(k keyMap) key.Binding { return k.NewStudent }, changeBy(newStudent)},
	{func(k keyMap) key.Binding { return k.NewData }, changeBy(newData)},
	{func(k keyMap) key.Binding { return k.Back }, func(m Model, msg tea.KeyMsg) (tea.Model, tea.Cmd) {
		if m.screen == screenTrain {
			return m.settingsKey(msg) // esc on the training screen: the panel's
		}
		return m.setScreen(m.screen)
	}},
	{func(k keyMap) key.Binding { return k.Save }, func(m Model, _ tea.KeyMsg) (tea.Model, tea.Cmd) {
		if s, ok := m.screens[m.screen].(saver); ok {
			return m, s.save(m.opt.SaveDir, m.opt.Now(), m.cfg)
		}
		return m, m.saveCmd()
	}},
}

// runKey is a key that acts on the run, and does nothing once it has
// finished.
func runKey(act func(m *Model)) func(Model, tea.KeyMsg) (tea.Model, tea.Cmd) {
	return func(m Model, _ tea.KeyMsg) (tea.Model, tea.Cmd) {
		if !m.finished() {
			act(&m)
		}
		return m, nil
	}
}

// paceKey changes the pace and says the new one.
func paceKey(act func(m *Model)) func(Model, tea.KeyMsg) (tea.Model, tea.Cmd) {
	return func(m Model, _ tea.KeyMsg) (tea.Model, tea.Cmd) {
		act(&m)
		m.status.set(true, "pace: %s", m.sess.paceLabel())
		return m, nil
	}
}

// A settingChange is a key's change of the settings: the next settings
// and what the status says, or why there is none (err). Next equal to the
// settings shown changes nothing (the message says so).
type settingChange func(m *Model) (next experiment.Config, msg string, err error)

// changeBy is the key that makes the change ch: the run restarts with the
// new settings after the debounce (changeSettings).
func changeBy(ch settingChange) func(Model, tea.KeyMsg) (tea.Model, tea.Cmd) {
	return func(m Model, _ tea.KeyMsg) (tea.Model, tea.Cmd) {
		next, msg, err := ch(&m)
		switch {
		case err != nil:
			m.status.set(false, "%v", err)
			return m, nil
		case next == m.cfg:
			m.status.set(true, "%s", msg)
			return m, nil
		}
		m.status.set(true, "%s", msg)
		return m.changeSettings(next)
	}
}

// resetSettings goes back to the preset's settings (without a preset:
// those the explorer started with), with the explorer's checkpoints.
func resetSettings(m *Model) (experiment.Config, string, error) {
	next := m.opt.Base
	if next.Epochs == 0 {
		next = m.start
	}
	next.EvalPoints, next.EvalEvery = 0, 0
	if next == m.cfg {
		return next, "the settings are the preset's already", nil
	}
	return next, "back to the preset's settings — restarting", nil
}

// newTeacher draws the next teacher (the sine target and a loaded teacher
// have none to draw).
func newTeacher(m *Model) (experiment.Config, string, error) {
	switch {
	case m.cfg.Target == experiment.TargetSine:
		return m.cfg, "", fmt.Errorf("the sine target is one fixed function: there is no teacher to draw")
	case m.cfg.TeacherFile != "":
		return m.cfg, "", fmt.Errorf("the teacher is loaded from %s: there is no teacher to draw", m.cfg.TeacherFile)
	}
	next := m.cfg
	next.TeacherSeed++
	return next, fmt.Sprintf("new teacher (seed %d)", next.TeacherSeed), nil
}

// newStudent draws the next student's start and its training data.
func newStudent(m *Model) (experiment.Config, string, error) {
	next := m.cfg
	next.InitSeed++
	next.DataSeed = next.InitSeed
	return next, fmt.Sprintf("new student and training data (seed %d)", next.InitSeed), nil
}

// newData draws the next training data, the student's start kept (a data
// file's samples are fixed).
func newData(m *Model) (experiment.Config, string, error) {
	if m.cfg.DataFile != "" {
		return m.cfg, "", fmt.Errorf("the samples are %s's: there is no data to draw", experiment.Excerpt(m.cfg.DataFile, 30))
	}
	next := m.cfg
	next.DataSeed++
	return next, fmt.Sprintf("new training data (seed %d), the same student's start", next.DataSeed), nil
}

// keepGoing toggles keep-training mode; on a finished run it goes on from
// where the run ended.
func (m Model) keepGoing() (tea.Model, tea.Cmd) {
	if m.cfg.UsesLearner() {
		m.status.set(false, "keep training is Adam's: %s fits once (learner adam trains by epochs)", m.cfg.Learner)
		return m, nil
	}
	m.sess.forever = !m.sess.forever
	if m.sess.run.done && m.sess.forever {
		// Go on from the finished run: a new run with the same seeds
		// replays it (deterministic) and keeps going.
		m.status.set(true, "keep training: on — trains past epoch %d until paused (c stops at the next epoch)", m.cfg.Epochs)
		m.sess.changed = m.opt.Now()
		steps := m.sess.run.step
		cmd := m.startRun(m.runConfig())
		m.sess.ctl.SetCatchUp(steps) // replay to where it ended at full speed
		return m, cmd
	}
	if m.sess.ctl != nil {
		m.sess.ctl.SetForever(m.sess.forever)
	}
	if m.sess.forever {
		m.status.set(true, "keep training: on — trains past epoch %d until paused (c stops at the next epoch)", m.cfg.Epochs)
	} else {
		m.status.set(true, "keep training: off — stops at epoch %d (or the next epoch if past it)", m.cfg.Epochs)
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
		m.status.set(true, "%s = %s — restarting", ch.field, fields[fieldIndex(ch.field)].get(*ch.next))
		return m.changeSettings(*ch.next)
	}
	return m, cmd
}

func (m Model) quit() (tea.Model, tea.Cmd) {
	m.Close()
	m.frames.report(m.opt.Log, true)
	return m, tea.Quit
}
