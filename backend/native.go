package backend

import (
	"fmt"
	"runtime"

	"github.com/reluscope/reluscope/backend/gemm"
)

// Native is the default engine: forward pass, backward pass and Adam written
// directly over preallocated buffers, GEMMs through the packed, register-blocked
// kernels of backend/gemm on a pool of Options.Threads goroutines, bias add and
// ReLU fused into single passes. After warm-up a step allocates nothing.
type Native struct{}

func init() { Register(Native{}) }

func (Native) Name() string     { return "native" }
func (Native) Available() error { return nil }
func (Native) New(net *Net, opt Options) (Model, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	if opt.DType == Float32 {
		return newNative[float32](net, opt), nil
	}
	return newNative[float64](net, opt), nil
}

type float interface{ ~float32 | ~float64 }

// threads is the number of goroutines a model computes on.
func threads(opt Options) int {
	if opt.Threads > 0 {
		return opt.Threads
	}
	return runtime.GOMAXPROCS(0)
}

type native[T float] struct {
	// interrupt, when set, is asked between layers of a Step; stop is it
	// while a Step runs (Gradient and Predict are not interrupted).
	interrupt, stop func() bool
	sizes           []int
	scale           T
	scale64         float64
	adam            Adam
	pool            *gemm.Pool[T]
	// whole computes a batch in one piece on pool; shards[s] computes
	// rows [lo, hi) of a large batch, the shards split over pool's
	// goroutines, each part on its own pool, shardPools[w] (shard count and
	// bounds depend on the batch only, so a step gives the same numbers on
	// any number of threads). A part of Split holds shardPer shards.
	whole      part[T]
	shards     []part[T]
	shardPools []*gemm.Pool[T]
	shardPer   int
	runShard   func(lo, hi int)
	blocks     []part[T] // Predict's row blocks, one part per goroutine
	runBlock   func(lo, hi int)
	x, y       []float64 // the batch being computed (for runShard, runBlock)
	g2         []T       // the other shards' gradients summed, to be added to g (nil: none)
	n          int
	t          int // Adam step count
	p, g       []T // flat parameters and gradients: W0 b0 W1 b1 …
	m, v       []T // Adam moments
	w, b       [][]T
	gw, gb     [][]T
	// wt[l] is w[l] transposed (in×out), kept for narrow layers so that the
	// forward product reads B in place (gemm's direct path); nil for wide
	// layers, whose forward product packs w[l] itself.
	wt     [][]T
	maxN   int
	act    [][]T // act[0] is the scaled input, act[l] layer l's output (n×Sizes[l])
	d1, d2 []T   // backward ping-pong buffers (n×max width)
	maxW   int
	// epilogues of the forward products (bias, ReLU), one per layer, shared
	// (read-only) by the parts.
	epFwd []gemm.Epilogue[T]
	// Adam's step constants, set before adamPart runs on the pool.
	adamK    gemm.AdamConsts[T]
	adamPart func(lo, hi int)
}

// part is a slice of rows of a batch with what computing it needs of its own:
// a GEMM pool, gradients and backward epilogues.
type part[T float] struct {
	pool   *gemm.Pool[T]
	g      []T // flat gradient, laid out as the parameters
	gw, gb [][]T
	// epilogues of the backward products: the ReLU mask of the layer below
	// and its bias gradient as column sums.
	epBwd   []gemm.Epilogue[T]
	lo, hi  int
	loss    float64 // Σ squared residuals of the rows
	aborted bool    // the step was interrupted in this part
}

// numShards is the number of parts a batch of n rows is computed in. One
// when the batch is short next to the widest layer (n < 3·maxW: shards would
// each pack large weight matrices for a few rows; the products themselves
// are then split over the pool) or the step is small (n·params < 2¹⁷);
// else one per shardRows rows, at least 2, at most as many gradients as fit
// in shardMaxBytes. Each shard's products then stay in cache on one core
// (measured on one thread at width 32: batch 2000 in two shards 1.4 ms, whole
// 2.4 ms), and the shards run on the pool's goroutines side by side. The
// count and the bounds depend on the batch only, so a step gives the same
// numbers on any number of threads.
func numShards(n, params, maxW int) int {
	if n < 16 || n < shardMinRows*maxW || n*params < shardMinWork {
		return 1
	}
	S := max(2, (n+shardRows-1)/shardRows)
	S = min(S, max(2, shardMaxBytes/(8*params)))
	for S > 2 && shardRowsOf(n, S)*(S-1) >= n {
		S--
	}
	return S
}

