package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
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
	// The settings rows: under the title and the panel's top border.
	i := msg.Y - 2
	if m.focus || msg.X >= controlsWidth || i < 0 || i >= len(fields) {
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
