package uniform

import (
	"math"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/backend/gemm"
)

// layer is one affine map z = W·a + b, W row-major out×in.
type layer struct {
	in, out int
	W, b    []float64
}

// chain is a ReLU network as affine layers with a ReLU between them and
// none after the last (one output).
type chain []layer

// fromNet is the network as a chain with its input scale folded into the
// first layer.
func fromNet(n *backend.Net) chain {
	c := make(chain, n.Layers())
	for l := range c {
		W := append([]float64(nil), n.W[l]...)
		if l == 0 {
			for i := range W {
				W[i] *= n.InputScale
			}
		}
		c[l] = layer{in: n.Sizes[l], out: n.Sizes[l+1], W: W, b: append([]float64(nil), n.B[l]...)}
	}
	return c
}

// deepen pads c to L layers without changing its function: the output y
// goes through [ReLU(y), ReLU(−y)] and identities, then y = ReLU(y) −
// ReLU(−y).
func (c chain) deepen(L int) chain {
	if len(c) >= L {
		return c
	}
	last := c[len(c)-1]
	out := append(chain(nil), c[:len(c)-1]...)
	W2 := append(append([]float64(nil), last.W...), neg(last.W)...)
	out = append(out, layer{in: last.in, out: 2, W: W2, b: []float64{last.b[0], -last.b[0]}})
	for len(out) < L-1 {
		out = append(out, layer{in: 2, out: 2, W: []float64{1, 0, 0, 1}, b: []float64{0, 0}})
	}
	return append(out, layer{in: 2, out: 1, W: []float64{1, -1}, b: []float64{0}})
}

func neg(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = -x
	}
	return out
}

// difference is h = s − t as one chain: hidden layers side by side (block
// diagonal), the output layer subtracting.
func difference(s, t chain) chain {
	L := max(len(s), len(t))
	s, t = s.deepen(L), t.deepen(L)
	h := make(chain, L)
	for l := 0; l < L; l++ {
		a, b := s[l], t[l]
		in := a.in + b.in
		if l == 0 {
			in = a.in // both read x
		}
		if l == L-1 {
			W := make([]float64, in)
			copy(W, a.W)
			for i, w := range b.W {
				W[a.in+i] = -w
			}
			h[l] = layer{in: in, out: 1, W: W, b: []float64{a.b[0] - b.b[0]}}
			continue
		}
		out := a.out + b.out
		W := make([]float64, out*in)
		for o := 0; o < a.out; o++ {
			copy(W[o*in:], a.W[o*a.in:(o+1)*a.in])
		}
		off := a.in
		if l == 0 {
			off = 0
		}
		for o := 0; o < b.out; o++ {
			copy(W[(a.out+o)*in+off:], b.W[o*b.in:(o+1)*b.in])
		}
		h[l] = layer{in: in, out: out, W: W, b: append(append([]float64(nil), a.b...), b.b...)}
	}
	return h
}

// eval is the chain's output at x, and with grad non-nil its gradient.
func (c chain) eval(x []float64, grad []float64) float64 {
	acts := make([][]float64, len(c)) // pre-activations of each layer
	a := x
	for l, ly := range c {
		z := make([]float64, ly.out)
		for o := 0; o < ly.out; o++ {
			s := ly.b[o]
			row := ly.W[o*ly.in : (o+1)*ly.in]
			for i, w := range row {
				s += w * a[i]
			}
			z[o] = s
		}
		acts[l] = z
		if l+1 < len(c) {
			r := make([]float64, ly.out)
			for i, v := range z {
				r[i] = max(v, 0)
			}
			a = r
		} else {
			a = z
		}
	}
	if grad != nil {
		g := []float64{1}
		for l := len(c) - 1; l >= 0; l-- {
			ly := c[l]
			if l+1 < len(c) {
				for i, v := range acts[l] {
					if v <= 0 {
						g[i] = 0
					}
				}
			}
			ng := make([]float64, ly.in)
			for o := 0; o < ly.out; o++ {
				if g[o] == 0 {
					continue
				}
				row := ly.W[o*ly.in : (o+1)*ly.in]
				for i, w := range row {
					ng[i] += g[o] * w
				}
			}
			g = ng
		}
		copy(grad, g)
	}
	return a[0]
}

