package learners

import (
	"context"
	"math"
	"reflect"
	"strings"
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

// TestChecksRefuseBeforeAllocating: the repros of instances that ran out
// of memory (an ε-net of 6·10⁹ directions; a DP of 1000 samples at width
// 32) are refused by Check, which counts and does not build; UnitNet
// refuses them too; UnitNetSize equals the net it counts.
func TestChecksRefuseBeforeAllocating(t *testing.T) {
	en, _ := Get("enumerate")
	if err := en.Check(Problem{Dim: 1, Width: 32, Samples: 1000, Eps: 1e-9}); err == nil {
		t.Fatal("enumerate with ε = 1e-9 was not refused")
	}
	if _, err := UnitNet(2, 1e-5); err == nil {
		t.Fatal("UnitNet(2, 1e-5) (about 4·10¹⁰ directions) was not refused")
	}
	for _, c := range []struct {
		d   int
		eps float64
	}{{1, 0.1}, {1, 0.013}, {2, 0.1}, {2, 0.05}} {
		net, err := UnitNet(c.d, c.eps)
		if err != nil {
			t.Fatal(err)
		}
		if n := UnitNetSize(c.d, c.eps); n != float64(len(net)) {
			t.Fatalf("UnitNetSize(%d, %g) = %g, the net has %d", c.d, c.eps, n, len(net))
		}
	}
	// The DP's states are bounded by memory (1 GiB): at 1000 samples and
	// width 32 it stops at its bound with an error, not at 8.8 GB.
	dc, _ := Get("discrete")
	p := Problem{Dim: 1, Width: 32, Samples: 1000, Set: "-1,0,1"}
	x, y := make([]float64, p.Samples), make([]float64, p.Samples)
	for i := range x {
		x[i] = -1 + 2*float64(i)/float64(p.Samples-1)
		y[i] = math.Sin(7 * x[i])
	}
	if err := dc.Check(p); err == nil {
		if _, err := dc.Fit(context.Background(), p, x, y); err == nil || !strings.Contains(err.Error(), "states") {
			t.Fatalf("discrete DP at 1000 samples, width 32: %v, want its bound on states", err)
		}
	}
	if n := discreteStates(p.Samples, p.Width); n*24*p.Samples*p.Width > MaxDiscreteBytes {
		t.Fatalf("%d states of %d samples exceed %d bytes", n, p.Samples, MaxDiscreteBytes)
	}
	if err := dc.Check(Problem{Dim: 1, Width: 2, Samples: 20, Set: "-1,0,1"}); err != nil {
		t.Fatalf("discrete at 20 samples, width 2: %v", err)
	}
}
