package experiment

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
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
	err := RunPool(ctx, jobs, 2, "t", func(Record) error { done++; return nil })
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
	if err := RunPool(context.Background(), jobs, 3, "t", func(r Record) error { seen[r.Index]++; return nil }); err != nil {
		t.Fatal(err)
	}
	for i := range jobs {
		if seen[i] != 1 {
			t.Fatalf("job %d ran %d times", i, seen[i])
		}
	}
	if p := Pending(jobs, []Record{{Hash: ConfigHash(jobs[2].Config)}}); len(p) != 4 {
		t.Fatalf("pending after one finished: %d, want 4", len(p))
	}
}

func TestFitPower(t *testing.T) {
	xs := []float64{10, 100, 1000, 10000}
	ys := make([]float64, len(xs))
	for i, x := range xs {
		ys[i] = 3 * math.Pow(x, -0.5)
	}
	f := FitPower(xs, ys)
	if math.Abs(f.A-3) > 1e-12 || math.Abs(f.B+0.5) > 1e-12 {
		t.Fatalf("fit %+v, want A=3 B=-0.5", f)
	}
	if f := FitPower([]float64{10}, []float64{1}); !math.IsNaN(f.B) {
		t.Fatal("a fit through one point is not NaN")
	}
}

// TestAggregateHandComputed checks min over algorithms of max over teachers
// of the mean over seeds on a small synthetic results set.
func TestAggregateHandComputed(t *testing.T) {
	// One checkpoint after epoch 0, so an algorithm is just a width.
	// L∞ values, indexed [m][width][teacher][seed]:
	//   m=10:  w8:  t0 (1, 3) → 2,   t1 (5, 7) → 6   → max 6
	//          w16: t0 (2, 2) → 2,   t1 (4, 4) → 4   → max 4   ⇒ min 4 (w16)
	//   m=100: w8:  t0 (1, 1) → 1,   t1 (2, 0) → 1   → max 1
	//          w16: t0 (3, 1) → 2,   t1 (1, 1) → 1   → max 2   ⇒ min 1 (w8)
	// L2 = L∞/2 and L1 = L∞/4 throughout.
	vals := map[[4]int]float64{
		{10, 8, 0, 0}: 1, {10, 8, 0, 1}: 3, {10, 8, 1, 0}: 5, {10, 8, 1, 1}: 7,
		{10, 16, 0, 0}: 2, {10, 16, 0, 1}: 2, {10, 16, 1, 0}: 4, {10, 16, 1, 1}: 4,
		{100, 8, 0, 0}: 1, {100, 8, 0, 1}: 1, {100, 8, 1, 0}: 2, {100, 8, 1, 1}: 0,
		{100, 16, 0, 0}: 3, {100, 16, 0, 1}: 1, {100, 16, 1, 0}: 1, {100, 16, 1, 1}: 1,
	}
	var recs []Record
	for k, v := range vals {
		c := Default()
		c.Samples, c.Width, c.TeacherSeed = k[0], k[1], uint64(k[2])
		c.DataSeed, c.InitSeed = uint64(10000+k[3]), uint64(10000+k[3])
		recs = append(recs, Record{Hash: ConfigHash(c), Config: c, History: []Checkpoint{
			{Epoch: 0, Metrics: Metrics{L1: 99, L2: 99, Linf: 99}},
			{Epoch: 200, Metrics: Metrics{L1: v / 4, L2: v / 2, Linf: v}},
		}})
	}
	recs = append(recs, Record{Hash: "failed", Config: Default(), Error: "diverged"})
	reps := Aggregate(recs)
	if len(reps) != 1 || len(reps[0].Points) != 2 {
		t.Fatalf("got %d reports, want 1 with 2 points", len(reps))
	}
	p := reps[0].Points
	want := []struct {
		m    int
		linf float64
		best string
	}{{10, 4, "width 16"}, {100, 1, "width 8"}}
	for i, w := range want {
		if p[i].M != w.m || p[i].Err[2] != w.linf || p[i].Err[1] != w.linf/2 || p[i].Err[0] != w.linf/4 {
			t.Fatalf("m=%d: errors %v, want L∞ %v", p[i].M, p[i].Err, w.linf)
		}
		if p[i].Teachers != 2 || p[i].Seeds != 2 || p[i].Algos != 2 || p[i].Best[2][:len(w.best)] != w.best {
			t.Fatalf("m=%d: %+v", w.m, p[i])
		}
	}
	// L∞ from 4 to 1 over one decade: slope log10(1/4) = −0.602.
	if b := reps[0].Fits[2].B; math.Abs(b-math.Log10(0.25)) > 1e-12 {
		t.Fatalf("L∞ slope %v, want %v", b, math.Log10(0.25))
	}
	if r := reps[0].RefSlope; r[0] != -2 || r[1] != -1.5 || r[2] != -1 {
		t.Fatalf("reference slopes %v, want −2, −1.5, −1 for d=1", r)
	}
}
