package report

import (
	"math"
	"testing"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
	"github.com/reluscope/reluscope/experiment/uniform"
)

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
	var recs []results.Record
	for k, v := range vals {
		c := experiment.Default()
		c.Samples, c.Width, c.TeacherSeed = k[0], k[1], uint64(k[2])
		c.DataSeed, c.InitSeed = uint64(10000+k[3]), uint64(10000+k[3])
		recs = append(recs, results.Record{Hash: experiment.ConfigHash(c), Config: c, History: []experiment.Checkpoint{
			{Epoch: 0, Metrics: experiment.Metrics{L1: 99, L2: 99, Linf: 99}},
			{Epoch: 200, Metrics: experiment.Metrics{L1: v / 4, L2: v / 2, Linf: v}},
		}})
	}
	recs = append(recs, results.Record{Hash: "failed", Config: experiment.Default(), Error: "diverged"})
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
		if p[i].M != w.m || p[i].Err[Linf] != w.linf || p[i].Err[L2] != w.linf/2 || p[i].Err[L1] != w.linf/4 {
			t.Fatalf("m=%d: errors %v, want L∞ %v", p[i].M, p[i].Err, w.linf)
		}
		if p[i].Teachers != 2 || p[i].Seeds != 2 || p[i].Algos != 2 || p[i].Best[Linf][:len(w.best)] != w.best {
			t.Fatalf("m=%d: %+v", w.m, p[i])
		}
	}
	// L∞ from 4 to 1 over one decade: slope log10(1/4) = −0.602.
	if b := reps[0].Fits[Linf].B; math.Abs(b-math.Log10(0.25)) > 1e-12 {
		t.Fatalf("L∞ slope %v, want %v", b, math.Log10(0.25))
	}
	if r := reps[0].RefSlope; r[0] != -2 || r[1] != -1.5 || r[2] != -1 {
		t.Fatalf("reference slopes %v, want −2, −1.5, −1 for d=1", r)
	}
}

// TestAggregateSup: the true sup's bounds are aggregated as the sampled L∞
// is, over the checkpoints that carry them; an algorithm where a teacher
// lacks one drops out of the min.
func TestAggregateSup(t *testing.T) {
	var recs []results.Record
	for teacher := 0; teacher < 2; teacher++ {
		for _, w := range []int{8, 16} {
			c := experiment.Default()
			c.Samples, c.Width, c.TeacherSeed = 100, w, uint64(teacher)
			// Upper bounds: w8: t0 3, t1 5 → max 5; w16: t0 4, t1 (none) → unknown.
			up := map[[2]int]float64{{8, 0}: 3, {8, 1}: 5, {16, 0}: 4}[[2]int{w, teacher}]
			final := experiment.Checkpoint{Epoch: 200, Metrics: experiment.Metrics{L1: 1, L2: 1, Linf: 1}}
			if up > 0 {
				final.Bracket = &uniform.Bracket{Lower: up - 1, Upper: up, Method: uniform.MethodBracket}
			}
			recs = append(recs, results.Record{Hash: experiment.ConfigHash(c), Config: c, History: []experiment.Checkpoint{{}, final}})
		}
	}
	p := Aggregate(recs)[0].Points[0]
	if p.Err[SupUpper] != 5 || p.Err[SupLower] != 4 || p.Err[Linf] != 1 {
		t.Fatalf("sup bounds %v / %v (L∞ %v), want 5 / 4", p.Err[SupUpper], p.Err[SupLower], p.Err[Linf])
	}
}
