package uniform

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/backend/gemm"
)

// randomNet draws a network of the given sizes with every parameter in
// [−c, c] (c ≤ 0: PyTorch's ±1/√fan_in, as a student's initialization) and
// the input scale.
func randomNet(sizes []int, c, scale float64, seed uint64) *backend.Net {
	n := backend.NewNet(sizes)
	n.InputScale = scale
	n.FillUniform(rand.New(rand.NewPCG(seed, 1)), func(l int) float64 {
		if c > 0 {
			return c
		}
		return 1 / math.Sqrt(float64(sizes[l]))
	})
	return n
}

// gridMax is the max of |s − t| over n+1 evenly spaced points of [−½, ½].
func gridMax(s, t *backend.Net, n int) (float64, float64) {
	// One batched evaluation of |s − t| (TestBatchedEvalMatchesOnePoint:
	// the one-point values to rounding), not n+1 calls of Net.Eval.
	pool := gemm.NewPool[float64](1)
	defer pool.Close()
	X := make([]float64, n+1)
	for i := range X {
		X[i] = -0.5 + float64(i)/float64(n)
	}
	v := make([]float64, n+1)
	newEvaluator(difference(fromNet(s), fromNet(t)), pool).eval(X, v, nil)
	best, arg := -1.0, 0.0
	for i, e := range v {
		if math.Abs(e) > best {
			best, arg = math.Abs(e), X[i]
		}
	}
	return best, arg
}

// TestExact1DAgainstDenseGrid: on random pairs (the paper's teacher class,
// students as initialized) the exact sup is attained where it says, is
// never below a dense grid's max, and exceeds it by at most the grid's
// resolution times the largest slope.
func TestExact1DAgainstDenseGrid(t *testing.T) {
	for seed := uint64(0); seed < 6; seed++ {
		teacher := randomNet([]int{1, 32, 32, 32, 32, 1}, 0.5, 1, seed)
		student := randomNet([]int{1, 16 << (seed % 3), 16 << (seed % 3), 1}, 0, math.Sqrt(12), 100+seed)
		b, err := Exact1D(student, teacher, 1)
		if err != nil {
			t.Fatal(err)
		}
		const n = 1 << 16
		g, _ := gridMax(student, teacher, n)
		at := math.Abs(student.Eval(b.At) - teacher.Eval(b.At))
		if math.Abs(at-b.Upper) > 1e-12*(1+b.Upper) {
			t.Fatalf("seed %d: |h| at the reported point %v is %v, the sup says %v", seed, b.At, at, b.Upper)
		}
		if b.Upper < g*(1-1e-12) {
			t.Fatalf("seed %d: exact sup %v below the grid max %v", seed, b.Upper, g)
		}
		// The slope of h is at most its largest difference quotient on the
		// pieces; a grid of step 1/n misses at most slope/(2n)·2.
		slope := 0.0
		for i := 0; i < n; i += 1 << 6 {
			x0, x1 := -0.5+float64(i)/n, -0.5+float64(i+1)/n
			d0 := student.Eval([]float64{x0}) - teacher.Eval([]float64{x0})
			d1 := student.Eval([]float64{x1}) - teacher.Eval([]float64{x1})
			slope = max(slope, math.Abs(d1-d0)*n)
		}
		if b.Upper > g+4*slope/n {
			t.Fatalf("seed %d: exact sup %v more than the grid's resolution above its max %v (slope %v)", seed, b.Upper, g, slope)
		}
		if b.Method != MethodExact || !b.Closed || b.Lower != b.Upper || b.Pieces < 32 {
			t.Fatalf("seed %d: %+v", seed, b)
		}
	}
}

