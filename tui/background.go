package tui

import tea "github.com/charmbracelet/bubbletea"

// computed is a view's data computed in the background from the run's
// latest student: one computation in flight at a time; a newer snapshot
// while one runs marks it stale, and it is redone when that one returns.
type computed[T any] struct {
	data  *T
	busy  bool // a computation is in flight
	stale bool // a newer snapshot arrived while busy
}

// computedMsg carries a finished computation of run id.
type computedMsg[T any] struct {
	id   int
	data T
	err  error
}

// start launches compute for run r (nothing before the run has a student;
// while one is in flight it only marks the data stale).
func (c computed[T]) start(r *runState, compute func() (T, error)) (computed[T], tea.Cmd) {
	if !r.started || r.student == nil {
		return c, nil
	}
	if c.busy {
		c.stale = true
		return c, nil
	}
	c.busy, c.stale = true, false
	id := r.id
	return c, func() tea.Msg {
		d, err := compute()
		return computedMsg[T]{id: id, data: d, err: err}
	}
}

// finish takes a finished computation.
func (c computed[T]) finish(msg computedMsg[T]) (computed[T], error) {
	c.busy = false
	if msg.err != nil {
		return c, msg.err
	}
	d := msg.data
	c.data = &d
	return c, nil
}

// reset forgets the previous run's data.
func (c computed[T]) reset() computed[T] { return computed[T]{} }
