package uniform

import "math"

// The bounder of one box at a time, layer by layer (intervals and, with
// fullCrown, CROWN on every unit of every layer first, then the symbolic
// pass), as it was before batches: the batched bounder, with CROWN on the
// unstable units only, must be at least as tight on every box.

// symbolic tightens the hidden layers' bounds, layer after layer, with
// bounds linear in the input (symbolic intervals, as ReluVal and DeepPoly
// propagate them forward): every unit carries a lower and an upper linear
// function of x, a ReLU is relaxed on its unit's bounds (the chord above,
// 0 or the identity below), an affine layer maps them with its weights
// split by sign, and each is concretized over the box. It costs
// O(width²·(d+1)) a layer, where CROWN's backward pass costs a width³,
// and in low dimension it is much tighter than intervals. It returns an
// upper bound of |h| over the box from the output's linear functions.
func (b *bounder) refSymbolic(blo, bhi []float64) float64 {
	c := b.c
	d := c[0].in
	D := d + 1
	// Layer 0: exactly W·x + b for both.
	n := c[0].out
	sl, su := grow(&b.sl, n*D), grow(&b.su, n*D)
	for o := 0; o < n; o++ {
		copy(sl[o*D:o*D+d], c[0].W[o*d:(o+1)*d])
		sl[o*D+d] = c[0].b[o]
	}
	copy(su, sl)
	concretize := func(f []float64, upper bool) float64 {
		v := f[d]
		for i := 0; i < d; i++ {
			mid, rad := (blo[i]+bhi[i])/2, (bhi[i]-blo[i])/2
			if upper {
				v += f[i]*mid + math.Abs(f[i])*rad
			} else {
				v += f[i]*mid - math.Abs(f[i])*rad
			}
		}
		return v
	}
	for k := 1; k < len(c); k++ {
		// The ReLU of layer k−1 on its bounds [l, u].
		prev := c[k-1].out
		lo, hi := b.lo[k-1], b.hi[k-1]
		rl, ru := grow(&b.rl, prev*D), grow(&b.ru, prev*D)
		for u := 0; u < prev; u++ {
			l, h := lo[u], hi[u]
			L, U := sl[u*D:(u+1)*D], su[u*D:(u+1)*D]
			RL, RU := rl[u*D:(u+1)*D], ru[u*D:(u+1)*D]
			switch {
			case h <= 0:
				clear(RL)
				clear(RU)
			case l >= 0:
				copy(RL, L)
				copy(RU, U)
			default:
				s := h / (h - l)
				for i := range RU {
					RU[i] = s * U[i]
				}
				RU[d] -= s * l
				if h > -l {
					copy(RL, L)
				} else {
					clear(RL)
				}
			}
		}
		// The affine layer: upper = W⁺·RU + W⁻·RL + b, lower = W⁺·RL + W⁻·RU + b.
		ly := c[k]
		n := ly.out
		nl, nu := make([]float64, n*D), make([]float64, n*D)
		b.pool.Gemm(false, false, n, D, ly.in, 1, b.wpos[k], ly.in, ru, D, 0, nu, D)
		b.pool.Gemm(false, false, n, D, ly.in, 1, b.wneg[k], ly.in, rl, D, 1, nu, D)
		b.pool.Gemm(false, false, n, D, ly.in, 1, b.wpos[k], ly.in, rl, D, 0, nl, D)
		b.pool.Gemm(false, false, n, D, ly.in, 1, b.wneg[k], ly.in, ru, D, 1, nl, D)
		for o := 0; o < n; o++ {
			nu[o*D+d] += ly.b[o]
			nl[o*D+d] += ly.b[o]
		}
		sl, su = nl, nu
		if k == len(c)-1 {
			return max(concretize(su[:D], true), -concretize(sl[:D], false))
		}
		for o := 0; o < n; o++ {
			b.hi[k][o] = min(b.hi[k][o], concretize(su[o*D:(o+1)*D], true))
			b.lo[k][o] = max(b.lo[k][o], concretize(sl[o*D:(o+1)*D], false))
		}
	}
	return math.Inf(1)
}

