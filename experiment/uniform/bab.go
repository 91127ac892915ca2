package uniform

import (
	"container/heap"
	"context"
	"math"
	"math/rand/v2"
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

// MaxBoxes bounds a bracket's queue of boxes (and a box budget).
const MaxBoxes = 1 << 21

// ascent climbs |h| from x by projected (sub)gradient steps on the cube and
// returns the best value and point seen.
func ascent(h chain, x []float64, steps int) (float64, []float64) {
	d := len(x)
	x = append([]float64(nil), x...)
	g := make([]float64, d)
	best := math.Abs(h.eval(x, nil))
	bx := append([]float64(nil), x...)
	step := 0.05
	for s := 0; s < steps; s++ {
		v := h.eval(x, g)
		norm := 0.0
		for _, gi := range g {
			norm += gi * gi
		}
		if norm == 0 {
			break
		}
		sign := 1.0
		if v < 0 {
			sign = -1
		}
		norm = math.Sqrt(norm)
		for i := range x {
			x[i] = min(0.5, max(-0.5, x[i]+sign*step*g[i]/norm))
		}
		if e := math.Abs(h.eval(x, nil)); e > best {
			best = e
			copy(bx, x)
		} else {
			step *= 0.7
			copy(x, bx)
		}
		if step < 1e-12 {
			break
		}
	}
	return best, bx
}

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

	// Lower bound: ascent from the given starts, the centre and random points.
	rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed))
	lower, arg := -1.0, make([]float64, d)
	try := func(x []float64, steps int) {
		v, p := ascent(h, x, steps)
		if v > lower {
			lower, arg = v, p
		}
	}
	// The ascent's work is bounded by the networks' size, not by time,
	// so that a bracket under a box budget is the same on any machine: at
	// most ascentFLOPs in all (a wide student gets fewer and shorter
	// climbs: the centre and the worst sampled points first). The time limit counts this
	// search too: past it, the remaining starts are skipped.
	late := func() bool { return time.Now().After(deadline) || ctx.Err() != nil }
	evals := max(1.0, ascentFLOPs/h.evalFLOPs()) // forward passes the ascent may spend
	steps := int(min(200, max(10, evals/(2*4))))
	spend := func(k int) { evals -= float64(2 * k) }
	try(make([]float64, d), steps)
	spend(steps)
	for i := 0; i+d <= len(opt.Starts) && !late() && evals > 0; i += d {
		try(opt.Starts[i:i+d], steps)
		spend(steps)
	}
	for i := 0; i < 32 && !late() && evals > 0; i++ {
		x := make([]float64, d)
		for k := range x {
			x[k] = rng.Float64() - 0.5
		}
		try(x, steps)
		spend(steps)
	}

	lo, hi := make([]float64, d), make([]float64, d)
	for k := range lo {
		lo[k], hi[k] = -0.5, 0.5
	}
	q := &boxHeap{{lo: lo, hi: hi, ub: bd.bound(lo, hi)}}
	boxes := 1
	closed := false
	dropped := 0.0 // the largest upper bound of a box let go as close enough
	for {
		top := (*q)[0]
		if top.ub <= lower*(1+opt.Gap) {
			closed = true
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil || q.Len() >= maxBoxes || (opt.MaxBoxes > 0 && boxes >= opt.MaxBoxes) {
			break
		}
		heap.Pop(q)
		// Split along the longest side.
		k := 0
		for i := range top.lo {
			if top.hi[i]-top.lo[i] > top.hi[k]-top.lo[k] {
				k = i
			}
		}
		mid := (top.lo[k] + top.hi[k]) / 2
		for side := 0; side < 2; side++ {
			cl, ch := append([]float64(nil), top.lo...), append([]float64(nil), top.hi...)
			if side == 0 {
				ch[k] = mid
			} else {
				cl[k] = mid
			}
			ub := min(top.ub, bd.bound(cl, ch))
			boxes++
			// The centre is a point of the cube: a lower bound, and the
			// start of an ascent on the boxes most likely to hold the sup.
			c := make([]float64, d)
			for i := range c {
				c[i] = (cl[i] + ch[i]) / 2
			}
			if boxes%16 == 0 {
				try(c, 50)
			} else if v := math.Abs(h.eval(c, nil)); v > lower {
				lower, arg = v, c
			}
			if ub > lower*(1+opt.Gap) {
				heap.Push(q, box{lo: cl, hi: ch, ub: ub})
			} else {
				dropped = max(dropped, ub)
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
