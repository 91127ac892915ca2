package tui

import (
	"math"
	"testing"

	"github.com/reluscope/reluscope/experiment"
)

// TestComputeFool: the bump drawn in the view is the real network of the
// teacher's class: zero on every training sample, as tall as reported in
// the peak's column, and taller with depth and width.
func TestComputeFool(t *testing.T) {
	cfg := testConfig()
	x := experiment.TrainingInputs(cfg)
	student := experiment.InitStudent(cfg)
	fd, err := computeFool(1, cfg, student, x, 60, nil)
	if err != nil || fd.err != "" {
		t.Fatal(err, fd.err)
	}
	f := fd.fool
	if fd.onData > 1e-12 {
		t.Fatalf("the bump is %g on a sample, want 0", fd.onData)
	}
	pc := int((f.Center[0] + 0.5) * 60)
	pc = min(59, pc)
	if got := fd.plus[pc] - fd.student[pc]; math.Abs(got-f.Height) > 1e-9*f.Height {
		t.Fatalf("the peak column rises %g above the student, the bump's height is %g", got, f.Height)
	}
	// Per layer the height grows by c·N (here 0.5·16 = 8); halving the
	// width lowers it.
	if r := fd.byDepth[2] / fd.byDepth[1]; math.Abs(r-cfg.Coef*float64(cfg.TeacherWidth)) > 1e-9 {
		t.Fatalf("one more layer multiplies the height by %g, want c·N = %g", r, cfg.Coef*float64(cfg.TeacherWidth))
	}
	if !(fd.byWidth[0] < fd.byWidth[1] && fd.byWidth[1] < fd.byWidth[2]) {
		t.Fatalf("height by width %v does not grow", fd.byWidth)
	}
	if fd.byDepth[1] != f.Height || fd.byWidth[1] != f.Height {
		t.Fatalf("the class's own height %g is not in the rows %v %v", f.Height, fd.byDepth, fd.byWidth)
	}
	n := 0
	for _, c := range fd.rug {
		n += c
	}
	if n != cfg.Samples {
		t.Fatalf("the rug holds %d samples, want %d", n, cfg.Samples)
	}
	// The student's line is the student.
	y, err := predictAll(student, []float64{-0.5 + (10*foolFine+foolFine/2+0.5)/(60*foolFine)}, 1)
	if err != nil || math.Abs(y[0]-fd.student[10]) > 1e-12 {
		t.Fatalf("student column 10 = %g, the network gives %v (%v)", fd.student[10], y, err)
	}
	// The sine target has no class: a note, not a bump.
	cfg.Target = experiment.TargetSine
	fd, err = computeFool(1, cfg, student, x, 60, nil)
	if err != nil || fd.err == "" {
		t.Fatalf("sine target: err %v, note %q", err, fd.err)
	}
}
