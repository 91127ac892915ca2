package experiment

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
	err := RunPool(ctx, slices.Values(jobs), 2, "t", nil, func(Record) error { done++; return nil })
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
	if err := RunPool(context.Background(), slices.Values(jobs), 3, "t", nil, func(r Record) error { seen[r.Index]++; return nil }); err != nil {
		t.Fatal(err)
	}
	for i := range jobs {
		if seen[i] != 1 {
			t.Fatalf("job %d ran %d times", i, seen[i])
		}
	}
	if p, _ := Pending(slices.Values(jobs), []Record{{Hash: ConfigHash(jobs[2].Config)}}, false); p.Spec() != "0-1,3-4" {
		t.Fatalf("pending after run 2 finished: %s, want 0-1,3-4", p.Spec())
	}
	if p, _ := Pending(slices.Values(jobs), nil, false); p.Spec() != "0-4" {
		t.Fatalf("pending with nothing done: %s, want 0-4", p.Spec())
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
