package uniform

import (
	"math"
	"sort"
)

// boundKids bounds the boxes as one batch: each box's ub becomes the
// smaller of its own (its parent's) and the batch's bound, its known
// status is refined, and lin (grown as needed and returned) receives the
// final linear bounds, 4·(d+1) numbers a box as boundBatch leaves them.
//
// Where CROWN on the hidden layers is not affordable on every box (wide
// networks, crownBudget 0), the batch gets the symbolic pass, then, when
// b.wide (crownPays said so), the boxes it left above thresh, of side at
// most crownSide, are bounded again with CROWN on their units still
// unstable.
func (b *bounder) boundKids(kids []box, thresh float64, lin []float64) []float64 {
	d := b.c[0].in
	D := 4 * (d + 1)
	lin = grow(&lin, len(kids)*D)
	pass := func(idx []int) {
		B := len(idx)
		blo, bhi := grow(&b.kidLo, B*d), grow(&b.kidHi, B*d)
		ub := grow(&b.kidUB, B)
		known := b.kidKnown[:0]
		for j, i := range idx {
			copy(blo[j*d:], kids[i].lo)
			copy(bhi[j*d:], kids[i].hi)
			known = append(known, kids[i].known)
		}
		b.kidKnown = known
		b.boundBatchKnown(blo, bhi, ub, known)
		for j, i := range idx {
			kids[i].ub = min(kids[i].ub, ub[j])
			copy(lin[i*D:(i+1)*D], b.lin[j*D:(j+1)*D])
		}
	}
	all := b.kidIdx[:0]
	for i := range kids {
		all = append(all, i)
	}
	pass(all)
	if b.crownBudget > 0 || !b.wide {
		b.kidIdx = all
		return lin
	}
	open := all[:0]
	for _, i := range all {
		side := 0.0
		for k := range kids[i].lo {
			side = max(side, kids[i].hi[k]-kids[i].lo[k])
		}
		if kids[i].ub > thresh && side <= crownSide {
			open = append(open, i)
		}
	}
	b.kidIdx = open
	if len(open) > 0 {
		b.crownBudget = math.Inf(1)
		pass(open)
		b.crownBudget = 0
	}
	return lin
}

// crownPays says whether the second pass of boundKids pays on this pair:
// it bounds boxes of side 1/16 centred at the given points (clipped into
// the cube) with the symbolic pass alone and with CROWN on every unstable
// unit, and compares their excesses (bound less |h| at the centre). On
// students trained at the paper's rate the symbolic excess is 50–120×
// CROWN's, on students trained fast 1.2–1.4×, where CROWN costs more
// than the boxes it saves (4–10× the symbolic pass a box); the median of
// the ratios decides, at crownGain. The boxes' statuses are not kept, so
// that each bound is that of a box on its own.
func (b *bounder) crownPays(centres []float64, ev *evaluator) (bool, float64) {
	d := b.c[0].in
	n := len(centres) / d
	const side = 1.0 / 16
	lo, hi := make([]float64, n*d), make([]float64, n*d)
	for i, x := range centres {
		lo[i] = min(max(x-side/2, -0.5), 0.5-side)
		hi[i] = lo[i] + side
	}
	mid := make([]float64, n*d)
	for i := range mid {
		mid[i] = (lo[i] + hi[i]) / 2
	}
	at := make([]float64, n)
	ev.eval(mid, at, nil)
	sym, crown := make([]float64, n), make([]float64, n)
	saved := b.crownBudget
	b.crownBudget = 0
	b.boundBatch(lo, hi, sym)
	b.crownBudget = math.Inf(1)
	b.boundBatch(lo, hi, crown)
	b.crownBudget = saved
	ratio := make([]float64, n)
	for i := range ratio {
		a := math.Abs(at[i])
		ratio[i] = (sym[i] - a) / max(crown[i]-a, 1e-300)
	}
	sort.Float64s(ratio)
	return ratio[n/2] >= crownGain, ratio[n/2]
}

// crownGain is the median excess ratio above which boundKids' second pass
// is made.
const crownGain = 8

// crownSide is the longest side of a box given the second pass: on the
// paper-rate student of d = 3, width 512 no larger box is brought under
// the threshold by CROWN either, and there CROWN costs ~12 ms a box (its
// units are unstable by the hundreds): 68.0 s → 56.1 s to a closed
// bracket, the same 7433 boxes; at 1/16 it took 9359 boxes, 74.4 s.
const crownSide = 1.0 / 8
