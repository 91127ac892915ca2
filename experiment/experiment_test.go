package experiment

import (
	"context"
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// The cuda engine's device goroutine (in binaries built with -tags gpu)
// holds the GPU's context for the life of the process, by design.
// Measured rates are kept in a cache folder of the tests' own.
func TestMain(m *testing.M) {
	cache := privateCache()
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/reluscope/reluscope/backend/cuda.(*device).loop"),
		goleak.Cleanup(func(code int) { os.RemoveAll(cache); os.Exit(code) }))
}

// privateCache points $XDG_CACHE_HOME at a new temporary folder.
func privateCache() string {
	dir, err := os.MkdirTemp("", "reluscope-cache")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	return dir
}

// small is a configuration that trains in well under a second.
func small() Config {
	c := Default()
	c.Width = 16
	c.TeacherWidth = 16
	c.Depth = 3
	c.Samples = 200
	c.Epochs = 20
	c.EvalPoints = 4096
	c.EvalEvery = 5
	return c
}

func TestMetricsHandComputed(t *testing.T) {
	// e = (3, −4): L1 = 7/2, L2 = sqrt((9+16)/2) = sqrt(12.5), L∞ = 4 at the second point.
	m := ComputeMetrics([]float64{3, -4}, []float64{0.1, -0.2}, 1)
	const tol = 1e-15
	if math.Abs(m.L1-3.5) > tol || math.Abs(m.L2-math.Sqrt(12.5)) > tol || m.Linf != 4 || m.N != 2 {
		t.Fatalf("metrics %+v, want L1 3.5, L2 √12.5, L∞ 4", m)
	}
	if !reflect.DeepEqual(m.ArgMax, []float64{-0.2}) {
		t.Fatalf("argmax %v, want [-0.2]", m.ArgMax)
	}
	n := ComputeMetrics([]float64{1, math.NaN(), 2}, []float64{0, 1, 2}, 1)
	if !math.IsNaN(n.Linf) {
		t.Fatalf("L∞ with a NaN error is %v, want NaN", n.Linf)
	}
}

func TestLearningRateSchedule(t *testing.T) {
	c := Default()
	c.Epochs = 5000
	if g, want := c.Gamma(), math.Pow(0.01, 1.0/5000); math.Abs(g-want) > 1e-16 {
		t.Fatalf("γ = %v, want 0.01^(1/5000) = %v", g, want)
	}
	if lr := c.LRAt(0); lr != 1e-4 {
		t.Fatalf("lr at epoch 0 = %v, want 1e-4", lr)
	}
	if lr := c.LRAt(5000); math.Abs(lr-1e-6) > 1e-18 {
		t.Fatalf("lr at epoch 5000 = %v, want 1e-6", lr)
	}
}

func TestTeacherParameterCounts(t *testing.T) {
	for _, tc := range []struct{ d, want int }{{1, 3265}, {3, 3329}} {
		c := Default()
		c.Dim = tc.d
		n := SampleTeacher(c)
		if got := n.NumParams(); got != tc.want {
			t.Fatalf("d=%d: teacher has %d parameters, want %d", tc.d, got, tc.want)
		}
		for _, v := range n.Flatten(nil) {
			if math.Abs(v) > c.Coef {
				t.Fatalf("teacher coefficient %v outside [−c, c]", v)
			}
		}
	}
}

func TestStudentInitBounds(t *testing.T) {
	c := Default()
	c.Dim = 3
	n := InitStudent(c)
	if math.Abs(n.InputScale-math.Sqrt(12)) > 1e-15 {
		t.Fatalf("input scale %v, want √12", n.InputScale)
	}
	for l := range n.W {
		bound := 1 / math.Sqrt(float64(n.Sizes[l]))
		var big float64
		for _, v := range append(append([]float64(nil), n.W[l]...), n.B[l]...) {
			big = math.Max(big, math.Abs(v))
		}
		// The largest of ≥ 33 uniform draws is within the bound and near it.
		if big > bound || big < 0.8*bound {
			t.Fatalf("layer %d: largest |coefficient| %v, bound 1/√%d = %v", l, big, n.Sizes[l], bound)
		}
	}
}

