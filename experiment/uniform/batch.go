package uniform

import (
	"math"
)

// The bounder works on a batch of boxes at once: what is per box (the
// units' bounds, their linear functions of the input, CROWN's rows) is laid
// side by side so that every layer is one matrix product over the whole
// batch, wide enough for the GEMM engine to run at speed.
//
// Layouts, for B boxes, d inputs, D = d + 1, a layer of n units:
//   - bounds lo[k], hi[k]: B×n, box-major (b·n + o);
//   - linear functions sl, su: n × (B·D), unit-major (o·B·D + b·D + i),
//     coefficients on x then the constant;
//   - CROWN's rows: (B·r) × n, box-major.

// boundBatch returns in ub[b] an upper bound of sup |h| over box b
// ([lo[b·d:], hi[b·d:]), for B = len(ub) boxes. It leaves in b.lin the
// linear bounds it concretized: for box b, lin[b·4·D:] holds four
// functions of x (d coefficients, then the constant), the first two upper
// bounds of h on the box (the symbolic pass's and CROWN's), the last two
// upper bounds of −h.
func (b *bounder) boundBatch(blo, bhi []float64, ub []float64) {
	b.boundBatchKnown(blo, bhi, ub, nil)
}

// boundBatchKnown is boundBatch given what is known of each box's hidden
// units: known[b], when not nil, is a status string (see status) that
// the box's bounds are intersected with — a unit known active on a
// larger box holding this one is active here too, whatever this box's own
// bounds say — and that is refined in place with what this box's bounds
// show.
func (b *bounder) boundBatchKnown(blo, bhi []float64, ub []float64, known [][]byte) {
	c := b.c
	B := len(ub)
	d := c[0].in
	D := d + 1
	for k := range b.lo {
		b.lo[k] = grow(&b.loBuf[k], B*c[k].out)
		b.hi[k] = grow(&b.hiBuf[k], B*c[k].out)
	}
	mid, rad := grow(&b.mid, B*d), grow(&b.rad, B*d)
	for i := range mid {
		mid[i], rad[i] = (blo[i]+bhi[i])/2, (bhi[i]-blo[i])/2
	}
	// concretize is the upper (or lower) end of f over box bx.
	concretize := func(f []float64, bx int, upper bool) float64 {
		v := f[d]
		m, r := mid[bx*d:(bx+1)*d], rad[bx*d:(bx+1)*d]
		for i := 0; i < d; i++ {
			if upper {
				v += f[i]*m[i] + math.Abs(f[i])*r[i]
			} else {
				v += f[i]*m[i] - math.Abs(f[i])*r[i]
			}
		}
		return v
	}
	// Layer 0: W·x + b exactly, the same functions for every box.
	n := c[0].out
	BD := B * D
	sl, su := grow(&b.sl, n*BD), grow(&b.su, n*BD)
	for o := 0; o < n; o++ {
		for bx := 0; bx < B; bx++ {
			f := sl[o*BD+bx*D : o*BD+(bx+1)*D]
			copy(f, c[0].W[o*d:(o+1)*d])
			f[d] = c[0].b[o]
			b.lo[0][bx*n+o] = concretize(f, bx, false)
			b.hi[0][bx*n+o] = concretize(f, bx, true)
		}
	}
	copy(su, sl)
	b.know(0, B, known)
	lin := grow(&b.lin, 4*B*D)
	symU, symL := grow(&b.symU, B), grow(&b.symL, B)
	spent := make([]float64, B) // CROWN's work on each box so far
	for k := 1; k < len(c); k++ {
		prev := c[k-1].out
		lo, hi := b.lo[k-1], b.hi[k-1]
		// The ReLU of layer k−1 relaxed on each box's bounds [l, u]: the
		// chord above an unstable unit; below, 0 or the identity,
		// whichever is closer.
		rl, ru := grow(&b.rl, prev*BD), grow(&b.ru, prev*BD)
		b.pool.Split(prev, 16, func(u0, u1 int) {
			for u := u0; u < u1; u++ {
				for bx := 0; bx < B; bx++ {
					l, h := lo[bx*prev+u], hi[bx*prev+u]
					at := u*BD + bx*D
					L, U := sl[at:at+D], su[at:at+D]
					RL, RU := rl[at:at+D], ru[at:at+D]
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
			}
		})
		// The affine layer: upper = W⁺·RU + W⁻·RL + b, lower = W⁺·RL + W⁻·RU + b.
		ly := c[k]
		n := ly.out
		nl, nu := grow(&b.nl, n*BD), grow(&b.nu, n*BD)
		b.pool.Gemm(false, false, n, BD, ly.in, 1, b.wpos[k], ly.in, ru, BD, 0, nu, BD)
		b.pool.Gemm(false, false, n, BD, ly.in, 1, b.wneg[k], ly.in, rl, BD, 1, nu, BD)
		b.pool.Gemm(false, false, n, BD, ly.in, 1, b.wpos[k], ly.in, rl, BD, 0, nl, BD)
		b.pool.Gemm(false, false, n, BD, ly.in, 1, b.wneg[k], ly.in, ru, BD, 1, nl, BD)
		for o := 0; o < n; o++ {
			for bx := 0; bx < B; bx++ {
				nu[o*BD+bx*D+d] += ly.b[o]
				nl[o*BD+bx*D+d] += ly.b[o]
			}
		}
		b.nl, b.sl = b.sl, nl
		b.nu, b.su = b.su, nu
		sl, su = nl, nu
		if k == len(c)-1 {
			for bx := 0; bx < B; bx++ {
				U, L := su[bx*D:(bx+1)*D], sl[bx*D:(bx+1)*D]
				symU[bx], symL[bx] = concretize(U, bx, true), -concretize(L, bx, false)
				copy(lin[4*bx*D:], U)
				for i, v := range L {
					lin[(4*bx+2)*D+i] = -v
				}
			}
			break
		}
		// Interval bounds from layer k−1's: centre W·m + b, radius |W|·r
		// of the ReLU'd intervals.
		pm, pr := grow(&b.pm, prev*B), grow(&b.pr, prev*B)
		for bx := 0; bx < B; bx++ {
			for u := 0; u < prev; u++ {
				l, h := max(lo[bx*prev+u], 0), max(hi[bx*prev+u], 0)
				pm[u*B+bx], pr[u*B+bx] = (l+h)/2, (h-l)/2
			}
		}
		cm, cr := grow(&b.cm, n*B), grow(&b.cr, n*B)
		b.pool.Gemm(false, false, n, B, prev, 1, ly.W, prev, pm, B, 0, cm, B)
		b.pool.Gemm(false, false, n, B, prev, 1, b.wabs[k], prev, pr, B, 0, cr, B)
		klo, khi := b.lo[k], b.hi[k]
		b.pool.Split(n, 16, func(o0, o1 int) {
			for o := o0; o < o1; o++ {
				for bx := 0; bx < B; bx++ {
					s, r := cm[o*B+bx]+ly.b[o], cr[o*B+bx]
					at := o*BD + bx*D
					klo[bx*n+o] = max(s-r, concretize(sl[at:at+D], bx, false))
					khi[bx*n+o] = min(s+r, concretize(su[at:at+D], bx, true))
				}
			}
		})
		b.know(k, B, known)
		// CROWN on the units still unstable, as far as each box's budget
		// goes: only their bounds matter (a stable unit's relaxation is
		// exact whatever its bounds), so this is as tight as CROWN on every
		// unit at a fraction of its cost on small boxes.
		rows := b.rows[:0]
		per := b.backFLOPs[k]
		for bx := 0; bx < B; bx++ {
			u := 0
			for o := 0; o < n; o++ {
				if klo[bx*n+o] < 0 && khi[bx*n+o] > 0 {
					u++
				}
			}
			if u == 0 || spent[bx]+2*float64(u)*per > b.crownBudget {
				continue
			}
			spent[bx] += 2 * float64(u) * per
			for o := 0; o < n; o++ {
				if klo[bx*n+o] < 0 && khi[bx*n+o] > 0 {
					rows = append(rows, crownRow{box: bx, unit: o, sign: 1}, crownRow{box: bx, unit: o, sign: -1})
				}
			}
		}
		b.rows = rows
		cu := grow(&b.cu, len(rows))
		b.upperRows(k, rows, cu, nil)
		for i, rw := range rows {
			at := rw.box*n + rw.unit
			if rw.sign > 0 {
				khi[at] = min(khi[at], cu[i])
			} else {
				klo[at] = max(klo[at], -cu[i])
			}
		}
		b.know(k, B, known)
	}
	// CROWN on ±h with the tightest bounds of every hidden layer; the
	// smaller of it and the symbolic bound is kept (both are sound).
	rows := b.rows[:0]
	for bx := 0; bx < B; bx++ {
		rows = append(rows, crownRow{box: bx, sign: 1}, crownRow{box: bx, sign: -1})
	}
	b.rows = rows
	cu := grow(&b.cu, 2*B)
	cl := grow(&b.cl, 2*B*D)
	b.upperRows(len(c)-1, rows, cu, cl)
	for bx := range ub {
		// Each sign's smaller bound, then the larger of the two signs.
		ub[bx] = max(min(cu[2*bx], symU[bx]), min(cu[2*bx+1], symL[bx]))
		copy(lin[(4*bx+1)*D:(4*bx+2)*D], cl[2*bx*D:])
		copy(lin[(4*bx+3)*D:(4*bx+4)*D], cl[(2*bx+1)*D:])
	}
}

// crownRow is one bound CROWN computes: sign·z_k[unit] over box's box.
type crownRow struct {
	box, unit int
	sign      float64
}

// crownRows bounds the numbers held by CROWN's rows at once (8 MiB).
var crownRows = 1 << 20

// upperRows returns in dst[i] an upper bound, over box rows[i].box, of
// rows[i].sign·z_k[rows[i].unit] (z_k the pre-activation of layer k, the
// output for the last), by propagating the row back through the layers
// with the ReLUs of layers < k relaxed linearly on that box's bounds
// (CROWN: the chord above an unstable unit, 0 or the identity below,
// whichever is closer). The bounds of layers < k must be set; mid and rad
// hold the boxes. With lin non-nil, lin[i·(d+1):] receives the linear
// function of x that dst[i] concretizes (d coefficients, the constant).
// Rows go in chunks of at most crownRows numbers.
func (b *bounder) upperRows(k int, rows []crownRow, dst, lin []float64) {
	c := b.c
	widest := 1
	for j := 0; j <= k; j++ {
		widest = max(widest, c[j].in)
	}
	per := max(1, crownRows/widest)
	for r0 := 0; r0 < len(rows); r0 += per {
		r1 := min(len(rows), r0+per)
		var l []float64
		if lin != nil {
			D := c[0].in + 1
			l = lin[r0*D : r1*D]
		}
		b.upperChunk(k, rows[r0:r1], dst[r0:r1], l)
	}
}

func (b *bounder) upperChunk(k int, rows []crownRow, dst, lin []float64) {
	c := b.c
	ly := c[k]
	R := len(rows)
	cst := grow(&b.cst, R)
	m := grow(&b.m, R*ly.in)
	for i, rw := range rows {
		row := m[i*ly.in : (i+1)*ly.in]
		for q, w := range ly.W[rw.unit*ly.in : (rw.unit+1)*ly.in] {
			row[q] = rw.sign * w
		}
		cst[i] = rw.sign * ly.b[rw.unit]
	}
	for j := k - 1; j >= 0; j-- {
		n := c[j].out
		lo, hi := b.lo[j], b.hi[j]
		bias := c[j].b
		b.pool.Split(R, 8, func(i0, i1 int) {
			for i := i0; i < i1; i++ {
				bx := rows[i].box
				row := m[i*n : (i+1)*n]
				l0, h0 := lo[bx*n:(bx+1)*n], hi[bx*n:(bx+1)*n]
				s := cst[i]
				for u, v := range row {
					l, h := l0[u], h0[u]
					switch {
					case h <= 0:
						v = 0
					case l >= 0:
					case v >= 0:
						sl := h / (h - l)
						s -= v * sl * l
						v *= sl
					case h < -l:
						v = 0
					}
					row[u] = v
					s += v * bias[u]
				}
				cst[i] = s
			}
		})
		t := grow(&b.t, R*c[j].in)
		b.pool.Gemm(false, false, R, c[j].in, n, 1, m[:R*n], n, c[j].W, c[j].in, 0, t, c[j].in)
		b.m, b.t = b.t, b.m
		m = t
	}
	d := c[0].in
	for i := 0; i < R; i++ {
		bx := rows[i].box
		s := cst[i]
		for u := 0; u < d; u++ {
			v := m[i*d+u]
			s += v*b.mid[bx*d+u] + math.Abs(v)*b.rad[bx*d+u]
		}
		dst[i] = s
		if lin != nil {
			copy(lin[i*(d+1):], m[i*d:(i+1)*d])
			lin[i*(d+1)+d] = cst[i]
		}
	}
}

// bound is boundBatch for one box.
func (b *bounder) bound(blo, bhi []float64) float64 {
	var ub [1]float64
	b.boundBatch(blo, bhi, ub[:])
	return ub[0]
}
