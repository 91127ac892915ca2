package uniform

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFool: the fooling network is of its class (every coefficient within
// [−c, c]), vanishes on every sample, and reaches its reported height at its
// centre — the height is the exact 1-D sup, and a dense grid at d = 2 finds
// nothing above it; its L2 norm matches the grid's.
func TestFool(t *testing.T) {
	for _, tc := range []struct {
		sizes []int
		m     int
	}{
		{[]int{1, 32, 32, 32, 32, 1}, 1000},
		{[]int{1, 8, 1}, 50},
		{[]int{2, 32, 32, 32, 32, 1}, 300},
		{[]int{3, 16, 16, 1}, 200},
	} {
		d, c := tc.sizes[0], 0.5
		rng := rand.New(rand.NewPCG(uint64(tc.m), 3))
		x := make([]float64, tc.m*d)
		for i := range x {
			x[i] = rng.Float64() - 0.5
		}
		f, err := BuildFool(Class{Sizes: tc.sizes, C: c}, x, 1)
		if err != nil {
			t.Fatal(tc.sizes, err)
		}
		for l := range f.Net.W {
			for _, v := range append(append([]float64(nil), f.Net.W[l]...), f.Net.B[l]...) {
				if math.Abs(v) > c {
					t.Fatalf("%v: coefficient %v outside [−c, c]", tc.sizes, v)
				}
			}
		}
		for i := 0; i < tc.m; i++ {
			if v := f.Net.Eval(x[i*d : (i+1)*d]); math.Abs(v) > 1e-12 {
				t.Fatalf("%v: the bump is %v at sample %d", tc.sizes, v, i)
			}
		}
		if v := f.Net.Eval(f.Center); math.Abs(v-f.Height) > 1e-12*f.Height || f.Height <= 0 {
			t.Fatalf("%v: height %v at the centre, reported %v", tc.sizes, v, f.Height)
		}
		switch d {
		case 1:
			zero := randomNet(tc.sizes, 0.5, 1, 1)
			for l := range zero.W {
				clear(zero.W[l])
				clear(zero.B[l])
			}
			b, err := Exact1D(f.Net, zero, 1)
			if err != nil || math.Abs(b.Upper-f.Height) > 1e-12*f.Height {
				t.Fatalf("%v: exact sup %v, reported height %v", tc.sizes, b.Upper, f.Height)
			}
			const n = 1 << 16
			sum := 0.0
			for i := 0; i < n; i++ {
				v := f.Net.Eval([]float64{-0.5 + (float64(i)+0.5)/n})
				sum += v * v
			}
			if l2 := math.Sqrt(sum / n); math.Abs(l2-f.L2) > 0.02*f.L2 {
				t.Fatalf("%v: grid L2 %v, reported %v", tc.sizes, l2, f.L2)
			}
		case 2:
			const n = 400
			best, sum := 0.0, 0.0
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					v := f.Net.Eval([]float64{-0.5 + (float64(i)+0.5)/n, -0.5 + (float64(j)+0.5)/n})
					best = max(best, math.Abs(v))
					sum += v * v
				}
			}
			if best > f.Height*(1+1e-12) || best < 0.5*f.Height {
				t.Fatalf("%v: grid max %v against the height %v", tc.sizes, best, f.Height)
			}
			if l2 := math.Sqrt(sum / (n * n)); math.Abs(l2-f.L2) > 0.05*f.L2 {
				t.Fatalf("%v: grid L2 %v, reported %v", tc.sizes, l2, f.L2)
			}
		}
		if tc.m >= 200 && f.L2 >= f.Height/10 {
			t.Fatalf("%v: L2 %v is not small against the height %v", tc.sizes, f.L2, f.Height)
		}
	}
	// Depth 2 cannot build a compact bump in 2 dimensions: refused.
	if _, err := BuildFool(Class{Sizes: []int{2, 8, 1}, C: 0.5}, []float64{0, 0}, 1); err == nil {
		t.Fatal("depth 2 in 2 dimensions was not refused")
	}
}