// TestExact1DHandBuilt: a tent against zero, and a sawtooth built by
// composing tents, have known sups and peaks.
func TestExact1DHandBuilt(t *testing.T) {
	zero := backend.NewNet([]int{1, 1, 1})
	// Tent: relu(x+0.2) − 2·relu(x) + relu(x−0.2), peak 0.2 at 0.
	tent := backend.NewNet([]int{1, 3, 1})
	copy(tent.W[0], []float64{1, 1, 1})
	copy(tent.B[0], []float64{0.2, 0, -0.2})
	copy(tent.W[1], []float64{1, -2, 1})
	b, err := Exact1D(tent, zero, 1)
	if err != nil || b.Upper != 0.2 || b.At[0] != 0 {
		t.Fatalf("tent: %+v %v, want 0.2 at 0", b, err)
	}
	// Sawtooth: with y = x + ½, T(y) = 2·relu(y) − 4·relu(y − ½) is the
	// unit tent on [0, 1]; T∘T has two teeth of height 1 at x = ∓¼.
	saw := backend.NewNet([]int{1, 2, 2, 1})
	copy(saw.W[0], []float64{1, 1})
	copy(saw.B[0], []float64{0.5, 0})
	copy(saw.W[1], []float64{2, -4, 2, -4})
	copy(saw.B[1], []float64{0, -0.5})
	copy(saw.W[2], []float64{2, -4})
	b, err = Exact1D(saw, zero, 1)
	if err != nil || math.Abs(b.Upper-1) > 1e-15 || math.Abs(math.Abs(b.At[0])-0.25) > 1e-15 {
		t.Fatalf("sawtooth: %+v %v, want 1 at ±0.25", b, err)
	}
	// The deeper net against a shallower one of another depth.
	b, err = Exact1D(saw, tent, 1)
	if err != nil || math.Abs(b.Upper-1) > 1e-15 {
		t.Fatalf("sawtooth − tent: %+v %v, want 1 (at ±0.25 the tent is 0)", b, err)
	}
}

// TestCrownSound: every box's upper bound is at least |h| at random points
// of the box, for random pairs in 1 to 3 dimensions, depths 3 to 5, and
// student and teacher of different depths.
func TestCrownSound(t *testing.T) {
	pool := gemm.NewPool[float64](1)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := 0; trial < 12; trial++ {
		d := 1 + trial%3
		teacher := randomNet([]int{d, 16, 16, 16, 1}, 0.5, 1, uint64(trial))
		ss := []int{d, 12, 12, 1}
		if trial%2 == 0 {
			ss = []int{d, 8, 8, 8, 8, 1}
		}
		student := randomNet(ss, 0, math.Sqrt(12), uint64(50+trial))
		h := difference(fromNet(student), fromNet(teacher))
		bd := newBounder(h, pool)
		for k := 0; k < 20; k++ {
			lo, hi := make([]float64, d), make([]float64, d)
			for i := range lo {
				a, b := rng.Float64()-0.5, rng.Float64()-0.5
				lo[i], hi[i] = min(a, b), max(a, b)
			}
			ub := bd.bound(lo, hi)
			x := make([]float64, d)
			for p := 0; p < 200; p++ {
				for i := range x {
					x[i] = lo[i] + rng.Float64()*(hi[i]-lo[i])
				}
				e := math.Abs(student.Eval(x) - teacher.Eval(x))
				if e > ub*(1+1e-12)+1e-12 {
					t.Fatalf("trial %d: |h(%v)| = %v above the box's bound %v", trial, x, e, ub)
				}
				if he := h.eval(x, nil); math.Abs(he-(student.Eval(x)-teacher.Eval(x))) > 1e-12 {
					t.Fatalf("trial %d: the difference chain gives %v, the networks %v", trial, he, student.Eval(x)-teacher.Eval(x))
				}
			}
		}
	}
}

