package backend

import (
	"math"
	"testing"
)

// A model rebuilt from another's parameters and Adam state goes on with
// exactly its bits: both engines, both dtypes, batches of two sizes.
func TestAdamStateResumesBitForBit(t *testing.T) {
	sizes := []int{2, 12, 9, 1}
	xa, ya := randBatch(2, 40, 3)
	xb, yb := randBatch(2, 7, 4) // a short last batch: another graph in gorgonia
	for _, name := range []string{"native", "gorgonia"} {
		for _, dt := range []DType{Float64, Float32} {
			a := mustNew(t, name, randNet(sizes, 0.5, 1), dt)
			step := func(m Model, k int) {
				for i := 0; i < k; i++ {
					x, y := xa, ya
					if i%3 == 2 {
						x, y = xb, yb
					}
					if _, err := m.Step(x, y, 1e-2/float64(i+1)); err != nil {
						t.Fatal(err)
					}
				}
			}
			// A fresh model's state is zero moments at step 0.
			st0, err := a.(Resumable).AdamState()
			if err != nil || st0.Steps != 0 || len(st0.M) != randNet(sizes, 0.5, 1).NumParams() {
				t.Fatalf("%s/%v: fresh state %d steps, %d moments, %v", name, dt, st0.Steps, len(st0.M), err)
			}
			step(a, 5)
			st, err := a.(Resumable).AdamState()
			if err != nil || st.Steps != 5 {
				t.Fatalf("%s/%v: state after 5 steps: %d steps, %v", name, dt, st.Steps, err)
			}
			b := mustNew(t, name, a.Net(), dt)
			if err := b.(Resumable).SetAdamState(st); err != nil {
				t.Fatal(err)
			}
			step(a, 6)
			step(b, 6)
			na, nb := a.Net(), b.Net()
			for l := range na.W {
				for i := range na.W[l] {
					if math.Float64bits(na.W[l][i]) != math.Float64bits(nb.W[l][i]) {
						t.Fatalf("%s/%v: layer %d weight %d: %v after a resume, %v without", name, dt, l, i, nb.W[l][i], na.W[l][i])
					}
				}
				for i := range na.B[l] {
					if math.Float64bits(na.B[l][i]) != math.Float64bits(nb.B[l][i]) {
						t.Fatalf("%s/%v: layer %d bias %d differs after a resume", name, dt, l, i)
					}
				}
			}
			// Without the state (fresh moments) the numbers differ: the
			// test can fail.
			c := mustNew(t, name, mustNetAfter(t, name, dt, sizes, step), dt)
			step(c, 6)
			if nc := c.Net(); nc.W[0][0] == na.W[0][0] && nc.W[1][3] == na.W[1][3] {
				t.Fatalf("%s/%v: fresh moments gave the resumed numbers", name, dt)
			}
			if err := b.(Resumable).SetAdamState(AdamState{M: st.M[:3], V: st.V}); err == nil {
				t.Fatalf("%s/%v: a state of the wrong size was accepted", name, dt)
			}
			a.Close()
			b.Close()
			c.Close()
		}
	}
}

// mustNetAfter is the parameters after the first 5 steps.
func mustNetAfter(t *testing.T, name string, dt DType, sizes []int, step func(Model, int)) *Net {
	m := mustNew(t, name, randNet(sizes, 0.5, 1), dt)
	defer m.Close()
	step(m, 5)
	return m.Net()
}
