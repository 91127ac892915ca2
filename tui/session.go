package tui

import (
	"context"
	"fmt"
	"log"
	"math"
	"slices"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// runState is what the UI knows of the current run; every view reads it.
type runState struct {
	id          int
	cfg         experiment.Config
	backendName string
	teacher     *backend.Net
	student     *backend.Net
	inputs      []float64
	hist        []experiment.Checkpoint
	epochLoss   []float64
	epoch       int
	step        int64
	lr, loss    float64
	stepsPerSec float64
	elapsed     time.Duration
	// startedAt is when the run was started, waited how long it has run
	// by the clock's last tick before its first checkpoint.
	startedAt time.Time
	waited    time.Duration
	// eval is an evaluation seen in progress at two clock ticks in a row
	// (a long one: it is shown), evalSince when it was first seen.
	eval      experiment.EvalProgress
	evalSince time.Time
	evalFor   time.Duration
	evalLong  bool
	started   bool
	done      bool
	err       error
	result    *experiment.Result
	// sups is the true uniform error at checkpoints, computed in the
	// background (exact in 1-D, a bracket otherwise), in epoch order.
	sups []supPoint
	ctx  context.Context
}

// hasStudent says the run has a student to draw.
func (r *runState) hasStudent() bool { return r.started && r.student != nil }

// lastSup is the latest true sup, or nil.
func (r *runState) lastSup() *supPoint {
	if n := len(r.sups); n > 0 {
		return &r.sups[n-1]
	}
	return nil
}

// supPoint is the true sup of |student − teacher| at a checkpoint.
type supPoint struct {
	epoch int
	b     uniform.Bracket
}

// supSeconds limits the explorer's brackets (d ≥ 2) so they keep up.
const supSeconds = 1

// session is the explorer's current run and its controls: the run's
// cancel and events, pause, pace, keep-training mode, the pending restart
// and the true sup of its checkpoints.
type session struct {
	log     *log.Logger
	now     func() time.Time
	run     runState
	cancel  context.CancelFunc
	ctl     *experiment.Control
	events  <-chan experiment.Event
	paused  bool
	pending int // debounce token of the restart waiting to start, 0 if none
	changed time.Time
	// asking: the settings' run is estimated over experiment.LongRun (at
	// about askedFor) and waits for r; confirmed is the config hash r last
	// accepted.
	asking    bool
	askedFor  string
	confirmed string

	// The true sup: one checkpoint bounded at a time, the latest
	// checkpoint's student waiting (supNext) while one is.
	sup     computed[supPoint]
	supNext supPoint
	supNet  *backend.Net

	// The pace: an index into levels (len: full speed; paceLevels and the
	// pace asked for), the one before full speed was turned on, and
	// keep-training mode.
	levels         []float64
	pace, lastPace int
	forever        bool
}

// paceLevels are the watchable paces in epochs a second.
var paceLevels = []float64{0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}

// defaultPace is the level of levels at which a run of cfg's epochs
// lasts about 20 s (full speed when even the fastest is slower than that).
func defaultPace(levels []float64, epochs int) int {
	want := float64(epochs) / 20
	for i, v := range levels {
		if v >= want {
			return i
		}
	}
	return len(levels)
}

// paceFor maps epochs a second (0: the default, +Inf: full speed) to a
// level of levels (the nearest).
func paceFor(levels []float64, epochsPerSec float64, epochs int) int {
	switch {
	case epochsPerSec == 0:
		return defaultPace(levels, epochs)
	case math.IsInf(epochsPerSec, 1):
		return len(levels)
	}
	best := 0
	for i, v := range levels {
		if math.Abs(math.Log(v/epochsPerSec)) < math.Abs(math.Log(levels[best]/epochsPerSec)) {
			best = i
		}
	}
	return best
}

// newSession is a session with no run yet at the pace of epochsPerSec for
// a run of epochs. A pace between the levels (--pace 3) becomes a level
// of its own: the run goes at the pace asked for, < and > step from it.
func newSession(l *log.Logger, now func() time.Time, epochsPerSec float64, epochs int) session {
	s := session{log: l, now: now, levels: append([]float64(nil), paceLevels...)}
	if epochsPerSec > 0 && !math.IsInf(epochsPerSec, 1) && !slices.Contains(s.levels, epochsPerSec) {
		s.levels = append(s.levels, epochsPerSec)
		slices.Sort(s.levels)
	}
	s.pace = paceFor(s.levels, epochsPerSec, epochs)
	s.lastPace = s.pace
	if s.pace == len(s.levels) {
		s.lastPace = defaultPace(s.levels, epochs)
	}
	return s
}

// applyPace tells the run its pace in Adam steps a second.
func (s *session) applyPace() {
	if s.ctl == nil {
		return
	}
	if s.pace >= len(s.levels) {
		s.ctl.SetPace(0)
		return
	}
	s.ctl.SetPace(s.levels[s.pace] * float64(s.run.cfg.StepsPerEpoch()))
}

// stepPace moves the pace a level slower (d < 0) or faster.
func (s *session) stepPace(d int) {
	s.pace = max(0, min(len(s.levels), s.pace+d))
	s.applyPace()
}

// toggleFullSpeed switches between full speed and the pace before it.
func (s *session) toggleFullSpeed() {
	if s.pace == len(s.levels) {
		s.pace, s.lastPace = s.lastPace, len(s.levels)
	} else {
		s.pace, s.lastPace = len(s.levels), s.pace
	}
	s.applyPace()
}

// paceEps is the pace in epochs a second (+Inf: full speed).
func (s *session) paceEps() float64 {
	if s.pace >= len(s.levels) {
		return math.Inf(1)
	}
	return s.levels[s.pace]
}

// paceLabel is the pace as the status line says it.
func (s *session) paceLabel() string {
	if s.pace >= len(s.levels) {
		return "full speed"
	}
	return fmt.Sprintf("%g ep/s", s.levels[s.pace])
}

// start cancels the current run and starts one of cfg in ctx: the
// settings as the explorer runs them (Model.runConfig: its checkpoints
// filled in).
func (s *session) start(ctx context.Context, cfg experiment.Config) tea.Cmd {
	s.stop()
	s.asking = false
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.ctl = experiment.NewControl()
	s.paused = false // a new run starts running
	id := s.run.id + 1
	s.run = runState{id: id, cfg: cfg, ctx: ctx, startedAt: s.now()}
	s.sup, s.supNet = s.sup.reset(), nil
	s.applyPace()
	s.ctl.SetForever(s.forever)
	s.events = experiment.Start(ctx, cfg, experiment.Options{Control: s.ctl})
	s.log.Printf("run %d: start %+v", id, cfg)
	return tea.Batch(waitForEvent(id, s.events), clockTick(id))
}

// clockTick is the next tick of run id's clock.
func clockTick(id int) tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return clockMsg{id: id} })
}