func TestBatchRule(t *testing.T) {
	for _, tc := range []struct {
		s       string
		m, want int
	}{{"20%", 1000, 200}, {"2%", 100, 2}, {"2%", 1001, 21}, {"0.2", 1000, 200}, {"100", 1000, 100}, {"100", 50, 50}} {
		b, err := ParseBatch(tc.s)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.For(tc.m); got != tc.want {
			t.Fatalf("batch %s of m=%d is %d, want %d", tc.s, tc.m, got, tc.want)
		}
	}
	for _, s := range []string{"0%", "150%", "-3", "abc", "1.5"} {
		if _, err := ParseBatch(s); err == nil {
			t.Fatalf("batch %q accepted", s)
		}
	}
}

func TestValidateNamesTheField(t *testing.T) {
	cases := []struct {
		field string
		edit  func(*Config)
	}{
		{"dim", func(c *Config) { c.Dim = 0 }},
		{"dim", func(c *Config) { c.Dim = MaxDim + 1 }},
		{"depth", func(c *Config) { c.Depth = 1 }},
		{"teacher_width", func(c *Config) { c.TeacherWidth = 0 }},
		{"coef", func(c *Config) { c.Coef = 0 }},
		{"coef", func(c *Config) { c.Coef = math.NaN() }},
		{"student_depth", func(c *Config) { c.StudentDepth = 1 }},
		{"width", func(c *Config) { c.Width = MaxWidth + 1 }},
		{"samples", func(c *Config) { c.Samples = -5 }},
		{"epochs", func(c *Config) { c.Epochs = 0 }},
		{"lr", func(c *Config) { c.LR = 2 }},
		{"lr_end", func(c *Config) { c.LREnd = 1 }},
		{"eval_points", func(c *Config) { c.EvalPoints = 0 }},
		{"eval_every", func(c *Config) { c.EvalEvery = -1 }},
		{"batch", func(c *Config) { c.Batch = Batch{Size: 0} }},
		{"batch", func(c *Config) { c.Batch = Batch{Frac: 1.5} }},
		{"dtype", func(c *Config) { c.DType = "float16" }},
		{"backend", func(c *Config) { c.Backend = "tpu" }},
	}
	if err := Default().Validate(); err != nil {
		t.Fatalf("default config rejected: %v", err)
	}
	for _, tc := range cases {
		c := Default()
		tc.edit(&c)
		err := c.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Fatalf("want an error naming %s, got %v", tc.field, err)
		}
		if !strings.Contains(err.Error(), "range") && !strings.Contains(err.Error(), "not") {
			t.Fatalf("%s: message %q does not say what is allowed", tc.field, err)
		}
	}
}

func collect(t *testing.T, ch <-chan Event) []Event {
	t.Helper()
	var evs []Event
	for ev := range ch {
		evs = append(evs, ev)
	}
	return evs
}

