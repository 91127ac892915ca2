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
	// CROWN on the hidden layers' unstable units costs backFLOPs[k] a
	// row at layer k (its backward pass), at most crownBudget a box.
	backFLOPs   []float64
	crownBudget float64
	rows        []crownRow
	// The forward symbolic bounds: each unit's lower and upper linear
	// functions of the input (d coefficients and a constant, row-major
	// units × (d+1)), and the layers' weights split by sign.
	sl, su, rl, ru, nl, nu []float64
	wpos, wneg, wabs       [][]float64
	// Buffers of a batch (batch.go).
	loBuf, hiBuf                      [][]float64
	mid, rad, pm, pr, cm, cr, cu, cst []float64
	symU, symL, cl                    []float64
	// lin holds the last batch's final linear bounds (boundBatch).
	lin []float64
	// statusOff[k] is where hidden layer k's units start in a status.
	statusOff []int
	// wide: boundKids gives the boxes the symbolic pass leaves open a
	// second pass with CROWN (for networks whose crownBudget is 0).
	wide bool
	// fullCrown is the work of CROWN on every unit of every hidden layer
	// of a box.
	fullCrown float64
	// Buffers of boundKids.
	kidLo, kidHi, kidUB []float64
	kidKnown            [][]byte
	kidIdx              []int
}

// crownFLOPs bounds the work a box's bound spends on CROWN for the hidden
// layers: networks whose CROWN on every unit costs more (wide students) are
// bounded by the symbolic pass alone, which measured faster to a closed
// bracket there (width 512, d = 3: 9.7 s against 13–30 s with CROWN on the
// unstable units at budgets of 2·10⁸ flops to unlimited, for 25–40 % fewer
// boxes).
const crownFLOPs = 2e8

// secondFLOPs bounds fullCrown for the networks whose boxes may get
// boundKids' second pass: 2·10⁹ at width 512, 10¹¹ at width 2048, where
// the symbolic pass leaves ~2000 units unstable on a box of side 1/8 and
// CROWN on them costs ~1 s a box (a paper-rate student of d = 3: 1151
// boxes in 10 min, the upper end 12.2 against its lower 0.049).
const secondFLOPs = 1e10

func newBounder(c chain, pool *gemm.Pool[float64]) *bounder {
	b := &bounder{c: c, pool: pool}
	off := 0
	for _, ly := range c[:len(c)-1] {
		b.statusOff = append(b.statusOff, off)
		off += ly.out
		b.lo, b.hi = append(b.lo, nil), append(b.hi, nil)
		b.loBuf, b.hiBuf = append(b.loBuf, nil), append(b.hiBuf, nil)
	}
	// CROWN's cost a row at each layer (its backward pass), and on every
	// unit of every hidden layer.
	full := 0.0
	for k, ly := range c {
		back := 0.0
		for j := 0; j < k; j++ {
			back += 2 * float64(c[j].out) * float64(c[j].in)
		}
		b.backFLOPs = append(b.backFLOPs, back)
		if k > 0 && k < len(c)-1 {
			full += 2 * float64(ly.out) * back
		}
	}
	b.fullCrown = full
	if full <= crownFLOPs {
		b.crownBudget = crownFLOPs
	}
	for _, ly := range c {
		p, n := make([]float64, len(ly.W)), make([]float64, len(ly.W))
		for i, w := range ly.W {
			if w > 0 {
				p[i] = w
			} else {
				n[i] = w
			}
		}
		a := make([]float64, len(ly.W))
		for i, w := range ly.W {
			a[i] = math.Abs(w)
		}
		b.wpos, b.wneg, b.wabs = append(b.wpos, p), append(b.wneg, n), append(b.wabs, a)
	}
	return b
}

func grow(buf *[]float64, n int) []float64 {
	if cap(*buf) < n {
		*buf = make([]float64, n)
	}
	return (*buf)[:n]
}
