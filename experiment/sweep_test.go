package experiment

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestAppendReadAndTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	r1 := Record{Hash: "a", Index: 0, Config: small(), History: []Checkpoint{{Epoch: 0, Metrics: Metrics{L2: 1}}}}
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

func TestConfigHash(t *testing.T) {
	a, b := small(), small()
	if ConfigHash(a) != ConfigHash(b) || len(ConfigHash(a)) != 16 {
		t.Fatal("equal configs hash differently")
	}
	b.TeacherSeed++
	if ConfigHash(a) == ConfigHash(b) {
		t.Fatal("different teachers hash the same")
	}
}

func TestRunPoolCancelLeavesNothingRunning(t *testing.T) {
	defer goleak.VerifyNone(t)
	var jobs []Job
	for i := 0; i < 6; i++ {
		c := small()
		c.Epochs = 100000
		c.TeacherSeed = uint64(i)
		jobs = append(jobs, Job{Index: i, Config: c})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := 0
	go func() { cancel() }()
	err := RunPool(ctx, jobs, 2, "t", nil, func(Record) error { done++; return nil })
	if !errors.Is(err, context.Canceled) || done != 0 {
		t.Fatalf("RunPool after cancel: err %v, %d records; want Canceled and none", err, done)
	}
}

func TestRunPoolRunsEveryJobOnce(t *testing.T) {
	var jobs []Job
	for i := 0; i < 5; i++ {
		c := small()
		c.Epochs = 2
		c.TeacherSeed = uint64(i)
		jobs = append(jobs, Job{Index: i, Config: c})
	}
	seen := map[int]int{}
	if err := RunPool(context.Background(), jobs, 3, "t", nil, func(r Record) error { seen[r.Index]++; return nil }); err != nil {
		t.Fatal(err)
	}
	for i := range jobs {
		if seen[i] != 1 {
			t.Fatalf("job %d ran %d times", i, seen[i])
		}
	}
	if p, _ := Pending(jobs, []Record{{Hash: ConfigHash(jobs[2].Config)}}, false); len(p) != 4 {
		t.Fatalf("pending after one finished: %d, want 4", len(p))
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
}
