package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/reluscope/reluscope/experiment/uniform"
	"github.com/reluscope/reluscope/internal/osutil"
)

// TestLoadNetworkRefusesOverflowingSizes: sizes whose product overflows
// are refused, not handed to an engine.
func TestLoadNetworkRefusesOverflowingSizes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "n.json")
	os.WriteFile(p, []byte(`{"format":"`+NetworkFormat+`","activation":"relu","sizes":[4611686018427387904,4,1],"input_scale":1,"w":[[],[]],"b":[[],[]]}`), 0o644)
	if _, err := LoadNetwork(p); err == nil || !strings.Contains(err.Error(), "must be in [1, 16777216]") {
		t.Fatalf("err %v", err)
	}
	if _, err := LoadNetwork("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("/dev/zero: %v", err)
	}
}

// TestRecordWithoutNewlineIsKept: a complete last record lacking only its
// newline is read, and the tail repair adds the newline instead of cutting
// the record; a torn line is still cut; a symlinked file is not edited.
func TestRecordWithoutNewlineIsKept(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "results.jsonl")
	r1 := Record{Hash: "aaaa", Config: Default()}
	r2 := Record{Hash: "bbbb", Config: Default()}
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
	os.WriteFile(big, []byte(strings.Repeat("x", MaxRecordBytes+10)), 0o644)
	if _, err := ReadRecords(big); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("a %d-byte line: %v", MaxRecordBytes+10, err)
	}
}

// TestMergePrefersFinishedRuns: of two copies of a run, the finished one
// is kept whatever the order, and the disagreement is counted.
func TestMergePrefersFinishedRuns(t *testing.T) {
	failed := Record{Hash: "h1", Error: "diverged"}
	ok := Record{Hash: "h1", History: []Checkpoint{{}, {Epoch: 5}}}
	other := Record{Hash: "h2"}
	out, conflicts := Merge([]Record{failed, other, ok})
	if len(out) != 2 || out[0].Error != "" || len(out[0].History) != 2 || out[1].Hash != "h2" || conflicts != 1 {
		t.Fatalf("merged %+v, %d conflicts", out, conflicts)
	}
	if out := Dedup([]Record{ok, failed}); len(out) != 1 || out[0].Error != "" {
		t.Fatalf("dedup kept the failed copy: %+v", out)
	}
}

// TestFileModes: everything written atomically is 0644 less the osutil.Umask.
func TestFileModes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := osutil.WriteFileAtomic(p, []byte("x")); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if want := os.FileMode(0o644 &^ osutil.Umask); st.Mode().Perm() != want {
		t.Fatalf("mode %v, want %v", st.Mode().Perm(), want)
	}
}

// TestInterruptedRunIsConsistent: a run cancelled between checkpoints
// says so, and its student is the one of its last checkpoint.
func TestInterruptedRunIsConsistent(t *testing.T) {
	cfg := small()
	cfg.Epochs, cfg.EvalEvery = 50, 10
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snap := map[int][]float64{} // the student sent with each checkpoint
	res, err := Run(ctx, cfg, Options{Interval: time.Nanosecond}, func(ev Event) error {
		if n := len(ev.Checkpoints); n > 0 && ev.Student != nil {
			snap[ev.Checkpoints[n-1].Epoch] = ev.Student.Flatten(nil)
		}
		if ev.Epoch >= 13 {
			cancel() // between the checkpoints at epochs 10 and 20
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	k := res.History[len(res.History)-1].Epoch
	if k != 10 || !strings.HasPrefix(res.Error, "interrupted in epoch") || !strings.Contains(res.Error, "last checkpoint (epoch 10)") {
		t.Fatalf("last checkpoint %d, error %q", k, res.Error)
	}
	// The saved student is the one evaluated at epoch 10.
	if !reflect.DeepEqual(res.Student.Flatten(nil), snap[10]) || len(snap[10]) == 0 {
		t.Fatal("the interrupted run's student is not the one of its last checkpoint")
	}
}

// TestExcerptEscapes: what a message quotes is short and carries no control
// character: an escape sequence is written out, not sent to the terminal;
// a huge value is read only as far as the excerpt.
func TestExcerptEscapes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", "abc"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"x\ny", `x\ny`},
		{"bad\xffbyte", `bad\xffbyte`},
		{"ñandú", "ñandú"},
		{strings.Repeat("é", 50), strings.Repeat("é", 10) + "…"},
	} {
		if got := Excerpt(tc.in, 10); got != tc.want {
			t.Errorf("Excerpt(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	huge := strings.Repeat("z", 100<<20)
	if got := Quote(huge); len(got) > 50 || !strings.HasSuffix(got, `…"`) {
		t.Fatalf("a 100 MB value is quoted as %d bytes", len(got))
	}
}

// TestCheckpointJSONFields: a finite checkpoint is written byte for byte as
// encoding/json writes the struct itself, so the shadow of jsonfloat.go
// has every field, in order; non-finite values round-trip as strings.
func TestCheckpointJSONFields(t *testing.T) {
	type plain Checkpoint // without the methods
	for _, b := range []*uniform.Bracket{nil, {Lower: 0.25, Upper: 0.5, At: []float64{0.1}, Method: "exact", Closed: true, Seconds: 0.01, Boxes: 3, Pieces: 7}} {
		c := Checkpoint{Epoch: 3, LR: 1e-3, TrainLoss: 2.5e-7, Metrics: Metrics{L1: 0.1, L2: 0.2, Linf: 1e22, ArgMax: []float64{0.5, -0.25}, N: 4096}, Bracket: b, EvalSeconds: 0.125}
		got, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(plain(c))
		if string(got) != string(want) {
			t.Fatalf("the checkpoint's JSON drifted from its struct:\n got %s\nwant %s", got, want)
		}
	}
	c := Checkpoint{Epoch: 1, Metrics: Metrics{L1: math.NaN(), L2: math.Inf(1), Linf: math.Inf(-1)}, Bracket: &uniform.Bracket{Lower: math.NaN(), Upper: math.Inf(1)}}
	b, err := json.Marshal(Record{Hash: "h", Config: Default(), History: []Checkpoint{c}})
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
