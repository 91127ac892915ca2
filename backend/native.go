package backend

import (
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
	sizes   []int
	scale   T
	scale64 float64
	adam    Adam
	pool    *gemm.Pool[T]
	t       int // Adam step count
	p, g    []T // flat parameters and gradients: W0 b0 W1 b1 …
	m, v    []T // Adam moments
	w, b    [][]T
	gw, gb  [][]T
	// wt[l] is w[l] transposed (in×out), kept for narrow layers so that the
	// forward product reads B in place (gemm's direct path); nil for wide
	// layers, whose forward product packs w[l] itself.
	wt     [][]T
	maxN   int
	act    [][]T // act[0] is the scaled input, act[l] layer l's output (n×Sizes[l])
	d1, d2 []T   // backward ping-pong buffers (n×max width)
	maxW   int
	// epilogues of the forward products (bias, ReLU) and of the backward
	// ones (the ReLU mask of the layer below), one per layer.
	epFwd, epBwd []gemm.Epilogue[T]
	// Adam's step constants, set before adamPart runs on the pool.
	adamK    gemm.AdamConsts[T]
	adamPart func(lo, hi int)
}

func newNative[T float](net *Net, opt Options) *native[T] {
	e := &native[T]{sizes: append([]int(nil), net.Sizes...), scale: T(net.InputScale), scale64: net.InputScale, adam: opt.Adam.withDefaults(),
		pool: gemm.NewPool[T](threads(opt))}
	np := net.NumParams()
	e.p, e.g = make([]T, np), make([]T, np)
	e.m, e.v = make([]T, np), make([]T, np)
	e.w, e.b = e.views(e.p)
	e.gw, e.gb = e.views(e.g)
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
	e.epBwd = make([]gemm.Epilogue[T], L)
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

// transpose refreshes wt from w.
func (e *native[T]) transpose() {
	for l, wt := range e.wt {
		if wt == nil {
			continue
		}
		in, out := e.sizes[l], e.sizes[l+1]
		w := e.w[l]
		for o := 0; o < out; o++ {
			row := w[o*in : (o+1)*in]
			for i, v := range row {
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

// forward fills act[l] for every layer; act[L] holds the n outputs.
func (e *native[T]) forward(x []float64, n int) {
	in0 := e.act[0][:n*e.sizes[0]]
	for i, v := range x {
		in0[i] = T(v) * e.scale
	}
	L := len(e.sizes) - 1
	for l := 0; l < L; l++ {
		in, out := e.sizes[l], e.sizes[l+1]
		a := e.act[l][:n*in]
		z := e.act[l+1][:n*out]
		if wt := e.wt[l]; wt != nil {
			e.pool.GemmEpilogue(false, false, n, out, in, 1, a, in, wt, out, 0, z, out, &e.epFwd[l])
			continue
		}
		e.pool.GemmEpilogue(false, true, n, out, in, 1, a, in, e.w[l], in, 0, z, out, &e.epFwd[l])
	}
}

// backward computes the MSE loss and fills e.g with its gradient.
func (e *native[T]) backward(y []float64, n int) float64 {
	L := len(e.sizes) - 1
	outv := e.act[L][:n]
	d := e.d1[:n]
	var loss float64
	var gb T
	c := T(2) / T(n)
	for i, yi := range y {
		r := outv[i] - T(yi)
		loss += float64(r) * float64(r)
		d[i] = c * r
		gb += d[i]
	}
	loss /= float64(n)
	e.gb[L-1][0] = gb
	cur, nxt := e.d1, e.d2
	for l := L - 1; l >= 0; l-- {
		in, out := e.sizes[l], e.sizes[l+1]
		dz := cur[:n*out]
		a := e.act[l][:n*in]
		e.pool.Gemm(true, false, out, in, n, 1, dz, out, a, in, 0, e.gw[l], in)
		if l == 0 {
			break
		}
		// dz of the layer below: dz·W masked by its ReLU, whose column sums
		// are that layer's bias gradient.
		da := nxt[:n*in]
		ep := &e.epBwd[l]
		ep.Mask, ep.LdMask, ep.ColSum = a, in, e.gb[l-1]
		clear(ep.ColSum)
		e.pool.GemmEpilogue(false, false, n, in, out, 1, dz, out, e.w[l], in, 0, da, in, ep)
		cur, nxt = nxt, cur
	}
	return loss
}

func (e *native[T]) Step(x, y []float64, lr float64) (float64, error) {
	n := checkBatch(e.sizes, x, y)
	e.grow(n)
	e.forward(x, n)
	loss := e.backward(y, n)
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
	e.pool.Adam(e.p[lo:hi], e.g[lo:hi], e.m[lo:hi], e.v[lo:hi], &e.adamK)
}

func (e *native[T]) Gradient(dst *Net, x, y []float64) (float64, error) {
	n := checkBatch(e.sizes, x, y)
	e.grow(n)
	e.forward(x, n)
	loss := e.backward(y, n)
	for l := range e.gw {
		for i, v := range e.gw[l] {
			dst.W[l][i] = float64(v)
		}
		for i, v := range e.gb[l] {
			dst.B[l][i] = float64(v)
		}
	}
	return loss, nil
}

func (e *native[T]) Predict(dst, x []float64) error {
	n := checkBatch(e.sizes, x, nil)
	if len(dst) != n {
		panic("backend: Predict dst length differs from the number of rows")
	}
	e.grow(n)
	e.forward(x, n)
	for i, v := range e.act[len(e.sizes)-1][:n] {
		dst[i] = float64(v)
	}
	return nil
}

func (e *native[T]) Net() *Net {
	net := NewNet(e.sizes)
	net.InputScale = e.scale64
	for l := range e.w {
		for i, v := range e.w[l] {
			net.W[l][i] = float64(v)
		}
		for i, v := range e.b[l] {
			net.B[l][i] = float64(v)
		}
	}
	return net
}

func (e *native[T]) Close() error {
	e.pool.Close()
	return nil
}
