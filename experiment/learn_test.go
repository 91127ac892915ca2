package experiment

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExactERMBeatsAdamRestarts: on random tiny teacher instances exact ERM
// is never worse than the best of 50 Adam restarts of the same shape on the
// same samples (no output bias for the optimum, which Adam's student has:
// the optimum over a smaller class is compared, so it is the stronger test).
func TestExactERMBeatsAdamRestarts(t *testing.T) {
	for _, m := range []int{6, 9} {
		cfg := Default()
		cfg.Samples, cfg.Width, cfg.Epochs, cfg.LR, cfg.LREnd = m, 2, 300, 1e-2, 1e-3
		cfg.Batch = Batch{Size: m}
		cfg.EvalPoints, cfg.Sup = 1024, SupSampled
		erm := cfg
		erm.Learner, erm.NoOutputBias = "exact-erm", true
		res, err := Run(context.Background(), erm, Options{}, func(Event) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		opt := res.Learner.Loss
		best := math.Inf(1)
		for seed := uint64(0); seed < 50; seed++ {
			a := cfg
			a.StudentDepth = 2
			a.InitSeed = seed
			ar, err := Run(context.Background(), a, Options{Threads: 1}, func(Event) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			// Adam's final full-batch loss: its epoch loss is the mean over
			// the one batch before the step; evaluate the network itself.
			y := make([]float64, m)
			x := TrainingInputs(a)
			tn := SampleTeacher(a)
			loss := 0.0
			for j := range y {
				e := ar.Student.Eval(x[j:j+1]) - tn.Eval(x[j:j+1])
				loss += e * e
			}
			best = math.Min(best, loss)
		}
		if opt > best+1e-9 {
			t.Fatalf("m=%d: exact ERM %v, the best of 50 Adam restarts %v", m, opt, best)
		}
		t.Logf("m=%d: exact ERM %.3g, best of 50 Adam restarts %.3g", m, opt, best)
	}
}

// TestLoadData: a header is skipped, a wrong row is named.
func TestLoadData(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "d.csv")
	os.WriteFile(p, []byte("x,y\n-1,1\n0, 0\n1,1\n"), 0o644)
	x, y, err := LoadData(p, 1)
	if err != nil || len(x) != 3 || y[0] != 1 || y[1] != 0 {
		t.Fatalf("x %v y %v err %v", x, y, err)
	}
	os.WriteFile(p, []byte("-1,1\n0,zero\n"), 0o644)
	if _, _, err := LoadData(p, 1); err == nil || !strings.Contains(err.Error(), `d.csv:2: "zero" is not a number`) {
		t.Fatalf("err %v", err)
	}
	os.WriteFile(p, []byte("-1,1,2\n"), 0o644)
	if _, _, err := LoadData(p, 1); err == nil || !strings.Contains(err.Error(), "3 columns, want 2") {
		t.Fatalf("err %v", err)
	}
}
