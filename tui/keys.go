package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
)

// keyMap lists every key of the explorer; it implements help.KeyMap.
type keyMap struct {
	Up, Down, Inc, Dec, Edit key.Binding
	Pause, Step, Restart     key.Binding
	Slower, Faster           key.Binding
	FullSpeed, KeepGoing     key.Binding
	ErrorView                key.Binding
	NewTeacher, NewStudent   key.Binding
	Loss, View, Fool, Back   key.Binding
	Save, Help, Quit         key.Binding
	Focus, FocusNext, Share  key.Binding
	Reset, NewData, Tour     key.Binding
}

func defaultKeyMap() keyMap {
	return keyMap{
		Up:         key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "select")),
		Down:       key.NewBinding(key.WithKeys("down", "j", "tab"), key.WithHelp("↓/j", "select next")),
		Inc:        key.NewBinding(key.WithKeys("right", "l", "+", "="), key.WithHelp("→/+", "raise")),
		Dec:        key.NewBinding(key.WithKeys("left", "h", "-", "_"), key.WithHelp("←/-", "lower")),
		Edit:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "type a value")),
		Pause:      key.NewBinding(key.WithKeys(" ", "p"), key.WithHelp("space", "pause")),
		Step:       key.NewBinding(key.WithKeys("."), key.WithHelp(".", "to next checkpoint")),
		Slower:     key.NewBinding(key.WithKeys("<", ","), key.WithHelp("<", "slower")),
		Faster:     key.NewBinding(key.WithKeys(">"), key.WithHelp(">", "faster")),
		FullSpeed:  key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "full speed on/off")),
		KeepGoing:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "keep training on/off")),
		ErrorView:  key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "error between samples")),
		Restart:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "(re)start, same seeds")),
		NewTeacher: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "new teacher")),
		NewStudent: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "new student & data")),
		Loss:       key.NewBinding(key.WithKeys("L"), key.WithHelp("L", "train loss on/off")),
		View:       key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "sample complexity")),
		Fool:       key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "fooling pair")),
		Back:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to training")),
		Save:       key.NewBinding(key.WithKeys("w", "ctrl+s"), key.WithHelp("w", "save run")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "all keys")),
		Focus:      key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "chart fills screen")),
		NewData:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "new data, same student")),
		Reset:      key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "back to the preset")),
		Share:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy the run's command")),
		Tour:       key.NewBinding(key.WithKeys("T"), key.WithHelp("T", "the guided tour")),
		FocusNext:  key.NewBinding(key.WithKeys("Z"), key.WithHelp("Z", "next chart in focus")),
		Quit:       key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// ShortHelp is the key bar under the status, in the order drawn; the last
// two (all keys, quit) are always shown.
func (k keyMap) ShortHelp() []key.Binding {
	bar := func(label, desc string, bs ...key.Binding) key.Binding {
		var keys []string
		for _, b := range bs {
			keys = append(keys, b.Keys()...)
		}
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(label, desc))
	}
	views, viewBindings := k.viewKeys()
	return []key.Binding{
		bar("↑↓", "select", k.Up, k.Down), bar("←→", "change", k.Dec, k.Inc), bar("space", "pause", k.Pause),
		// z before the views: at 80 columns the panels leave the error
		// chart a few rows, and the focus view is what a class needs.
		bar("z", "chart", k.Focus), bar(views, "views", viewBindings...), bar("<>", "pace", k.Slower, k.Faster),
		bar("enter", "type", k.Edit), bar("c", "keep going", k.KeepGoing),
		bar("?", "keys", k.Help), bar("q", "quit", k.Quit),
	}
}

// viewKeys is the short key bar's entry of the views, from the screens
// table: their keys ("e f v") and their bindings (a view added
// there shows here).
func (k keyMap) viewKeys() (string, []key.Binding) {
	var names []string
	var bs []key.Binding
	for _, e := range screens {
		if e.key != nil {
			b := e.key(k)
			names, bs = append(names, b.Help().Key), append(bs, b)
		}
	}
	return strings.Join(names, " "), bs
}

func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Inc, k.Dec, k.Edit},
		{k.Pause, k.Step, k.Slower, k.Faster, k.FullSpeed, k.KeepGoing},
		{k.Restart, k.NewTeacher, k.NewStudent, k.NewData, k.Loss, k.Save, k.Share, k.Reset, k.Tour},
		{k.ErrorView, k.Fool, k.View, k.Back, k.Focus, k.FocusNext, k.Help, k.Quit},
	}
}

// helpRow is one line of the full help: every key that does it.
type helpRow struct{ keys, desc string }

// helpRows lists every key of the explorer with all its aliases.
func (k keyMap) helpRows() []helpRow {
	var rows []helpRow
	for _, group := range k.FullHelp() {
		for _, b := range group {
			keys := strings.Join(b.Keys(), " ")
			keys = strings.NewReplacer(" ", "/", "up", "↑", "down", "↓", "left", "←", "right", "→").Replace(keys)
			keys = strings.ReplaceAll(keys, "//", "space/") // the space key itself
			rows = append(rows, helpRow{keys, b.Help().Desc})
		}
	}
	return rows
}