// TestBracket: in 1-D the bracket contains the exact sup; in 2 and 3
// dimensions its upper bound is at least every sampled value and its lower
// bound at most the upper; more branching never loosens it.
func TestBracket(t *testing.T) {
	ctx := context.Background()
	teacher1 := randomNet([]int{1, 16, 16, 16, 1}, 0.5, 1, 3)
	student1 := randomNet([]int{1, 16, 16, 16, 1}, 0, math.Sqrt(12), 4)
	ex, _ := Exact1D(student1, teacher1, 1)
	b, err := bracketSearch(ctx, student1, teacher1, Options{Gap: 1e-3, Time: 20 * time.Second})
	if err != nil || b.Upper < ex.Upper || b.Lower > ex.Upper*(1+1e-12) || !b.Closed {
		t.Fatalf("1-D bracket %+v against exact %v (%v)", b, ex.Upper, err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for _, d := range []int{2, 3} {
		teacher := randomNet([]int{d, 16, 16, 16, 1}, 0.5, 1, uint64(d))
		student := randomNet([]int{d, 16, 16, 16, 1}, 0, math.Sqrt(12), uint64(10+d))
		sampled := 0.0
		x := make([]float64, d)
		for i := 0; i < 1<<15; i++ {
			for k := range x {
				x[k] = rng.Float64() - 0.5
			}
			sampled = max(sampled, math.Abs(student.Eval(x)-teacher.Eval(x)))
		}
		prev := math.Inf(1)
		for _, n := range []int{1, 30, 300, 3000} {
			b, err := bracketSearch(ctx, student, teacher, Options{Gap: 1e-6, Time: time.Minute, MaxBoxes: n})
			if err != nil {
				t.Fatal(err)
			}
			if b.Upper < sampled || b.Lower > b.Upper || b.Upper > prev*(1+1e-12) {
				t.Fatalf("d=%d, %d boxes: bracket [%v, %v], sampled max %v, previous upper %v", d, n, b.Lower, b.Upper, sampled, prev)
			}
			if at := math.Abs(student.Eval(b.At) - teacher.Eval(b.At)); math.Abs(at-b.Lower) > 1e-12 {
				t.Fatalf("d=%d: the lower bound %v is not |h| at its point (%v)", d, b.Lower, at)
			}
			prev = b.Upper
		}
		if prev > 1.5*sampled {
			t.Fatalf("d=%d: after 3000 boxes the upper bound %v is still far above the sampled max %v", d, prev, sampled)
		}
	}
}

var sinkBracket Bracket

// BenchmarkExact1D: the paper's teacher (width 32, depth 5, c = 0.5)
// against students of width 32, 512 and 2048 as initialized.
func BenchmarkExact1D(b *testing.B) {
	teacher := randomNet([]int{1, 32, 32, 32, 32, 1}, 0.5, 1, 1)
	for _, w := range []int{32, 512, 2048} {
		student := randomNet([]int{1, w, w, w, w, 1}, 0, math.Sqrt(12), 2)
		b.Run(fmt.Sprintf("w%d", w), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var err error
				if sinkBracket, err = Exact1D(student, teacher, 2); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(sinkBracket.Pieces), "pieces")
		})
	}
}

// sawtooth is the tent map composed depth−1 times on t = x + ½, a
// width-2 network with 2^(depth−1) linear pieces on [−½, ½] and sup 1.
func sawtooth(depth int) *backend.Net {
	sz := []int{1}
	for i := 1; i < depth; i++ {
		sz = append(sz, 2)
	}
	net := backend.NewNet(append(sz, 1))
	net.InputScale = 1
	net.W[0], net.B[0] = []float64{1, 1}, []float64{0.5, 0}
	for l := 1; l < depth-1; l++ {
		net.W[l], net.B[l] = []float64{2, -4, 2, -4}, []float64{0, -0.5}
	}
	net.W[depth-1], net.B[depth-1] = []float64{2, -4}, []float64{0}
	return net
}