// tick advances the clock of the run before its first checkpoint and
// follows a long evaluation's progress; it stops at the run's end.
func (s *session) tick(id int) tea.Cmd {
	r := &s.run
	if id != r.id || r.done {
		return nil
	}
	if len(r.hist) == 0 {
		r.waited = s.now().Sub(r.startedAt)
	}
	if s.ctl != nil {
		ev := s.ctl.Evaluation()
		switch {
		case ev.Total == 0:
			r.eval, r.evalLong = ev, false
		case r.eval.Total > 0 && ev.K == r.eval.K:
			r.eval, r.evalLong, r.evalFor = ev, true, s.now().Sub(r.evalSince)
		default:
			r.eval, r.evalSince, r.evalLong = ev, s.now(), false
		}
	}
	return clockTick(id)
}

// stop cancels the current run.
func (s *session) stop() {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
}

// waitForEvent is the one blocking receive a Cmd does.
func waitForEvent(id int, ch <-chan experiment.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return runClosedMsg{id: id}
		}
		return eventMsg{id: id, ev: ev}
	}
}

// scheduleRestart cancels the current run and asks for the new settings
// after the debounce, unless another change comes first.
func (s *session) scheduleRestart() tea.Cmd {
	s.stop()
	s.run.id++ // the cancelled run's last events are stale from now on
	s.pending++
	tok := s.pending
	s.changed = s.now()
	return tea.Tick(Debounce, func(time.Time) tea.Msg { return restartMsg{token: tok} })
}

// togglePause pauses or resumes the run.
func (s *session) togglePause() {
	s.paused = !s.paused
	if s.paused {
		s.ctl.Pause()
	} else {
		s.ctl.Resume()
	}
}

// stepOnce trains to the next checkpoint, then pauses.
func (s *session) stepOnce() {
	s.paused = true
	s.ctl.Pause()
	s.ctl.Step()
}

