package experiment

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/reluscope/reluscope/backend"
)

// holding is the native engine as a DataHolder and MultiStepper, as a
// device engine presents itself: it keeps the set and the order, steps on
// rows of it, and records the requests' sizes.
type holding struct{ requests []int }

func (h *holding) Name() string     { return "native" }
func (h *holding) Available() error { return nil }
func (h *holding) New(net *backend.Net, opt backend.Options) (backend.Model, error) {
	m, err := backend.Native{}.New(net, opt)
	if err != nil {
		return nil, err
	}
	return &holdingModel{Model: m, eng: h}, nil
}

type holdingModel struct {
	backend.Model
	eng    *holding
	x, y   []float64
	perm   []int
	sum    float64
	xb, yb []float64
}

func (m *holdingModel) SetData(x, y []float64) error { m.x, m.y = x, y; return nil }
func (m *holdingModel) SetOrder(perm []int) error    { m.perm = append(m.perm[:0], perm...); return nil }
func (m *holdingModel) TakeLoss() (float64, error)   { s := m.sum; m.sum = 0; return s, nil }

func (m *holdingModel) StepRows(lo, hi int, lr float64) error {
	m.eng.requests = append(m.eng.requests, 1)
	return m.step(lo, hi, lr)
}

func (m *holdingModel) StepsRows(lo, n int, lrs []float64) error {
	m.eng.requests = append(m.eng.requests, len(lrs))
	for s, lr := range lrs {
		if err := m.step(lo+s*n, lo+(s+1)*n, lr); err != nil {
			return err
		}
	}
	return nil
}

func (m *holdingModel) step(lo, hi int, lr float64) error {
	d := len(m.x) / len(m.y)
	m.xb, m.yb = m.xb[:0], m.yb[:0]
	for _, i := range m.perm[lo:hi] {
		m.xb = append(m.xb, m.x[i*d:(i+1)*d]...)
		m.yb = append(m.yb, m.y[i])
	}
	l, err := m.Model.Step(m.xb, m.yb, lr)
	m.sum += l * float64(hi-lo)
	return err
}

// An engine that takes several steps a request is given the epoch's full
// batches in requests of more than one step (the last, partial batch
// alone), and the run is the native engine's number for number; a
// controlled run (the explorer's) groups steps too, as many as its clock
// says take about requestTime and, under a pace, as many as the pace
// allows in it (the catch-up's never past its end) — the same numbers still.
func TestMultiStepRequests(t *testing.T) {
	cfg := Default()
	cfg.Samples, cfg.Epochs, cfg.Batch = 1010, 40, Batch{Size: 20}
	cfg.EvalPoints, cfg.Sup = 4096, SupSampled
	want, err := Run(context.Background(), cfg, Options{}, func(Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	run := func(opt Options) []int {
		t.Helper()
		eng := &holding{}
		opt.engine = eng
		got, err := Run(context.Background(), cfg, opt, func(Event) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(numbers(want.History), numbers(got.History)) || !reflect.DeepEqual(want.EpochLoss, got.EpochLoss) || want.Steps != got.Steps {
			t.Fatalf("in requests of several steps the run differs from the native engine's:\n%+v\n%+v", numbers(got.History)[len(got.History)-1], numbers(want.History)[len(want.History)-1])
		}
		steps := 0
		for _, k := range eng.requests {
			steps += k
		}
		if int64(steps) != want.Steps {
			t.Fatalf("%d steps in %d requests, want %d", steps, len(eng.requests), want.Steps)
		}
		return eng.requests
	}
	most := func(r []int) int { return slices.Max(r) }
	r := run(Options{})
	if most(r) < 2 {
		t.Fatalf("no request of several steps: %v", r)
	}
	t.Logf("%d steps in %d requests, at most %d a request", want.Steps, len(r), most(r))

	// A controlled run at full speed, on a clock that reads 100 µs later at
	// every look (200 µs a request, whatever its steps): a request of 1,
	// then 2, 4, … up to maxRequestSteps, bounded by the epoch's 50 full
	// batches and by the requestFLOPs of work.
	var now time.Time
	clock := func() time.Time { now = now.Add(100 * time.Microsecond); return now }
	r = run(Options{Control: NewControl(), clock: clock})
	if r[0] != 1 || r[1] != 2 || r[2] != 4 || most(r) != 50 {
		t.Fatalf("a controlled run's requests: %v, want 1, 2, 4, … up to 50", r[:min(len(r), 12)])
	}
	// Under a fast pace (10^6 steps a second: 5000 in requestTime) the
	// requests are grouped as at full speed; the catch-up's never cross its
	// end.
	ctl := NewControl()
	ctl.SetPace(1e6)
	ctl.SetCatchUp(300)
	r = run(Options{Control: ctl, clock: clock})
	done := 0
	for _, k := range r {
		if done < 300 && done+k > 300 {
			t.Fatalf("a request of %d steps from step %d, past the catch-up's 300 (requests %v)", k, done, r[:12])
		}
		done += k
	}
	if most(r) != 50 {
		t.Fatalf("under a fast pace the requests were not grouped: %v", r[:12])
	}
}

// Under a pace a request takes as many steps as the pace allows in
// requestTime and moves the pace's clock on by the others; one at a time
// while paused, all at full speed, up to the catch-up's end before it.
func TestControlGrant(t *testing.T) {
	c := NewControl()
	if n := c.grant(0, 50); n != 50 {
		t.Fatalf("full speed: %d of 50", n)
	}
	now := time.Unix(1000, 0)
	c.SetPace(1000) // 5 steps in 5 ms
	if ok, _ := c.admit(false, 0, now); !ok {
		t.Fatal("the first step under the pace was not admitted")
	}
	if n := c.grant(1, 50); n != 5 {
		t.Fatalf("pace 1000/s: %d steps a request, want 5", n)
	}
	// The next step is due 1 ms after the first, plus 4 ms for the 4 more.
	if ok, wait := c.admit(false, 5, now); ok || wait != 5*time.Millisecond {
		t.Fatalf("after a request of 5 at 1000/s: admitted %v, wait %v; want 5 ms", ok, wait)
	}
	c.SetPace(100) // 0.5 steps in 5 ms: one at a time, the clock untouched
	before := c.next
	if n := c.grant(6, 50); n != 1 || c.next != before {
		t.Fatalf("pace 100/s: %d steps a request, clock %v → %v", n, before, c.next)
	}
	c.SetCatchUp(40)
	if n := c.grant(10, 50); n != 30 {
		t.Fatalf("catch-up to 40 from step 10: %d steps, want 30", n)
	}
	c.Pause()
	if n := c.grant(10, 50); n != 1 {
		t.Fatalf("paused: %d steps", n)
	}
}
