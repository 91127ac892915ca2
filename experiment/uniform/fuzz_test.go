package uniform

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/reluscope/reluscope/backend"
)

// FuzzExact1D: the exact 1-D sup of |s − t| for small networks whose
// parameters come from the fuzzer's bytes (each in [−2, 2]) against a
// dense grid of 4001 points: it is never below the grid's maximum, and
// above it by no more than the difference's Lipschitz bound times the
// half spacing; it is attained where it says (Lower at At).
func FuzzExact1D(f *testing.F) {
	f.Add(uint8(3), uint8(2), []byte("a teacher and a student of 1-D"))
	f.Add(uint8(1), uint8(1), []byte{0, 255, 128, 7})
	f.Add(uint8(4), uint8(4), make([]byte, 64))
	f.Fuzz(func(t *testing.T, w1, w2 uint8, raw []byte) {
		sizes := []int{1, 1 + int(w1)%4, 1 + int(w2)%4, 1}
		k := 0
		param := func() float64 {
			if len(raw) == 0 {
				return 0
			}
			v := float64(raw[k%len(raw)])/255*4 - 2
			k++
			return v
		}
		student, teacher := backend.NewNet(sizes), backend.NewNet([]int{1, 2, 1})
		for _, n := range []*backend.Net{student, teacher} {
			for l := range n.W {
				for i := range n.W[l] {
					n.W[l][i] = param()
				}
				for i := range n.B[l] {
					n.B[l][i] = param()
				}
			}
		}
		b, err := Sup(context.Background(), student, teacher, Options{Time: time.Second})
		if err != nil || b.Method != MethodExact {
			t.Fatalf("sup: %+v, %v", b, err)
		}
		diff := func(x float64) float64 {
			return math.Abs(student.Eval([]float64{x}) - teacher.Eval([]float64{x}))
		}
		const n = 4000
		grid := 0.0
		for i := 0; i <= n; i++ {
			grid = max(grid, diff(-0.5+float64(i)/n))
		}
		lip := lipschitz(student) + lipschitz(teacher)
		tol := 1e-9 * (1 + grid)
		if b.Lower < grid-tol || b.Upper < b.Lower || b.Upper > grid+lip*0.5/n+tol+Margin*(1+grid) {
			t.Fatalf("exact sup [%g, %g], the grid's max %g (Lipschitz %g)", b.Lower, b.Upper, grid, lip)
		}
		if len(b.At) != 1 || math.Abs(diff(b.At[0])-b.Lower) > tol {
			t.Fatalf("the sup %g is not attained where it says (%v)", b.Lower, b.At)
		}
	})
}

// lipschitz bounds a network's Lipschitz constant: the product of its
// layers' ∞-norms (the largest row sum of |W|) and the input scale.
func lipschitz(n *backend.Net) float64 {
	l := math.Abs(n.InputScale)
	for k := range n.W {
		in, out := n.Sizes[k], n.Sizes[k+1]
		most := 0.0
		for o := 0; o < out; o++ {
			s := 0.0
			for i := 0; i < in; i++ {
				s += math.Abs(n.W[k][o*in+i])
			}
			most = max(most, s)
		}
		l *= most
	}
	return l
}
