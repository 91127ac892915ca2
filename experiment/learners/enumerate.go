package learners

import (
	"context"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/reluscope/reluscope/backend"
)

// UnitNet is an ε-net of the unit sphere of R^(d+1) (the directions of
// (a, b)): angles spaced ε apart, d = 1 or 2.
func UnitNet(d int, eps float64) ([][]float64, error) {
	if n := UnitNetSize(d, eps); n > MaxNetDirections {
		return nil, fmt.Errorf("enumerate: an ε-net with ε = %g has about %.3g directions, more than %d (a larger ε)", eps, n, MaxNetDirections)
	}
	var out [][]float64
	switch d {
	case 1:
		n := int(math.Ceil(2 * math.Pi / eps))
		for k := 0; k < n; k++ {
			th := 2 * math.Pi * float64(k) / float64(n)
			out = append(out, []float64{math.Cos(th), math.Sin(th)})
		}
	case 2:
		nPhi := int(math.Ceil(math.Pi / eps))
		for i := 0; i <= nPhi; i++ {
			phi := math.Pi * float64(i) / float64(nPhi)
			nTh := max(1, int(math.Ceil(2*math.Pi*math.Sin(phi)/eps)))
			for k := 0; k < nTh; k++ {
				th := 2 * math.Pi * float64(k) / float64(nTh)
				out = append(out, []float64{math.Sin(phi) * math.Cos(th), math.Sin(phi) * math.Sin(th), math.Cos(phi)})
			}
		}
	default:
		return nil, fmt.Errorf("enumerate: input dimension %d; the net is built for d = 1 and 2", d)
	}
	return out, nil
}

// MaxNetDirections is the largest ε-net UnitNet makes.
const MaxNetDirections = 10_000_000

// UnitNetSize is the number of directions of UnitNet(d, eps), counted
// without making them (an upper bound when the net is huge); +Inf for
// ε ≤ 0 and dimensions it does not build.
func UnitNetSize(d int, eps float64) float64 {
	if !(eps > 0) {
		return math.Inf(1)
	}
	switch d {
	case 1:
		return math.Ceil(2 * math.Pi / eps)
	case 2:
		nPhi := math.Ceil(math.Pi / eps)
		if nPhi > 1e6 {
			return (nPhi + 1) * (math.Ceil(2*math.Pi/eps) + 1) // a bound
		}
		n := 0.0
		for i := 0; i <= int(nPhi); i++ {
			phi := math.Pi * float64(i) / nPhi
			n += max(1, math.Ceil(2*math.Pi*math.Sin(phi)/eps))
		}
		return n
	}
	return math.Inf(1)
}

// EnumCount is the number of k-tuples (up to order) of an ε-net of size n.
func EnumCount(n, k int) float64 { return binom(n+k-1, k) }