// upper returns upper bounds, over the box [blo, bhi], of the rows of
// Λ·z_k (Λ r×out_k row-major, z_k the pre-activation of layer k, the output
// for the last), by propagating Λ back through the layers with the ReLUs of
// layers < k relaxed linearly on their bounds (CROWN: the chord above an
// unstable unit, 0 or the identity below, whichever is closer). The bounds
// of layers < k must be set.
func (b *bounder) refUpper(k int, lam []float64, r int, blo, bhi []float64, dst []float64) {
	c := b.c
	cst := make([]float64, r)
	ly := c[k]
	for i := 0; i < r; i++ {
		row := lam[i*ly.out : (i+1)*ly.out]
		for o, v := range row {
			cst[i] += v * ly.b[o]
		}
	}
	// m = Λ·W_k, r×in_k: coefficients on the layer's input.
	m := grow(&b.m, r*ly.in)
	b.pool.Gemm(false, false, r, ly.in, ly.out, 1, lam, ly.out, ly.W, ly.in, 0, m, ly.in)
	for j := k - 1; j >= 0; j-- {
		lo, hi := b.lo[j], b.hi[j]
		n := c[j].out
		for i := 0; i < r; i++ {
			row := m[i*n : (i+1)*n]
			for u, v := range row {
				l, h := lo[u], hi[u]
				switch {
				case h <= 0:
					row[u] = 0
				case l >= 0:
				case v >= 0:
					s := h / (h - l)
					row[u] = v * s
					cst[i] -= v * s * l
				case h < -l:
					row[u] = 0
				}
			}
		}
		ly := c[j]
		for i := 0; i < r; i++ {
			row := m[i*n : (i+1)*n]
			for o, v := range row {
				cst[i] += v * ly.b[o]
			}
		}
		t := grow(&b.t, r*ly.in)
		b.pool.Gemm(false, false, r, ly.in, ly.out, 1, m[:r*n], ly.out, ly.W, ly.in, 0, t, ly.in)
		b.m, b.t = b.t, b.m
		m = t
	}
	d := c[0].in
	for i := 0; i < r; i++ {
		s := cst[i]
		for u := 0; u < d; u++ {
			v := m[i*d+u]
			mid, rad := (blo[u]+bhi[u])/2, (bhi[u]-blo[u])/2
			s += v*mid + math.Abs(v)*rad
		}
		dst[i] = s
	}
}

// bound returns an upper bound of sup |h| over the box: the pre-activation
// bounds of each hidden layer by interval arithmetic (exact for the first)
// intersected with CROWN's (narrow networks) and the symbolic intervals',
// then the smaller of CROWN on ±h and the symbolic bound of the output.
func (b *bounder) refBound(blo, bhi []float64, fullCrown bool) float64 {
	c := b.c
	for k := range b.lo {
		b.lo[k], b.hi[k] = make([]float64, c[k].out), make([]float64, c[k].out)
	}
	// First layer: exact interval of an affine map over a box.
	ly := c[0]
	for o := 0; o < ly.out; o++ {
		s, r := ly.b[o], 0.0
		for i, w := range ly.W[o*ly.in : (o+1)*ly.in] {
			s += w * (blo[i] + bhi[i]) / 2
			r += math.Abs(w) * (bhi[i] - blo[i]) / 2
		}
		b.lo[0][o], b.hi[0][o] = s-r, s+r
	}
	for k := 1; k < len(c)-1; k++ {
		n := c[k].out
		// Interval bounds first.
		for o := 0; o < n; o++ {
			s, r := c[k].b[o], 0.0
			for i, w := range c[k].W[o*c[k].in : (o+1)*c[k].in] {
				l, h := max(b.lo[k-1][i], 0), max(b.hi[k-1][i], 0)
				s += w * (l + h) / 2
				r += math.Abs(w) * (h - l) / 2
			}
			b.lo[k][o], b.hi[k][o] = s-r, s+r
		}
		if !fullCrown {
			continue
		}
		lam := make([]float64, 2*n*n)
		for o := 0; o < n; o++ {
			lam[o*n+o] = 1
			lam[(n+o)*n+o] = -1
		}
		ub := make([]float64, 2*n)
		b.refUpper(k, lam, 2*n, blo, bhi, ub)
		for o := 0; o < n; o++ {
			b.hi[k][o] = min(b.hi[k][o], ub[o])
			b.lo[k][o] = max(b.lo[k][o], -ub[n+o])
		}
	}
	// The symbolic bounds tighten every hidden layer further and bound the
	// output themselves; CROWN then bounds the output on the tightest
	// bounds. Both are upper bounds of |h|: the smaller is kept.
	sym := b.refSymbolic(blo, bhi)
	var ub [2]float64
	b.refUpper(len(c)-1, []float64{1, -1}, 2, blo, bhi, ub[:])
	return min(max(ub[0], ub[1]), sym)
}
