package tui

// The long-run gate: a setting estimated over experiment.LongRun here
// waits for r.

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
)

// restartOrAsk starts a run with the settings shown, or holds it for r
// when it is long (askFirst).
func (m *Model) restartOrAsk() tea.Cmd {
	cfg := m.runConfig()
	if wait, cmd := m.askFirst(cfg); wait {
		return cmd
	}
	m.status.restarted()
	return m.restartNow(cfg)
}

// askFirst holds a run estimated over experiment.LongRun on this machine
// until r starts it (enter keeps its meaning: type a value): the status says about how long it takes
// and from what. It reports whether the run waits. Without a rate measured
// on this machine within the week it measures one first, in the
// background (two seconds; the cmd), the run before stopped so that it
// does not slow the measurement; rateMsg brings the estimate.
func (m *Model) askFirst(cfg experiment.Config) (bool, tea.Cmd) {
	h := experiment.ConfigHash(cfg)
	if m.sess.confirmed == h || experiment.PlainlyShort(cfg) {
		return false, nil
	}
	dt, err := backend.ParseDType(cfg.DType)
	if err != nil {
		return false, nil // Validate said so before
	}
	r, ok := experiment.CachedRate(cfg.Backend, dt, 0)
	if !ok {
		m.waitForR(cfg, "")
		m.status.set(false, "measuring this machine's speed to estimate this setting (2 s, kept a week) — r starts it now")
		return true, func() tea.Msg {
			_, err := experiment.MachineRate(cfg.Backend, dt, 0)
			return rateMsg{hash: h, err: err}
		}
	}
	d, why := experiment.EstimateAt(cfg, r)
	if d <= experiment.LongRun {
		return false, nil
	}
	m.waitForR(cfg, experiment.Clock(d))
	m.status.set(false, "this setting takes about %s here: %s — r starts it, or change a setting", m.sess.askedFor, why)
	return true, nil
}

// waitForR makes the settings' run (cfg) wait for r, about askedFor long ("":
// not yet known). The run before (of other settings) stops and lets its
// memory go: a waiting run holds nothing and shows no stale progress. A
// new id drops its last events.
func (m *Model) waitForR(cfg experiment.Config, askedFor string) {
	m.sess.asking, m.sess.askedFor = true, askedFor
	m.sess.stop()
	m.sess.run = runState{id: m.sess.run.id + 1, cfg: cfg, startedAt: m.opt.Now()}
	for id := range m.screens {
		m.screens[id] = m.screens[id].reset()
	}
}

// rateMeasured takes the measurement for a waiting setting, if it is
// still the one shown: its estimate, or why there is none.
func (m *Model) rateMeasured(msg rateMsg) tea.Cmd {
	if !m.sess.asking || msg.hash != experiment.ConfigHash(m.runConfig()) {
		return nil
	}
	if msg.err != nil {
		m.status.set(false, "cannot estimate this setting (%v) — r starts it, or change a setting", msg.err)
		return nil
	}
	return m.restartOrAsk()
}
