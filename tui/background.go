package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"
)

// computed is data computed in the background from the run's latest
// student (a view's drawing, the true sup of a checkpoint): one
// computation in flight at a time; a newer snapshot while one runs marks
// it stale, and it is redone when that one returns. The computation gets
// the run's context: a replaced or stopped run's work stops early (its
// message is dropped as stale by id).
type computed[T any] struct {
	data  *T
	busy  bool // a computation is in flight
	stale bool // a newer snapshot arrived while busy
}

// computedMsg carries a finished computation of run id for screen to
// (supSlot: the session's true sup).
type computedMsg struct {
	to   screenID
	id   int
	data any
	err  error
}

func (m computedMsg) screen() screenID { return m.to }

// start launches compute for run r for screen to (while one is in flight
// it only marks the data stale).
func (c computed[T]) start(to screenID, r *runState, compute func(context.Context) (T, error)) (computed[T], tea.Cmd) {
	if c.busy {
		c.stale = true
		return c, nil
	}
	c.busy, c.stale = true, false
	id, ctx := r.id, r.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	return c, func() tea.Msg {
		d, err := compute(ctx)
		return computedMsg{to: to, id: id, data: d, err: err}
	}
}

// finish takes a finished computation.
func (c computed[T]) finish(msg computedMsg) (computed[T], error) {
	c.busy = false
	if msg.err != nil {
		return c, msg.err
	}
	if d, ok := msg.data.(T); ok {
		c.data = &d
	}
	return c, nil
}

// reset forgets the previous run's data.
func (c computed[T]) reset() computed[T] { return computed[T]{} }

// receive takes a screen's finished computation of the current run r (a
// replaced run's is dropped) and says whether to compute again (stale).
func (c computed[T]) receive(msg computedMsg, r *runState) (computed[T], bool, error) {
	if msg.id != r.id {
		return c, false, nil
	}
	c, err := c.finish(msg)
	return c, c.stale, err
}

// viewCache keeps a rendered panel between frames, keyed by what it shows.
type viewCache[K comparable] struct {
	key  K
	ok   bool
	view string
}

// get is the cached drawing for key, rendered anew when the key changed.
func (c *viewCache[K]) get(key K, render func() string) string {
	if !c.ok || c.key != key {
		c.key, c.ok, c.view = key, true, render()
	}
	return c.view
}
