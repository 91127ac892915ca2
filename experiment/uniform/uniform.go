// Package uniform computes the true uniform error sup_{x ∈ [−½, ½]^d}
// |student(x) − teacher(x)| of two ReLU networks, not a max over random
// points: exactly in one dimension (both networks are piecewise linear, so
// the sup sits at a breakpoint), and as a certified bracket in more —
// a lower bound from projected gradient ascent on |h| (h = student −
// teacher), an upper bound from linear bound propagation through h as one
// network (CROWN-style relaxations of the ReLUs) with branch-and-bound over
// sub-boxes of the cube. It also builds the fooling network of the
// theorem: a member of the teacher's class that is zero on every training
// sample yet large between them (fool.go).
//
// Floating point: the upper bound is made sound by a stated margin, not by
// directed rounding: every bound the search reports is raised by
// Margin·(1 + |bound|), which is many orders of magnitude above the
// rounding error of the products involved (≈ width·depth·2⁻⁵³ relative).
package uniform

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/reluscope/reluscope/backend"
)

// Methods, as reported in results (sup_method).
const (
	// MethodExact: Lower = Upper = the sup (1-D breakpoint walk).
	MethodExact = "exact"
	// MethodBracket: Lower ≤ sup ≤ Upper by ascent and bound propagation.
	MethodBracket = "bracket"
	// MethodSampled: only the max over the evaluation points is known.
	MethodSampled = "sampled"
)

// Margin is the relative margin added to every upper bound for rounding.
const Margin = 1e-9

// Bracket is what is known of the sup of |student − teacher| over the cube.
type Bracket struct {
	Lower  float64   `json:"sup_lower"`
	Upper  float64   `json:"sup_upper"`
	At     []float64 `json:"sup_at"` // where Lower is attained
	Method string    `json:"sup_method"`
	// Closed is true when the bracket reached the target gap (always for
	// exact); otherwise the time limit ended the search.
	Closed  bool    `json:"sup_closed"`
	Seconds float64 `json:"sup_seconds"`
	// Boxes is the number of sub-boxes bounded (bracket), Pieces the
	// number of linear pieces walked (exact).
	Boxes  int `json:"sup_boxes,omitempty"`
	Pieces int `json:"sup_pieces,omitempty"`
	// Note says why the method is not the one expected (a 1-D network with
	// too many pieces to walk exactly is bracketed).
	Note string `json:"sup_note,omitempty"`
}

// Gap is the relative width (Upper − Lower)/Lower.
func (b Bracket) Gap() float64 { return (b.Upper - b.Lower) / b.Lower }

// Describe says what is known in one phrase: "0.0123 (exact)",
// "[0.0120, 0.0123] (bracket, gap 2.1%)" or "bracket not closed: [a, b]
// after N boxes, T s".
func (b Bracket) Describe() string {
	switch {
	case b.Method == MethodExact:
		return fmt.Sprintf("%.4e (exact)", b.Upper)
	case b.Method == MethodBracket && b.Closed:
		return fmt.Sprintf("[%.4e, %.4e] (bracket, gap %.2g%%)", b.Lower, b.Upper, 100*b.Gap()) + b.noteSuffix()
	case b.Method == MethodBracket:
		return fmt.Sprintf("bracket not closed: [%.4e, %.4e] after %d boxes, %.3g s", b.Lower, b.Upper, b.Boxes, b.Seconds) + b.noteSuffix()
	}
	return "sampled only"
}

func (b Bracket) noteSuffix() string {
	if b.Note == "" {
		return ""
	}
	return " (" + b.Note + ")"
}

// Options bound the search of a bracket.
type Options struct {
	// Gap is the relative width at which the bracket is closed (default 1 %).
	Gap float64
	// Time limits the search (default 10 s); a bracket still open then is
	// returned with Closed false.
	Time time.Duration
	// Starts are points to begin the ascent from (e.g. the worst sampled
	// points), row-major, d values each.
	Starts []float64
	// Seed draws the random starts.
	Seed uint64
	// Threads for products (default 1).
	Threads int
	// MaxBoxes stops the branch-and-bound after this many boxes (0: no limit
	// but memory's).
	MaxBoxes int
}

// Sup computes the bracket of sup |student − teacher| over [−½, ½]^d:
// exact in one dimension, by ascent and branch-and-bound otherwise. It
// returns early with the bracket so far when ctx ends.
func Sup(ctx context.Context, student, teacher *backend.Net, opt Options) (Bracket, error) {
	if student.Sizes[0] != teacher.Sizes[0] {
		return Bracket{}, fmt.Errorf("uniform: student has %d inputs, teacher %d", student.Sizes[0], teacher.Sizes[0])
	}
	t0 := time.Now()
	var b Bracket
	var err error
	if student.Sizes[0] == 1 {
		b, err = Exact1D(student, teacher, opt.Threads)
		if errors.Is(err, ErrTooManyPieces) {
			// A network of very many pieces (a deep sawtooth): bracketed
			// like a d ≥ 2 one, and said so.
			note := err.Error()
			b, err = bracketSearch(ctx, student, teacher, opt)
			b.Note = note + ": bracketed instead"
		}
	} else {
		b, err = bracketSearch(ctx, student, teacher, opt)
	}
	b.Seconds = time.Since(t0).Seconds()
	return b, err
}
