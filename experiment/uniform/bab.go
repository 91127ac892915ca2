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

	lo, hi := make([]float64, d), make([]float64, d)
	for k := range lo {
		lo[k], hi[k] = -0.5, 0.5
	}
	root := box{lo: lo, hi: hi}
	root.ub = bd.bound(lo, hi)
	q := &boxHeap{root}
	boxes := 1
	closed := false
	dropped := 0.0 // the largest upper bound of a box let go as close enough
	var blo, bhi, ub, cv []float64
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
		if late() || q.Len() >= maxBoxes || nb <= 0 {
			break
		}
		// The boxes of largest upper bound, each split in two along its
		// longest side, bounded as one batch.
		var kids []box
		for len(kids) < 2*nb && q.Len() > 0 && (*q)[0].ub > thresh {
			top := heap.Pop(q).(box)
			k := 0
			for i := range top.lo {
				if top.hi[i]-top.lo[i] > top.hi[k]-top.lo[k] {
					k = i
				}
			}
			mid := (top.lo[k] + top.hi[k]) / 2
			for side := 0; side < 2; side++ {
				c := make([]float64, 2*d)
				cl, ch := c[:d:d], c[d:]
				copy(cl, top.lo)
				copy(ch, top.hi)
				if side == 0 {
					ch[k] = mid
				} else {
					cl[k] = mid
				}
				kids = append(kids, box{lo: cl, hi: ch, ub: top.ub})
			}
		}
		n := len(kids)
		blo, bhi = grow(&blo, n*d), grow(&bhi, n*d)
		for i, kb := range kids {
			copy(blo[i*d:], kb.lo)
			copy(bhi[i*d:], kb.hi)
		}
		ub = grow(&ub, n)
		bd.boundBatch(blo, bhi, ub)
		boxes += n
		// The centres are points of the cube: lower bounds; the boxes
		// most likely to hold the sup start a short ascent.
		for i := range blo {
			blo[i] = (blo[i] + bhi[i]) / 2
		}
		cv = grow(&cv, n)
		ev.eval(blo, cv, nil)
		order := make([]int, n)
		for i := range kids {
			kids[i].ub = min(kids[i].ub, ub[i])
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
		for _, kb := range kids {
			if kb.ub > lower*(1+opt.Gap) {
				heap.Push(q, kb)
			} else {
				dropped = max(dropped, kb.ub)
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