func runSync(t *testing.T, cfg Config) *Result {
	t.Helper()
	res, err := Run(context.Background(), cfg, Options{}, func(Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestSameSeedSameHistory(t *testing.T) {
	for _, name := range backend.Names() {
		cfg := small()
		cfg.Backend = name
		a, b := runSync(t, cfg), runSync(t, cfg)
		if !reflect.DeepEqual(numbers(a.History), numbers(b.History)) || !reflect.DeepEqual(a.EpochLoss, b.EpochLoss) {
			t.Fatalf("%s: two runs with the same seeds differ", name)
		}
		cfg.InitSeed++
		c := runSync(t, cfg)
		if reflect.DeepEqual(a.History[len(a.History)-1].Metrics, c.History[len(c.History)-1].Metrics) {
			t.Fatalf("%s: another student seed gave the same final metrics", name)
		}
	}
}

// numbers drops the timings from a history.
func numbers(h []Checkpoint) []Checkpoint {
	out := append([]Checkpoint(nil), h...)
	for i := range out {
		out[i].EvalSeconds = 0
		if b := out[i].Bracket; b != nil {
			nb := *b
			nb.Seconds = 0
			out[i].Bracket = &nb
		}
	}
	return out
}

func TestCheckpointsAndEvents(t *testing.T) {
	cfg := small()
	evs := collect(t, Start(context.Background(), cfg, Options{}))
	if evs[0].Kind != KindStart || evs[0].Teacher == nil || len(evs[0].Inputs) != cfg.Samples*cfg.Dim {
		t.Fatalf("first event %+v is not a start event with teacher and inputs", evs[0].Kind)
	}
	var epochs []int
	var losses []float64
	done := 0
	for _, ev := range evs {
		for _, c := range ev.Checkpoints {
			epochs = append(epochs, c.Epoch)
		}
		losses = append(losses, ev.EpochLoss...)
		if ev.Kind == KindDone {
			done++
			if ev.Err != nil || ev.Result == nil {
				t.Fatalf("done event: err %v, result %v", ev.Err, ev.Result)
			}
		}
	}
	if done != 1 || evs[len(evs)-1].Kind != KindDone {
		t.Fatalf("%d done events, last is %s; want exactly one, last", done, evs[len(evs)-1].Kind)
	}
	if want := []int{0, 5, 10, 15, 20}; !reflect.DeepEqual(epochs, want) {
		t.Fatalf("checkpoints at epochs %v, want %v", epochs, want)
	}
	if len(losses) != cfg.Epochs {
		t.Fatalf("%d epoch losses, want %d", len(losses), cfg.Epochs)
	}
	res := evs[len(evs)-1].Result
	if res.Steps != int64(cfg.Epochs*cfg.StepsPerEpoch()) {
		t.Fatalf("%d steps, want %d", res.Steps, cfg.Epochs*cfg.StepsPerEpoch())
	}
	// The lr after the last epoch is LREnd.
	if lr := res.Final().LR; math.Abs(lr-cfg.LREnd) > 1e-18 {
		t.Fatalf("final lr %v, want %v", lr, cfg.LREnd)
	}
}

func TestEventsCoalesced(t *testing.T) {
	cfg := small()
	cfg.Epochs = 400
	cfg.EvalEvery = 1 // 401 checkpoints, far more than 20 a second
	cfg.EvalPoints = 64
	t0 := time.Now()
	evs := collect(t, Start(context.Background(), cfg, Options{}))
	secs := time.Since(t0).Seconds()
	n := 0
	for _, ev := range evs {
		n += len(ev.Checkpoints)
	}
	if n != 401 {
		t.Fatalf("%d checkpoints arrived, want 401", n)
	}
	// start, the epoch-0 checkpoint, the last epoch and done are always sent.
	if limit := 5 + 21*secs; float64(len(evs)) > limit {
		t.Fatalf("%d events in %.2fs, more than ~20 a second", len(evs), secs)
	}
}

// TestStudentLearnsTheTeacher trains a student of the teacher's architecture
// on m = 1000 samples in d = 1; its RMS error must fall below 10 % of the
// teacher's output standard deviation.
func TestStudentLearnsTheTeacher(t *testing.T) {
	cfg := Default()
	cfg.Epochs = 150
	cfg.Batch = Batch{Size: 50}
	cfg.LR, cfg.LREnd = 3e-3, 3e-5
	cfg.EvalPoints = 1 << 14
	res := runSync(t, cfg)
	// The teacher's output standard deviation over fresh points.
	teacher := res.Teacher
	r := newRand(99, 99)
	var s, s2 float64
	const n = 1 << 14
	for i := 0; i < n; i++ {
		v := teacher.Eval([]float64{r.Float64() - 0.5})
		s += v
		s2 += v * v
	}
	std := math.Sqrt(s2/n - (s/n)*(s/n))
	f := res.Final()
	t.Logf("teacher std %.4g; initial L2 %.4g; final L1 %.4g L2 %.4g L∞ %.4g", std, res.History[0].L2, f.L1, f.L2, f.Linf)
	if !(f.L2 < 0.1*std) {
		t.Fatalf("final L2 %.4g is not below 10%% of the teacher's std %.4g", f.L2, std)
	}
	if !(f.Linf > f.L2) {
		t.Fatalf("L∞ %.4g not above L2 %.4g", f.Linf, f.L2)
	}
}

func TestCancelStopsPromptly(t *testing.T) {
	defer goleak.VerifyNone(t)
	cfg := Default()
	cfg.Epochs = 100000
	ctx, cancel := context.WithCancel(context.Background())
	ch := Start(ctx, cfg, Options{})
	for ev := range ch {
		if ev.Kind == KindProgress && ev.Epoch > 0 {
			break
		}
	}
	cancel()
	t0 := time.Now()
	var last Event
	for ev := range ch {
		last = ev
	}
	if time.Since(t0) > 2*time.Second {
		t.Fatalf("run took %v to stop after cancel", time.Since(t0))
	}
	if last.Kind != KindDone || !errors.Is(last.Err, context.Canceled) || last.Result == nil || len(last.Result.History) == 0 {
		t.Fatalf("last event %s err %v; want done with context.Canceled and the history so far", last.Kind, last.Err)
	}
}

func TestCancelWithoutReader(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	ch := Start(ctx, small(), Options{})
	<-ch // the start event; then nobody reads
	cancel()
	time.Sleep(400 * time.Millisecond) // the producer gives the reader 200 ms, then leaves
}

func TestDivergenceEndsWithAClearError(t *testing.T) {
	cfg := small()
	cfg.DType = "float32"
	cfg.Coef = 10
	cfg.TeacherWidth = 64
	cfg.Depth = 28 // teacher outputs beyond 1e39 overflow float32
	evs := collect(t, Start(context.Background(), cfg, Options{}))
	last := evs[len(evs)-1]
	if last.Kind != KindDone || last.Err == nil || !strings.Contains(last.Err.Error(), "diverged") {
		t.Fatalf("last event %s, err %v; want done with a divergence error", last.Kind, last.Err)
	}
	if last.Result == nil || len(last.Result.History) != 1 {
		t.Fatal("the diverged run lost its initial checkpoint")
	}
}

func TestPauseAndStep(t *testing.T) {
	cfg := small()
	cfg.Epochs = 50
	cfg.EvalEvery = 1 // a single step trains one epoch
	ctl := NewControl()
	ctl.Pause()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := Start(ctx, cfg, Options{Control: ctl})
	epochAfter := func() int {
		// Wait for the run to idle, then read the epoch it reached.
		var ep int
		timeout := time.After(300 * time.Millisecond)
		for {
			select {
			case ev := <-ch:
				ep = max(ep, ev.Epoch)
			case <-timeout:
				return ep
			}
		}
	}
	if ep := epochAfter(); ep != 0 {
		t.Fatalf("paused run reached epoch %d", ep)
	}
	ctl.Step()
	ctl.Step()
	if ep := epochAfter(); ep != 2 {
		t.Fatalf("two single steps reached epoch %d, want 2", ep)
	}
	ctl.Resume()
	var last Event
	for ev := range ch {
		last = ev
	}
	if last.Kind != KindDone || last.Epoch != cfg.Epochs {
		t.Fatalf("resumed run ended at epoch %d (%s), want %d", last.Epoch, last.Kind, cfg.Epochs)
	}
}

// TestPauseMidEpoch: a pause holds the run before its next Adam step, not
// at the end of the epoch; a single step then runs to the next checkpoint.
func TestPauseMidEpoch(t *testing.T) {
	cfg := small()
	cfg.Samples, cfg.Batch, cfg.Epochs, cfg.EvalEvery = 400, Batch{Size: 1}, 4, 2 // 400 steps an epoch
	ctl := NewControl()
	ctl.SetPace(2000) // slow enough to pause inside the first epoch
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wall := time.Now()
	ch := Start(ctx, cfg, Options{Control: ctl, Interval: time.Millisecond})
	var last Event
	for ev := range ch {
		last = ev
		if ev.Step >= 20 {
			break
		}
	}
	ctl.Pause()
	settle := func() Event {
		timeout := time.After(300 * time.Millisecond)
		for {
			select {
			case ev := <-ch:
				last = ev
			case <-timeout:
				return last
			}
		}
	}
	at := settle()
	if at.Step < 20 || at.Step >= 400 || at.Epoch != 0 {
		t.Fatalf("paused at step %d, epoch %d: want inside the first epoch", at.Step, at.Epoch)
	}
	if again := settle(); again.Step != at.Step {
		t.Fatalf("the paused run went on from step %d to %d", at.Step, again.Step)
	}
	ctl.SetPace(0)
	ctl.Step() // to the next checkpoint: the end of epoch 2
	if ev := settle(); ev.Epoch != 2 || ev.Step != 800 {
		t.Fatalf("a single step reached epoch %d, step %d; want the checkpoint at epoch 2, step 800", ev.Epoch, ev.Step)
	}
	ctl.Resume()
	for ev := range ch {
		last = ev
	}
	if last.Kind != KindDone || last.Step != 1600 || last.Err != nil {
		t.Fatalf("resumed run ended at step %d (%s, %v), want 1600", last.Step, last.Kind, last.Err)
	}
	// The time paused (over 600 ms) is not the run's.
	if held := time.Since(wall) - last.Result.Elapsed; held < 400*time.Millisecond {
		t.Fatalf("the run's elapsed %v leaves out only %v of the pause", last.Result.Elapsed, held)
	}
}

// TestPaceAndForever: a pace caps the step rate; keep-going mode trains
// past the last epoch until turned off, then stops with a checkpoint.
func TestPaceAndForever(t *testing.T) {
	cfg := small()
	cfg.Epochs = 2
	ctl := NewControl()
	ctl.SetPace(100)
	ctl.SetForever(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := Start(ctx, cfg, Options{Control: ctl, Interval: time.Millisecond})
	t0 := time.Now()
	var last Event
	for ev := range ch {
		last = ev
		if time.Since(t0) > 500*time.Millisecond {
			break
		}
	}
	// 100 steps a second: at most ~51 steps in 0.5 s, however fast the machine.
	if last.Step > 60 || last.Step == 0 {
		t.Fatalf("%d steps in 0.5 s at a pace of 100/s", last.Step)
	}
	ctl.SetPace(0)
	for ev := range ch {
		last = ev
		if ev.Epoch > cfg.Epochs+3 {
			break
		}
	}
	if last.Kind == KindDone {
		t.Fatalf("keep-going run ended at epoch %d", last.Epoch)
	}
	ctl.SetForever(false)
	for ev := range ch {
		last = ev
	}
	if last.Kind != KindDone || last.Err != nil || last.Epoch <= cfg.Epochs {
		t.Fatalf("ended %s at epoch %d (%v); want done past epoch %d", last.Kind, last.Epoch, last.Err, cfg.Epochs)
	}
	h := last.Result.History
	if h[len(h)-1].Epoch != last.Epoch || math.Abs(h[len(h)-1].LR/cfg.LREnd-1) > 1e-12 {
		t.Fatalf("last checkpoint at epoch %d lr %g; want epoch %d at the final lr %g", h[len(h)-1].Epoch, h[len(h)-1].LR, last.Epoch, cfg.LREnd)
	}
}

// TestThreadsDoNotChangeNumbers: the same seeds give the same history on one
// goroutine and on several (products split by rows or columns, evaluation
// split by chunks, sums combined in chunk order).
func TestThreadsDoNotChangeNumbers(t *testing.T) {
	cfg := small()
	cfg.EvalPoints = 50000 // several evaluation chunks
	one, err := Run(context.Background(), cfg, Options{Threads: 1}, func(Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	three, err := Run(context.Background(), cfg, Options{Threads: 3}, func(Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(numbers(one.History), numbers(three.History)) {
		t.Fatalf("1 thread and 3 threads differ:\n%+v\n%+v", numbers(one.History)[1], numbers(three.History)[1])
	}
}

// TestFinalCheckpointCarriesTheTrueSup: by default the last checkpoint
// has the exact sup (1-D), never below the sampled max; in 2-D a bracket
// around it; "sampled" computes none.
func TestFinalCheckpointCarriesTheTrueSup(t *testing.T) {
	cfg := small()
	noEmit := func(Event) error { return nil }
	res, err := Run(context.Background(), cfg, Options{}, noEmit)
	if err != nil {
		t.Fatal(err)
	}
	f := res.Final()
	if f.Bracket == nil || f.Method != uniform.MethodExact || f.Upper < f.Linf*(1-1e-12) || f.Lower != f.Upper {
		t.Fatalf("final checkpoint: %+v", f)
	}
	for _, c := range res.History[:len(res.History)-1] {
		if c.Bracket != nil {
			t.Fatalf("epoch %d carries a bracket by default", c.Epoch)
		}
	}
	cfg.Dim, cfg.SupSeconds = 2, 2
	res, err = Run(context.Background(), cfg, Options{}, noEmit)
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Final(); f.Bracket == nil || f.Method != uniform.MethodBracket || f.Lower < f.Linf*(1-1e-12) || f.Upper < f.Lower {
		t.Fatalf("2-D final checkpoint: %+v", f)
	}
	cfg.Sup = SupSampled
	res, err = Run(context.Background(), cfg, Options{}, noEmit)
	if err != nil || res.Final().Bracket != nil {
		t.Fatalf("sup=sampled: %+v %v", res.Final(), err)
	}
}
