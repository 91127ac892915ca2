package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/reluscope/reluscope/experiment"
)

// trainScreen is the home screen: the error chart (chart.go) above the
// teacher and the student along a line (function.go).
type trainScreen struct {
	chart errorChart
	fn    functionView
}

func newTrainScreen(st *Styles) trainScreen {
	return trainScreen{chart: newErrorChart(st), fn: newFunctionView(st)}
}

func (t trainScreen) refresh(r *runState) (screen, tea.Cmd) {
	var cmd tea.Cmd
	t.fn, cmd = t.fn.refresh(r)
	return t, cmd
}

func (t trainScreen) update(msg screenMsg, r *runState) (screen, tea.Cmd, error) {
	cm, ok := msg.(computedMsg)
	if !ok {
		return t, nil, nil
	}
	var cmd tea.Cmd
	var err error
	t.fn, cmd, err = t.fn.receive(cm, r)
	return t, cmd, err
}

func (t trainScreen) reset() screen {
	t.fn = t.fn.reset()
	return t
}

func (t trainScreen) setSize(w, h int) screen {
	t.fn = t.fn.setSize(w, h)
	return t
}

func (trainScreen) statusText() string { return "back to training" }

// view is the error chart above the function view.
func (t trainScreen) view(r *runState, _ experiment.Config, w, h int) string {
	errH := max(5, h*11/20)
	fnH := h - errH
	return lipgloss.JoinVertical(lipgloss.Left, t.chart.view(r, w, errH), t.fn.view(r, w, fnH))
}

// parts are the error chart and the function view, each alone in focus.
func (trainScreen) parts() []string { return []string{"the error chart", "teacher and student"} }

func (t trainScreen) partView(part int, r *runState, _ experiment.Config, w, h int) string {
	if part == 1 {
		return t.fn.view(r, w, h)
	}
	return t.chart.view(r, w, h)
}

// key toggles the training loss on the chart (on every screen).
func (t trainScreen) key(msg tea.KeyMsg, k keyMap) (screen, bool) {
	if key.Matches(msg, k.Loss) {
		t.chart = t.chart.toggleLoss()
		return t, true
	}
	return t, false
}

// settingsChanged keeps the run so far on the chart, dimmed.
func (t trainScreen) settingsChanged(r *runState, next experiment.Config) screen {
	t.chart = t.chart.keep(r, next)
	return t
}
