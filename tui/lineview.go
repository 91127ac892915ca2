package tui

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
)

// lineView is what the three views along a line share (the function
// view, the error view, the fooling pair): the plot columns of their
// width, one background computation of their data T for the run's latest
// student at a time (a snapshot arriving meanwhile redoes it), and the
// drawing's cache. A view embeds it and says how its data is computed.
type lineView[T any] struct {
	st     *Styles
	cols   int             // plot columns of the current width
	colsOf func(w int) int // the plot columns of a w-wide plot
	slot   screenID        // where the computation's message goes
	what   string          // the view in an error: "function view: …"
	computed[T]
	cache *viewCache[drawKey]
}

func newLineView[T any](st *Styles, slot screenID, what string, colsOf func(int) int) lineView[T] {
	return lineView[T]{st: st, cols: colsOf(20 - 2), colsOf: colsOf, slot: slot, what: what, cache: &viewCache[drawKey]{}}
}

// sized is the view for a panel w wide (its border taken off).
func (l lineView[T]) sized(w int) lineView[T] {
	l.cols = l.colsOf(w - 2)
	return l
}

// cleared forgets the data: a new run.
func (l lineView[T]) cleared() lineView[T] {
	l.computed = l.computed.reset()
	return l
}

// compute starts computing the data for the run's latest student (nothing
// before the first): compute gets a context and the plot columns.
func (l lineView[T]) compute(r *runState, compute func(ctx context.Context, cols int) (T, error)) (lineView[T], tea.Cmd) {
	if !r.hasStudent() {
		return l, nil
	}
	cols := l.cols
	var cmd tea.Cmd
	l.computed, cmd = l.computed.start(l.slot, r, func(ctx context.Context) (T, error) { return compute(ctx, cols) })
	return l, cmd
}

// take receives a finished computation; stale says a newer snapshot came
// meanwhile (the view computes again).
func (l lineView[T]) take(msg screenMsg, r *runState) (lineView[T], bool, error) {
	cm, ok := msg.(computedMsg)
	if !ok {
		return l, false, nil
	}
	var stale bool
	var err error
	l.computed, stale, err = l.computed.receive(cm, r)
	if err != nil {
		err = fmt.Errorf("%s: %w", l.what, err)
	}
	return l, stale, err
}
