package experiment

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// trainer is one Adam run: the teacher and the samples, the student on its
// engine, where the loop is, and what is waiting to be sent.
type trainer struct {
	ctx     context.Context
	cfg     Config
	opt     Options
	emit    func(Event) error
	engine  backend.Engine
	dt      backend.DType
	threads int

	teacher    Target
	teacherNet *backend.Net // nil for an analytic target
	X, Y       []float64

	studentNet *backend.Net
	student    backend.Model
	dh         backend.DataHolder   // the student's engine holds the samples on its device
	ms         backend.MultiStepper // and takes several steps a request
	stepTime   time.Duration        // a controlled run's recent time a step (0: not yet timed)
	lastReq    int                  // and its last request's steps
	lrBuf      []float64
	ev         *evaluator
	res        *Result

	// The clock: the run's start and the time it was held paused (not
	// part of its elapsed time).
	start time.Time
	held  time.Duration

	// The loop: the epoch done, the learning rate, the latest loss, the
	// data order and the host batch.
	epoch    int
	lr, loss float64
	perm     []int
	pcg      *rand.PCG // rs's source, saved with a run's state
	rs       *rand.Rand
	xb, yb   []float64
	ckNet    *backend.Net // the student at the last checkpoint

	// What waits for the next progress event, and the step rate.
	pending      []Checkpoint
	pendLoss     []float64
	firstEpoch   int
	lastEmit     time.Time
	lastSnap     time.Time
	stepsAtT     int64
	tRate        time.Time
	rate         float64
	smallStudent bool

	// resumed is the state the run went on from (Options.Resume); saveOff:
	// the engine cannot save its state; saveErr: the last save failed.
	resumed *RunState
	saveOff bool
	saveErr error
}

// engineErr names the engine in its error unless the error does.
func engineErr(name string, err error) error {
	if strings.HasPrefix(err.Error(), name+":") {
		return err
	}
	return fmt.Errorf("backend %s: %w", name, err)
}

// newTrainer validates cfg, finds its engine and builds the teacher and
// the samples.
func newTrainer(ctx context.Context, cfg Config, opt Options, emit func(Event) error) (*trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	engine, _ := backend.Get(cfg.Backend)
	if opt.engine != nil {
		engine = opt.engine
	}
	if err := engine.Available(); err != nil {
		return nil, engineErr(cfg.Backend, err)
	}
	dt, _ := backend.ParseDType(cfg.DType)
	if opt.Interval <= 0 {
		opt.Interval = 50 * time.Millisecond
	}
	t := &trainer{ctx: ctx, cfg: cfg, opt: opt, emit: emit, engine: engine, dt: dt, start: time.Now(), threads: opt.Threads}
	if t.threads <= 0 {
		t.threads = runtime.GOMAXPROCS(0)
	}
	teacher, err := newTarget(cfg, opt.Threads)
	if err != nil {
		return nil, err
	}
	t.teacher, t.teacherNet = teacher, teacher.Net()
	if cfg.DataFile != "" {
		t.teacherNet = nil // the file's samples have no teacher
	}
	if t.X, t.Y, err = trainingSet(cfg, teacher); err != nil {
		teacher.Close()
		return nil, err
	}
	return t, nil
}

