package experiment

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

// RunCost against the counts worked out by hand for a small config.
func TestRunCostByHand(t *testing.T) {
	c := Default()
	c.Dim, c.Depth, c.Width, c.TeacherWidth = 2, 3, 4, 5
	c.Samples, c.Batch, c.Epochs, c.EvalEvery, c.EvalPoints = 10, Batch{Size: 4}, 6, 2, 100
	c.Sup, c.SupSeconds = SupFinal, 7
	k := RunCost(c)
	// student 2→4→4→1: 8+4 + 16+4 + 4+1 = 37 parameters; teacher 2→5→5→1:
	// 10+5 + 25+5 + 5+1 = 51. Steps ⌈10/4⌉·6 = 18; checkpoints 0, 2, 4, 6.
	if k.Steps != 18 || k.Checkpoints != 4 {
		t.Fatalf("steps %d checkpoints %d, want 18 and 4", k.Steps, k.Checkpoints)
	}
	if k.TrainFLOP != 6*37*10*6 || k.EvalFLOP != 2*(37+51)*100*4 || k.SupSeconds != 7 {
		t.Fatalf("cost %+v", k)
	}
	if k.FLOP() != k.TrainFLOP+k.EvalFLOP {
		t.Fatal("FLOP is not train + eval")
	}
	r := Rate{StepSeconds: 1e-3, FLOPS: 1e6}
	if got, want := r.Seconds(k), 18e-3+k.FLOP()/1e6+7; math.Abs(got-want) > 1e-12 {
		t.Fatalf("Seconds = %g, want %g", got, want)
	}
	c.Dim = 1 // exact sups are not counted
	if RunCost(c).SupSeconds != 0 {
		t.Fatal("a 1-D sup was counted")
	}
	c.Learner, c.StudentDepth = "exact-erm", 2
	if k := RunCost(c); k.Steps != 0 || k.TrainFLOP != 0 || k.Checkpoints != 2 {
		t.Fatalf("a learner's cost %+v", k)
	}
}

func TestClockAndCounts(t *testing.T) {
	for d, want := range map[time.Duration]string{
		59 * time.Second: "0:59", 61 * time.Minute: "1:01:00", 100 * time.Hour: "4 days 4 h",
	} {
		if got := Clock(d); got != want {
			t.Errorf("Clock(%v) = %q, want %q", d, got, want)
		}
	}
	if FLOPCount(3.1e15) != "3.1 PFLOP" || CountWord(4100) != "4.1k" || CountWord(820) != "820" {
		t.Fatal(FLOPCount(3.1e15), CountWord(4100), CountWord(820))
	}
}

// Plainly short runs are not measured; a long one is estimated from a
// measured rate that is positive and finite.
func TestEstimate(t *testing.T) {
	forgetRates(t)
	// The explorer's default run, 3.5·10¹¹ flops and 1000 steps, is
	// under ten minutes even at 1 GFLOP/s: not measured.
	if d, why, err := Estimate(ExplorerConfig(Default()), 1); err != nil || d != 0 || why != "" || !PlainlyShort(ExplorerConfig(Default())) {
		t.Fatalf("Estimate(default) = %v %q %v", d, why, err)
	}
	// 7·10⁶ steps at 100 µs: 700 s, over ten minutes at the slow rate.
	steps := Default()
	steps.Width, steps.TeacherWidth, steps.Samples, steps.Batch, steps.Epochs, steps.EvalPoints = 1, 1, 1, Batch{Size: 1}, 7_000_000, 1
	if k := RunCost(steps); k.Steps != 7e6 || PlainlyShort(steps) {
		t.Fatalf("7·10⁶ steps plainly short: %+v", k)
	}
	steps.Epochs = 5_000_000
	if !PlainlyShort(steps) {
		t.Fatal("5·10⁶ tiny steps (500 s at the slow rate) not plainly short")
	}
	c := Default()
	c.Width, c.Samples, c.Epochs = 2048, 100000, 5000
	d, why, err := Estimate(c, 1)
	if err != nil || d < time.Hour || !strings.HasSuffix(why, "(measured now)") {
		t.Fatalf("width 2048, m = 10⁵, 5000 epochs estimated at %v (%q, %v)", d, why, err)
	}
}

// A run's Control follows each evaluation: while one runs its total is
// the checkpoint's points, and every point is counted once.
func TestControlFollowsEvaluation(t *testing.T) {
	cfg := Default()
	cfg.Width, cfg.Depth, cfg.TeacherWidth, cfg.Samples, cfg.Epochs, cfg.EvalPoints, cfg.EvalEvery = 8, 3, 8, 20, 2, 50000, 1
	ctl := NewControl()
	var seen []EvalProgress
	_, err := Run(context.Background(), cfg, Options{Control: ctl}, func(ev Event) error {
		seen = append(seen, ctl.Evaluation())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Between evaluations (at every event) none is in progress; the last
	// one counted all its points.
	for _, p := range seen {
		if p.Total != 0 {
			t.Fatalf("an evaluation shown in progress between checkpoints: %+v", p)
		}
	}
	if p := ctl.Evaluation(); p.Total != 0 || p.Done != cfg.EvalPoints || p.K != cfg.Epochs {
		t.Fatalf("after the run: %+v, want checkpoint %d with all %d points done", p, cfg.Epochs, cfg.EvalPoints)
	}
	// The parallel path counts each chunk once too.
	ctl2 := NewControl()
	if _, err := Run(context.Background(), cfg, Options{Control: ctl2, Threads: 2}, func(Event) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if p := ctl2.Evaluation(); p.Done != cfg.EvalPoints {
		t.Fatalf("2 threads: %d of %d points counted", p.Done, cfg.EvalPoints)
	}
}