// TestSawtoothFallsBackToBracket: a crafted 1-D teacher of 2^26 pieces is
// not walked (that needed gigabytes): the pieces are counted before they
// are made and the sup is bracketed instead, said so, and sound.
func TestSawtoothFallsBackToBracket(t *testing.T) {
	small := sawtooth(6) // 32 pieces: walked exactly
	zero := backend.NewNet([]int{1, 2, 1})
	zero.InputScale = 1
	b, err := Sup(context.Background(), zero, small, Options{Time: time.Second})
	if err != nil || b.Method != MethodExact || math.Abs(b.Upper-1) > 1e-12 || b.Pieces < 32 {
		t.Fatalf("depth 6: %+v, %v", b, err)
	}
	b, err = Sup(context.Background(), zero, sawtooth(27), Options{Time: time.Second, MaxBoxes: 2000})
	if err != nil || b.Method != MethodBracket || !strings.Contains(b.Note, "too many linear pieces") {
		t.Fatalf("depth 27: %+v, %v", b, err)
	}
	if b.Upper < 1-1e-9 || b.Lower > 1+1e-9 {
		t.Fatalf("depth 27: the bracket [%g, %g] does not hold the sup 1", b.Lower, b.Upper)
	}
	if !strings.Contains(b.Describe(), "bracketed instead") {
		t.Fatalf("the fallback is not said: %s", b.Describe())
	}
}