// build makes the student on the engine and the loop's state.
func (t *trainer) build() error {
	cfg := t.cfg
	net, err := StartStudent(cfg)
	if err != nil {
		return err
	}
	if st := t.opt.Resume; st != nil {
		// The whole state is checked before its student is used.
		if st.Student == nil || st.Student.Validate() != nil {
			return errors.New("resuming: the saved state holds no valid student")
		}
		if err := st.fits(cfg); err != nil {
			return fmt.Errorf("resuming: the saved state does not fit the config: %w", err)
		}
		net = st.Student.Clone()
	}
	bs := cfg.BatchSize()
	t.studentNet = net
	if t.student, err = t.engine.New(net, backend.Options{DType: t.dt, MaxBatch: max(bs, EvalChunk(cfg.Width)), Threads: t.opt.Threads}); err != nil {
		return err
	}
	t.res = &Result{Config: cfg, Teacher: t.teacherNet}
	t.ev = &evaluator{cfg: cfg, teacher: t.teacher, student: t.student, engine: t.engine, dtype: t.dt, threads: t.threads, ctl: t.opt.Control}
	t.lr, t.firstEpoch, t.tRate = cfg.LR, 1, time.Now()
	t.smallStudent = net.NumParams() <= 300_000
	t.perm = make([]int, cfg.Samples)
	for i := range t.perm {
		t.perm[i] = i
	}
	t.pcg = rand.NewPCG(cfg.DataSeed, streamShuffle)
	t.rs = rand.New(t.pcg)
	t.xb, t.yb = make([]float64, bs*cfg.Dim), make([]float64, bs)
	t.dh, _ = t.student.(backend.DataHolder)
	if t.dh != nil {
		t.ms, _ = t.student.(backend.MultiStepper)
	}
	if st := t.opt.Resume; st != nil {
		if err := t.resume(st); err != nil {
			t.student.Close()
			return fmt.Errorf("resuming: %w", err)
		}
	}
	return nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (t *trainer) elapsed(now time.Time) time.Duration { return now.Sub(t.start) - t.held }

// train runs the epochs: the start event and the first checkpoint, then
// epoch after epoch (past the last while the control keeps going), and a
// last checkpoint when it stopped between two.
func (t *trainer) train() error {
	if err := t.begin(); err != nil {
		return err
	}
	ctl := t.opt.Control
	if in, ok := t.student.(backend.Interruptible); ok && ctl != nil {
		in.SetInterrupt(ctl.halt.Load) // a pause stops a long step between layers
	}
	for t.epoch < t.cfg.Epochs || (ctl != nil && ctl.Forever()) {
		if err := t.runEpoch(); err != nil {
			return err
		}
	}
	if n := len(t.res.History); n > 0 && t.res.History[n-1].Epoch != t.epoch {
		// Kept going past the last epoch and stopped between checkpoints.
		if err := t.checkpoint(t.loss); err != nil {
			return err
		}
		return t.flush(true)
	}
	return nil
}

// begin sends the start event, evaluates the untrained student and puts
// the samples on the engine's device if it holds them.
func (t *trainer) begin() error {
	var tcopy *backend.Net
	if t.teacherNet != nil {
		tcopy = t.teacherNet.Clone()
	}
	if err := t.emit(Event{Kind: KindStart, Epochs: t.cfg.Epochs, LR: t.lr, Teacher: tcopy, Inputs: append([]float64(nil), t.X...),
		Student: t.studentNet.Clone(), Backend: backend.Describe(t.engine)}); err != nil {
		return err
	}
	switch {
	case t.resumed == nil:
		if err := t.checkpoint(0); err != nil {
			return err
		}
	case t.resumed.CheckpointDue: // stopped while evaluating it
		t.pending = append(t.pending, t.res.History...)
		if err := t.checkpoint(t.loss); err != nil {
			return t.stopped(err, false, 0, 0, true)
		}
		if err := t.save(false, 0, 0, false); err != nil {
			return err
		}
	default: // the checkpoints so far go out with the first event
		t.pending = append(t.pending, t.res.History...)
		t.pendLoss = append(t.pendLoss, t.res.EpochLoss...)
		t.firstEpoch = 1
	}
	if err := t.flush(true); err != nil {
		return err
	}
	// An engine with a device of its own holds the training set there: the
	// set goes up once, each epoch's order once, and the loss comes back
	// once per epoch (so the loss shown during the first epoch is 0 until
	// it ends, and a diverged loss is seen at the end of its epoch).
	if t.dh != nil {
		return t.dh.SetData(t.X, t.Y)
	}
	return nil
}

// runEpoch shuffles the samples and takes an Adam step per batch, then
// records the epoch's loss, its checkpoint and a progress event.
func (t *trainer) runEpoch() error {
	cfg, m, bs := t.cfg, t.cfg.Samples, t.cfg.BatchSize()
	start, sum := 0, 0.0
	if st := t.resumed; st != nil && st.Started { // stopped inside this epoch: its order is drawn
		start, sum = st.Lo, st.EpochSum
	} else {
		t.rs.Shuffle(m, func(i, j int) { t.perm[i], t.perm[j] = t.perm[j], t.perm[i] })
	}
	t.resumed = nil
	if t.dh != nil {
		if err := t.dh.SetOrder(t.perm); err != nil {
			return err
		}
	}
	for lo := start; lo < m; lo += bs {
		if err := t.admit(lo); err != nil {
			return t.stopped(err, true, lo, sum, false)
		}
		if k := t.multiSteps(lo, m, bs); k > 1 {
			if err := t.ctx.Err(); err != nil {
				return t.stopped(err, true, lo, sum, false)
			}
			t0 := t.now()
			if err := t.ms.StepsRows(lo, bs, t.lrs(k)); err != nil {
				return t.stopped(err, true, lo, sum, false)
			}
			t.timed(k, t.now().Sub(t0))
			t.res.Steps += int64(k)
			lo += (k - 1) * bs
			if err := t.flush(false); err != nil {
				return t.stopped(err, true, lo+bs, sum, false)
			}
			continue
		}
		took, l, err := t.batch(lo, min(m, lo+bs))
		if err != nil {
			return t.stopped(err, true, lo, sum, false)
		}
		if !took {
			lo -= bs // paused mid-step: nothing changed, take it again
			continue
		}
		sum += l * float64(min(m, lo+bs)-lo) // on a DataHolder: 0, the epoch's sum comes from TakeLoss
		if t.epoch == 0 {
			t.loss = sum / float64(min(m, lo+bs))
		}
		if err := t.flush(false); err != nil {
			return t.stopped(err, true, min(m, lo+bs), sum, false)
		}
	}
	if t.dh != nil {
		var err error
		sum, err = t.dh.TakeLoss()
		if errors.Is(err, backend.ErrDiverged) {
			err = fmt.Errorf("diverged in epoch %d: the loss is %v (try a smaller learning rate)", t.epoch+1, sum/float64(m))
		}
		if err != nil {
			return err
		}
	}
	t.epoch++
	t.loss = sum / float64(m)
	t.res.EpochLoss = append(t.res.EpochLoss, t.loss)
	t.pendLoss = append(t.pendLoss, t.loss)
	t.lr = cfg.LRAt(min(t.epoch, cfg.Epochs)) // past the last epoch: the final rate
	if cfg.IsCheckpoint(t.epoch) {
		if err := t.checkpoint(t.loss); err != nil {
			return t.stopped(err, false, 0, 0, true)
		}
		if err := t.save(false, 0, 0, false); err != nil {
			return err
		}
	}
	if err := t.flush(t.epoch >= cfg.Epochs); err != nil {
		return t.stopped(err, false, 0, 0, false)
	}
	return nil
}

// multiSteps is how many full batches from lo to take in one request to an
// engine that takes several (a GPU: no launch or host round trip between
// them): as many as requestFLOPs of work (6·params·rows a step; e.g. 256
// steps of width 32 at batch 20, 2 of width 512 at batch 200, 1 of width
// 2048), so that a request stays short (progress, Ctrl-C) on any device;
// 1 — one step at a time, as always — when the engine takes one step at a
// time. A controlled run (the explorer's: pause, pace) groups only as many
// as take about requestTime, timed as it goes (see timed), so that a pause
// stops the device within a few requests, and under a pace only as many as
// it allows in requestTime (Control.grant); one at a time while paused.
// The steps are the same whatever the grouping (a device's StepsRows
// equals its StepRows bit for bit), so the timing changes when the run
// hears of its progress, never its numbers.
func (t *trainer) multiSteps(lo, m, bs int) int {
	if t.ms == nil {
		return 1
	}
	full := (m - lo) / bs
	per := 6 * float64(backend.NumParams(t.cfg.StudentSizes())) * float64(bs)
	k := max(1, min(full, maxRequestSteps, int(requestFLOPs/per)))
	if ctl := t.opt.Control; ctl != nil && k > 1 {
		k = ctl.grant(t.res.Steps, min(k, t.timedSteps()))
	}
	return max(1, k)
}

// requestFLOPs and maxRequestSteps bound a request of several steps;
// requestTime is what a controlled run's request aims to take.
const (
	requestFLOPs    = 2e9
	maxRequestSteps = 256
	requestTime     = 5 * time.Millisecond
)

// timedSteps is how many steps take about requestTime at the recent time a
// step: 1 until a request has been timed, then at most twice the last
// request's steps (growing from there).
func (t *trainer) timedSteps() int {
	if t.stepTime <= 0 {
		return 1
	}
	return max(1, min(maxRequestSteps, int(requestTime/t.stepTime), 2*t.lastReq))
}

// timed counts a request of k steps that took d into the recent time a
// step (a moving average: a device's requests are issued ahead of it, so
// one returns at once and the next waits for those before it).
func (t *trainer) timed(k int, d time.Duration) {
	if t.opt.Control == nil {
		return
	}
	per := d / time.Duration(k)
	if t.stepTime <= 0 {
		t.stepTime = max(per, 1)
	} else {
		t.stepTime = max((3*t.stepTime+per)/4, 1)
	}
	if k > 1 || t.lastReq == 0 {
		t.lastReq = k // (a single step between requests — the epoch's partial batch — leaves their growth)
	}
}

// now is the time (a test's clock in its place).
func (t *trainer) now() time.Time {
	if t.opt.clock != nil {
		return t.opt.clock()
	}
	return time.Now()
}

// lrs is k copies of the epoch's rate.
func (t *trainer) lrs(k int) []float64 {
	v := t.lrBuf[:0]
	for range k {
		v = append(v, t.lr)
	}
	t.lrBuf = v
	return v
}

// stopped passes err on; when the run's context ended it (Ctrl-C,
// SIGTERM, a time limit), the state at this point is saved first, so that
// the run goes on from here.
func (t *trainer) stopped(err error, started bool, lo int, sum float64, due bool) error {
	if t.ctx.Err() == nil || !errors.Is(err, t.ctx.Err()) {
		return err
	}
	if serr := t.save(started, lo, sum, due); serr != nil {
		return fmt.Errorf("%w (and its state was not saved: %v)", err, serr)
	}
	return err
}

// admit waits for the control (a pause, the pace) before the step on the
// rows from lo (the first of a request of several, too).
func (t *trainer) admit(lo int) error {
	ctl := t.opt.Control
	if ctl == nil {
		return nil
	}
	if err := t.ctx.Err(); err != nil {
		return err
	}
	h, err := ctl.wait(t.ctx, lo == 0 && t.cfg.IsCheckpoint(t.epoch), t.res.Steps, func() error { return t.flush(true) })
	t.held += h
	if h > 0 {
		t.tRate = t.tRate.Add(h) // the rate counts running time only
	}
	return err
}

// batch takes the Adam step on the rows perm[lo:hi] (after admit); took is
// false when a pause interrupted it (nothing changed).
func (t *trainer) batch(lo, hi int) (took bool, loss float64, err error) {
	if err := t.ctx.Err(); err != nil {
		return false, 0, err
	}
	t0 := t.now()
	l, err := t.step(lo, hi)
	if t.ms != nil {
		t.timed(1, t.now().Sub(t0))
	}
	if errors.Is(err, backend.ErrInterrupted) {
		return false, 0, nil
	}
	if err != nil {
		if errors.Is(err, backend.ErrDiverged) {
			err = fmt.Errorf("diverged in epoch %d, step %d: the loss is %v (try a smaller learning rate)", t.epoch+1, t.res.Steps+1, l)
		}
		return false, 0, err
	}
	t.res.Steps++
	return true, l, nil
}

// step takes the Adam step on the rows perm[lo:hi] and returns its loss
// (0 on a DataHolder, which sums it on its device).
func (t *trainer) step(lo, hi int) (float64, error) {
	if t.dh != nil {
		return 0, t.dh.StepRows(lo, hi, t.lr)
	}
	d, n := t.cfg.Dim, hi-lo
	for k, idx := range t.perm[lo:hi] {
		copy(t.xb[k*d:(k+1)*d], t.X[idx*d:(idx+1)*d])
		t.yb[k] = t.Y[idx]
	}
	return t.student.Step(t.xb[:n*d], t.yb[:n], t.lr)
}

// checkpoint evaluates the student on fresh points (and bounds its true
// sup when the config asks) and queues the checkpoint for the next event.
func (t *trainer) checkpoint(trainLoss float64) error {
	t0 := time.Now()
	mt := noMetrics()
	if t.cfg.DataFile == "" {
		var err error
		if mt, err = t.ev.run(t.ctx, len(t.res.History)); err != nil {
			return err
		}
	}
	c := Checkpoint{Epoch: t.epoch, LR: t.lr, TrainLoss: trainLoss, Metrics: mt}
	if t.teacherNet != nil && t.cfg.DataFile == "" && t.cfg.SupAt(t.epoch) {
		b, err := uniform.Sup(t.ctx, t.student.Net(), t.teacherNet, t.cfg.SupOptions(mt.ArgMax, t.threads))
		if err != nil {
			return err
		}
		c.Bracket = &b
	}
	c.EvalSeconds = time.Since(t0).Seconds()
	t.res.History = append(t.res.History, c)
	t.pending = append(t.pending, c)
	t.ckNet = t.student.Net()
	return nil
}

// flush sends a progress event with what is pending, at most every
// Options.Interval unless forced; a snapshot of the student goes with
// every checkpoint (and, for small students, every few intervals).
func (t *trainer) flush(force bool) error {
	now := time.Now()
	if !force && now.Sub(t.lastEmit) < t.opt.Interval {
		return nil
	}
	steps := t.res.Steps
	if dt := t.elapsed(now) - t.elapsed(t.tRate); dt > 200*time.Millisecond {
		t.rate = float64(steps-t.stepsAtT) / dt.Seconds()
		t.stepsAtT, t.tRate = steps, now
	} else if t.rate == 0 && steps > 0 {
		t.rate = float64(steps) / t.elapsed(now).Seconds() // the first 0.2 s
	}
	e := Event{Kind: KindProgress, Epoch: t.epoch, Epochs: t.cfg.Epochs, Step: steps, LR: t.lr, Loss: t.loss,
		StepsPerSec: t.rate, Elapsed: t.elapsed(now), Checkpoints: t.pending, EpochLoss: t.pendLoss, FirstEpoch: t.firstEpoch}
	if len(t.pending) > 0 || (t.smallStudent && now.Sub(t.lastSnap) >= 5*t.opt.Interval) {
		e.Student = t.student.Net()
		t.lastSnap = now
	}
	t.pending, t.pendLoss, t.firstEpoch = nil, nil, t.epoch+1
	t.lastEmit = now
	return t.emit(e)
}

// finish completes the result: the student, the time, and what stopped
// the run; interrupted between checkpoints, the result is the last
// checkpoint's.
func (t *trainer) finish(err error) (*Result, error) {
	res := t.res
	res.Student = t.student.Net()
	res.Elapsed = t.elapsed(time.Now())
	if err != nil {
		res.Error = err.Error()
	}
	if errors.Is(err, context.Canceled) && t.ckNet != nil {
		k := res.History[len(res.History)-1].Epoch
		res.Student = t.ckNet
		res.Error = fmt.Sprintf("interrupted in epoch %d after %d Adam steps; the results are those of the last checkpoint (epoch %d)", t.epoch+1, res.Steps, k)
	}
	return res, err
}