// bounder bounds a chain over boxes, reusing its buffers.
type bounder struct {
	c    chain
	pool *gemm.Pool[float64]
	// lo, hi are the pre-activation bounds of the hidden layers.
	lo, hi [][]float64
	m, t   []float64 // products
	// intervalOnly: the hidden layers' bounds by interval arithmetic and
	// symbolic intervals only (CROWN for them would cost too much per box
	// for wide networks); the output is still bounded by CROWN too.
	intervalOnly bool
	// The forward symbolic bounds: each unit's lower and upper linear
	// functions of the input (d coefficients and a constant, row-major
	// units × (d+1)), and the layers' weights split by sign.
	sl, su, rl, ru []float64
	wpos, wneg     [][]float64
}

// crownFLOPs is the most work per box spent on CROWN for hidden layers.
const crownFLOPs = 2e8

func newBounder(c chain, pool *gemm.Pool[float64]) *bounder {
	b := &bounder{c: c, pool: pool}
	for _, ly := range c[:len(c)-1] {
		b.lo = append(b.lo, make([]float64, ly.out))
		b.hi = append(b.hi, make([]float64, ly.out))
	}
	flops := 0.0
	for k := 1; k < len(c)-1; k++ {
		for j := 0; j <= k; j++ {
			flops += 2 * 2 * float64(c[k].out) * float64(c[j].out) * float64(c[j].in)
		}
	}
	b.intervalOnly = flops > crownFLOPs
	for _, ly := range c {
		p, n := make([]float64, len(ly.W)), make([]float64, len(ly.W))
		for i, w := range ly.W {
			if w > 0 {
				p[i] = w
			} else {
				n[i] = w
			}
		}
		b.wpos, b.wneg = append(b.wpos, p), append(b.wneg, n)
	}
	return b
}

// symbolic tightens the hidden layers' bounds, layer after layer, with
// bounds linear in the input (symbolic intervals, as ReluVal and DeepPoly
// propagate them forward): every unit carries a lower and an upper linear
// function of x, a ReLU is relaxed on its unit's bounds (the chord above,
// 0 or the identity below), an affine layer maps them with its weights
// split by sign, and each is concretized over the box. It costs
// O(width²·(d+1)) a layer, where CROWN's backward pass costs a width³,
// and in low dimension it is much tighter than intervals. It returns an
// upper bound of |h| over the box from the output's linear functions.
func (b *bounder) symbolic(blo, bhi []float64) float64 {
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
func (b *bounder) upper(k int, lam []float64, r int, blo, bhi []float64, dst []float64) {
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

func grow(buf *[]float64, n int) []float64 {
	if cap(*buf) < n {
		*buf = make([]float64, n)
	}
	return (*buf)[:n]
}

// bound returns an upper bound of sup |h| over the box: the pre-activation
// bounds of each hidden layer by interval arithmetic (exact for the first)
// intersected with CROWN's (narrow networks) and the symbolic intervals',
// then the smaller of CROWN on ±h and the symbolic bound of the output.
func (b *bounder) bound(blo, bhi []float64) float64 {
	c := b.c
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
		if b.intervalOnly {
			continue
		}
		lam := make([]float64, 2*n*n)
		for o := 0; o < n; o++ {
			lam[o*n+o] = 1
			lam[(n+o)*n+o] = -1
		}
		ub := make([]float64, 2*n)
		b.upper(k, lam, 2*n, blo, bhi, ub)
		for o := 0; o < n; o++ {
			b.hi[k][o] = min(b.hi[k][o], ub[o])
			b.lo[k][o] = max(b.lo[k][o], -ub[n+o])
		}
	}
	// The symbolic bounds tighten every hidden layer further and bound the
	// output themselves; CROWN then bounds the output on the tightest
	// bounds. Both are upper bounds of |h|: the smaller is kept.
	sym := b.symbolic(blo, bhi)
	var ub [2]float64
	b.upper(len(c)-1, []float64{1, -1}, 2, blo, bhi, ub[:])
	return min(max(ub[0], ub[1]), sym)
}
