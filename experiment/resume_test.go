package experiment

import (
	"context"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/internal/osutil"
)

// resumeConfig is a small run with a short last batch, checkpoints every
// other epoch and a sampled sup (a timed bracket is not reproducible).
func resumeConfig(backend string) Config {
	c := Default()
	c.Dim, c.Depth, c.TeacherWidth, c.Width = 2, 3, 8, 8
	c.Samples, c.Batch, c.Epochs, c.EvalEvery, c.EvalPoints = 30, Batch{Size: 7}, 6, 2, 3000
	c.Sup, c.Backend = SupSampled, backend
	return c
}

// sameRun compares two results bit for bit, timings aside.
func sameRun(t *testing.T, what string, a, b *Result) {
	t.Helper()
	strip := func(h []Checkpoint) []Checkpoint {
		out := append([]Checkpoint(nil), h...)
		for i := range out {
			out[i].EvalSeconds = 0
		}
		return out
	}
	if !reflect.DeepEqual(strip(a.History), strip(b.History)) {
		t.Fatalf("%s: the checkpoints differ:\n%+v\n%+v", what, a.History, b.History)
	}
	if a.Steps != b.Steps || len(a.EpochLoss) != len(b.EpochLoss) {
		t.Fatalf("%s: %d steps and %d epoch losses, want %d and %d", what, b.Steps, len(b.EpochLoss), a.Steps, len(a.EpochLoss))
	}
	for i := range a.EpochLoss {
		if math.Float64bits(a.EpochLoss[i]) != math.Float64bits(b.EpochLoss[i]) {
			t.Fatalf("%s: epoch %d's loss %v, want %v", what, i+1, b.EpochLoss[i], a.EpochLoss[i])
		}
	}
	if !reflect.DeepEqual(a.Student, b.Student) {
		t.Fatalf("%s: the final students differ", what)
	}
}

// A run stopped at any event (between two Adam steps, after an epoch's
// last step, in the middle of a checkpoint's evaluation) and resumed from
// the state it saved ends with exactly the bits of a run that did not
// stop: native and gorgonia, float64 and float32, the state through a
// file.
func TestInterruptedRunResumesBitForBit(t *testing.T) {
	for _, be := range []string{"native", "gorgonia"} {
		for _, dt := range []string{"float64", "float32"} {
			cfg := resumeConfig(be)
			cfg.DType = dt
			whole, err := Run(context.Background(), cfg, Options{Interval: 1}, func(Event) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			// Interval 1 ns: an event after every step and epoch: the
			// start (1), checkpoint 0 (2), epoch 1's steps (3–7) and end
			// (8), epoch 2's steps (9–13), its checkpoint (14), …
			kinds := map[string]bool{}
			for _, stopAt := range []int{2, 3, 4, 6, 7, 9, 13, 14, 21, 25, 30, 31, 34} {
				ctx, cancel := context.WithCancel(context.Background())
				var saved *RunState
				n := 0
				_, err := Run(ctx, cfg, Options{Interval: 1, Save: func(st *RunState) error { saved = st; return nil }}, func(Event) error {
					if n++; n == stopAt {
						cancel()
						if stopAt == 3 || stopAt == 7 || stopAt == 21 || stopAt == 31 { // the event's receiver gone too, as Start's is
							return ctx.Err()
						}
					}
					return nil
				})
				cancel()
				if err == nil {
					t.Fatalf("%s/%s stop at event %d: the run was not stopped", be, dt, stopAt)
				}
				if saved == nil {
					t.Fatalf("%s/%s stop at event %d: no state saved", be, dt, stopAt)
				}
				path := filepath.Join(t.TempDir(), "run.state")
				if err := SaveState(path, saved); err != nil {
					t.Fatal(err)
				}
				st, err := LoadState(path)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case st.CheckpointDue:
					kinds["in a checkpoint"] = true
				case st.Started && st.Lo > 0 && st.Lo < cfg.Samples:
					kinds["between two steps"] = true
				case st.Started && st.Lo == cfg.Samples:
					kinds["after an epoch's last step"] = true
				case st.Started:
					kinds["before an epoch's first step"] = true
				}
				res, err := Run(context.Background(), cfg, Options{Interval: 1, Resume: st}, func(Event) error { return nil })
				if err != nil {
					t.Fatalf("%s/%s resumed from event %d (epoch %d, row %d, checkpoint due %v): %v", be, dt, stopAt, st.Epoch, st.Lo, st.CheckpointDue, err)
				}
				sameRun(t, be+"/"+dt+" resumed", whole, res)
			}
			for _, k := range []string{"in a checkpoint", "between two steps", "after an epoch's last step", "before an epoch's first step"} {
				if !kinds[k] {
					t.Fatalf("%s/%s: no stop %s was tried (%v)", be, dt, k, kinds)
				}
			}
		}
	}
}

// A state is refused for another config or engine, and a broken file
// says so in one line.
func TestResumeRefusesAForeignState(t *testing.T) {
	cfg := resumeConfig("native")
	ctx, cancel := context.WithCancel(context.Background())
	var saved *RunState
	n := 0
	Run(ctx, cfg, Options{Interval: 1, Save: func(st *RunState) error { saved = st; return nil }}, func(Event) error {
		if n++; n == 5 {
			cancel()
		}
		return nil
	})
	cancel()
	other := cfg
	other.Width = 9
	if _, err := Run(context.Background(), other, Options{Resume: saved}, func(Event) error { return nil }); err == nil {
		t.Fatal("a state of another config was taken")
	}
	g := cfg
	g.Backend = "gorgonia"
	if _, err := Run(context.Background(), g, Options{Resume: saved}, func(Event) error { return nil }); err == nil {
		t.Fatal("a native state was taken by gorgonia")
	}
	path := filepath.Join(t.TempDir(), "broken.state")
	if err := osutil.WriteFileAtomic(path, []byte("not a state")); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadState(path); err == nil {
		t.Fatal("a broken state file was read")
	}
}

// panicEngine's models panic when made: a bug deep in a run.
type panicEngine struct{}

func (panicEngine) Name() string     { return "panics" }
func (panicEngine) Available() error { return nil }
func (panicEngine) New(*backend.Net, backend.Options) (backend.Model, error) {
	var s []int
	_ = s[3] // index out of range
	return nil, nil
}

// TestStartTurnsAPanicIntoTheRunsError: a panic inside a run started in
// the background ends that run with an error naming the panic and where it
// happened, not the program (whose terminal the explorer holds raw).
func TestStartTurnsAPanicIntoTheRunsError(t *testing.T) {
	cfg := resumeConfig("native")
	var last Event
	for ev := range Start(context.Background(), cfg, Options{engine: panicEngine{}}) {
		last = ev
	}
	if last.Kind != KindDone || !strings.Contains(last.Error, "internal error") || !strings.Contains(last.Error, "index out of range") || !strings.Contains(last.Error, "resume_test.go:") {
		t.Fatalf("the last event %q: %q; want the done event with the panic and its site", last.Kind, last.Error)
	}
}
