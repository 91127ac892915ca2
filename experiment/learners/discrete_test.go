package learners

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDiscreteDPEqualsBruteForce: on random tiny integer instances (1-D and
// 2-D inputs, S = {−1, 0, 1} or {−2, 0, 1, 2}, widths 1–2, with and without
// the output bias) the dynamic program reaches the brute force's optimum,
// and its network has that loss.
func TestDiscreteDPEqualsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	ctx := context.Background()
	for trial := 0; trial < 12; trial++ {
		d := 1 + trial%2
		w := 1 + (trial/2)%2
		S := []float64{-1, 0, 1}
		if trial%3 == 0 {
			S = []float64{-2, 0, 1, 2}
		}
		bias := trial%4 != 1
		m := 3 + trial%3
		x, y := make([]float64, m*d), make([]float64, m)
		for i := range x {
			x[i] = float64(rng.IntN(5) - 2)
		}
		for j := range y {
			y[j] = float64(rng.IntN(7) - 3)
		}
		bf, err := DiscreteBrute(ctx, x, y, d, w, S, bias, 1e7)
		if err != nil {
			t.Fatal(err)
		}
		dp, err := DiscreteDP(ctx, x, y, d, w, S, bias, 1e6)
		if err != nil {
			t.Fatal(err)
		}
		if dp.Loss != bf.Loss {
			t.Fatalf("trial %d (d=%d w=%d |S|=%d bias=%v): DP %v, brute force %v", trial, d, w, len(S), bias, dp.Loss, bf.Loss)
		}
		got := 0.0
		for j := range y {
			e := dp.Net.Eval(x[j*d:(j+1)*d]) - y[j]
			got += e * e
		}
		if math.Abs(got-dp.Loss) > 1e-9 {
			t.Fatalf("trial %d: the DP's network has loss %v, it reported %v", trial, got, dp.Loss)
		}
	}
}

// TestEnumerateWithinItsMargin: on data from one planted ReLU v·relu(u·(x,1))
// with |u| = 1, the ε-net holds a direction within angle ε of u, so the
// best loss is at most m·(|v|·ε·max‖(x,1)‖)²; and it shrinks with ε.
func TestEnumerateWithinItsMargin(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	m := 20
	x, y := make([]float64, m), make([]float64, m)
	th := 0.7
	u := []float64{math.Cos(th), math.Sin(th)}
	v := 1.5
	for j := range x {
		x[j] = rng.Float64() - 0.5
		y[j] = v * math.Max(0, u[0]*x[j]+u[1])
	}
	prev := math.Inf(1)
	for _, eps := range []float64{0.2, 0.05, 0.01} {
		r, err := Enumerate(context.Background(), x, y, 1, 1, eps, false, 1e7)
		if err != nil {
			t.Fatal(err)
		}
		margin := float64(m) * math.Pow(v*eps*math.Sqrt(1.25), 2)
		if r.Loss > margin {
			t.Fatalf("ε=%v: loss %v above the margin %v", eps, r.Loss, margin)
		}
		if r.Loss > prev+1e-12 {
			t.Fatalf("ε=%v: loss %v worse than at a coarser ε (%v)", eps, r.Loss, prev)
		}
		prev = r.Loss
	}
}
