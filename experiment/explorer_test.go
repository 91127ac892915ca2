package experiment

import (
	"context"
	"math"
	"testing"
)

// explorerTestConfig is the explorer tests' small setting.
func explorerTestConfig() Config {
	c := Default()
	c.Depth, c.TeacherWidth, c.Width = 3, 16, 16
	c.Samples, c.Epochs = 200, 40
	c.Batch = Batch{Size: 50}
	c.LR, c.LREnd = 3e-3, 3e-5
	c.EvalPoints, c.EvalEvery = 0, 0 // the explorer's choice
	return c
}

func TestExplorerConfig(t *testing.T) {
	c := Default()
	c.EvalPoints, c.EvalEvery = 0, 0 // the explorer's to choose
	e := ExplorerConfig(c)
	if e.EvalEvery != 2 || e.EvalPoints < 4096 || e.EvalPoints > 65536 {
		t.Fatalf("explorer eval every %d on %d points", e.EvalEvery, e.EvalPoints)
	}
	c.Width = 512
	if ExplorerConfig(c).EvalPoints > e.EvalPoints*4 {
		t.Fatal("a 256× larger student got many more evaluation points")
	}
	// What the user set is kept (--eval-points, --eval-every).
	c.EvalPoints, c.EvalEvery = 1000, 7
	if e := ExplorerConfig(c); e.EvalPoints != 1000 || e.EvalEvery != 7 {
		t.Fatalf("the user's eval points 1000 every 7 became %d every %d", e.EvalPoints, e.EvalEvery)
	}
}

func TestComplexityConfigs(t *testing.T) {
	// The rungs follow the reduced paper protocol: batch 100, 1000 epochs
	// (10 steps per sample: 1000 at m = 10, 100k at m = 10⁴), at most 2.5e11
	// FLOPs but never below 4000 steps, the exact sup in 1-D.
	cfg := explorerTestConfig()
	cfgs := ComplexityConfigs(cfg)
	if len(cfgs) != 7 || cfgs[0].Samples != 10 || cfgs[6].Samples != 10000 {
		t.Fatalf("sample-complexity configs: %+v", cfgs)
	}
	if s0, s6 := cfgs[0].Epochs*cfgs[0].StepsPerEpoch(), cfgs[6].Epochs*cfgs[6].StepsPerEpoch(); s0 != 1000 || s6 != 100000 {
		t.Fatalf("rung steps %d (m = 10) and %d (m = 10⁴), want 1000 and 100000", s0, s6)
	}
	for _, c := range cfgs {
		if c.BatchSize() != min(100, c.Samples) || c.Sup != SupFinal || c.LR != cfg.LR {
			t.Fatalf("m = %d: batch %d, sup %q, lr %g; want batch 100 (or m), the exact sup, the setting's lr", c.Samples, c.BatchSize(), c.Sup, c.LR)
		}
	}
	wide := cfg
	wide.Width = 512 // the FLOP cap is below the 4000-step floor
	if c := ComplexityConfigs(wide)[6]; c.Epochs*c.StepsPerEpoch() != 4000 {
		t.Fatalf("width 512: %d steps at m = 10⁴, want the floor 4000", c.Epochs*c.StepsPerEpoch())
	}
	d3 := cfg
	d3.Dim = 3
	if c := ComplexityConfigs(d3)[0]; c.Sup != SupSampled {
		t.Fatalf("d = 3: sup %q, want sampled (a bracket per rung is too slow)", c.Sup)
	}
}

// TestFoolProfile: the bump drawn in the view is the real network of the
// teacher's class: zero on every training sample, as tall as reported in
// the peak's column, and taller with depth and width.
func TestFoolProfile(t *testing.T) {
	cfg := explorerTestConfig()
	x := TrainingInputs(cfg)
	student := InitStudent(cfg)
	fd, err := NewFoolProfile(context.Background(), cfg, student, x, 60, nil)
	if err != nil || fd.Why != "" {
		t.Fatal(err, fd.Why)
	}
	f := fd.Fool
	if fd.OnData > 1e-12 {
		t.Fatalf("the bump is %g on a sample, want 0", fd.OnData)
	}
	pc := int((f.Center[0] + 0.5) * 60)
	pc = min(59, pc)
	if got := fd.Plus[pc] - fd.Student[pc]; math.Abs(got-f.Height) > 1e-9*f.Height {
		t.Fatalf("the peak column rises %g above the student, the bump's height is %g", got, f.Height)
	}
	// Per layer the height grows by c·N (here 0.5·16 = 8); halving the
	// width lowers it.
	if r := fd.ByDepth[2] / fd.ByDepth[1]; math.Abs(r-cfg.Coef*float64(cfg.TeacherWidth)) > 1e-9 {
		t.Fatalf("one more layer multiplies the height by %g, want c·N = %g", r, cfg.Coef*float64(cfg.TeacherWidth))
	}
	if !(fd.ByWidth[0] < fd.ByWidth[1] && fd.ByWidth[1] < fd.ByWidth[2]) {
		t.Fatalf("height by width %v does not grow", fd.ByWidth)
	}
	if fd.ByDepth[1] != f.Height || fd.ByWidth[1] != f.Height {
		t.Fatalf("the class's own height %g is not in the rows %v %v", f.Height, fd.ByDepth, fd.ByWidth)
	}
	n := 0
	for _, c := range fd.Rug {
		n += c
	}
	if n != cfg.Samples {
		t.Fatalf("the rug holds %d samples, want %d", n, cfg.Samples)
	}
	// The student's line is the student.
	y, err := PredictNet(student, []float64{-0.5 + (10*FoolFine+FoolFine/2+0.5)/(60*FoolFine)}, 1)
	if err != nil || math.Abs(y[0]-fd.Student[10]) > 1e-12 {
		t.Fatalf("student column 10 = %g, the network gives %v (%v)", fd.Student[10], y, err)
	}
	// The sine target has no class: a note, not a bump.
	cfg.Target = TargetSine
	fd, err = NewFoolProfile(context.Background(), cfg, student, x, 60, nil)
	if err != nil || fd.Why == "" {
		t.Fatalf("sine target: err %v, note %q", err, fd.Why)
	}
}
