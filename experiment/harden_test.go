package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
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

// TestFileModes: everything written atomically is 0644 less the umask.
func TestFileModes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := WriteFileAtomic(p, []byte("x")); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if want := os.FileMode(0o644 &^ umask); st.Mode().Perm() != want {
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