// shardRowsOf is the rows of each shard but the last (which takes the
// rest): n/S rounded up to a multiple of 8, so each shard's tiles are whole.
func shardRowsOf(n, S int) int { return (n/S + 7) / 8 * 8 }

// numShards' thresholds, variables so tests can shard small batches.
var (
	shardMinWork, shardMinRows = 1 << 17, 3
	shardRows                  = 1024
	shardMaxBytes              = 64 << 20
)

func newNative[T float](net *Net, opt Options) *native[T] {
	th := threads(opt)
	e := &native[T]{sizes: append([]int(nil), net.Sizes...), scale: T(net.InputScale), scale64: net.InputScale, adam: opt.Adam.WithDefaults(),
		pool: gemm.NewPool[T](th)}
	np := net.NumParams()
	e.p, e.g = make([]T, np), make([]T, np)
	e.m, e.v = make([]T, np), make([]T, np)
	e.w, e.b = e.views(e.p)
	e.gw, e.gb = e.views(e.g)
	e.whole = e.newPart(e.pool, e.g)
	e.runShard, e.runBlock = e.shardRange, e.blockRange
	e.wt = make([][]T, len(e.w))
	for l := range e.w {
		if in, out := e.sizes[l], e.sizes[l+1]; in*out <= narrowLayer {
			e.wt[l] = make([]T, in*out)
		}
	}
	e.setNet(net)
	e.adamPart = e.adamRange
	L := len(e.sizes) - 1
	e.epFwd = make([]gemm.Epilogue[T], L)
	for l := 0; l < L; l++ {
		e.epFwd[l] = gemm.Epilogue[T]{Bias: e.b[l], ReLU: l+1 < L}
	}
	for _, s := range e.sizes {
		e.maxW = max(e.maxW, s)
	}
	n := opt.MaxBatch
	if n <= 0 {
		n = 1024
	}
	e.grow(n)
	return e
}

func (e *native[T]) newPart(pool *gemm.Pool[T], g []T) part[T] {
	pt := part[T]{pool: pool, g: g, epBwd: make([]gemm.Epilogue[T], len(e.sizes)-1)}
	pt.gw, pt.gb = e.views(g)
	return pt
}

func (e *native[T]) views(flat []T) (w, b [][]T) {
	off := 0
	for l := 0; l+1 < len(e.sizes); l++ {
		in, out := e.sizes[l], e.sizes[l+1]
		w = append(w, flat[off:off+in*out:off+in*out])
		off += in * out
		b = append(b, flat[off:off+out:off+out])
		off += out
	}
	return w, b
}

func (e *native[T]) setNet(net *Net) {
	for l := range e.w {
		for i, v := range net.W[l] {
			e.w[l][i] = T(v)
		}
		for i, v := range net.B[l] {
			e.b[l][i] = T(v)
		}
	}
	e.transpose()
}

// narrowLayer is the largest in·out whose transposed weights are kept.
const narrowLayer = 128 * 128

// transpose refreshes wt from w, four rows of w at a time: each input unit
// then writes four adjacent values of wt.
func (e *native[T]) transpose() {
	for l, wt := range e.wt {
		if wt == nil {
			continue
		}
		in, out := e.sizes[l], e.sizes[l+1]
		w := e.w[l]
		o := 0
		for ; o+4 <= out; o += 4 {
			r0, r1, r2, r3 := w[o*in:(o+1)*in], w[(o+1)*in:(o+2)*in], w[(o+2)*in:(o+3)*in], w[(o+3)*in:(o+4)*in]
			for i, v := range r0 {
				d := wt[i*out+o : i*out+o+4]
				d[0], d[1], d[2], d[3] = v, r1[i], r2[i], r3[i]
			}
		}
		for ; o < out; o++ {
			for i, v := range w[o*in : (o+1)*in] {
				wt[i*out+o] = v
			}
		}
	}
}

