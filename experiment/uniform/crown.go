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
	// intervalOnly: the hidden layers' bounds by interval arithmetic only
	// (CROWN for them would cost too much per box for wide networks); the
	// output is still bounded by CROWN.
	intervalOnly bool
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
	return b
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
// intersected with CROWN's, then CROWN on ±h.
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
	var ub [2]float64
	b.upper(len(c)-1, []float64{1, -1}, 2, blo, bhi, ub[:])
	return max(ub[0], ub[1])
}
