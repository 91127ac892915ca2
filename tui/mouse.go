package tui

import (
	"fmt"
	"math"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	tp "github.com/reluscope/reluscope/experiment/textplot"
)

// The mouse: a click on a setting selects it, the wheel over one steps its
// value, a click on a key of the key bar presses it (views, pause, help),
// any click closes the help.

// mouse handles one mouse message.
func (m Model) mouse(msg tea.MouseMsg) (tea.Model, tea.Cmd) {
	press := msg.Action == tea.MouseActionPress
	if !press || m.settings.editing || m.width < minWidth || m.height < minHeight {
		return m, nil
	}
	if m.showHelp {
		m.closeHelp()
		return m, nil
	}
	if msg.Y == m.height-1 && msg.Button == tea.MouseButtonLeft {
		if k, ok := m.keyAt(msg.X); ok {
			return m.handleKey(k)
		}
		return m, nil
	}
	if msg.Button == tea.MouseButtonLeft && m.screen == screenTrain {
		if text, ok := m.readChart(msg.X, msg.Y); ok {
			m.status.set(true, "%s", text)
			return m, nil
		}
	}
	// The settings rows: under the title and the panel's top border, as
	// far down as the list is scrolled.
	i, ok := m.settings.settingAt(msg.Y, 1, m.bodyHeight())
	if m.focus || msg.X >= controlsWidth || !ok {
		return m, nil
	}
	switch msg.Button {
	case tea.MouseButtonLeft:
		m.settings.selected = i
		m.status.set(true, "%s selected: ←→ or the wheel change it, enter types a value", fields[i].name)
		return m, nil
	case tea.MouseButtonWheelUp, tea.MouseButtonWheelDown:
		m.settings.selected = i
		step := tea.KeyMsg{Type: tea.KeyRight}
		if msg.Button == tea.MouseButtonWheelDown {
			step = tea.KeyMsg{Type: tea.KeyLeft}
		}
		return m.settingsKey(step)
	}
	return m, nil
}

// chartRect is where the error chart's panel is on the screen (borders
// included), as View and focusView lay it out.
func (m Model) chartRect() (x0, y0, w, h int, ok bool) {
	if m.screen != screenTrain || m.showHelp || m.width < minWidth || m.height < minHeight {
		return 0, 0, 0, 0, false
	}
	if m.focus {
		if m.part != 0 {
			return 0, 0, 0, 0, false
		}
		lines := strings.Split(m.focusView(m.width, m.height), "\n")
		// The chart is everything above the status row(s) the focus view keeps.
		n := len(lines)
		for n > 0 && !strings.Contains(lines[n-1], "╯") {
			n--
		}
		return 0, 0, m.width, n, n > 0
	}
	return controlsWidth, 1, m.rightWidth(), max(5, m.bodyHeight()*11/20), true
}

// readChart reads the error chart at screen cell (x, y), as a hover does in
// TensorFlow Playground: the checkpoint nearest the clicked epoch and its
// errors.
func (m Model) readChart(x, y int) (string, bool) {
	x0, y0, w, h, ok := m.chartRect()
	if !ok || len(m.sess.run.hist) == 0 || m.sess.run.cfg.UsesLearner() || x <= x0 || x >= x0+w-1 || y <= y0 || y >= y0+h-1 {
		return "", false
	}
	// The y axis: the ┤ or ┼ of the chart's rows, the data to its right.
	lines := strings.Split(ansi.Strip(m.View()), "\n")
	axis := -1
	for t := y0 + 1; t < y0+h-1 && t < len(lines) && axis < 0; t++ {
		r := []rune(lines[t])
		for c := x0 + 1; c < min(x0+w-1, len(r)); c++ {
			if r[c] == '┤' || r[c] == '┼' {
				axis = c
				break
			}
		}
	}
	if axis < 0 || x < axis {
		return "", false
	}
	ncol := max(2, w-2-tp.Gutter(len(tp.ExpLabel(-1.5))))
	epochs := float64(max(m.sess.run.cfg.TotalEpochs(), m.sess.run.epoch))
	if g := m.screens[screenTrain].(trainScreen).chart.ghost; g != nil {
		epochs = max(epochs, float64(g.epochs))
	}
	at := float64(min(x-axis, ncol-1)) / float64(ncol-1) * epochs
	best := m.sess.run.hist[0]
	for _, c := range m.sess.run.hist {
		if math.Abs(float64(c.Epoch)-at) < math.Abs(float64(best.Epoch)-at) {
			best = c
		}
	}
	if math.IsNaN(best.L2) {
		return fmt.Sprintf("epoch %d: train mse %.3g (clicked near epoch %.0f)", best.Epoch, best.TrainLoss, at), true
	}
	return fmt.Sprintf("epoch %d: L∞ %.3g  L2 %.3g  L∞/L2 %.1f×  train mse %.3g (clicked near epoch %.0f)",
		best.Epoch, best.Linf, best.L2, best.Linf/best.L2, best.TrainLoss, at), true
}

// keyAt is the key of the key bar at column x: each word of an entry's
// keys ("e f v") is its own key, the space key is " ".
func (m Model) keyAt(x int) (tea.KeyMsg, bool) {
	bar := ansi.Strip(m.keyBar(m.width))
	col := 0
	for _, entry := range strings.Split(bar, " · ") {
		keys, _, _ := strings.Cut(entry, " ")
		if ks := strings.Fields(entry); len(ks) > 2 && len([]rune(ks[0])) == 1 && len([]rune(ks[1])) == 1 {
			keys = strings.Join(ks[:len(ks)-1], " ") // "e f v views"
		}
		for j, k := range strings.Split(keys, " ") {
			start := col + 2*j
			if x >= start && x < start+ansi.StringWidth(k) {
				switch k {
				case "space":
					return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}, true
				case "e", "f", "v", "?", "c":
					return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}, true
				}
				return tea.KeyMsg{}, false // arrows, enter, quit: keys, not clicks
			}
		}
		col += ansi.StringWidth(entry) + 3
	}
	return tea.KeyMsg{}, false
}