// Enumerate is a proper learner for depth-2 networks of k units (Goel,
// Klivans, Manurangsi, Reichman 2021): every multiset of k directions from
// the ε-net of unit vectors (a, b), the output weights (and bias) fitted by
// least squares, the best kept. Its cost grows like (1/ε)^(d·k).
func Enumerate(ctx context.Context, x, y []float64, d, k int, eps float64, bias bool, limit float64) (*Result, error) {
	t0 := time.Now()
	dirs, err := UnitNet(d, eps)
	if err != nil {
		return nil, err
	}
	if n := EnumCount(len(dirs), k); n > limit {
		return nil, fmt.Errorf("enumerate: %d net vectors, %d units: %.3g tuples, more than %.3g (a larger ε or fewer units)", len(dirs), k, n, limit)
	}
	m := len(y)
	feat := make([][]float64, len(dirs)) // relu(u·(x, 1)) on the samples
	for i, u := range dirs {
		f := make([]float64, m)
		for j := 0; j < m; j++ {
			pre := u[d]
			for t := 0; t < d; t++ {
				pre += u[t] * x[j*d+t]
			}
			f[j] = math.Max(0, pre)
		}
		feat[i] = f
	}
	res := &Result{Loss: math.Inf(1), NetSize: len(dirs)}
	cols := k + boolInt(bias)
	A := mat.NewDense(m, cols, nil)
	yv := mat.NewVecDense(m, append([]float64(nil), y...))
	tuple := make([]int, k)
	var best []int
	var bestV []float64
	var rec func(i, start int) error
	rec = func(i, start int) error {
		if i == k {
			res.Work++
			if res.Work%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			for c, t := range tuple {
				for j := 0; j < m; j++ {
					A.Set(j, c, feat[t][j])
				}
			}
			if bias {
				for j := 0; j < m; j++ {
					A.Set(j, k, 1)
				}
			}
			var v mat.VecDense
			ok := false
			if m >= cols { // QR needs at least as many samples as unknowns
				var qr mat.QR
				qr.Factorize(A)
				ok = qr.SolveVecTo(&v, false, yv) == nil && finiteVec(&v)
			}
			if !ok {
				v = *lstsqRidge(A, yv)
			}
			var r mat.VecDense
			r.MulVec(A, &v)
			r.SubVec(yv, &r)
			if loss := mat.Dot(&r, &r); loss < res.Loss {
				res.Loss = loss
				best = append(best[:0], tuple...)
				bestV = append(bestV[:0], v.RawVector().Data...)
			}
			return nil
		}
		for t := start; t < len(dirs); t++ {
			tuple[i] = t
			if err := rec(i+1, t); err != nil {
				return err
			}
		}
		return nil
	}
	if err := rec(0, 0); err != nil {
		return nil, err
	}
	if best == nil {
		return nil, fmt.Errorf("enumerate: no tuple fits with a finite loss (are the samples finite and not overflowing?)")
	}
	net := backend.NewNet([]int{d, k, 1})
	net.InputScale = 1
	for c, t := range best {
		copy(net.W[0][c*d:(c+1)*d], dirs[t][:d])
		net.B[0][c] = dirs[t][d]
		net.W[1][c] = bestV[c]
	}
	if bias {
		net.B[1][0] = bestV[k]
	}
	res.Net = net
	res.Elapsed = time.Since(t0)
	return res, nil
}

func finiteVec(v *mat.VecDense) bool {
	for i := 0; i < v.Len(); i++ {
		if math.IsNaN(v.AtVec(i)) || math.IsInf(v.AtVec(i), 0) {
			return false
		}
	}
	return true
}

// lstsqRidge solves a rank-deficient least squares with a tiny ridge.
func lstsqRidge(A *mat.Dense, y *mat.VecDense) *mat.VecDense {
	_, n := A.Dims()
	var ata mat.SymDense
	ata.SymOuterK(1, A.T())
	for i := 0; i < n; i++ {
		ata.SetSym(i, i, ata.At(i, i)+1e-10)
	}
	var aty, v mat.VecDense
	aty.MulVec(A.T(), y)
	var ch mat.Cholesky
	if ch.Factorize(&ata) {
		ch.SolveVecTo(&v, &aty)
	} else {
		v = *mat.NewVecDense(n, nil)
	}
	return &v
}

// MaxEnumWork bounds the enumerate learner's tuples × samples (each tuple
// is a least-squares fit over the samples).
const MaxEnumWork = 2e8

// enumerate is Enumerate as a registered learner.
type enumerate struct{}

func init() { Register(enumerate{}) }

func (enumerate) Name() string { return "enumerate" }
func (enumerate) What() string { return "the best network over the ε-net" }
func (enumerate) Unit() string { return "tuples of net directions" }
func (enumerate) MaxDim() int  { return 2 }

// eps is the problem's ε (0: 0.1).
func (p Problem) eps() float64 {
	if p.Eps == 0 {
		return 0.1
	}
	return p.Eps
}

func (enumerate) Check(p Problem) error {
	eps := p.eps()
	dirs := UnitNetSize(p.Dim, eps) // counted, not made
	if n := binomF(dirs+float64(p.Width)-1, p.Width); n*float64(p.Samples) > MaxEnumWork || dirs > MaxNetDirections {
		return fmt.Errorf("enumerate with ε = %g at width %d is %.3g tuples of %.3g directions, each a fit over %d samples: more than %g in all (a larger ε, fewer units or samples)", eps, p.Width, n, dirs, p.Samples, MaxEnumWork)
	}
	return nil
}

func (enumerate) Fit(ctx context.Context, p Problem, x, y []float64) (*Result, error) {
	return Enumerate(ctx, x, y, p.Dim, p.Width, p.eps(), p.OutputBias, MaxEnumWork/float64(max(1, len(y))))
}

// binomF is C(n, k) for a real n ≥ k (+Inf when it overflows).
func binomF(n float64, k int) float64 {
	r := 1.0
	for i := 0; i < k; i++ {
		r *= (n - float64(i)) / float64(i+1)
	}
	return r
}