func (e *native[T]) grow(n int) {
	if n <= e.maxN {
		return
	}
	e.maxN = n
	e.act = e.act[:0]
	for _, s := range e.sizes {
		e.act = append(e.act, make([]T, n*s))
	}
	e.d1 = make([]T, n*e.maxW)
	e.d2 = make([]T, n*e.maxW)
}

// forward fills act[l] for the part's rows of every layer; act[L] holds the
// outputs.
func (e *native[T]) forward(pt *part[T], x []float64) {
	lo, hi := pt.lo, pt.hi
	n, d := hi-lo, e.sizes[0]
	in0 := e.act[0][lo*d : hi*d]
	for i, v := range x[lo*d : hi*d] {
		in0[i] = T(v) * e.scale
	}
	L := len(e.sizes) - 1
	for l := 0; l < L; l++ {
		if e.stop != nil && e.stop() {
			pt.aborted = true
			return
		}
		in, out := e.sizes[l], e.sizes[l+1]
		a := e.act[l][lo*in : hi*in]
		z := e.act[l+1][lo*out : hi*out]
		if wt := e.wt[l]; wt != nil {
			pt.pool.GemmEpilogue(false, false, n, out, in, 1, a, in, wt, out, 0, z, out, &e.epFwd[l])
			continue
		}
		pt.pool.GemmEpilogue(false, true, n, out, in, 1, a, in, e.w[l], in, 0, z, out, &e.epFwd[l])
	}
}

// backward fills the part's gradient with that of its rows' share of the
// batch's MSE (the batch has e.n rows) and sets pt.loss.
func (e *native[T]) backward(pt *part[T], y []float64) {
	lo, hi := pt.lo, pt.hi
	n := hi - lo
	L := len(e.sizes) - 1
	outv := e.act[L][lo:hi]
	// The part's own stretch of the ping-pong buffers (rows lo…hi at the
	// widest layer), in which each layer's dz is laid out densely: slicing
	// rows of each layer's dz instead would overlap between parts.
	cur, nxt := e.d1[lo*e.maxW:hi*e.maxW], e.d2[lo*e.maxW:hi*e.maxW]
	d := cur[:n]
	var loss float64
	var gb T
	c := T(2) / T(e.n)
	for i, yi := range y[lo:hi] {
		r := outv[i] - T(yi)
		loss += float64(r) * float64(r)
		d[i] = c * r
		gb += d[i]
	}
	pt.loss = loss
	pt.gb[L-1][0] = gb
	for l := L - 1; l >= 0; l-- {
		if e.stop != nil && e.stop() {
			pt.aborted = true
			return
		}
		in, out := e.sizes[l], e.sizes[l+1]
		dz := cur[:n*out]
		a := e.act[l][lo*in : hi*in]
		pt.pool.Gemm(true, false, out, in, n, 1, dz, out, a, in, 0, pt.gw[l], in)
		if l == 0 {
			break
		}
		// dz of the layer below: dz·W masked by its ReLU, whose column sums
		// are that layer's bias gradient.
		da := nxt[:n*in]
		ep := &pt.epBwd[l]
		ep.Mask, ep.LdMask, ep.ColSum = a, in, pt.gb[l-1]
		clear(ep.ColSum)
		pt.pool.GemmEpilogue(false, false, n, in, out, 1, dz, out, e.w[l], in, 0, da, in, ep)
		cur, nxt = nxt, cur
	}
}

