package learners

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// nnls solves min ‖M·λ − y‖² subject to λ ≥ 0 (M: m×k) with the active-set
// method of Lawson and Hanson: exact up to floating point, finite. It
// returns λ and the residual sum of squares.
func nnls(M *mat.Dense, y []float64) ([]float64, float64) {
	m, k := M.Dims()
	lam := make([]float64, k)
	passive := make([]bool, k)
	yv := mat.NewVecDense(m, append([]float64(nil), y...))
	resid := func(l []float64) *mat.VecDense {
		r := mat.NewVecDense(m, nil)
		r.MulVec(M, mat.NewVecDense(k, l))
		r.SubVec(yv, r)
		return r
	}
	// solve is the unconstrained least squares on the passive columns.
	solve := func() []float64 {
		var cols []int
		for j := range passive {
			if passive[j] {
				cols = append(cols, j)
			}
		}
		z := make([]float64, k)
		if len(cols) == 0 {
			return z
		}
		sub := mat.NewDense(m, len(cols), nil)
		for c, j := range cols {
			for i := 0; i < m; i++ {
				sub.Set(i, c, M.At(i, j))
			}
		}
		// Least squares by the normal equations with a tiny ridge for rank
		// deficiency, refined once: the subproblems are a few columns.
		var ata mat.SymDense
		ata.SymOuterK(1, sub.T())
		n := len(cols)
		for i := 0; i < n; i++ {
			ata.SetSym(i, i, ata.At(i, i)*(1+1e-13)+1e-300)
		}
		var aty mat.VecDense
		aty.MulVec(sub.T(), yv)
		var ch mat.Cholesky
		var sol mat.VecDense
		if ch.Factorize(&ata) {
			if err := ch.SolveVecTo(&sol, &aty); err != nil {
				return z
			}
		} else {
			var qr mat.QR
			qr.Factorize(sub)
			if err := qr.SolveVecTo(&sol, false, yv); err != nil {
				return z
			}
		}
		for c, j := range cols {
			z[j] = sol.AtVec(c)
		}
		return z
	}
	const tol = 1e-12
	for iter := 0; iter < 3*k+10; iter++ {
		r := resid(lam)
		var w mat.VecDense
		w.MulVec(M.T(), r)
		best, bi := tol*(1+mat.Norm(yv, 2)), -1
		for j := 0; j < k; j++ {
			if !passive[j] && w.AtVec(j) > best {
				best, bi = w.AtVec(j), j
			}
		}
		if bi < 0 {
			break
		}
		passive[bi] = true
		for inner := 0; inner < 3*k+10; inner++ {
			z := solve()
			ok := true
			for j := range z {
				if passive[j] && z[j] <= 0 {
					ok = false
				}
			}
			if ok {
				lam = z
				break
			}
			// Step back to the boundary and drop the columns that hit 0.
			alpha := math.Inf(1)
			for j := range z {
				if passive[j] && z[j] <= 0 {
					alpha = min(alpha, lam[j]/(lam[j]-z[j]))
				}
			}
			for j := range lam {
				lam[j] += alpha * (z[j] - lam[j])
				if passive[j] && lam[j] <= tol {
					passive[j], lam[j] = false, 0
				}
			}
		}
	}
	r := resid(lam)
	return lam, mat.Dot(r, r)
}
