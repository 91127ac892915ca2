// Package learners holds the algorithms besides Adam that fit one hidden
// layer to samples, each a Learner registered by name (registry.go): exact
// global empirical risk minimization (erm.go; Arora, Basu, Mianjy,
// Mukherjee 2018), training over a discrete parameter set (discrete.go;
// Doron-Arad 2024) and enumeration of an ε-net (enumerate.go). Each
// returns a Result whose *backend.Net the run evaluates with the same
// metrics as Adam's student.
package learners

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/reluscope/reluscope/backend"
)

// Dichotomy is a split of the samples by a hyperplane: Pos[j] says sample j
// is on the side where the unit is active (a·x_j + b ≥ 0).
type Dichotomy []bool

// Dichotomies lists every split of the m samples x (m×d, d = 1 or 2) that an
// affine hyperplane makes, including all-active and none-active; for points
// in general position there are 2·Σ_{k≤d} C(m−1, k).
func Dichotomies(x []float64, d int) ([]Dichotomy, error) {
	m := len(x) / d
	seen := map[string]bool{}
	var out []Dichotomy
	add := func(pos []bool) {
		var b strings.Builder
		for _, p := range pos {
			if p {
				b.WriteByte('1')
			} else {
				b.WriteByte('0')
			}
		}
		if !seen[b.String()] {
			seen[b.String()] = true
			out = append(out, append(Dichotomy(nil), pos...))
		}
	}
	all, none := make([]bool, m), make([]bool, m)
	for j := range all {
		all[j] = true
	}
	add(all)
	add(none)
	switch d {
	case 1:
		idx := make([]int, m)
		for j := range idx {
			idx[j] = j
		}
		sort.Slice(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
		for cut := 1; cut < m; cut++ { // the first cut samples on one side
			lo := make([]bool, m)
			for _, j := range idx[:cut] {
				lo[j] = true
			}
			hi := make([]bool, m)
			for j := range hi {
				hi[j] = !lo[j]
			}
			add(lo)
			add(hi)
		}
	case 2:
		// Every split is realized by a line through no sample; rotating or
		// shifting one through two samples p, q gives the four ways to put
		// p and q on its sides.
		for p := 0; p < m; p++ {
			for q := p + 1; q < m; q++ {
				px, py, qx, qy := x[2*p], x[2*p+1], x[2*q], x[2*q+1]
				nx, ny := -(qy - py), qx-px // normal of the line pq
				side := make([]float64, m)
				for j := 0; j < m; j++ {
					side[j] = nx*(x[2*j]-px) + ny*(x[2*j+1]-py)
				}
				for _, pp := range []bool{false, true} {
					for _, qq := range []bool{false, true} {
						pos := make([]bool, m)
						for j := range pos {
							pos[j] = side[j] > 0
						}
						pos[p], pos[q] = pp, qq
						add(pos)
						neg := make([]bool, m)
						for j := range neg {
							neg[j] = !pos[j]
						}
						add(neg)
					}
				}
			}
		}
	default:
		return nil, fmt.Errorf("exact ERM: input dimension %d; the dichotomies are enumerated for d = 1 and 2", d)
	}
	return out, nil
}

// ERMOptions configure ExactERM.
type ERMOptions struct {
	Width      int  // hidden units w (1–3 are practical)
	OutputBias bool // f(x) = Σ s_i·relu(a_i·x + b_i) + c
	// MaxSubproblems refuses instances with more (0: 10⁷).
	MaxSubproblems int64
}

// ERMCount is the number of subproblems ExactERM would solve for m samples
// in d dimensions and width w, before symmetry: 2^w · (dichotomies)^w.
func ERMCount(m, d, w int) float64 {
	dich := 0.0
	for k := 0; k <= d; k++ {
		dich += binom(m-1, k)
	}
	dich *= 2
	return math.Pow(2, float64(w)) * math.Pow(dich, float64(w))
}

func binom(n, k int) float64 {
	if k < 0 || k > n {
		return 0
	}
	r := 1.0
	for i := 0; i < k; i++ {
		r = r * float64(n-i) / float64(i+1)
	}
	return r
}

// ExactERM finds the global minimum of Σ_j (f(x_j) − y_j)² over one-hidden-
// layer ReLU networks f(x) = Σ_i s_i·relu(a_i·x + b_i) (+ c) of width w
// (Arora et al. 2018, Algorithm 1): for every sign vector s and every tuple
// of dichotomies, one per unit (units of equal sign taken in non-decreasing
// order: the others are the same network permuted), the loss restricted to
// that activation pattern is a least-squares problem over a polyhedral
// cone, solved exactly as non-negative least squares over the cone's
// extreme rays. x is m×d, y has m values.
func ExactERM(ctx context.Context, x, y []float64, d int, opt ERMOptions) (*Result, error) {
	t0 := time.Now()
	m, w := len(y), opt.Width
	if w < 1 || len(x) != m*d || m == 0 {
		return nil, fmt.Errorf("exact ERM: width %d, %d samples of dimension %d", w, m, d)
	}
	max := opt.MaxSubproblems
	if max <= 0 {
		max = 10_000_000
	}
	if n := ERMCount(m, d, w); n > float64(max) {
		return nil, fmt.Errorf("exact ERM: %d samples in %d dimensions at width %d is about %.3g subproblems, more than the %d allowed (fewer samples or units)", m, d, w, n, max)
	}
	dich, err := Dichotomies(x, d)
	if err != nil {
		return nil, err
	}
	// The extreme rays of each dichotomy's cone of (a, b).
	rays := make([][][]float64, len(dich))
	for k, dk := range dich {
		rays[k] = coneRays(x, d, dk)
	}
	res := &Result{Loss: math.Inf(1)}
	var bestZ []float64
	var bestS []float64
	tuple := make([]int, w)
	signs := make([]float64, w)
	var rec func(i int) error
	rec = func(i int) error {
		if i == w {
			if err := ctx.Err(); err != nil {
				return err
			}
			res.Work++
			loss, z := solvePattern(x, y, d, dich, rays, tuple, signs, opt.OutputBias)
			if bestZ == nil || loss < res.Loss-1e-12*(1+res.Loss) {
				res.Loss, bestZ, bestS = loss, z, append([]float64(nil), signs...)
			}
			return nil
		}
		start := 0
		if i > 0 && signs[i] == signs[i-1] {
			start = tuple[i-1] // symmetric tuples: non-decreasing within a sign
		}
		res.Pruned += int64(start)
		for k := start; k < len(dich); k++ {
			tuple[i] = k
			if err := rec(i + 1); err != nil {
				return err
			}
		}
		return nil
	}
	// Signs in non-increasing order (+ before −): permutations are the same.
	for npos := w; npos >= 0; npos-- {
		for i := range signs {
			signs[i] = -1
			if i < npos {
				signs[i] = 1
			}
		}
		if err := rec(0); err != nil {
			return nil, err
		}
	}
	res.Net = ermNet(d, w, bestZ, bestS, opt.OutputBias)
	res.Elapsed = time.Since(t0)
	return res, nil
}

// solvePattern minimizes the loss with unit i active exactly on
// dich[tuple[i]]: z = (a_1, b_1, …, a_w, b_w[, c]) = Σ λ_r·ray_r, λ ≥ 0.
func solvePattern(x, y []float64, d int, dich []Dichotomy, rays [][][]float64, tuple []int, signs []float64, bias bool) (float64, []float64) {
	m, w := len(y), len(tuple)
	nz := w*(d+1) + boolInt(bias)
	var gens [][]float64
	for i, k := range tuple {
		for _, r := range rays[k] {
			g := make([]float64, nz)
			copy(g[i*(d+1):], r)
			gens = append(gens, g)
		}
	}
	if bias {
		for _, s := range []float64{1, -1} {
			g := make([]float64, nz)
			g[nz-1] = s
			gens = append(gens, g)
		}
	}
	if len(gens) == 0 {
		return dot(y, y), make([]float64, nz)
	}
	// M[j, r]: the output at sample j of generator r.
	M := mat.NewDense(m, len(gens), nil)
	for r, g := range gens {
		for j := 0; j < m; j++ {
			v := 0.0
			for i, k := range tuple {
				if !dich[k][j] {
					continue
				}
				pre := g[i*(d+1)+d]
				for t := 0; t < d; t++ {
					pre += g[i*(d+1)+t] * x[j*d+t]
				}
				v += signs[i] * pre
			}
			if bias {
				v += g[nz-1]
			}
			M.Set(j, r, v)
		}
	}
	lam, _ := nnls(M, y)
	z := make([]float64, nz)
	for r, g := range gens {
		for t := range z {
			z[t] += lam[r] * g[t]
		}
	}
	// The loss of the network itself (relu, not the pattern), the number
	// reported and compared.
	net := ermNet(d, w, z, signs, bias)
	loss := 0.0
	for j := 0; j < m; j++ {
		e := net.Eval(x[j*d:(j+1)*d]) - y[j]
		loss += e * e
	}
	return loss, z
}

// coneRays are generators of {(a, b): a·x_j + b ≥ 0 on Pos, ≤ 0 off it}
// (a pointed cone when the samples span; a lineality direction is given as
// both its signs).
func coneRays(x []float64, d int, pos Dichotomy) [][]float64 {
	m := len(pos)
	// Constraints g·z ≥ 0 with g = ±(x_j, 1).
	G := make([][]float64, m)
	for j := 0; j < m; j++ {
		g := make([]float64, d+1)
		copy(g, x[j*d:(j+1)*d])
		g[d] = 1
		if !pos[j] {
			for t := range g {
				g[t] = -g[t]
			}
		}
		G[j] = g
	}
	feasible := func(z []float64) bool {
		n := 0.0
		for _, v := range z {
			n = math.Max(n, math.Abs(v))
		}
		if n == 0 {
			return false
		}
		for _, g := range G {
			if dot(g, z) < -1e-12*n*(1+math.Abs(g[0])) {
				return false
			}
		}
		return true
	}
	var out [][]float64
	addRay := func(z []float64) {
		n := math.Sqrt(dot(z, z))
		if n == 0 || !feasible(z) {
			return
		}
		for t := range z {
			z[t] /= n
		}
		for _, r := range out {
			if math.Abs(dot(r, z)-1) < 1e-12 {
				return
			}
		}
		out = append(out, z)
	}
	switch d {
	case 1: // 2-D cone: rays orthogonal to one constraint
		for _, g := range G {
			addRay([]float64{g[1], -g[0]})
			addRay([]float64{-g[1], g[0]})
		}
	case 2: // 3-D cone: rays on the intersection of two constraints
		for p := 0; p < m; p++ {
			for q := p + 1; q < m; q++ {
				c := cross(G[p], G[q])
				addRay(c)
				addRay([]float64{-c[0], -c[1], -c[2]})
			}
		}
	}
	return out
}

func cross(a, b []float64) []float64 {
	return []float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ermNet is the network of z = (a_i, b_i)…(, c) with output weights s_i.
func ermNet(d, w int, z, s []float64, bias bool) *backend.Net {
	net := backend.NewNet([]int{d, w, 1})
	net.InputScale = 1
	if z == nil {
		return net
	}
	for i := 0; i < w; i++ {
		for t := 0; t < d; t++ {
			net.W[0][i*d+t] = z[i*(d+1)+t]
		}
		net.B[0][i] = z[i*(d+1)+d]
		net.W[1][i] = s[i]
	}
	if bias {
		net.B[1][0] = z[len(z)-1]
	}
	return net
}

// MaxERMSubproblems is the most subproblems the exact-erm learner takes on.
const MaxERMSubproblems = 1_000_000

// exactERM is ExactERM as a registered learner.
type exactERM struct{}

func init() { Register(exactERM{}) }

func (exactERM) Name() string { return "exact-erm" }
func (exactERM) What() string { return "the global optimum" }
func (exactERM) Unit() string { return "convex subproblems" }
func (exactERM) MaxDim() int  { return 2 }

func (exactERM) Check(p Problem) error {
	if n := ERMCount(p.Samples, p.Dim, p.Width); n > MaxERMSubproblems {
		return fmt.Errorf("exact-erm on %d samples in %d dimensions at width %d is about %.3g subproblems, more than the %d allowed (fewer samples or units)", p.Samples, p.Dim, p.Width, n, MaxERMSubproblems)
	}
	return nil
}

func (exactERM) Fit(ctx context.Context, p Problem, x, y []float64) (*Result, error) {
	return ExactERM(ctx, x, y, p.Dim, ERMOptions{Width: p.Width, OutputBias: p.OutputBias, MaxSubproblems: MaxERMSubproblems})
}
