package tui

import (
	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
)

// eventMsg carries one event of run id; events of older runs are dropped.
type eventMsg struct {
	id int
	ev experiment.Event
}

// runClosedMsg says run id's channel closed.
type runClosedMsg struct{ id int }

// clockMsg ticks the clock of run id while it has no checkpoint yet (a
// wide student's first evaluation can take a minute).
type clockMsg struct{ id int }

// rateMsg is this machine's rate measured (or not: err) for the setting
// of config hash hash, held by askFirst until its estimate.
type rateMsg struct {
	hash string
	err  error
}

// restartMsg starts a run when its debounce token is still the latest
// (token 0: start now).
type restartMsg struct{ token int }

// rungMsg carries one finished run of the sample-complexity view's runs id
// (closed: they have all finished).
type rungMsg struct {
	id     int
	rec    results.Record
	closed bool
}

// savedMsg reports a finished save.
type savedMsg struct {
	path string
	err  error
}

func (rungMsg) screen() screenID { return screenComplexity }
