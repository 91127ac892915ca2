package experiment

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Control pauses, resumes, single-steps and paces a run. A pause takes
// effect before the next Adam step; a single step runs to the next
// checkpoint; a pace holds the run to a number of Adam steps a second; in
// keep-going mode the run trains past its last epoch (at the final learning
// rate) until it is cancelled. The zero value is not usable; use
// NewControl. Its methods are safe for concurrent use.
type Control struct {
	mu       sync.Mutex
	paused   bool
	steps    int  // checkpoint intervals granted while paused
	stepping bool // a granted interval is running
	pace     float64
	forever  bool
	catchUp  int64     // steps before this one run at full speed
	next     time.Time // the earliest next step under the pace
	wake     chan struct{}
	// halt is paused and not in a granted interval: an interruptible
	// step in flight gives up (read without the lock, between layers).
	halt atomic.Bool
	// The evaluation in progress: its checkpoint index, points done and
	// points in all (0: none).
	evalK, evalDone, evalTotal atomic.Int64
}

// EvalProgress is a checkpoint's evaluation in progress: checkpoint K (0 is
// the untrained student's), Done of Total points measured.
type EvalProgress struct{ K, Done, Total int }

// Evaluation is the evaluation in progress; Total is 0 when none is.
func (c *Control) Evaluation() EvalProgress {
	return EvalProgress{K: int(c.evalK.Load()), Done: int(c.evalDone.Load()), Total: int(c.evalTotal.Load())}
}

// evalBegin, evalAdd and evalEnd report an evaluation's progress (nil-safe).
func (c *Control) evalBegin(k, total int) {
	if c != nil {
		c.evalDone.Store(0)
		c.evalK.Store(int64(k))
		c.evalTotal.Store(int64(total))
	}
}

func (c *Control) evalAdd(n int) {
	if c != nil {
		c.evalDone.Add(int64(n))
	}
}

func (c *Control) evalEnd() {
	if c != nil {
		c.evalTotal.Store(0)
	}
}

// NewControl returns a Control in the running state at full speed.
func NewControl() *Control { return &Control{wake: make(chan struct{}, 1)} }

func (c *Control) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Pause stops the run before its next Adam step.
func (c *Control) Pause() {
	c.mu.Lock()
	c.paused, c.stepping, c.steps = true, false, 0
	c.halt.Store(true)
	c.mu.Unlock()
	c.poke()
}

// Resume lets a paused run go on.
func (c *Control) Resume() {
	c.mu.Lock()
	c.paused, c.steps, c.stepping = false, 0, false
	c.halt.Store(false)
	c.mu.Unlock()
	c.poke()
}

// Step lets a paused run train to its next checkpoint.
func (c *Control) Step() { c.mu.Lock(); c.steps++; c.mu.Unlock(); c.poke() }

// Paused reports whether the run is held.
func (c *Control) Paused() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.paused }

// SetPace holds the run to stepsPerSec Adam steps a second (0: full speed).
func (c *Control) SetPace(stepsPerSec float64) {
	c.mu.Lock()
	c.pace = max(0, stepsPerSec)
	c.mu.Unlock()
	c.poke()
}

// SetForever makes the run train past its last epoch until cancelled
// (or stop at the next epoch end once past it, when turned off).
func (c *Control) SetForever(on bool) { c.mu.Lock(); c.forever = on; c.mu.Unlock(); c.poke() }

// SetCatchUp runs the first n Adam steps at full speed whatever the pace
// (a replay of a finished run up to where it ended).
func (c *Control) SetCatchUp(n int64) { c.mu.Lock(); c.catchUp = n; c.mu.Unlock(); c.poke() }

// Forever reports whether the run keeps going past its last epoch.
func (c *Control) Forever() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.forever }

// grant is how many of the k steps from step on (the first admitted) one
// request may take: all at full speed, those before the catch-up's end,
// one at a time while paused; under a pace as many as it allows in
// requestTime, the pace's clock moved on by the others, so that the rate
// stays the pace's (a burst of a few milliseconds no one sees).
func (c *Control) grant(step int64, k int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.paused:
		return 1
	case c.pace <= 0:
		return k
	case step < c.catchUp:
		return int(min(int64(k), c.catchUp-step))
	}
	n := max(1, min(k, int(c.pace*requestTime.Seconds())))
	if n > 1 && !c.next.IsZero() {
		c.next = c.next.Add(time.Duration(float64(n-1) * float64(time.Second) / c.pace))
	}
	return n
}

// admit says whether the next step may run at now; when not, wait is how
// long the pace asks to wait (0: paused, until woken). boundary is true on
// the first call for a step that starts a checkpoint interval.
func (c *Control) admit(boundary bool, step int64, now time.Time) (ok bool, wait time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused {
		if boundary {
			c.stepping = false
		}
		if !c.stepping {
			if c.steps == 0 {
				c.halt.Store(true)
				return false, 0
			}
			c.steps--
			c.stepping = true
			c.halt.Store(false)
		}
	}
	if c.pace <= 0 || step < c.catchUp {
		c.next = time.Time{}
		return true, 0
	}
	if c.next.IsZero() || now.Sub(c.next) > 100*time.Millisecond {
		c.next = now // no burst to catch up after a stall
	}
	if now.Before(c.next) {
		return false, c.next.Sub(now)
	}
	c.next = c.next.Add(time.Duration(float64(time.Second) / c.pace))
	return true, 0
}

// wait blocks until the next step may run or ctx ends; before blocking on
// a pause it calls idle once. It returns how long the run was held paused
// (time under the pace is not held: the run is going, slowly).
func (c *Control) wait(ctx context.Context, boundary bool, step int64, idle func() error) (time.Duration, error) {
	var held time.Duration
	var t0 time.Time
	for first := true; ; first = false {
		now := time.Now()
		ok, d := c.admit(boundary && first, step, now)
		if !t0.IsZero() {
			held += now.Sub(t0)
			t0 = time.Time{}
		}
		if ok {
			return held, nil
		}
		var tm *time.Timer
		var timer <-chan time.Time
		if d > 0 {
			tm = time.NewTimer(d)
			timer = tm.C
		} else {
			if err := idle(); err != nil {
				return held, err
			}
			idle = func() error { return nil }
			t0 = time.Now()
		}
		select {
		case <-c.wake:
		case <-timer:
		case <-ctx.Done():
			return held, ctx.Err()
		}
		if tm != nil {
			tm.Stop()
		}
	}
}