// gradient computes the loss of the batch and its gradient (into e.g, with
// e.g2 to add when the batch was computed in shards, split over the
// goroutines; see numShards).
func (e *native[T]) gradient(x, y []float64, n int) float64 {
	e.grow(n)
	e.n, e.g2 = n, nil
	S := numShards(n, len(e.p), e.maxW)
	if S == 1 {
		e.whole.lo, e.whole.hi = 0, n
		e.whole.aborted = false
		e.forward(&e.whole, x)
		if !e.whole.aborted {
			e.backward(&e.whole, y)
		}
		return e.whole.loss / float64(n)
	}
	// Shards and their pools are made on the first batch that needs them:
	// models that only predict (teachers, evaluation copies) never hold them.
	workers := e.ensurePools(S)
	for len(e.shards) < S {
		g := e.g
		if len(e.shards) > 0 {
			g = make([]T, len(e.p))
		}
		e.shards = append(e.shards, e.newPart(nil, g))
	}
	q := shardRowsOf(n, S)
	for s := range S {
		e.shards[s].lo, e.shards[s].hi = s*q, min((s+1)*q, n)
	}
	e.shards[S-1].hi = n
	e.x, e.y = x, y
	e.shardPer = (S + workers - 1) / workers // Split's part size
	e.pool.Split(S, 1, e.runShard)
	e.x, e.y = nil, nil
	// The gradients, in shard order: shards 2… into shard 1's, which Adam
	// (or sumGrads) adds to e.g, shard 0's.
	g1 := e.shards[1].g
	loss := e.shards[0].loss + e.shards[1].loss
	for s := 2; s < S; s++ {
		addInto(g1, e.shards[s].g)
		loss += e.shards[s].loss
	}
	e.g2 = g1
	return loss / float64(n)
}

// ensurePools makes the pools for S shards or blocks, one per goroutine
// that will compute them, and returns how many goroutines that is.
func (e *native[T]) ensurePools(S int) int {
	th := e.pool.Workers()
	workers := min(th, S)
	for len(e.shardPools) < workers {
		e.shardPools = append(e.shardPools, gemm.NewPool[T](max(1, th/workers)))
	}
	return workers
}

// sumGrads adds the other shards' gradients into e.g, if any.
func (e *native[T]) sumGrads() {
	if e.g2 == nil {
		return
	}
	addInto(e.g, e.g2)
	e.g2 = nil
}

// addInto adds src to dst, element by element (len(src) ≥ len(dst)).
func addInto[T float](dst, src []T) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// shardRange computes shards [lo, hi), one part of pool.Split, on the pool
// of that part (any pool gives the same numbers: the shards' products run on
// one goroutine each).
func (e *native[T]) shardRange(lo, hi int) {
	pool := e.shardPools[min(lo/e.shardPer, len(e.shardPools)-1)]
	for s := lo; s < hi; s++ {
		pt := &e.shards[s]
		pt.pool = pool
		pt.aborted = false
		e.forward(pt, e.x)
		if !pt.aborted {
			e.backward(pt, e.y)
		}
	}
}

// SetInterrupt makes Step give up between layers when stop returns true.
func (e *native[T]) SetInterrupt(stop func() bool) { e.interrupt = stop }

// interrupted reports (and forgets) whether the last gradient was abandoned.
func (e *native[T]) interrupted() bool {
	ab := e.whole.aborted
	e.whole.aborted = false
	for s := range e.shards {
		ab = ab || e.shards[s].aborted
		e.shards[s].aborted = false
	}
	return ab
}

func (e *native[T]) Step(x, y []float64, lr float64) (float64, error) {
	n := CheckBatch(e.sizes, x, y)
	e.stop = e.interrupt
	loss := e.gradient(x, y, n)
	e.stop = nil
	if e.interrupted() {
		e.g2 = nil
		return 0, ErrInterrupted
	}
	if !finite(loss) {
		return loss, ErrDiverged
	}
	e.adamStep(lr)
	return loss, nil
}

// adamStep applies PyTorch's Adam (ε is added to √v̂), split over the pool.
func (e *native[T]) adamStep(lr float64) {
	e.t++
	e.adamK = gemm.NewAdamConsts[T](e.adam.Beta1, e.adam.Beta2, e.adam.Eps, lr, e.t)
	e.pool.Split(len(e.p), 1<<15, e.adamPart)
	e.transpose()
}