// With a box budget a bracket is a function of the networks, the budget
// and the seed: the same on 1 or 2 threads and on every call (the time
// limit, far away here, does not decide it).
func TestBoxBudgetIsReproducible(t *testing.T) {
	teacher := randomNet([]int{3, 16, 16, 16, 1}, 0.5, 1, 5)
	student := randomNet([]int{3, 16, 16, 16, 1}, 0, math.Sqrt(12), 6)
	var first Bracket
	for i, threads := range []int{1, 2, 1} {
		b, err := Sup(context.Background(), student, teacher, Options{Gap: 1e-9, Time: time.Hour, MaxBoxes: 200, Seed: 3, Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		if b.Boxes > 201 || b.Closed {
			t.Fatalf("budget 200: %d boxes, closed %v", b.Boxes, b.Closed)
		}
		if i == 0 {
			first = b
			continue
		}
		if b.Lower != first.Lower || b.Upper != first.Upper || b.Boxes != first.Boxes {
			t.Fatalf("%d threads: [%v, %v] in %d boxes, first call [%v, %v] in %d", threads, b.Lower, b.Upper, b.Boxes, first.Lower, first.Upper, first.Boxes)
		}
	}
}

// The symbolic bounds on wide networks (where CROWN bounds only the
// output): no point of a box has |h| above the box's bound — random
// points and every corner — and on the whole cube they are far tighter
// than intervals alone.
func TestSymbolicBoundsSoundOnWideNets(t *testing.T) {
	pool := gemm.NewPool[float64](2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(11, 11))
	for trial := 0; trial < 2; trial++ {
		d := 2 + trial%2
		teacher := randomNet([]int{d, 16, 16, 16, 1}, 0.5, 1, uint64(100+trial))
		student := randomNet([]int{d, 400, 400, 400, 1}, 0, math.Sqrt(12), uint64(200+trial))
		h := difference(fromNet(student), fromNet(teacher))
		bd, ev := newBounder(h, pool), newEvaluator(h, pool)
		for k := 0; k < 12; k++ {
			lo, hi := make([]float64, d), make([]float64, d)
			for i := range lo {
				a, b := rng.Float64()-0.5, rng.Float64()-0.5
				if k == 0 {
					a, b = -0.5, 0.5
				}
				lo[i], hi[i] = min(a, b), max(a, b)
			}
			ub := bd.bound(lo, hi)
			// 300 random points of the box and its corners, evaluated in
			// one batch (TestBatchedEvalMatchesOnePoint: the one-point
			// values to rounding).
			X := make([]float64, 0, (300+1<<d)*d)
			for p := 0; p < 300; p++ {
				for i := range lo {
					X = append(X, lo[i]+rng.Float64()*(hi[i]-lo[i]))
				}
			}
			for corner := 0; corner < 1<<d; corner++ {
				for i := range lo {
					X = append(X, lo[i])
					if corner>>i&1 == 1 {
						X[len(X)-1] = hi[i]
					}
				}
			}
			v := make([]float64, len(X)/d)
			ev.eval(X, v, nil)
			for p, e := range v {
				if math.Abs(e) > ub*(1+1e-12)+1e-12 {
					t.Fatalf("trial %d: |h(%v)| = %v above the box's bound %v", trial, X[p*d:(p+1)*d], math.Abs(e), ub)
				}
			}
			if iv := intervalOnlyBound(h, lo, hi); ub > iv*(1+1e-12) {
				t.Fatalf("trial %d: the bound %v is looser than intervals alone %v", trial, ub, iv)
			}
		}
		// On a small box, where most units are stable, the symbolic bound
		// is far below intervals alone.
		lo, hi := make([]float64, d), make([]float64, d)
		for i := range lo {
			lo[i] = rng.Float64()*0.9 - 0.45
			hi[i] = lo[i] + 0.02
		}
		sym, iv := bd.bound(lo, hi), intervalOnlyBound(h, lo, hi)
		if !(sym < iv/2) {
			t.Fatalf("trial %d: on a box of side 0.02 the bound %v is not well below intervals %v", trial, sym, iv)
		}
	}
}

// intervalOnlyBound is |h|'s bound over the box by interval arithmetic.
func intervalOnlyBound(c chain, blo, bhi []float64) float64 {
	lo, hi := append([]float64(nil), blo...), append([]float64(nil), bhi...)
	for l, ly := range c {
		nlo, nhi := make([]float64, ly.out), make([]float64, ly.out)
		for o := 0; o < ly.out; o++ {
			s, r := ly.b[o], 0.0
			for i, w := range ly.W[o*ly.in : (o+1)*ly.in] {
				a, b := lo[i], hi[i]
				if l > 0 {
					a, b = max(a, 0), max(b, 0)
				}
				s += w * (a + b) / 2
				r += math.Abs(w) * (b - a) / 2
			}
			nlo[o], nhi[o] = s-r, s+r
		}
		lo, hi = nlo, nhi
	}
	return max(hi[0], -lo[0])
}

// TestBatchedBoundsAtLeastAsTight: a batch of boxes of every size, bounded
// at once, gets on each box a bound that is sound (random points), equal to
// the box bounded alone, and no looser than the one-box-at-a-time bounder
// with CROWN on every unit of every layer, then the symbolic pass — for
// narrow and (with an unlimited CROWN budget) wide networks.
func TestBatchedBoundsAtLeastAsTight(t *testing.T) {
	pool := gemm.NewPool[float64](2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(5, 5))
	for trial, width := range []int{12, 300} {
		d := 2 + trial
		teacher := randomNet([]int{d, 16, 16, 16, 1}, 0.5, 1, uint64(300+trial))
		student := randomNet([]int{d, width, width, width, 1}, 0, math.Sqrt(12), uint64(400+trial))
		h := difference(fromNet(student), fromNet(teacher))
		bd, ev := newBounder(h, pool), newEvaluator(h, pool)
		if width > 100 {
			// CROWN on every unstable unit of every box, as the reference
			// does on every unit.
			bd.crownBudget = math.Inf(1)
		}
		// Boxes of all eight side lengths 1 … 2⁻⁷ (box i's side is
		// 2^-(i mod 8)); three of each at width 12, one of each at width
		// 300, where CROWN on every unit makes each box dear.
		B := 24
		if width > 100 {
			B = 8
		}
		lo, hi := make([]float64, B*d), make([]float64, B*d)
		for i := range lo {
			side := math.Pow(2, -float64(i/d%8))
			lo[i] = -0.5 + rng.Float64()*(1-side)
			hi[i] = lo[i] + side
		}
		ub := make([]float64, B)
		bd.boundBatch(lo, hi, ub)
		// CROWN's rows in chunks of 10 gives the same.
		n := width + 16
		keep := crownRows
		crownRows = 10 * n
		chunked := make([]float64, B)
		bd.boundBatch(lo, hi, chunked)
		crownRows = keep
		for bx := range ub {
			if chunked[bx] != ub[bx] {
				t.Fatalf("width %d box %d: %v in chunks of 10 rows, %v at once", width, bx, chunked[bx], ub[bx])
			}
		}
		tighter := 0
		for bx := 0; bx < B; bx++ {
			blo, bhi := lo[bx*d:(bx+1)*d], hi[bx*d:(bx+1)*d]
			one := bd.bound(blo, bhi)
			if math.Abs(one-ub[bx]) > 1e-12*math.Abs(one) {
				t.Fatalf("width %d box %d: %v in a batch, %v alone", width, bx, ub[bx], one)
			}
			ref := bd.refBound(blo, bhi, true)
			if ub[bx] > ref*(1+1e-12) {
				t.Fatalf("width %d box %d: batched %v looser than one at a time %v", width, bx, ub[bx], ref)
			}
			if ub[bx] < ref*(1-1e-9) {
				tighter++
			}
			X := make([]float64, 100*d)
			for p := 0; p < 100; p++ {
				for i := range blo {
					X[p*d+i] = blo[i] + rng.Float64()*(bhi[i]-blo[i])
				}
			}
			v := make([]float64, 100)
			ev.eval(X, v, nil)
			for p, e := range v {
				if math.Abs(e) > ub[bx]*(1+1e-12)+1e-12 {
					t.Fatalf("width %d box %d: |h(%v)| = %v above the bound %v", width, bx, X[p*d:(p+1)*d], math.Abs(e), ub[bx])
				}
			}
		}
		t.Logf("width %d: %d of %d boxes tighter than one at a time", width, tighter, B)
	}
}

// TestBatchedEvalMatchesOnePoint: the batched evaluator's values and
// gradients equal the one-point evaluation's, and the gradient matches
// central finite differences away from kinks.
func TestBatchedEvalMatchesOnePoint(t *testing.T) {
	pool := gemm.NewPool[float64](2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(9, 9))
	teacher := randomNet([]int{3, 16, 16, 16, 1}, 0.5, 1, 1)
	student := randomNet([]int{3, 40, 40, 1}, 0, math.Sqrt(12), 2)
	h := difference(fromNet(student), fromNet(teacher))
	ev := newEvaluator(h, pool)
	for _, P := range []int{1, 7, 64} {
		X := make([]float64, 3*P)
		for i := range X {
			X[i] = rng.Float64() - 0.5
		}
		v, g := make([]float64, P), make([]float64, 3*P)
		ev.eval(X, v, g)
		for p := 0; p < P; p++ {
			x := X[3*p : 3*p+3]
			g1 := make([]float64, 3)
			v1 := h.eval(x, g1)
			if math.Abs(v1-v[p]) > 1e-12 {
				t.Fatalf("P=%d point %d: %v batched, %v alone", P, p, v[p], v1)
			}
			for i := range g1 {
				if math.Abs(g1[i]-g[3*p+i]) > 1e-12 {
					t.Fatalf("P=%d point %d: gradient %v batched, %v alone", P, p, g[3*p:3*p+3], g1)
				}
				const e = 1e-6
				xp, xm := append([]float64(nil), x...), append([]float64(nil), x...)
				xp[i] += e
				xm[i] -= e
				fd := (h.eval(xp, nil) - h.eval(xm, nil)) / (2 * e)
				if math.Abs(fd-g1[i]) > 1e-5*(1+math.Abs(fd)) {
					t.Logf("P=%d point %d coordinate %d: gradient %v, finite difference %v (a kink nearby)", P, p, i, g1[i], fd)
				}
			}
		}
	}
}

// TestBracketSurvivesAttack: closed brackets on narrow (CROWN on every
// layer) and wide (symbolic) pairs in 2 and 3 dimensions survive attack
// (see attack).
func TestBracketSurvivesAttack(t *testing.T) {
	for trial, tc := range []struct{ d, width int }{{2, 20}, {3, 20}, {2, 200}, {3, 200}} {
		d := tc.d
		teacher := randomNet([]int{d, 16, 16, 16, 1}, 0.5, 1, uint64(500+trial))
		student := randomNet([]int{d, tc.width, tc.width, tc.width, 1}, 0, math.Sqrt(12), uint64(600+trial))
		// Bounded by boxes, not time (the limit is only a safety net): the
		// same bracket however loaded the machine.
		b, err := Sup(context.Background(), student, teacher, Options{Gap: 1e-3, Time: time.Hour, MaxBoxes: 20000, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		if !b.Closed || b.Gap() > 1e-3 {
			t.Fatalf("%+v: not closed to 0.1 %%: %s", tc, b.Describe())
		}
		found := attack(t, student, teacher, b, uint64(13+trial))
		t.Logf("%+v: %s; the attack's best %.6g (%.4f%% below the upper end) in %d boxes", tc, b.Describe(), found, 100*(1-found/b.Upper), b.Boxes)
	}
}

// attack fails t unless the lower end of b is |h| at its point and no
// point found by attack has |h| above its upper end: 2^15 random points, a
// grid on the first two coordinates (the others at the corners), and
// ascent from the 64 worst of them. It returns the attack's best.
func attack(t *testing.T, student, teacher *backend.Net, b Bracket, seed uint64) float64 {
	t.Helper()
	pool := gemm.NewPool[float64](2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(seed, seed))
	d := student.Sizes[0]
	h := difference(fromNet(student), fromNet(teacher))
	if at := math.Abs(h.eval(b.At, nil)); math.Abs(at-b.Lower) > 1e-12 {
		t.Fatalf("the lower end %v is not |h| at its point (%v)", b.Lower, at)
	}
	const P = 1 << 15
	X := make([]float64, 0, P*d)
	for i := 0; i < P; i++ {
		for k := 0; k < d; k++ {
			X = append(X, rng.Float64()-0.5)
		}
	}
	for i := 0; i <= 64; i++ {
		for j := 0; j <= 64; j++ {
			X = append(X, -0.5+float64(i)/64, -0.5+float64(j)/64)
			for k := 2; k < d; k++ {
				X = append(X, 0.5*float64((i+j)%2*2-1))
			}
		}
	}
	ev := newEvaluator(h, pool)
	v := make([]float64, len(X)/d)
	ev.eval(X, v, nil)
	worst := make([]int, len(v))
	for i := range worst {
		worst[i] = i
	}
	sort.Slice(worst, func(a, c int) bool { return math.Abs(v[worst[a]]) > math.Abs(v[worst[c]]) })
	from := make([]float64, 0, 64*d)
	for _, i := range worst[:64] {
		from = append(from, X[i*d:(i+1)*d]...)
	}
	found, _ := ev.climb(from, 200, func() bool { return false })
	found = max(found, math.Abs(v[worst[0]]))
	if found > b.Upper {
		t.Fatalf("the attack found |h| = %v above the bracket's upper end %v", found, b.Upper)
	}
	return found
}

// TestClipBoxSound: on random boxes and linear bounds, every point that
// clipBox cuts off has, for each sign, one of that sign's bounds at most
// tau; what it keeps is inside the box; a box all of whose points are cut
// is reported so.
func TestClipBoxSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	var buf []float64
	cuts := 0
	for trial := 0; trial < 2000; trial++ {
		d := 2 + trial%3
		D := d + 1
		lo, hi := make([]float64, d), make([]float64, d)
		for i := range lo {
			a, b := rng.Float64()-0.5, rng.Float64()-0.5
			lo[i], hi[i] = min(a, b), max(a, b)
		}
		lin := make([]float64, 4*D)
		for i := range lin {
			lin[i] = rng.NormFloat64()
		}
		tau := rng.NormFloat64()
		clo, chi := append([]float64(nil), lo...), append([]float64(nil), hi...)
		got := clipBox(clo, chi, lin, tau, &buf)
		f := func(row int, x []float64) float64 {
			v := lin[row*D+d]
			for i, xi := range x {
				v += lin[row*D+i] * xi
			}
			return v
		}
		x := make([]float64, d)
		for p := 0; p < 200; p++ {
			inside := true
			for i := range x {
				x[i] = lo[i] + rng.Float64()*(hi[i]-lo[i])
				if p < 8 { // the corners too
					x[i] = []float64{lo[i], hi[i]}[p>>i&1]
				}
				inside = inside && x[i] >= clo[i] && x[i] <= chi[i]
			}
			if got != clipAll && inside {
				continue
			}
			for sign := 0; sign < 2; sign++ {
				if m := min(f(2*sign, x), f(2*sign+1, x)); m > tau {
					t.Fatalf("trial %d: %v cut off (%d), but sign %d's bounds there are %v, %v > tau %v", trial, x, got, sign, f(2*sign, x), f(2*sign+1, x), tau)
				}
			}
		}
		for i := range lo {
			if clo[i] < lo[i] || chi[i] > hi[i] || (got != clipAll && clo[i] > chi[i]) {
				t.Fatalf("trial %d: clipped to [%v, %v] from [%v, %v]", trial, clo, chi, lo, hi)
			}
		}
		if got == clipSome {
			cuts++
		}
	}
	if cuts < 100 {
		t.Fatalf("only %d of 2000 boxes were cut: the test does not exercise clipping", cuts)
	}
}

// TestKnownStatusSound: a box bounded with the unit statuses its parent's
// bounds showed gets a sound bound, and every status recorded (on the
// parent and refined on the child) holds at random points of the child:
// an active unit's pre-activation is ≥ 0 there, an inactive one's ≤ 0.
func TestKnownStatusSound(t *testing.T) {
	pool := gemm.NewPool[float64](2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(31, 31))
	for trial := 0; trial < 6; trial++ {
		d := 2 + trial%2
		teacher := randomNet([]int{d, 16, 16, 16, 1}, 0.5, 1, uint64(700+trial))
		student := randomNet([]int{d, 40, 40, 40, 1}, 0, math.Sqrt(12), uint64(800+trial))
		h := difference(fromNet(student), fromNet(teacher))
		bd := newBounder(h, pool)
		if trial%3 == 0 {
			bd.crownBudget = 0 // the symbolic pass alone
		}
		lo, hi := make([]float64, d), make([]float64, d)
		for i := range lo {
			lo[i] = -0.5 + rng.Float64()*0.5
			hi[i] = lo[i] + 0.5
		}
		known := make([]byte, h.statusLen())
		var ub [1]float64
		bd.boundBatchKnown(lo, hi, ub[:], [][]byte{known})
		for gen := 0; gen < 4; gen++ { // halve the box along a side, keep one half
			k := gen % d
			if rng.IntN(2) == 0 {
				hi[k] = (lo[k] + hi[k]) / 2
			} else {
				lo[k] = (lo[k] + hi[k]) / 2
			}
			bd.boundBatchKnown(lo, hi, ub[:], [][]byte{known})
			marked := 0
			x := make([]float64, d)
			for p := 0; p < 300; p++ {
				for i := range x {
					x[i] = lo[i] + rng.Float64()*(hi[i]-lo[i])
				}
				if e := math.Abs(h.eval(x, nil)); e > ub[0]*(1+1e-12)+1e-12 {
					t.Fatalf("trial %d gen %d: |h(%v)| = %v above the bound %v", trial, gen, x, e, ub[0])
				}
				a, u := x, 0
				for l, ly := range h[:len(h)-1] {
					z := make([]float64, ly.out)
					for o := range z {
						s := ly.b[o]
						for i, w := range ly.W[o*ly.in : (o+1)*ly.in] {
							s += w * a[i]
						}
						z[o] = s
						switch known[u/4] >> (2 * (u % 4)) & 3 {
						case active:
							marked++
							if s < -1e-12 {
								t.Fatalf("trial %d gen %d: unit %d of layer %d known active, %v at %v", trial, gen, o, l, s, x)
							}
						case inactive:
							marked++
							if s > 1e-12 {
								t.Fatalf("trial %d gen %d: unit %d of layer %d known inactive, %v at %v", trial, gen, o, l, s, x)
							}
						}
						u++
					}
					for o := range z {
						z[o] = max(z[o], 0)
					}
					a = z
				}
			}
			if marked == 0 {
				t.Fatalf("trial %d gen %d: no unit known stable: the test checks nothing", trial, gen)
			}
		}
	}
}
