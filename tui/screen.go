package tui

import (
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/reluscope/reluscope/experiment"
)

// screenID names a right-hand view of the explorer.
type screenID int

const (
	screenTrain      screenID = iota // the error chart over the function view
	screenErrorView                  // the error between the samples
	screenFool                       // the fooling pair
	screenComplexity                 // the sample-complexity view
	numScreens

	supSlot screenID = -1 // not a screen: the session's true-sup computation
)

// screen is a right-hand view: its own state, drawn from the run (read
// only) and the settings shown. Every screen is a value type in its own
// file.
type screen interface {
	// refresh redraws from the run's latest student (a background
	// computation; nil Cmd when there is none).
	refresh(r *runState) (screen, tea.Cmd)
	// update takes a message addressed to the screen (a screenMsg).
	update(msg screenMsg, r *runState) (screen, tea.Cmd, error)
	// reset forgets the previous run's drawing.
	reset() screen
	// setSize sets the width the screen is drawn at (its height is given
	// to view).
	setSize(w, h int) screen
	// view draws the screen w×h for run r and the settings shown cfg.
	view(r *runState, cfg experiment.Config, w, h int) string
	// statusText is what the status line says when the screen opens.
	statusText() string
}

// screenMsg is a message for one screen.
type screenMsg interface{ screen() screenID }

// Capabilities a screen may have besides screen.
type (
	// holder runs work of its own while shown and holds the cores
	// meanwhile: the run waits (the sample-complexity runs).
	holder interface {
		start(cfg experiment.Config) (screen, tea.Cmd)
		stop() screen
	}
	// saver writes what the screen shows under dir (the save key).
	saver interface {
		save(dir string, now time.Time, cfg experiment.Config) tea.Cmd
	}
	// keyed takes keys of its own (handled says it took it).
	keyed interface {
		key(msg tea.KeyMsg, k keyMap) (s screen, handled bool)
	}
	// watcher is told of a change to the settings before the run restarts.
	watcher interface {
		settingsChanged(r *runState, next experiment.Config) screen
	}
	// parted is drawn as several charts; the focus view shows one of them
	// alone (a screen without parts is focused whole).
	parted interface {
		parts() []string
		partView(part int, r *runState, cfg experiment.Config, w, h int) string
	}
)

// screenEntry registers a screen: the key that opens it (none for the
// training views, the home screen) and how it is built.
type screenEntry struct {
	key   func(keyMap) key.Binding
	build func(st *Styles, opt Options) screen
}

// screens is the table of right-hand views, indexed by screenID. Adding a
// view: its file, its key in keys.go and one line here.
var screens = [numScreens]screenEntry{
	screenTrain:      {nil, func(st *Styles, _ Options) screen { return newTrainScreen(st) }},
	screenErrorView:  {func(k keyMap) key.Binding { return k.ErrorView }, func(st *Styles, _ Options) screen { return newErrorView(st) }},
	screenFool:       {func(k keyMap) key.Binding { return k.Fool }, func(st *Styles, _ Options) screen { return newFoolView(st) }},
	screenComplexity: {func(k keyMap) key.Binding { return k.View }, func(st *Styles, o Options) screen { return newComplexityView(st, o.Context, o.Log) }},
}
