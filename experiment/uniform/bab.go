package uniform

import (
	"container/heap"
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/backend/gemm"
)

// box is a sub-box of the cube with an upper bound of |h| on it.
type box struct {
	lo, hi []float64
	ub     float64
	// known is what its bounds showed of the hidden units (see status):
	// still so on every box inside it.
	known []byte
}

type boxHeap []box

func (h boxHeap) Len() int           { return len(h) }
func (h boxHeap) Less(i, j int) bool { return h[i].ub > h[j].ub }
func (h boxHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *boxHeap) Push(x any)        { *h = append(*h, x.(box)) }
func (h *boxHeap) Pop() any {
	old := *h
	b := old[len(old)-1]
	*h = old[:len(old)-1]
	return b
}

// maxBoxes bounds the memory of the search.
const maxBoxes = MaxBoxes

// statusBytes bounds the memory of the boxes' known unit statuses: at
// width 512 a queue of 488k boxes (a paper-rate student's bracket closes
// in 7433), at 2048 of 129k.
const statusBytes = 256 << 20

// queueCap is how many boxes a search keeps at most, for status strings
// of the given length.
func queueCap(status int) int {
	return min(maxBoxes, statusBytes/max(1, status))
}

// ascentFLOPs bounds the work of a bracket's initial ascent (about a
// second on one core).
const ascentFLOPs = 2e9

// evalFLOPs is the work of one forward pass with its gradient.
func (c chain) evalFLOPs() float64 {
	f := 0.0
	for _, ly := range c {
		f += 2 * float64(ly.in) * float64(ly.out)
	}
	return 2 * f
}

// batchBoxes is how many boxes are split and bounded at once (twice as
// many children), climbers how many of the children start an ascent of
// climbSteps steps.
const (
	batchBoxes = 32
	climbers   = 4
	climbSteps = 20
)

// MaxBoxes bounds a bracket's queue of boxes (and a box budget).
const MaxBoxes = 1 << 21

// bracketSearch brackets sup |s − t| on [−½, ½]^d: ascent from the given
// and random starts for the lower bound; branch-and-bound on the boxes of
// largest upper bound (split along the longest side) for the upper.
func bracketSearch(ctx context.Context, student, teacher *backend.Net, opt Options) (Bracket, error) {
	if opt.Gap <= 0 {
		opt.Gap = 0.01
	}
	if opt.Time <= 0 {
		opt.Time = 10 * time.Second
	}
	deadline := time.Now().Add(opt.Time)
	d := student.Sizes[0]
	h := difference(fromNet(student), fromNet(teacher))
	pool := gemm.NewPool[float64](max(1, opt.Threads))
	defer pool.Close()
	bd := newBounder(h, pool)

	ev := newEvaluator(h, pool)
	late := func() bool { return time.Now().After(deadline) || ctx.Err() != nil }

	// Lower bound: ascent from the centre, the given starts and random
	// points, all at once. Its work is bounded by the networks' size, not
	// by time, so that a bracket under a box budget is the same on any
	// machine: at most ascentFLOPs in all (a wide student gets fewer and
	// shorter climbs: the centre and the worst sampled points first). The
	// time limit counts this search too.
	rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed))
	starts := make([]float64, d, d+len(opt.Starts)+32*d)
	starts = append(starts, opt.Starts[:len(opt.Starts)/d*d]...)
	for i := 0; i < 32; i++ {
		for k := 0; k < d; k++ {
			starts = append(starts, rng.Float64()-0.5)
		}
	}
	evals := max(1.0, ascentFLOPs/h.evalFLOPs()) // passes with gradient the ascent may spend
	P := min(len(starts)/d, max(1, int(evals/20)))
	steps := int(min(200, max(10, evals/float64(2*P))))
	lower, arg := ev.climb(starts[:P*d], steps, late)

	if bd.crownBudget == 0 && bd.fullCrown <= secondFLOPs {
		// Where the ascent ended and three random points.
		probe := append([]float64(nil), arg...)
		for i := 0; i < 3*d; i++ {
			probe = append(probe, rng.Float64()-0.5)
		}
		bd.wide, _ = bd.crownPays(probe, ev)
	}
	lo, hi := make([]float64, d), make([]float64, d)
	for k := range lo {
		lo[k], hi[k] = -0.5, 0.5
	}
	root := box{lo: lo, hi: hi, known: make([]byte, h.statusLen())}
	limit := queueCap(len(root.known))
	var rub [1]float64
	bd.boundBatchKnown(lo, hi, rub[:], [][]byte{root.known})
	root.ub = rub[0]
	q := &boxHeap{root}
	boxes := 1
	closed := false
	dropped := 0.0 // the largest upper bound of a box let go as close enough
	var blo, cv, clipBuf, lin []float64
	for {
		thresh := lower * (1 + opt.Gap)
		if (*q)[0].ub <= thresh {
			closed = true
			break
		}
		nb := min(q.Len(), batchBoxes)
		if opt.MaxBoxes > 0 {
			nb = min(nb, (opt.MaxBoxes-boxes)/2)
		}
		if late() || q.Len() >= limit || nb <= 0 {
			break
		}
		// The boxes of largest upper bound, each split in two along its
		// longest side, bounded as one batch.
		var kids []box
		for len(kids) < 2*nb && q.Len() > 0 && (*q)[0].ub > thresh {
			kids = append(kids, split(heap.Pop(q).(box))...)
		}
		n := len(kids)
		lin = bd.boundKids(kids, thresh, lin)
		blo = grow(&blo, n*d)
		for i, kb := range kids {
			for k := range kb.lo {
				blo[i*d+k] = (kb.lo[k] + kb.hi[k]) / 2
			}
		}
		boxes += n
		// The centres are points of the cube: lower bounds; the boxes
		// most likely to hold the sup start a short ascent.
		cv = grow(&cv, n)
		ev.eval(blo, cv, nil)
		order := make([]int, n)
		for i := range kids {
			order[i] = i
			if v := math.Abs(cv[i]); v > lower {
				lower, arg = v, append([]float64(nil), blo[i*d:(i+1)*d]...)
			}
		}
		sort.SliceStable(order, func(a, b int) bool { return kids[order[a]].ub > kids[order[b]].ub })
		m := min(n, climbers)
		from := make([]float64, 0, m*d)
		for _, i := range order[:m] {
			from = append(from, blo[i*d:(i+1)*d]...)
		}
		if v, at := ev.climb(from, climbSteps, late); v > lower {
			lower, arg = v, at
		}
		// Clipped at a little under the threshold: with the margin added,
		// what was cut stays under a closed bracket's upper end.
		thresh = lower * (1 + opt.Gap)
		tau := thresh*(1-1e-6*opt.Gap) - 3*Margin*(1+thresh)
		for i, kb := range kids {
			if kb.ub <= thresh {
				dropped = max(dropped, kb.ub)
				continue
			}
			// What the box's final linear bounds show to be at most tau
			// is cut off; nothing is kept if that is all of it.
			switch clipBox(kb.lo, kb.hi, lin[4*i*(d+1):4*(i+1)*(d+1)], tau, &clipBuf) {
			case clipNone:
				heap.Push(q, kb)
			case clipSome:
				dropped = max(dropped, tau)
				heap.Push(q, kb)
			case clipAll:
				dropped = max(dropped, tau)
			}
		}
		if q.Len() == 0 {
			closed = true
			break
		}
	}
	upper := max(lower, dropped)
	if q.Len() > 0 {
		upper = max(upper, (*q)[0].ub)
	}
	upper += Margin * (1 + math.Abs(upper))
	return Bracket{Lower: lower, Upper: upper, At: arg, Method: MethodBracket, Closed: closed, Boxes: boxes}, ctx.Err()
}

