package report

import (
	"fmt"
	"math"
	"testing"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
)

// handSweep: m ∈ {100, 1000} × algorithms A (width 16), B (width 32) × 2
// teachers × 2 seeds, every metric equal to the value given; B's run at
// m = 1000, teacher 1, seed 2 diverged.
func handSweep() []results.Record {
	vals := map[string][]float64{ // m/algo → t1s1, t1s2, t2s1, t2s2
		"100/A": {1, 3, 5, 7}, "100/B": {2, 2, 4, 4},
		"1000/A": {1, 1, 3, 3}, "1000/B": {0.5, math.NaN(), 0.5, 0.5},
	}
	var out []results.Record
	for key, v := range vals {
		var m, w int
		var algo string
		fmt.Sscanf(key, "%d/%s", &m, &algo)
		w = map[string]int{"A": 16, "B": 32}[algo]
		for i, x := range v {
			c := experiment.Default()
			c.Samples, c.Width, c.TeacherSeed = m, w, uint64(1+i/2)
			c.DataSeed, c.InitSeed = uint64(i%2), uint64(i%2)
			r := results.Record{Hash: experiment.ConfigHash(c), Config: c}
			if math.IsNaN(x) {
				r.Error = "diverged in epoch 3"
				r.History = []experiment.Checkpoint{{}}
			} else {
				r.History = []experiment.Checkpoint{{}, {Epoch: c.Epochs, Metrics: experiment.Metrics{L1: x, L2: x, Linf: x}}}
			}
			out = append(out, r)
		}
	}
	return out
}

// TestMinAvgAndTheNaNRule checks the two curves and both rules for failed
// runs against the table worked out by hand:
//
//	m = 100:  A: teacher means 2, 6 → max 6, avg 4;  B: 2, 4 → max 4, avg 3
//	          min-max 4, min-avg 3
//	m = 1000: A: 1, 3 → max 3, avg 2;  B: NaN (a diverged seed), 0.5
//	          NaN rule: B drops out → min-max 3, min-avg 2, 1 dropped
//	          skip rule: B's teacher 1 mean is 0.5 → min-max 0.5, min-avg 0.5
func TestMinAvgAndTheNaNRule(t *testing.T) {
	for _, tc := range []struct {
		skip         bool
		max1k, avg1k float64
		dropped1k    int
		algos1k      int
	}{
		{false, 3, 2, 1, 1},
		{true, 0.5, 0.5, 0, 2},
	} {
		reps := AggregateWith(handSweep(), tc.skip)
		if len(reps) != 1 || len(reps[0].Points) != 2 {
			t.Fatalf("skip=%v: %d reports", tc.skip, len(reps))
		}
		p100, p1k := reps[0].Points[0], reps[0].Points[1]
		for _, k := range Metrics {
			if p100.Err[k] != 4 || p100.Avg[k] != 3 || p100.Dropped != 0 {
				t.Fatalf("skip=%v m=100 %s: min-max %v, min-avg %v, dropped %d; want 4, 3, 0", tc.skip, k, p100.Err[k], p100.Avg[k], p100.Dropped)
			}
			if p1k.Err[k] != tc.max1k || p1k.Avg[k] != tc.avg1k || p1k.Dropped != tc.dropped1k || p1k.Algos != tc.algos1k {
				t.Fatalf("skip=%v m=1000 %s: min-max %v, min-avg %v, dropped %d, algorithms %d; want %v, %v, %d, %d",
					tc.skip, k, p1k.Err[k], p1k.Avg[k], p1k.Dropped, p1k.Algos, tc.max1k, tc.avg1k, tc.dropped1k, tc.algos1k)
			}
		}
		// The slopes of both curves: two points, exact.
		if want := math.Log10(tc.max1k / 4); math.Abs(reps[0].Fits[L2].B-want) > 1e-12 {
			t.Fatalf("min-max slope %v, want %v", reps[0].Fits[L2].B, want)
		}
		if want := math.Log10(tc.avg1k / 3); math.Abs(reps[0].AvgFits[L2].B-want) > 1e-12 {
			t.Fatalf("min-avg slope %v, want %v", reps[0].AvgFits[L2].B, want)
		}
	}
}