func (e *native[T]) adamRange(lo, hi int) {
	var g2 []T
	if e.g2 != nil {
		g2 = e.g2[lo:hi]
	}
	e.pool.Adam2(e.p[lo:hi], e.g[lo:hi], g2, e.m[lo:hi], e.v[lo:hi], &e.adamK)
}

func (e *native[T]) Gradient(dst *Net, x, y []float64) (float64, error) {
	n := CheckBatch(e.sizes, x, y)
	loss := e.gradient(x, y, n)
	e.sumGrads()
	toNet(dst, e.gw, e.gb)
	return loss, nil
}

// toNet copies per-layer weights and biases (parameters or gradients) into
// dst's.
func toNet[T float](dst *Net, w, b [][]T) {
	for l := range w {
		for i, v := range w[l] {
			dst.W[l][i] = float64(v)
		}
		for i, v := range b[l] {
			dst.B[l][i] = float64(v)
		}
	}
}

func (e *native[T]) Predict(dst, x []float64) error {
	n := CheckBatch(e.sizes, x, nil)
	if len(dst) != n {
		panic("backend: Predict dst length differs from the number of rows")
	}
	e.grow(n)
	if B := numBlocks(n, e.maxW); B > 1 {
		// Blocks of shardRows rows through every layer, whose activations
		// stay in cache (an evaluation chunk of 8192 points at width 32:
		// 2.0 → 1.5 ms on one thread), split over the goroutines. Rows do
		// not interact: any blocking gives the same bits.
		workers := e.ensurePools(B)
		for len(e.blocks) < workers {
			e.blocks = append(e.blocks, part[T]{})
		}
		e.x, e.n, e.shardPer = x, n, (B+workers-1)/workers
		e.pool.Split(B, 1, e.runBlock)
		e.x = nil
	} else {
		e.whole.lo, e.whole.hi = 0, n
		e.forward(&e.whole, x)
	}
	for i, v := range e.act[len(e.sizes)-1][:n] {
		dst[i] = float64(v)
	}
	return nil
}

// numBlocks is the number of row blocks Predict computes n rows in: one per
// shardRows rows of a batch tall next to the widest layer, else 1.
func numBlocks(n, maxW int) int {
	if n <= shardRows || n < shardMinRows*maxW {
		return 1
	}
	return (n + shardRows - 1) / shardRows
}

// blockRange computes Predict's blocks [lo, hi), one part of pool.Split.
func (e *native[T]) blockRange(lo, hi int) {
	w := min(lo/e.shardPer, len(e.shardPools)-1)
	pt := &e.blocks[w]
	pt.pool = e.shardPools[w]
	for b := lo; b < hi; b++ {
		pt.lo, pt.hi = b*shardRows, min((b+1)*shardRows, e.n)
		e.forward(pt, e.x)
	}
}

func (e *native[T]) Net() *Net {
	net := NewNet(e.sizes)
	net.InputScale = e.scale64
	toNet(net, e.w, e.b)
	return net
}

func (e *native[T]) AdamState() (AdamState, error) {
	st := AdamState{Steps: e.t, M: make([]float64, len(e.m)), V: make([]float64, len(e.v))}
	for i := range e.m {
		st.M[i], st.V[i] = float64(e.m[i]), float64(e.v[i])
	}
	return st, nil
}

func (e *native[T]) SetAdamState(st AdamState) error {
	if len(st.M) != len(e.m) || len(st.V) != len(e.v) || st.Steps < 0 {
		return fmt.Errorf("backend: an Adam state of %d moments for a model of %d parameters", len(st.M), len(e.m))
	}
	for i := range e.m {
		e.m[i], e.v[i] = T(st.M[i]), T(st.V[i])
	}
	e.t = st.Steps
	return nil
}

func (e *native[T]) Close() error {
	e.pool.Close()
	for _, p := range e.shardPools {
		p.Close()
	}
	return nil
}
