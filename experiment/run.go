package experiment

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// EventKind tells what an Event reports.
type EventKind string

const (
	// KindStart is the first event: the teacher and the training inputs.
	KindStart EventKind = "start"
	// KindProgress reports training progress and new checkpoints.
	KindProgress EventKind = "progress"
	// KindDone is the last event; Err is set if the run failed.
	KindDone EventKind = "done"
)

// Checkpoint is one evaluation of the student.
type Checkpoint struct {
	Epoch     int     `json:"epoch"`
	LR        float64 `json:"lr"`                   // learning rate of the next epoch
	TrainLoss float64 `json:"train_loss,omitempty"` // mean batch MSE of the last epoch (0 = none yet, at epoch 0)
	Metrics
	// The true uniform error (sup_lower, sup_upper, sup_method, …) where
	// the config asks for it (Config.Sup), nil elsewhere.
	*uniform.Bracket
	EvalSeconds float64 `json:"eval_seconds"`
}

// Event is one message of a run. Slices are owned by the receiver.
type Event struct {
	Kind   EventKind `json:"type"`
	Epoch  int       `json:"epoch"`  // epochs finished
	Epochs int       `json:"epochs"` // E
	Step   int64     `json:"step"`   // Adam steps taken
	LR     float64   `json:"lr"`     // current learning rate
	// Loss is the mean batch MSE of the last finished epoch (or of the
	// current one so far, before the first finishes).
	Loss        float64       `json:"loss,omitempty"`
	StepsPerSec float64       `json:"steps_per_sec"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	// Checkpoints and EpochLoss are what is new since the previous event;
	// EpochLoss[i] is the train MSE of epoch FirstEpoch+i (1-based).
	Checkpoints []Checkpoint `json:"checkpoints,omitempty"`
	EpochLoss   []float64    `json:"epoch_loss,omitempty"`
	FirstEpoch  int          `json:"first_epoch,omitempty"`
	// Student is a snapshot of the student's parameters, sent with every
	// checkpoint and a few times a second for small students.
	Student *backend.Net `json:"-"`
	// Teacher (nil for an analytic target, see Config.Target) and Inputs
	// (m×d, row-major) come with the start event.
	Teacher *backend.Net `json:"-"`
	Inputs  []float64    `json:"-"`
	Backend string       `json:"backend,omitempty"`
	// Result and Err come with the done event; Result holds whatever was
	// finished even when Err is set.
	Result *Result `json:"-"`
	Err    error   `json:"-"`
	Error  string  `json:"error,omitempty"`
	// Final is the last checkpoint, with the done event: a script reading
	// the last line gets the final metrics.
	Final *Checkpoint `json:"final,omitempty"`
}

// Result is a finished (or stopped) run.
type Result struct {
	Config    Config        `json:"config"`
	History   []Checkpoint  `json:"history"`
	EpochLoss []float64     `json:"epoch_loss"`
	Teacher   *backend.Net  `json:"-"`
	Student   *backend.Net  `json:"-"`
	Steps     int64         `json:"steps"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	Error     string        `json:"error,omitempty"` // why the run ended early, if it did
	// Learner is what a learner other than Adam reports.
	Learner *LearnerInfo `json:"learner,omitempty"`
}

// Final is the last checkpoint, or nil.
func (r *Result) Final() *Checkpoint {
	if r == nil || len(r.History) == 0 {
		return nil
	}
	return &r.History[len(r.History)-1]
}

// Options of Start and Run.
type Options struct {
	// Control, if set, pauses and single-steps the run.
	Control *Control
	// Interval is the least time between progress events (default 50 ms,
	// at most 20 a second); checkpoints are never dropped, only batched.
	Interval time.Duration
	// Threads is the number of goroutines the run computes on (0: all
	// cores); sweeps running several runs at once give each a share.
	Threads int
	// Resume, if set, goes on from a saved state (an Adam run of the same
	// config, engine and dtype) instead of starting over.
	Resume *RunState
	// Save, if set, is given the run's state at every checkpoint and when
	// the run's context ends it (nothing is saved by an engine that cannot
	// read its Adam state).
	Save func(*RunState) error
	// engine, in tests, replaces the config's engine.
	engine backend.Engine
	// clock, in tests, replaces time.Now where the run sizes its requests
	// to a device.
	clock func() time.Time
}

// runRecovered is Run with a panic in its goroutine turned into the run's
// error (the panic and where it happened, for a bug report), so that a
// program running it in the background (the explorer) is not torn down
// with its terminal in raw mode.
func runRecovered(ctx context.Context, cfg Config, opt Options, send func(Event) error) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("internal error (please report it): %v at %s", r, panicSite())
		}
	}()
	return Run(ctx, cfg, opt, send)
}

// panicSite is the file:line a deferred recover's panic came from: the
// first frame below the runtime's own.
func panicSite() string {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf("%s:%d", filepath.Base(f.File), f.Line)
		}
		if !more {
			return "?"
		}
	}
}

// Start validates cfg and runs the experiment in a new goroutine. The channel
// carries a start event, progress events, and exactly one done event, then
// closes. Cancelling ctx stops the run within one Adam step; the done event
// then carries ctx's error and is delivered if the receiver is still reading.
func Start(ctx context.Context, cfg Config, opt Options) <-chan Event {
	ch := make(chan Event, 1)
	go func() {
		defer close(ch)
		send := func(ev Event) error {
			select {
			case ch <- ev:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		res, err := runRecovered(ctx, cfg, opt, send)
		done := Event{Kind: KindDone, Result: res, Err: err}
		if res != nil {
			done.Epochs = cfg.Epochs
			done.Step = res.Steps
			done.Elapsed = res.Elapsed
			if s := res.Elapsed.Seconds(); s > 0 {
				done.StepsPerSec = float64(res.Steps) / s
			}
			if f := res.Final(); f != nil {
				done.Epoch = f.Epoch
				done.LR = f.LR
				done.Final = f
			}
		}
		if err != nil {
			done.Error = err.Error()
		}
		select {
		case ch <- done:
		case <-ctx.Done():
			// The receiver may still be draining: give it a moment.
			t := time.NewTimer(200 * time.Millisecond)
			defer t.Stop()
			select {
			case ch <- done:
			case <-t.C:
			}
		}
	}()
	return ch
}

// Run executes the experiment synchronously, passing events to emit (which
// may block; an error from it stops the run). It returns what was finished
// even when it fails.
func Run(ctx context.Context, cfg Config, opt Options, emit func(Event) error) (*Result, error) {
	t, err := newTrainer(ctx, cfg, opt, emit)
	if err != nil {
		return nil, err
	}
	defer t.teacher.Close()
	if cfg.UsesLearner() {
		return runLearner(ctx, cfg, opt, emit, t.start, t.X, t.Y, t.teacher, t.teacherNet, t.engine, t.dt, t.threads)
	}
	if err := t.build(); err != nil {
		return nil, err
	}
	defer t.student.Close()
	return t.finish(t.train())
}