// hold pauses the run while a screen has the cores; release lets it go
// on unless the user paused it.
func (s *session) hold() {
	if s.ctl != nil {
		s.ctl.Pause()
	}
}

func (s *session) release() {
	if s.ctl != nil && !s.paused {
		s.ctl.Resume()
	}
}

// apply folds one event into the run state; started, progressed or done
// say what the views must redraw (true: the run's student changed).
func (s *session) apply(ev experiment.Event, status *statusLine) (redraw bool, cmd tea.Cmd) {
	r := &s.run
	switch ev.Kind {
	case experiment.KindStart:
		r.started = true
		r.teacher, r.inputs, r.student = ev.Teacher, ev.Inputs, ev.Student
		r.backendName = ev.Backend
		r.lr = ev.LR
		if !s.changed.IsZero() {
			s.log.Printf("run %d: first event %.1f ms after the last settings change", r.id, float64(s.now().Sub(s.changed).Microseconds())/1000)
			s.changed = time.Time{}
		}
		return true, nil
	case experiment.KindProgress:
		r.epoch, r.step, r.lr, r.loss = ev.Epoch, ev.Step, ev.LR, ev.Loss
		r.stepsPerSec, r.elapsed = ev.StepsPerSec, ev.Elapsed
		r.hist = append(r.hist, ev.Checkpoints...)
		r.epochLoss = append(r.epochLoss, ev.EpochLoss...)
		if ev.Student != nil {
			r.student = ev.Student
			if n := len(ev.Checkpoints); n > 0 {
				cmd = s.startSup(ev.Checkpoints[n-1].Epoch, ev.Student)
			}
			return true, cmd
		}
	case experiment.KindDone:
		r.done = true
		r.err = ev.Err
		r.result = ev.Result
		if ev.Result != nil {
			r.elapsed = ev.Result.Elapsed
			if ev.Result.Student != nil {
				r.student = ev.Result.Student
			}
		}
		s.cancel = nil
		if ev.Err != nil {
			status.event(false, "run stopped: %v", ev.Err)
		} else if f := r.result.Final(); f != nil && r.cfg.DataFile != "" {
			status.event(true, "finished in %s: training loss (mse) %.3g — no teacher to measure L∞ against; c keeps training, r restarts", r.elapsed.Round(time.Millisecond), f.TrainLoss)
		} else if f != nil && r.cfg.UsesLearner() {
			status.event(true, "fitted by %s in %s: the worst error L∞ is %.1f× L2 — r fits again", r.cfg.Learner, r.elapsed.Round(time.Millisecond), f.Linf/f.L2)
		} else if f != nil {
			status.event(true, "finished in %s: the worst error L∞ is %.1f× L2 — c keeps training, r restarts", r.elapsed.Round(time.Millisecond), f.Linf/f.L2)
		}
		s.log.Printf("run %d: done err=%v", r.id, ev.Err)
		return true, nil
	}
	return false, nil
}

// startSup bounds the true uniform error of a checkpoint's student in the
// background; while one is in flight the latest checkpoint waits.
func (s *session) startSup(epoch int, student *backend.Net) tea.Cmd {
	r := &s.run
	if r.teacher == nil || r.ctx == nil {
		return nil // an analytic target: no network to bound
	}
	s.supNext, s.supNet = supPoint{epoch: epoch}, student
	teacher := r.teacher
	var starts []float64
	if n := len(r.hist); n > 0 {
		starts = append(starts, r.hist[n-1].ArgMax...)
	}
	var cmd tea.Cmd
	s.sup, cmd = s.sup.start(supSlot, r, func(ctx context.Context) (supPoint, error) {
		b, err := uniform.Sup(ctx, student, teacher, uniform.Options{Time: supSeconds * time.Second, Starts: starts, Gap: 0.01})
		return supPoint{epoch: epoch, b: b}, err
	})
	return cmd
}

// receiveSup takes a finished true sup and bounds the checkpoint that
// waited meanwhile.
func (s *session) receiveSup(msg computedMsg) tea.Cmd {
	r := &s.run
	var stale bool
	var err error
	s.sup, stale, err = s.sup.receive(msg, r)
	if msg.id != r.id {
		return nil
	}
	if err != nil {
		s.log.Printf("run %d: sup: %v", r.id, err)
	} else if s.sup.data != nil {
		r.sups = append(r.sups, *s.sup.data)
	}
	if stale {
		return s.startSup(s.supNext.epoch, s.supNet)
	}
	return nil
}
