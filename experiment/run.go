package experiment

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
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

// TargetBatch is the most points a target predicts at once (labelling the
// training data, drawing the function view).
const TargetBatch = 2048

// EvalChunk is the number of evaluation points held in memory at once for
// a student of this width: at least 2048, and enough that a layer's product
// (chunk × width × width) is big enough to split over the cores, at most
// 16384.
func EvalChunk(width int) int {
	return max(TargetBatch, min(16384, (8<<20)/max(1, width*width)))
}

type evaluator struct {
	cfg       Config
	teacher   Target
	student   backend.Model
	engine    backend.Engine
	dtype     backend.DType
	threads   int
	x, yt, ys []float64
	onDevice  bool         // the teacher was handed to the student's device
	devBuf    [2][]float64 // runDevice's batches of points
	ctl       *Control     // told the evaluation's progress (may be nil)
}

type predictor interface {
	Predict(dst, x []float64) error
}

// run evaluates the student against the teacher on cfg.EvalPoints fresh
// uniform points, chunk by chunk; chunk c of the k-th checkpoint draws its
// points from its own seeded stream, and the chunks' sums are combined in
// chunk order, so the numbers do not depend on how many goroutines evaluate.
// With several threads and chunks, each goroutine evaluates whole chunks on
// its own single-threaded copies of the two networks: small products do not
// split well, whole chunks do.
func (e *evaluator) run(ctx context.Context, k int) (Metrics, error) {
	e.ctl.evalBegin(k, e.cfg.EvalPoints)
	defer e.ctl.evalEnd()
	if cmp, ok := e.student.(backend.Comparer); ok && e.teacher.Net() != nil {
		return e.runDevice(ctx, k, cmp)
	}
	chunk := EvalChunk(e.cfg.Width)
	nch := (e.cfg.EvalPoints + chunk - 1) / chunk
	accs := make([]accumulator, nch)
	workers := min(e.threads, nch)
	if workers <= 1 {
		if e.x == nil {
			e.x = make([]float64, chunk*e.cfg.Dim)
			e.yt, e.ys = make([]float64, chunk), make([]float64, chunk)
		}
		for c := range accs {
			if err := ctx.Err(); err != nil {
				return Metrics{}, err
			}
			if err := e.chunk(k, c, chunk, e.teacher, e.student, e.x, e.yt, e.ys, &accs[c]); err != nil {
				return Metrics{}, err
			}
		}
		return merge(accs), nil
	}
	net := e.student.Net()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t, err := newTarget(e.cfg, 1)
			if err != nil {
				fail(err)
				return
			}
			defer t.Close()
			s, err := e.engine.New(net, backend.Options{DType: e.dtype, MaxBatch: chunk, Threads: 1})
			if err != nil {
				fail(err)
				return
			}
			defer s.Close()
			x, yt, ys := make([]float64, chunk*e.cfg.Dim), make([]float64, chunk), make([]float64, chunk)
			for c := int(next.Add(1) - 1); c < nch; c = int(next.Add(1) - 1) {
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
				if err := e.chunk(k, c, chunk, t, s, x, yt, ys, &accs[c]); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return Metrics{}, firstErr
	}
	return merge(accs), nil
}

// points fills xb with chunk c of checkpoint k's evaluation points (chunks
// of size points) from the chunk's own seeded stream and returns them.
func (e *evaluator) points(k, c, size int, xb []float64) []float64 {
	n := min(size, e.cfg.EvalPoints-c*size)
	r := newRand(e.cfg.DataSeed^0x9e3779b97f4a7c15, streamEval|uint64(k)<<8|uint64(c)<<32)
	x := xb[:n*e.cfg.Dim]
	for i := range x {
		x[i] = r.Float64() - 0.5
	}
	return x
}

// deviceEvalValues is about how many coordinates of evaluation points go to
// a device in one Compare (2^19 points in d = 1): whole chunks, enough that
// the device's work is not lost in its launches and copies, and that the
// engine's pieces (2^17 points at most a launch) overlap their copies and
// staging with the device's work within one call.
const deviceEvalValues = 1 << 19

// runDevice evaluates on the student's own device (a backend.Comparer, with
// the teacher held there too): the same points as run, drawn chunk by chunk
// from the same streams, on the host's cores (the next batch of chunks while
// the device computes this one), and sent in batches of whole chunks; only
// each batch's sums and maximum come back. The sums are added in another
// order than the host's, so the metrics agree with it to rounding, not bit
// for bit; the maximum and its point are the same.
func (e *evaluator) runDevice(ctx context.Context, k int, cmp backend.Comparer) (Metrics, error) {
	if !e.onDevice {
		if err := cmp.SetTeacher(e.teacher.Net()); err != nil {
			return Metrics{}, err
		}
		e.onDevice = true
	}
	d := e.cfg.Dim
	chunk := EvalChunk(e.cfg.Width)
	nch := (e.cfg.EvalPoints + chunk - 1) / chunk
	per := max(1, deviceEvalValues/(chunk*d)) // chunks per batch
	nb := (nch + per - 1) / per
	if len(e.devBuf[0]) < per*chunk*d {
		e.devBuf = [2][]float64{make([]float64, per*chunk*d), make([]float64, per*chunk*d)}
	}
	// gen draws batch b's chunks into buf, split over the threads, and
	// returns its points.
	gen := func(b int, buf []float64) []float64 {
		c0, c1 := b*per, min(nch, (b+1)*per)
		var wg sync.WaitGroup
		var next atomic.Int64
		next.Store(int64(c0))
		for w := 0; w < min(e.threads, c1-c0); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := int(next.Add(1) - 1); c < c1; c = int(next.Add(1) - 1) {
					e.points(k, c, chunk, buf[(c-c0)*chunk*d:])
				}
			}()
		}
		wg.Wait()
		n := min(e.cfg.EvalPoints, c1*chunk) - c0*chunk
		return buf[:n*d]
	}
	accs := make([]accumulator, nb)
	ready := make(chan []float64, 1)
	go func() { ready <- gen(0, e.devBuf[0]) }()
	for b := range accs {
		x := <-ready
		if b+1 < nb {
			go func() { ready <- gen(b+1, e.devBuf[(b+1)%2]) }()
		}
		err := ctx.Err()
		var st backend.ErrorStats
		if err == nil {
			st, err = cmp.Compare(x)
		}
		if err != nil {
			if b+1 < nb {
				<-ready // the batch being drawn
			}
			return Metrics{}, err
		}
		accs[b] = accumulator{sumAbs: st.SumAbs, sumSq: st.SumSq, max: st.Max, n: st.N}
		e.ctl.evalAdd(len(x) / d)
		if st.ArgMax >= 0 {
			accs[b].arg = append([]float64(nil), x[st.ArgMax*d:(st.ArgMax+1)*d]...)
		}
	}
	return merge(accs), nil
}

// chunk evaluates chunk c of checkpoint k into acc.
func (e *evaluator) chunk(k, c, size int, teacher, student predictor, xb, yt, ys []float64, acc *accumulator) error {
	d := e.cfg.Dim
	x := e.points(k, c, size, xb)
	n := len(x) / d
	if err := teacher.Predict(yt[:n], x); err != nil {
		return err
	}
	if err := student.Predict(ys[:n], x); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		acc.add(ys[i]-yt[i], x[i*d:(i+1)*d])
	}
	e.ctl.evalAdd(n)
	return nil
}
