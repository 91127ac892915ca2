package learners

import (
	"context"
	"reflect"
	"testing"
)

// TestRegistry: the three learners are registered by name, a name not
// registered is an error, a second registration panics, and every
// registered learner fits a small 1-D instance at least as well as the
// zero network (Σy²), reporting the work it counts.
func TestRegistry(t *testing.T) {
	if got, want := Names(), []string{"discrete", "enumerate", "exact-erm"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	if _, err := Get("sgd"); err == nil {
		t.Fatal("Get of an unregistered learner did not fail")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("registering exact-erm twice did not panic")
			}
		}()
		Register(exactERM{})
	}()
	x := []float64{-0.4, -0.2, 0, 0.2, 0.4}
	y := []float64{0.4, 0.2, 0, 0.2, 0.4} // |x|: one unit pair fits it
	zero := 0.0
	for _, v := range y {
		zero += v * v
	}
	for _, n := range Names() {
		l, _ := Get(n)
		p := Problem{Dim: 1, Width: 2, Samples: len(y), OutputBias: true, Set: "-1,0,1", Eps: 0.1}
		if err := l.Check(p); err != nil {
			t.Fatalf("%s refuses 5 samples at width 2: %v", n, err)
		}
		r, err := l.Fit(context.Background(), p, x, y)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if r.Loss > zero || r.Work <= 0 || r.Net == nil || l.What() == "" || l.Unit() == "" {
			t.Fatalf("%s: loss %g (zero network %g), work %d, net %v", n, r.Loss, zero, r.Work, r.Net != nil)
		}
	}
	// exact-erm finds |x| exactly: relu(x) + relu(−x).
	r, _ := exactERM{}.Fit(context.Background(), Problem{Dim: 1, Width: 2, Samples: 5, OutputBias: true}, x, y)
	if r.Loss > 1e-20 {
		t.Fatalf("exact-erm on |x|: loss %g, want 0", r.Loss)
	}
	// Check refuses what is too big, with the estimate.
	if err := (exactERM{}).Check(Problem{Dim: 2, Width: 3, Samples: 1000}); err == nil {
		t.Fatal("exact-erm at 1000 samples, d = 2, width 3 was not refused")
	}
}
