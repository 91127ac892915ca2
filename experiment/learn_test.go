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
	if _, _, err := LoadData(p, 1); err == nil || !strings.Contains(err.Error(), `d.csv:2: "zero" is not a finite number`) {
		t.Fatalf("err %v", err)
	}
	// A byte-order mark is not a header: the first sample is kept.
	os.WriteFile(p, []byte("\xef\xbb\xbf-0.25,1\n0.25,2\n"), 0o644)
	if x, y, err := LoadData(p, 1); err != nil || len(y) != 2 || x[0] != -0.25 {
		t.Fatalf("with a BOM: x %v y %v err %v", x, y, err)
	}
	// A first line with a number in it is data, not a header: NaN is named.
	os.WriteFile(p, []byte("NaN,1\n0.25,2\n"), 0o644)
	if _, _, err := LoadData(p, 1); err == nil || !strings.Contains(err.Error(), `d.csv:1: "NaN" is not a finite number`) {
		t.Fatalf("NaN on the first line: %v", err)
	}
	// Targets whose square overflows are refused; a huge field is quoted short.
	os.WriteFile(p, []byte("0.1,1e200\n"), 0o644)
	if _, _, err := LoadData(p, 1); err == nil || !strings.Contains(err.Error(), "y = 1e+200 is too large") {
		t.Fatalf("y = 1e200: %v", err)
	}
	os.WriteFile(p, []byte("0.1,"+strings.Repeat("9x", 5<<20)+"\n"), 0o644)
	if _, _, err := LoadData(p, 1); err == nil || len(err.Error()) > 200 {
		t.Fatalf("a 10 MB field: %d bytes of message", len(err.Error()))
	}
	if InCube([]float64{-0.5, 0.2}) != 0 || InCube([]float64{-1, 0.7}) != 1 {
		t.Fatal("InCube")
	}
	os.WriteFile(p, []byte("-1,1,2\n"), 0o644)
	if _, _, err := LoadData(p, 1); err == nil || !strings.Contains(err.Error(), "3 columns, want 2") {
		t.Fatalf("err %v", err)
	}
}
