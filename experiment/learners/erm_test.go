package learners

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// TestExactERMToy: on {(−1, 1), (0, 0), (1, 1)} without an output bias one
// unit reaches a summed squared loss of 2/3, two reach 0 (|x| = relu(x) +
// relu(−x)).
func TestExactERMToy(t *testing.T) {
	x, y := []float64{-1, 0, 1}, []float64{1, 0, 1}
	for _, tc := range []struct {
		w    int
		want float64
	}{{1, 2.0 / 3}, {2, 0}} {
		r, err := ExactERM(context.Background(), x, y, 1, ERMOptions{Width: tc.w})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.Loss-tc.want) > 1e-9 {
			t.Fatalf("width %d: loss %v, want %v (%d subproblems)", tc.w, r.Loss, tc.want, r.Work)
		}
		// The network returned has that loss.
		got := 0.0
		for j := range y {
			e := r.Net.Eval(x[j:j+1]) - y[j]
			got += e * e
		}
		if math.Abs(got-r.Loss) > 1e-9 {
			t.Fatalf("width %d: the network's loss %v, reported %v", tc.w, got, r.Loss)
		}
	}
}

// TestDichotomyCounts: points in general position have 2·Σ_{k≤d} C(m−1, k)
// hyperplane dichotomies.
func TestDichotomyCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, d := range []int{1, 2} {
		for _, m := range []int{3, 5, 8} {
			x := make([]float64, m*d)
			for i := range x {
				x[i] = rng.Float64() - 0.5
			}
			ds, err := Dichotomies(x, d)
			if err != nil {
				t.Fatal(err)
			}
			want := 0.0
			for k := 0; k <= d; k++ {
				want += binom(m-1, k)
			}
			if float64(len(ds)) != 2*want {
				t.Fatalf("d=%d m=%d: %d dichotomies, want %v", d, m, len(ds), 2*want)
			}
		}
	}
}

// TestExactERMMatchesGridSearch: for one unit (d = 1) the optimum over the
// direction θ of (a, b) and the sign, with the best scale in closed form,
// on a grid of 200000 angles; exact ERM is never worse, and the grid comes
// within its resolution.
func TestExactERMMatchesGridSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 5; trial++ {
		m := 6
		x, y := make([]float64, m), make([]float64, m)
		for j := range x {
			x[j], y[j] = rng.Float64()-0.5, rng.Float64()-0.5
		}
		r, err := ExactERM(context.Background(), x, y, 1, ERMOptions{Width: 1})
		if err != nil {
			t.Fatal(err)
		}
		grid := dot(y, y)
		const n = 200000
		u := make([]float64, m)
		for k := 0; k < n; k++ {
			th := 2 * math.Pi * float64(k) / n
			for _, s := range []float64{1, -1} {
				for j := range u {
					u[j] = s * math.Max(0, math.Cos(th)*x[j]+math.Sin(th))
				}
				uu := dot(u, u)
				if uu == 0 {
					continue
				}
				rr := math.Max(0, dot(u, y)/uu)
				loss := dot(y, y) - 2*rr*dot(u, y) + rr*rr*uu
				grid = math.Min(grid, loss)
			}
		}
		if r.Loss > grid+1e-9 || grid-r.Loss > 1e-4 {
			t.Fatalf("trial %d: exact ERM %v, grid search %v", trial, r.Loss, grid)
		}
	}
}

// TestExactERMRefusesHugeInstances: the subproblem count is estimated and
// refused up front.
func TestExactERMRefusesHugeInstances(t *testing.T) {
	x := make([]float64, 2*200)
	y := make([]float64, 200)
	if _, err := ExactERM(context.Background(), x, y, 2, ERMOptions{Width: 3}); err == nil {
		t.Fatal("200 samples in 2-D at width 3 was accepted")
	}
}
