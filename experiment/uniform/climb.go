package uniform

import (
	"math"

	"github.com/reluscope/reluscope/backend/gemm"
)

// evaluator evaluates a chain at a batch of points, with the gradient,
// by matrix products, reusing its buffers. Points are columns (a layer's
// values are out×P), so that the weights are the products' left operand,
// read in place.
type evaluator struct {
	c    chain
	pool *gemm.Pool[float64]
	wt   [][]float64 // the weights transposed, in×out, for the gradient
	z, a [][]float64 // pre-activations and activations, out×P a layer
	x    []float64   // the points, d×P
	g, t []float64
}

func newEvaluator(c chain, pool *gemm.Pool[float64]) *evaluator {
	e := &evaluator{c: c, pool: pool, z: make([][]float64, len(c)), a: make([][]float64, len(c))}
	for _, ly := range c {
		wt := make([]float64, len(ly.W))
		for o := 0; o < ly.out; o++ {
			for i := 0; i < ly.in; i++ {
				wt[i*ly.out+o] = ly.W[o*ly.in+i]
			}
		}
		e.wt = append(e.wt, wt)
	}
	return e
}

// eval returns in v[p] the chain's value at point p of X (P×d, row-major),
// and with grad non-nil its gradient there (P×d).
func (e *evaluator) eval(X []float64, v, grad []float64) {
	c := e.c
	P := len(v)
	d := c[0].in
	in := grow(&e.x, d*P)
	for p := 0; p < P; p++ {
		for i := 0; i < d; i++ {
			in[i*P+p] = X[p*d+i]
		}
	}
	for l, ly := range c {
		z := grow(&e.z[l], ly.out*P)
		for o := 0; o < ly.out; o++ {
			row := z[o*P : (o+1)*P]
			for p := range row {
				row[p] = ly.b[o]
			}
		}
		e.pool.Gemm(false, false, ly.out, P, ly.in, 1, ly.W, ly.in, in, P, 1, z, P)
		e.z[l] = z
		if l+1 == len(c) {
			break
		}
		a := grow(&e.a[l], ly.out*P)
		for i, x := range z {
			a[i] = max(x, 0)
		}
		in = a
	}
	copy(v, e.z[len(c)-1][:P])
	if grad == nil {
		return
	}
	g := grow(&e.g, P)
	for i := range g {
		g[i] = 1
	}
	for l := len(c) - 1; l >= 0; l-- {
		ly := c[l]
		if l+1 < len(c) {
			for i, x := range e.z[l][:len(g)] {
				if x <= 0 {
					g[i] = 0
				}
			}
		}
		t := grow(&e.t, ly.in*P)
		e.pool.Gemm(false, false, ly.in, P, ly.out, 1, e.wt[l], ly.out, g, P, 0, t, P)
		e.g, e.t = t, g
		g = t
	}
	for p := 0; p < P; p++ {
		for i := 0; i < d; i++ {
			grad[p*d+i] = g[i*P+p]
		}
	}
}

// climb runs projected (sub)gradient ascent of |h| on the cube from the P
// points of X (P×d) at once, for the given number of steps: each point
// moves a step along its normalized gradient, kept if |h| grew, else the
// step shrinks by 0.7, until stop says so. It returns the best value seen and where.
func (e *evaluator) climb(X []float64, steps int, stop func() bool) (float64, []float64) {
	d := e.c[0].in
	P := len(X) / d
	x := append([]float64(nil), X...)
	bx := append([]float64(nil), X...)
	v, g := make([]float64, P), make([]float64, P*d)
	bv := make([]float64, P)
	step := make([]float64, P)
	live := make([]bool, P)
	e.eval(x, bv, nil)
	for p := range bv {
		bv[p] = math.Abs(bv[p])
		step[p], live[p] = 0.05, true
	}
	for s := 0; s < steps && !stop(); s++ {
		e.eval(bx, v, g)
		any := false
		for p := 0; p < P; p++ {
			xp, gp := x[p*d:(p+1)*d], g[p*d:(p+1)*d]
			norm := 0.0
			for _, gi := range gp {
				norm += gi * gi
			}
			if norm == 0 || step[p] < 1e-12 {
				live[p] = false
			}
			copy(xp, bx[p*d:(p+1)*d])
			if !live[p] {
				continue
			}
			any = true
			sign := 1.0
			if v[p] < 0 {
				sign = -1
			}
			norm = math.Sqrt(norm)
			for i := range xp {
				xp[i] = min(0.5, max(-0.5, xp[i]+sign*step[p]*gp[i]/norm))
			}
		}
		if !any {
			break
		}
		e.eval(x, v, nil)
		for p := 0; p < P; p++ {
			if !live[p] {
				continue
			}
			if a := math.Abs(v[p]); a > bv[p] {
				bv[p] = a
				copy(bx[p*d:(p+1)*d], x[p*d:(p+1)*d])
			} else {
				step[p] *= 0.7
			}
		}
	}
	best := 0
	for p := range bv {
		if bv[p] > bv[best] {
			best = p
		}
	}
	return bv[best], append([]float64(nil), bx[best*d:(best+1)*d]...)
}