// split halves b along its longest side; the halves start with b's
// bound and known statuses.
func split(b box) []box {
	d := len(b.lo)
	k := 0
	for i := range b.lo {
		if b.hi[i]-b.lo[i] > b.hi[k]-b.lo[k] {
			k = i
		}
	}
	mid := (b.lo[k] + b.hi[k]) / 2
	kids := make([]box, 2)
	for side := range kids {
		c := make([]float64, 2*d)
		cl, ch := c[:d:d], c[d:]
		copy(cl, b.lo)
		copy(ch, b.hi)
		if side == 0 {
			ch[k] = mid
		} else {
			cl[k] = mid
		}
		kids[side] = box{lo: cl, hi: ch, ub: b.ub, known: append([]byte(nil), b.known...)}
	}
	return kids
}

// What clipBox did to a box.
const (
	clipNone = iota // nothing cut
	clipSome        // the box shrank
	clipAll         // nothing of it is left
)

// clipBox shrinks the box [lo, hi] in place to the smallest box holding
// every point where |h| may exceed tau by its final linear bounds lin (as
// boundBatch leaves them: two upper bounds of h, two of −h): for each sign
// the box is clipped by each of its bounds in turn (input-domain clipping:
// on g·x + c > tau, x_i > (tau − c − max of the other terms)/g_i), and
// the two signs' boxes joined. The cut is made short of the exact plane by
// far more than the rounding of the bound's terms, so that only points
// whose bound is at most tau are cut.
func clipBox(lo, hi, lin []float64, tau float64, buf *[]float64) int {
	d := len(lo)
	D := d + 1
	w := grow(buf, 4*d)
	joined := false
	jlo, jhi := w[2*d:3*d], w[3*d:]
	for sign := 0; sign < 2; sign++ {
		l, h := w[:d], w[d:2*d]
		copy(l, lo)
		copy(h, hi)
		if !clipHalf(l, h, lin[2*sign*D:(2*sign+1)*D], tau) || !clipHalf(l, h, lin[(2*sign+1)*D:(2*sign+2)*D], tau) {
			continue
		}
		if !joined {
			copy(jlo, l)
			copy(jhi, h)
			joined = true
			continue
		}
		for i := range l {
			jlo[i], jhi[i] = min(jlo[i], l[i]), max(jhi[i], h[i])
		}
	}
	if !joined {
		return clipAll
	}
	cut := clipNone
	for i := range lo {
		if jlo[i] > lo[i] || jhi[i] < hi[i] {
			cut = clipSome
		}
	}
	copy(lo, jlo)
	copy(hi, jhi)
	return cut
}

// clipHalf shrinks [l, h] to the box of its points where g·x + g[d] may
// exceed tau, and reports whether there are any.
func clipHalf(l, h, g []float64, tau float64) bool {
	d := len(l)
	top := g[d] // the largest value on the box
	scale := math.Abs(g[d]) + math.Abs(tau)
	for i := 0; i < d; i++ {
		top += max(g[i]*l[i], g[i]*h[i])
		scale += math.Abs(g[i]) * max(math.Abs(l[i]), math.Abs(h[i]))
	}
	// Rounding in top and in each cut is below 1e−15·scale; the cut
	// keeps 1e−10·scale more.
	t := tau - 1e-10*(1+scale)
	if top <= t {
		return false
	}
	for i := 0; i < d; i++ {
		if g[i] == 0 {
			continue
		}
		r := t - (top - max(g[i]*l[i], g[i]*h[i]))
		if x := r / g[i]; g[i] > 0 {
			l[i] = min(max(l[i], x), h[i])
		} else {
			h[i] = max(min(h[i], x), l[i])
		}
	}
	return true
}
