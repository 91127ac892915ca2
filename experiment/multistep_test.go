package experiment

import (
	"context"
	"reflect"
	"testing"

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
// controlled run (the explorer's: pause, pace) still asks one step at a
// time.
func TestMultiStepRequests(t *testing.T) {
	cfg := Default()
	cfg.Samples, cfg.Epochs, cfg.Batch = 1010, 40, Batch{Size: 20}
	cfg.EvalPoints, cfg.Sup = 4096, SupSampled
	want, err := Run(context.Background(), cfg, Options{}, func(Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	eng := &holding{}
	got, err := Run(context.Background(), cfg, Options{engine: eng}, func(Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(numbers(want.History), numbers(got.History)) || !reflect.DeepEqual(want.EpochLoss, got.EpochLoss) || want.Steps != got.Steps {
		t.Fatalf("in requests of several steps the run differs from the native engine's:\n%+v\n%+v", numbers(got.History)[len(got.History)-1], numbers(want.History)[len(want.History)-1])
	}
	steps, most := 0, 0
	for _, k := range eng.requests {
		steps += k
		most = max(most, k)
	}
	if int64(steps) != want.Steps || most < 2 {
		t.Fatalf("%d steps in %d requests (at most %d a request), want %d steps with some requests of several", steps, len(eng.requests), most, want.Steps)
	}
	t.Logf("%d steps in %d requests, at most %d a request", steps, len(eng.requests), most)
	ctl := NewControl()
	eng.requests = nil
	if _, err := Run(context.Background(), cfg, Options{engine: eng, Control: ctl}, func(Event) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for _, k := range eng.requests {
		if k != 1 {
			t.Fatalf("a controlled run asked for %d steps at once", k)
		}
	}
}
