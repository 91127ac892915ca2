package experiment

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
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

// stateAt stops a run of cfg at its n-th event and returns the state it
// saved, encoded as SaveState writes it.
func stateAt(t *testing.T, cfg Config, n int) (*RunState, []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var saved *RunState
	k := 0
	Run(ctx, cfg, Options{Interval: 1, Save: func(st *RunState) error { saved = st; return nil }}, func(Event) error {
		if k++; k == n {
			cancel()
		}
		return nil
	})
	cancel()
	if saved == nil {
		t.Fatalf("no state saved by event %d", n)
	}
	path := filepath.Join(t.TempDir(), "run.state")
	if err := SaveState(path, saved); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return saved, b
}

// TestDamagedStateNeverChangesAResult: one bit flipped in any byte of a
// saved state, or a state whose checksum is right but whose contents do
// not fit its run (a data order that is not a permutation, a row off a
// batch boundary, a step count, a rate, the losses, the checkpoints, the
// moments, the student's layers), is moved aside with a note and the run
// starts over: its result is that of the run that never stopped. Never a
// panic, never another number.
func TestDamagedStateNeverChangesAResult(t *testing.T) {
	cfg := resumeConfig("native")
	job := Job{Index: 3, Config: cfg}
	want, err := RunJob(context.Background(), job, "p", 1, "", nil)
	if err != nil || want.Error != "" {
		t.Fatal(err, want.Error)
	}
	st, good := stateAt(t, cfg, 9) // inside epoch 2
	dir := t.TempDir()
	path := filepath.Join(dir, "index-3.state")
	run := func(what string, data []byte, wantNote bool) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var note string
		rec, err := RunJob(context.Background(), job, "p", 1, path, func(_ *RunState, n string) { note = n })
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !sameResult(want, rec) {
			t.Fatalf("%s: the result changed:\n%+v\nwant\n%+v", what, rec.History, want.History)
		}
		if wantNote && (note == "" || rec.StateNote != note || rec.Resumed) {
			t.Fatalf("%s: note %q, record's %q, resumed %v: want the damage said and the run started over", what, note, rec.StateNote, rec.Resumed)
		}
		if !wantNote && (note != "" || !rec.Resumed) {
			t.Fatalf("%s: note %q, resumed %v: want the state taken", what, note, rec.Resumed)
		}
	}
	run("the state as saved", good, false)
	t.Logf("a state of %d bytes: every byte flipped in turn", len(good))

	// Every byte, one bit each: refused before any training (the cheap
	// part, OpenState), and every 512th byte run through to its result.
	for i := range good {
		b := append([]byte(nil), good...)
		b[i] ^= 1 << (i % 8)
		if i%512 == 0 || i == len(good)-1 {
			run("bit "+strconv.Itoa(i%8)+" of byte "+strconv.Itoa(i), b, true)
			continue
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		got, note, err := OpenState(path, cfg)
		if err != nil || got != nil || !strings.Contains(note, "damaged") {
			t.Fatalf("byte %d flipped: state %v, note %q, error %v", i, got != nil, note, err)
		}
		if _, err := os.Stat(path + ".corrupt"); err != nil {
			t.Fatalf("byte %d flipped: the state was not moved aside: %v", i, err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("byte %d flipped: the damaged state is still in place", i)
		}
	}
	// Cut short anywhere.
	for _, n := range []int{0, 10, len(StateFormat) + 1, len(StateFormat) + 20, len(good) / 2, len(good) - 1} {
		run("cut to "+strconv.Itoa(n)+" bytes", good[:n], true)
	}

	// Right checksums, wrong contents.
	for _, tc := range []struct {
		what string
		edit func(s *RunState)
	}{
		{"a repeated row in the order", func(s *RunState) { s.Perm[1] = s.Perm[0] }},
		{"a row past the samples", func(s *RunState) { s.Perm[0] = 3285 }},
		{"a negative row", func(s *RunState) { s.Perm[2] = -1 }},
		{"a short order", func(s *RunState) { s.Perm = s.Perm[:len(s.Perm)-1] }},
		{"the next row off a batch boundary", func(s *RunState) { s.Lo++ }},
		{"the next row past the samples", func(s *RunState) { s.Lo = cfg.Samples + cfg.BatchSize() }},
		{"one step too many", func(s *RunState) { s.Steps++ }},
		{"an epoch too far", func(s *RunState) { s.Epoch = cfg.Epochs + 1 }},
		{"another rate", func(s *RunState) { s.LR *= 1.5 }},
		{"a lost epoch loss", func(s *RunState) { s.EpochLoss = s.EpochLoss[:len(s.EpochLoss)-1] }},
		{"a checkpoint off the schedule", func(s *RunState) { s.History[len(s.History)-1].Epoch = 1 }},
		{"no checkpoints", func(s *RunState) { s.History = nil }},
		{"a moment short", func(s *RunState) { s.Adam.M = s.Adam.M[:len(s.Adam.M)-1] }},
		{"a wider student", func(s *RunState) {
			sz := append([]int(nil), s.Student.Sizes...)
			sz[1]++
			s.Student = backend.NewNet(sz)
		}},
		{"a broken random source", func(s *RunState) { s.Shuffle = s.Shuffle[:3] }},
		{"another format", func(s *RunState) { s.Format = "reluscope-run-state/v0" }},
	} {
		bad := cloneState(st)
		tc.edit(bad)
		p := filepath.Join(t.TempDir(), "s")
		if err := SaveState(p, bad); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		run(tc.what, b, true)
	}
}

// cloneState is a deep copy of st, through its encoding.
func cloneState(st *RunState) *RunState {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(st); err != nil {
		panic(err)
	}
	var c RunState
	if err := gob.NewDecoder(&b).Decode(&c); err != nil {
		panic(err)
	}
	return &c
}

// TestStateSaveFailures: a save that fails once is tried again at the next
// checkpoint and the run ends as usual; a second failure in a row stops
// the run with ErrRunFiles, and RunJob records nothing for it (the disk
// failed, not the run).
func TestStateSaveFailures(t *testing.T) {
	cfg := resumeConfig("native")
	whole, err := Run(context.Background(), cfg, Options{}, func(Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	res, err := Run(context.Background(), cfg, Options{Save: func(*RunState) error {
		if calls++; calls == 1 {
			return errors.New("no space left on device")
		}
		return nil
	}}, func(Event) error { return nil })
	if err != nil || calls < 2 {
		t.Fatalf("one failed save: %v after %d saves", err, calls)
	}
	sameRun(t, "after one failed save", whole, res)

	// The state's folder becomes a file once the run has started: every
	// save fails.
	dir := filepath.Join(t.TempDir(), "states")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rec, err := RunJob(context.Background(), Job{Config: cfg}, "p", 1, filepath.Join(dir, "index-0.state"), func(*RunState, string) {
		os.Remove(dir)
		os.WriteFile(dir, nil, 0o644)
	})
	if !errors.Is(err, ErrRunFiles) || rec.Hash != "" {
		t.Fatalf("saves that always fail: record %+v, error %v; want no record and ErrRunFiles", rec, err)
	}
	// A state that cannot be read: the same.
	if _, err := RunJob(context.Background(), Job{Config: cfg}, "p", 1, filepath.Join(dir, "index-0.state"), nil); !errors.Is(err, ErrRunFiles) {
		t.Fatalf("a state path under a file: %v, want ErrRunFiles", err)
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
