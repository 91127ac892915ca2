package results

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/uniform"
	"go.uber.org/goleak"
)

// No goroutine outlives the tests (the cuda engine's device goroutine, in
// binaries built with -tags gpu, holds the GPU's context by design).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/reluscope/reluscope/backend/cuda.(*device).loop"))
}

// small is a configuration that trains in well under a second.
func small() experiment.Config {
	c := experiment.Default()
	c.Width = 16
	c.TeacherWidth = 16
	c.Depth = 3
	c.Samples = 200
	c.Epochs = 20
	c.EvalPoints = 4096
	c.EvalEvery = 5
	return c
}

func TestSaveAndLoad(t *testing.T) {
	res := runSync(t, small())
	dir := filepath.Join(t.TempDir(), "run")
	if err := SaveRun(dir, res); err != nil {
		t.Fatal(err)
	}
	st, err := experiment.LoadNetwork(filepath.Join(dir, "student.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st, res.Student) {
		t.Fatal("reloaded student differs from the saved one")
	}
	x := []float64{0.123}
	if st.Eval(x) != res.Student.Eval(x) {
		t.Fatal("reloaded student computes another function")
	}
	if _, err := experiment.LoadNetwork(filepath.Join(dir, "history.csv")); err == nil {
		t.Fatal("a CSV file loaded as a network")
	}
}

// FuzzReadRecords: any bytes as a results file are read into valid records
// or an error naming a line; the tail repair never panics, never drops a
// record that was read, and leaves a file that ends in a newline.
func FuzzReadRecords(f *testing.F) {
	line, _ := json.Marshal(Record{Hash: "abc", Config: experiment.Default(), History: []experiment.Checkpoint{{}, {Epoch: 200}}})
	f.Add(append(append([]byte{}, line...), '\n'))
	f.Add(line)
	f.Add(append(append(append([]byte{}, line...), '\n'), line[:len(line)/2]...))
	f.Add([]byte("{}\n"))
	f.Add([]byte(`{"hash":"x","config":{"dim":0}}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "r.jsonl")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadRecords(p)
		for _, r := range recs {
			if cerr := r.check(); cerr != nil {
				t.Fatalf("an invalid record was returned: %v", cerr)
			}
		}
		if err != nil {
			return
		}
		if err := RepairTail(p); err != nil {
			t.Fatal(err)
		}
		after, err := ReadRecords(p)
		if err != nil || len(after) != len(recs) {
			t.Fatalf("the repair changed %d records into %d (%v)", len(recs), len(after), err)
		}
		if nb, _ := os.ReadFile(p); len(nb) > 0 && nb[len(nb)-1] != '\n' {
			t.Fatal("after the repair the file does not end in a newline")
		}
	})
}

// FuzzCheckpointJSON: a record whose checkpoint holds any float64 values
// (NaN, ±Inf, subnormals, the largest) in its metrics, training loss and
// true-sup bracket is written and read back bit for bit (any NaN as NaN).
func FuzzCheckpointJSON(f *testing.F) {
	f.Add(math.Float64bits(math.NaN()), math.Float64bits(math.Inf(1)), math.Float64bits(5e-324), math.Float64bits(1.7976931348623157e308))
	f.Add(uint64(0), math.Float64bits(math.Inf(-1)), math.Float64bits(math.Copysign(0, -1)), math.Float64bits(0.1))
	f.Fuzz(func(t *testing.T, a, b, c, d uint64) {
		fa, fb, fc, fd := math.Float64frombits(a), math.Float64frombits(b), math.Float64frombits(c), math.Float64frombits(d)
		cp := experiment.Checkpoint{Epoch: 3, LR: fd, TrainLoss: fa, Metrics: experiment.Metrics{L1: fb, L2: fc, Linf: fd, ArgMax: []float64{fa}, N: 7},
			Bracket: &uniform.Bracket{Lower: fc, Upper: fb, Method: uniform.MethodBracket}, EvalSeconds: 0.5}
		r := Record{Hash: "h", Config: experiment.Default(), History: []experiment.Checkpoint{{}, cp}}
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("a record with %v, %v, %v, %v is not written: %v", fa, fb, fc, fd, err)
		}
		var back Record
		if err := json.Unmarshal(line, &back); err != nil {
			t.Fatalf("not read back: %v\n%s", err, line)
		}
		g := back.History[1]
		same := func(x, y float64) bool {
			return math.Float64bits(x) == math.Float64bits(y) || (math.IsNaN(x) && math.IsNaN(y))
		}
		if !same(g.TrainLoss, fa) || !same(g.L1, fb) || !same(g.L2, fc) || !same(g.Linf, fd) || !same(g.LR, fd) ||
			len(g.ArgMax) != 1 || !same(g.ArgMax[0], fa) || g.Bracket == nil || !same(g.Lower, fc) || !same(g.Upper, fb) {
			t.Fatalf("%v, %v, %v, %v came back as %+v\n%s", fa, fb, fc, fd, g, line)
		}
	})
}

// TestRecordWithoutNewlineIsKept: a complete last record lacking only its
// newline is read, and the tail repair adds the newline instead of cutting
// the record; a torn line is still cut; a symlinked file is not edited.
func TestRecordWithoutNewlineIsKept(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "results.jsonl")
	r1 := Record{Hash: "aaaa", Config: experiment.Default()}
	r2 := Record{Hash: "bbbb", Config: experiment.Default()}
	l1, _ := json.Marshal(r1)
	l2, _ := json.Marshal(r2)
	os.WriteFile(p, append(append(l1, '\n'), l2...), 0o644)
	recs, err := ReadRecords(p)
	if err != nil || len(recs) != 2 {
		t.Fatalf("read %d records (%v), want both", len(recs), err)
	}
	if err := RepairTail(p); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if want := string(l1) + "\n" + string(l2) + "\n"; string(b) != want {
		t.Fatalf("after the repair:\n%s", b)
	}
	// A torn line is cut.
	os.WriteFile(p, append(append(l1, '\n'), l2[:len(l2)/2]...), 0o644)
	if err := RepairTail(p); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != string(l1)+"\n" {
		t.Fatalf("the torn line was not cut:\n%s", b)
	}
	link := filepath.Join(dir, "link.jsonl")
	os.Symlink(p, link)
	if err := RepairTail(link); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a symlink was edited: %v", err)
	}
	// An endless line is an error, not an endless read.
	big := filepath.Join(dir, "big.jsonl")
	os.WriteFile(big, []byte(strings.Repeat("x", experiment.MaxRecordBytes+10)), 0o644)
	if _, err := ReadRecords(big); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("a %d-byte line: %v", experiment.MaxRecordBytes+10, err)
	}
}

// TestMergePrefersFinishedRuns: of two copies of a run, the finished one
// is kept whatever the order, and the disagreement is counted.
func TestMergePrefersFinishedRuns(t *testing.T) {
	failed := Record{Hash: "h1", Error: "diverged"}
	ok := Record{Hash: "h1", History: []experiment.Checkpoint{{}, {Epoch: 5}}}
	other := Record{Hash: "h2"}
	out, conflicts := Merge([]Record{failed, other, ok})
	if len(out) != 2 || out[0].Error != "" || len(out[0].History) != 2 || out[1].Hash != "h2" || conflicts != 1 {
		t.Fatalf("merged %+v, %d conflicts", out, conflicts)
	}
	if out := Dedup([]Record{ok, failed}); len(out) != 1 || out[0].Error != "" {
		t.Fatalf("dedup kept the failed copy: %+v", out)
	}
}

// TestCheckpointJSONFields: a finite checkpoint is written byte for byte as
// encoding/json writes the struct itself, so the shadow of jsonfloat.go
// has every field, in order; non-finite values round-trip as strings.
func TestCheckpointJSONFields(t *testing.T) {
	type plain experiment.Checkpoint // without the methods
	for _, b := range []*uniform.Bracket{nil, {Lower: 0.25, Upper: 0.5, At: []float64{0.1}, Method: "exact", Closed: true, Seconds: 0.01, Boxes: 3, Pieces: 7}} {
		c := experiment.Checkpoint{Epoch: 3, LR: 1e-3, TrainLoss: 2.5e-7, Metrics: experiment.Metrics{L1: 0.1, L2: 0.2, Linf: 1e22, ArgMax: []float64{0.5, -0.25}, N: 4096}, Bracket: b, EvalSeconds: 0.125}
		got, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(plain(c))
		if string(got) != string(want) {
			t.Fatalf("the checkpoint's JSON drifted from its struct:\n got %s\nwant %s", got, want)
		}
	}
	c := experiment.Checkpoint{Epoch: 1, Metrics: experiment.Metrics{L1: math.NaN(), L2: math.Inf(1), Linf: math.Inf(-1)}, Bracket: &uniform.Bracket{Lower: math.NaN(), Upper: math.Inf(1)}}
	b, err := json.Marshal(Record{Hash: "h", Config: experiment.Default(), History: []experiment.Checkpoint{c}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"l1":"NaN","l2":"+Inf","linf":"-Inf"`) {
		t.Fatalf("non-finite values written as %s", b)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	h := r.History[0]
	if !math.IsNaN(h.L1) || !math.IsInf(h.L2, 1) || !math.IsInf(h.Linf, -1) || !math.IsNaN(h.Lower) || !math.IsInf(h.Upper, 1) {
		t.Fatalf("read back as %+v %+v", h.Metrics, h.Bracket)
	}
}

// TestResultsDir: the folder type writes the layout it documents and reads
// it back: appended records and shards are finished, the rest pending; a
// torn last line is repaired on locking; a second lock is refused; merge
// counts copies that disagree.
func TestResultsDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sweep")
	d, err := LockResults(path)
	if err != nil {
		t.Fatal(err)
	}
	jobs := make([]experiment.Job, 3)
	for i := range jobs {
		c := experiment.Default()
		c.InitSeed = uint64(i + 1)
		jobs[i] = experiment.Job{Index: i, Config: c}
	}
	rec := func(j experiment.Job, e string) Record {
		return Record{Hash: experiment.ConfigHash(j.Config), Index: j.Index, Config: j.Config, Error: e}
	}
	if err := d.Append(rec(jobs[0], "")); err != nil {
		t.Fatal(err)
	}
	if _, err := LockResults(path); err == nil || !strings.Contains(err.Error(), "in use by another sweep") {
		t.Fatalf("a second lock: %v", err)
	}
	if err := d.WriteShard(jobs[2], rec(jobs[2], "")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(path, "index-0000002-"+experiment.ConfigHash(jobs[2].Config)[:12]+".jsonl")); err != nil {
		t.Fatalf("the shard is not where the layout says: %v", err)
	}
	if d.Shard(jobs[2]) == nil || d.Shard(jobs[1]) != nil {
		t.Fatal("Shard does not tell the finished run from the missing one")
	}
	other := jobs[2]
	other.Config.Width++
	if d.Shard(other) != nil {
		t.Fatal("a shard of another config counted as finished")
	}
	// A variant of the grid in the same folder writes its own shard: the
	// first stays.
	if err := d.WriteShard(other, rec(other, "")); err != nil {
		t.Fatal(err)
	}
	if d.Shard(jobs[2]) == nil || d.Shard(other) == nil {
		t.Fatal("a variant's shard overwrote the run's")
	}
	os.Remove(d.ShardPath(other))
	todo, _, err := d.Pending(len(jobs), slices.Values(jobs), false)
	if err != nil || todo.Spec() != "1" {
		t.Fatalf("pending %s (%v), want run 1 only", todo.Spec(), err)
	}
	// A folder without records: every index, its jobs never built.
	empty, err := LockResults(filepath.Join(t.TempDir(), "empty"))
	if err != nil {
		t.Fatal(err)
	}
	never := func(yield func(experiment.Job) bool) { t.Fatal("the jobs of an empty folder were walked") }
	if todo, failed, err := empty.Pending(10_000_000, never, false); err != nil || failed != 0 || todo.Len() != 10_000_000 || todo.Spec() != "0-9999999" {
		t.Fatalf("pending of an empty folder: %s, %d failed (%v)", experiment.Excerpt(todo.Spec(), 40), failed, err)
	}
	empty.Close()
	d.Close()
	// A torn line (a killed writer) is cut off when the folder is locked
	// again; the records before it stay.
	f, _ := os.OpenFile(filepath.Join(path, ResultsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"hash":"abc","ind`)
	f.Close()
	d, err = LockResults(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	recs, err := d.Records()
	if err != nil || len(recs) != 2 {
		t.Fatalf("%d records after the repair (%v), want 2", len(recs), err)
	}
	if err := d.Append(rec(jobs[0], "diverged")); err != nil {
		t.Fatal(err)
	}
	merged, read, conflicts, err := MergeResults(path)
	if err != nil || len(merged) != 2 || read != 3 || conflicts != 1 || merged[0].Error != "" {
		t.Fatalf("merge: %d of %d records, %d conflicts, first error %q (%v); want 2 of 3, 1, the finished copy", len(merged), read, conflicts, merged[0].Error, err)
	}
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
	job := experiment.Job{Index: 3, Config: cfg}
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
		rec, err := RunJob(context.Background(), job, "p", 1, path, func(_ *experiment.RunState, n string) { note = n })
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
	// part, experiment.OpenState), and every 512th byte run through to its result.
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
		got, note, err := experiment.OpenState(path, cfg)
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
	for _, n := range []int{0, 10, len(experiment.StateFormat) + 1, len(experiment.StateFormat) + 20, len(good) / 2, len(good) - 1} {
		run("cut to "+strconv.Itoa(n)+" bytes", good[:n], true)
	}

	// Right checksums, wrong contents.
	for _, tc := range []struct {
		what string
		edit func(s *experiment.RunState)
	}{
		{"a repeated row in the order", func(s *experiment.RunState) { s.Perm[1] = s.Perm[0] }},
		{"a row past the samples", func(s *experiment.RunState) { s.Perm[0] = 3285 }},
		{"a negative row", func(s *experiment.RunState) { s.Perm[2] = -1 }},
		{"a short order", func(s *experiment.RunState) { s.Perm = s.Perm[:len(s.Perm)-1] }},
		{"the next row off a batch boundary", func(s *experiment.RunState) { s.Lo++ }},
		{"the next row past the samples", func(s *experiment.RunState) { s.Lo = cfg.Samples + cfg.BatchSize() }},
		{"one step too many", func(s *experiment.RunState) { s.Steps++ }},
		{"an epoch too far", func(s *experiment.RunState) { s.Epoch = cfg.Epochs + 1 }},
		{"another rate", func(s *experiment.RunState) { s.LR *= 1.5 }},
		{"a lost epoch loss", func(s *experiment.RunState) { s.EpochLoss = s.EpochLoss[:len(s.EpochLoss)-1] }},
		{"a checkpoint off the schedule", func(s *experiment.RunState) { s.History[len(s.History)-1].Epoch = 1 }},
		{"no checkpoints", func(s *experiment.RunState) { s.History = nil }},
		{"a moment short", func(s *experiment.RunState) { s.Adam.M = s.Adam.M[:len(s.Adam.M)-1] }},
		{"a wider student", func(s *experiment.RunState) {
			sz := append([]int(nil), s.Student.Sizes...)
			sz[1]++
			s.Student = backend.NewNet(sz)
		}},
		{"a broken random source", func(s *experiment.RunState) { s.Shuffle = s.Shuffle[:3] }},
		{"another format", func(s *experiment.RunState) { s.Format = "reluscope-run-state/v0" }},
	} {
		bad := cloneState(st)
		tc.edit(bad)
		p := filepath.Join(t.TempDir(), "s")
		if err := experiment.SaveState(p, bad); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		run(tc.what, b, true)
	}
}

// cloneState is a deep copy of st, through its encoding.
func cloneState(st *experiment.RunState) *experiment.RunState {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(st); err != nil {
		panic(err)
	}
	var c experiment.RunState
	if err := gob.NewDecoder(&b).Decode(&c); err != nil {
		panic(err)
	}
	return &c
}

// TestStateSaveFailures: a save that fails once is tried again at the next
// checkpoint and the run ends as usual; a second failure in a row stops
// the run with experiment.ErrRunFiles, and RunJob records nothing for it (the disk
// failed, not the run).
func TestStateSaveFailures(t *testing.T) {
	cfg := resumeConfig("native")
	whole, err := experiment.Run(context.Background(), cfg, experiment.Options{}, func(experiment.Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	res, err := experiment.Run(context.Background(), cfg, experiment.Options{Save: func(*experiment.RunState) error {
		if calls++; calls == 1 {
			return errors.New("no space left on device")
		}
		return nil
	}}, func(experiment.Event) error { return nil })
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
	rec, err := RunJob(context.Background(), experiment.Job{Config: cfg}, "p", 1, filepath.Join(dir, "index-0.state"), func(*experiment.RunState, string) {
		os.Remove(dir)
		os.WriteFile(dir, nil, 0o644)
	})
	if !errors.Is(err, experiment.ErrRunFiles) || rec.Hash != "" {
		t.Fatalf("saves that always fail: record %+v, error %v; want no record and ErrRunFiles", rec, err)
	}
	// A state that cannot be read: the same.
	if _, err := RunJob(context.Background(), experiment.Job{Config: cfg}, "p", 1, filepath.Join(dir, "index-0.state"), nil); !errors.Is(err, experiment.ErrRunFiles) {
		t.Fatalf("a state path under a file: %v, want ErrRunFiles", err)
	}
}

func TestAppendReadAndTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	r1 := Record{Hash: "a", Index: 0, Config: small(), History: []experiment.Checkpoint{{Epoch: 0, Metrics: experiment.Metrics{L2: 1}}}}
	r2 := Record{Hash: "b", Index: 1, Config: small()}
	if err := AppendRecord(path, r1); err != nil {
		t.Fatal(err)
	}
	// A crash in the middle of the second write leaves half a line.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"hash":"torn","ind`)
	f.Close()
	got, err := ReadRecords(path)
	if err != nil || len(got) != 1 || got[0].Hash != "a" || got[0].History[0].L2 != 1 {
		t.Fatalf("read %d records (%v), want the one complete record", len(got), err)
	}
	if err := AppendRecord(path, r2); err != nil {
		t.Fatal(err)
	}
	got, err = ReadRecords(path)
	if err != nil || len(got) != 2 || got[1].Hash != "b" {
		t.Fatalf("after repair and append: %d records, err %v", len(got), err)
	}
	if d := Dedup(append(got, got...)); len(d) != 2 {
		t.Fatalf("dedup kept %d of 2 distinct", len(d))
	}
}

func TestRunPoolCancelLeavesNothingRunning(t *testing.T) {
	defer goleak.VerifyNone(t)
	var jobs []experiment.Job
	for i := 0; i < 6; i++ {
		c := small()
		c.Epochs = 100000
		c.TeacherSeed = uint64(i)
		jobs = append(jobs, experiment.Job{Index: i, Config: c})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := 0
	go func() { cancel() }()
	err := RunPool(ctx, slices.Values(jobs), 2, "t", nil, func(Record) error { done++; return nil })
	if !errors.Is(err, context.Canceled) || done != 0 {
		t.Fatalf("RunPool after cancel: err %v, %d records; want Canceled and none", err, done)
	}
}

func TestRunPoolRunsEveryJobOnce(t *testing.T) {
	var jobs []experiment.Job
	for i := 0; i < 5; i++ {
		c := small()
		c.Epochs = 2
		c.TeacherSeed = uint64(i)
		jobs = append(jobs, experiment.Job{Index: i, Config: c})
	}
	seen := map[int]int{}
	if err := RunPool(context.Background(), slices.Values(jobs), 3, "t", nil, func(r Record) error { seen[r.Index]++; return nil }); err != nil {
		t.Fatal(err)
	}
	for i := range jobs {
		if seen[i] != 1 {
			t.Fatalf("job %d ran %d times", i, seen[i])
		}
	}
	if p, _ := Pending(slices.Values(jobs), []Record{{Hash: experiment.ConfigHash(jobs[2].Config), Config: jobs[2].Config}}, false); p.Spec() != "0-1,3-4" {
		t.Fatalf("pending after run 2 finished: %s, want 0-1,3-4", p.Spec())
	}
	if p, _ := Pending(slices.Values(jobs), nil, false); p.Spec() != "0-4" {
		t.Fatalf("pending with nothing done: %s, want 0-4", p.Spec())
	}
	// A failed record of run 3: counted, and pending again only on retry.
	failed := []Record{{Hash: experiment.ConfigHash(jobs[3].Config), Config: jobs[3].Config, Error: "diverged"}}
	if p, n := Pending(slices.Values(jobs), failed, false); p.Spec() != "0-2,4" || n != 1 {
		t.Fatalf("pending with run 3 failed: %s, %d failed", p.Spec(), n)
	}
	if p, _ := Pending(slices.Values(jobs), failed, true); p.Spec() != "0-4" {
		t.Fatalf("pending with run 3 failed, retried: %s", p.Spec())
	}
}

func TestArraySpecAndBlocks(t *testing.T) {
	if got := ArraySpec([]int{20, 3, 17, 18, 19, 1004}); got != "3,17-20,1004" {
		t.Fatalf("ArraySpec = %q", got)
	}
	if ArraySpec(nil) != "" {
		t.Fatal("an empty spec is not empty")
	}
	offs, specs := ArrayBlocks([]int{3, 999, 1000, 1001, 4319}, 1000)
	if fmt.Sprint(offs) != "[0 1000 4000]" || strings.Join(specs, " ") != "3,999 0-1 319" {
		t.Fatalf("ArrayBlocks = %v %q", offs, specs)
	}
	// A range across blocks is cut at each block's edge.
	offs, specs = ArrayBlocks([]int{998, 999, 1000, 1001, 2999, 3000}, 1000)
	if fmt.Sprint(offs) != "[0 1000 2000 3000]" || strings.Join(specs, " ") != "998-999 0-1 999 0" {
		t.Fatalf("ArrayBlocks across edges = %v %q", offs, specs)
	}
}

// Indices against a plain sorted set: random additions in any order (the
// ascending fast path and the insertion), with repeats, give the same
// members, count, spec and blocks.
func TestIndicesMatchASortedSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 300; trial++ {
		var x Indices
		set := map[int]bool{}
		span := 1 + r.IntN(60)
		for k := r.IntN(80); k > 0; k-- {
			i := r.IntN(span)
			if trial%3 == 0 { // ascending with repeats
				i = len(set) + r.IntN(2)
			}
			x.Add(i)
			set[i] = true
		}
		var want []int
		for i := range set {
			want = append(want, i)
		}
		slices.Sort(want)
		got := slices.Collect(x.All())
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) || x.Len() != len(want) {
			t.Fatalf("trial %d: members %v (len %d), want %v", trial, got, x.Len(), want)
		}
		// The spec from scratch: runs of consecutive members.
		var parts []string
		for a := 0; a < len(want); {
			b := a
			for b+1 < len(want) && want[b+1] == want[b]+1 {
				b++
			}
			if b > a {
				parts = append(parts, fmt.Sprintf("%d-%d", want[a], want[b]))
			} else {
				parts = append(parts, fmt.Sprint(want[a]))
			}
			a = b + 1
		}
		if x.Spec() != strings.Join(parts, ",") {
			t.Fatalf("trial %d: spec %q, want %q", trial, x.Spec(), strings.Join(parts, ","))
		}
		block := 1 + r.IntN(10)
		offs, specs := x.Blocks(block)
		var back []int
		for k, o := range offs {
			if o%block != 0 {
				t.Fatalf("offset %d not a multiple of %d", o, block)
			}
			for _, part := range strings.Split(specs[k], ",") {
				lo, hi, _ := strings.Cut(part, "-")
				a, _ := strconv.Atoi(lo)
				b := a
				if hi != "" {
					b, _ = strconv.Atoi(hi)
				}
				if a < 0 || b >= block {
					t.Fatalf("block %d spec %q leaves [0, %d)", o, specs[k], block)
				}
				for i := a; i <= b; i++ {
					back = append(back, o+i)
				}
			}
		}
		if !slices.Equal(back, want) && len(want) > 0 {
			t.Fatalf("trial %d: blocks %v %q give %v, want %v", trial, offs, specs, back, want)
		}
	}
}

// The experiment package's test helpers these tests share.

func runSync(t *testing.T, cfg experiment.Config) *experiment.Result {
	t.Helper()
	res, err := experiment.Run(context.Background(), cfg, experiment.Options{}, func(experiment.Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// resumeConfig is a small run with a short last batch, checkpoints every
// other epoch and a sampled sup (a timed bracket is not reproducible).
func resumeConfig(backend string) experiment.Config {
	c := experiment.Default()
	c.Dim, c.Depth, c.TeacherWidth, c.Width = 2, 3, 8, 8
	c.Samples, c.Batch, c.Epochs, c.EvalEvery, c.EvalPoints = 30, experiment.Batch{Size: 7}, 6, 2, 3000
	c.Sup, c.Backend = experiment.SupSampled, backend
	return c
}

// stateAt stops a run of cfg at its n-th event and returns the state it
// saved, encoded as experiment.SaveState writes it.
func stateAt(t *testing.T, cfg experiment.Config, n int) (*experiment.RunState, []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var saved *experiment.RunState
	k := 0
	experiment.Run(ctx, cfg, experiment.Options{Interval: 1, Save: func(st *experiment.RunState) error { saved = st; return nil }}, func(experiment.Event) error {
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
	if err := experiment.SaveState(path, saved); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return saved, b
}

// sameRun compares two results bit for bit, timings aside.
func sameRun(t *testing.T, what string, a, b *experiment.Result) {
	t.Helper()
	strip := func(h []experiment.Checkpoint) []experiment.Checkpoint {
		out := append([]experiment.Checkpoint(nil), h...)
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
