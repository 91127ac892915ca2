package cuda

import (
	"errors"
	"fmt"
	"math"

	"github.com/reluscope/reluscope/backend"
)

type float interface{ ~float32 | ~float64 }

// syncDepth is how many StepRows a model issues before it waits for the
// device: enough to keep the GPU busy while the host issues the next ones,
// few enough that a pause stops the device within a few steps.
const syncDepth = 8

// model is a network on a device: parameters, gradients, Adam's moments and
// the activations of the largest batch in one allocation, the training set
// (when the run hands it over) in a second, the teacher (for evaluations)
// in a model of its own. Every method runs its device work inside
// executor.run.
type model[T float] struct {
	x       executor
	dt      backend.DType
	lay     layout
	base    ptr
	scale   T
	scale64 float64
	adam    backend.Adam
	t       int // Adam steps taken
	// Host staging buffers.
	hx, hy []T
	// The training set on the device: m rows of d scaled inputs, then m
	// targets, then the epoch's order (int32).
	data    ptr
	dataM   int
	hasData bool
	pending int // StepRows issued since the last wait
	teacher *model[float64]
	shared  bool // the teacher reads this model's staged inputs (float64)
	pts     ptr  // eval_pair's points, ptsRows rows
	ptsRows int
	stage   stager[T] // Compare's pieces on their way to the device
	hloss   []float64 // one value, its own allocation: cgo refuses a pointer into the model
	htab    []float64 // fusedSteps's table, its own allocation too
	closed  bool
}

// newModel makes a model of net on x in opt's dtype.
func newModel(x executor, net *backend.Net, opt backend.Options) (backend.Model, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	if opt.DType == backend.Float32 {
		return orNil(newTyped[float32](x, net, opt, backend.Float32))
	}
	return orNil(newTyped[float64](x, net, opt, backend.Float64))
}

// orNil returns a nil Model, not a Model holding a nil pointer, on error.
func orNil[T float](m *model[T], err error) (backend.Model, error) {
	if err != nil {
		return nil, err
	}
	return m, nil
}

func newTyped[T float](x executor, net *backend.Net, opt backend.Options, dt backend.DType) (*model[T], error) {
	n := opt.MaxBatch
	if n <= 0 {
		n = 1024
	}
	m := &model[T]{x: x, dt: dt, scale: T(net.InputScale), scale64: net.InputScale, adam: opt.Adam.WithDefaults(),
		lay: layout{sizes: append([]int(nil), net.Sizes...)}}
	err := x.run(func() error {
		if err := m.allocate(n); err != nil {
			return err
		}
		return m.setParams(net)
	})
	if err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// allocate plans and allocates the buffers for batches of n rows (freeing
// any earlier ones) and fills the ones vector.
func (m *model[T]) allocate(n int) error {
	lay := planLayout(m.lay.sizes, m.dt, n)
	free, err := m.x.memFree()
	if err != nil {
		return err
	}
	if m.base != 0 {
		free += m.lay.bytes
	}
	if err := checkFits(fmt.Sprintf("a network of %d parameters with batches of %d rows", lay.params, n), lay.bytes, free); err != nil {
		return err
	}
	base, err := m.x.alloc(lay.bytes)
	if err != nil {
		return err
	}
	if m.base != 0 {
		m.x.free(m.base)
	}
	m.base, m.lay = base, lay
	if err := m.x.memset0(base, lay.bytes); err != nil {
		return err
	}
	ones := make([]T, n)
	for i := range ones {
		ones[i] = 1
	}
	if err := m.x.upload(m.at(lay.ones), ones); err != nil {
		return err
	}
	return m.x.upload(m.base+ptr(lay.sz), sizesInt64(lay.sizes))
}

// sizesInt64 is the layer sizes as step_small reads them.
func sizesInt64(sizes []int) []int64 {
	out := make([]int64, len(sizes))
	for i, s := range sizes {
		out[i] = int64(s)
	}
	return out
}

// at is the device address of element off of the model's arrays.
func (m *model[T]) at(off int) ptr { return m.base.at(off, m.lay.elem) }

// setParams uploads net's parameters (flat: W0 b0 W1 b1 …).
func (m *model[T]) setParams(net *backend.Net) error {
	flat := net.Flatten(make([]float64, 0, m.lay.params))
	h := make([]T, len(flat))
	for i, v := range flat {
		h[i] = T(v)
	}
	return m.x.upload(m.at(m.lay.p), h)
}

// grow makes the buffers hold batches of n rows, keeping the parameters,
// Adam's moments and the step count.
func (m *model[T]) grow(n int) error {
	if n <= m.lay.maxN {
		return nil
	}
	np := m.lay.params
	keep := make([]T, 3*np)
	for i, off := range []int{m.lay.p, m.lay.m, m.lay.v} {
		if err := m.x.download(keep[i*np:(i+1)*np], m.at(off)); err != nil {
			return err
		}
	}
	if err := m.allocate(max(n, 2*m.lay.maxN)); err != nil {
		return err
	}
	for i, off := range []int{m.lay.p, m.lay.m, m.lay.v} {
		if err := m.x.upload(m.at(off), keep[i*np:(i+1)*np]); err != nil {
			return err
		}
	}
	return nil
}

func (m *model[T]) layers() int { return len(m.lay.sizes) - 1 }

// stageInputs writes T(x)·scale into dst (the native engine's first step).
func stageInputs[T float](dst []T, x []float64, scale T) []T {
	dst = dst[:0]
	for _, v := range x {
		dst = append(dst, T(v)*scale)
	}
	return dst
}

// stageValues writes T(y) into dst.
func stageValues[T float](dst []T, y []float64) []T {
	dst = dst[:0]
	for _, v := range y {
		dst = append(dst, T(v))
	}
	return dst
}

// uploadBatch puts a batch (x, and y unless nil) into act[0] and yb.
func (m *model[T]) uploadBatch(x, y []float64) error {
	m.hx = stageInputs(m.hx, x, m.scale)
	if err := m.x.upload(m.at(m.lay.act[0]), m.hx); err != nil {
		return err
	}
	if y == nil {
		return nil
	}
	m.hy = stageValues(m.hy, y)
	return m.x.upload(m.at(m.lay.yb), m.hy)
}

// forward computes every layer's output for the n rows in act[0]; the
// outputs end in act[L].
func (m *model[T]) forward(n int) error { return m.forwardFrom(n, m.at(m.lay.act[0])) }

// forwardFrom is forward with the first layer's input (n rows, staged)
// read at in: another model's act[0] (Compare's shared upload).
func (m *model[T]) forwardFrom(n int, in ptr) error {
	lay := &m.lay
	L := m.layers()
	for l := 0; l < L; l++ {
		in0, out := lay.sizes[l], lay.sizes[l+1]
		src := m.at(lay.act[l])
		if l == 0 {
			src = in
		}
		if err := m.x.gemm(m.dt, forwardGemm(n, in0, out, src, m.at(lay.p+lay.w[l]), m.at(lay.act[l+1])), 1, 0); err != nil {
			return err
		}
		relu := 0
		if l+1 < L {
			relu = 1
		}
		if err := m.x.launch(kBiasAct, m.dt, gridFor(int64(n*out), blockThreads), blockThreads,
			argP(m.at(lay.act[l+1])), argP(m.at(lay.p+lay.b[l])), argI(n), argI(out), argI(relu)); err != nil {
			return err
		}
	}
	return nil
}

// gradient computes the gradient of the MSE of the n rows in act[0] (targets
// in yb) into g, adding Σ (out − y)² to loss slot slot.
func (m *model[T]) gradient(n, slot int) error {
	switch m.lay.path(n) {
	case pathFused:
		return m.fusedStep(n, slot, false, 0, false, 0)
	case pathMulti:
		return m.multiStep(n, slot, false, 0, false, 0)
	}
	if err := m.forward(n); err != nil {
		return err
	}
	lay := &m.lay
	L := m.layers()
	cur, nxt := lay.d1, lay.d2
	if err := m.x.launch(kMSE, m.dt, 1, mseThreads, argP(m.at(lay.act[L])), argP(m.at(lay.yb)), argP(m.at(cur)),
		argP(m.at(lay.g+lay.b[L-1])), argP(m.base+ptr(lay.loss)), argI(slot), argI(n), argF(2/float64(n))); err != nil {
		return err
	}
	for l := L - 1; l >= 0; l-- {
		in, out := lay.sizes[l], lay.sizes[l+1]
		if err := m.x.gemm(m.dt, weightGradGemm(n, in, out, m.at(lay.act[l]), m.at(cur), m.at(lay.g+lay.w[l])), 1, 0); err != nil {
			return err
		}
		if l == 0 {
			break
		}
		// dz of the layer below: dz·W masked by its ReLU; its column
		// sums are that layer's bias gradient.
		if err := m.x.gemm(m.dt, inputGradGemm(n, in, out, m.at(cur), m.at(lay.p+lay.w[l]), m.at(nxt)), 1, 0); err != nil {
			return err
		}
		if err := m.x.launch(kReluMask, m.dt, gridFor(int64(n*in), blockThreads), blockThreads,
			argP(m.at(nxt)), argP(m.at(lay.act[l])), argI(n*in)); err != nil {
			return err
		}
		if err := m.x.gemv(m.dt, false, in, n, 1, m.at(nxt), in, m.at(lay.ones), 0, m.at(lay.g+lay.b[l-1])); err != nil {
			return err
		}
		cur, nxt = nxt, cur
	}
	return nil
}

// adamConsts counts a step and returns its bias corrections c1 = 1/(1−β1ᵗ),
// c2 = 1/(1−β2ᵗ).
func (m *model[T]) adamConsts() (c1, c2 float64) {
	m.t++
	return 1 / (1 - math.Pow(m.adam.Beta1, float64(m.t))), 1 / (1 - math.Pow(m.adam.Beta2, float64(m.t)))
}

// sources are the training set's pointers a step gathers its rows through,
// or zeros when its batch is already in act[0] and yb.
func (m *model[T]) sources(gather bool) (xs, ys, idx ptr) {
	if gather {
		return m.data, m.dataY(), m.dataOrder()
	}
	return 0, 0, 0
}

// adamArgs counts a step and returns its bias corrections and 1 when adam,
// zeros when the step only computes the gradient.
func (m *model[T]) adamArgs(adam bool) (c1, c2 float64, flag int) {
	if !adam {
		return 0, 0, 0
	}
	c1, c2 = m.adamConsts()
	return c1, c2, 1
}

// fusedStep is a whole step in one launch of step_small: the batch of n rows
// in act[0] and yb, or, with gather, rows order[lo:lo+n] of the training set;
// the loss into slot; Adam with rate lr when adam.
func (m *model[T]) fusedStep(n, slot int, gather bool, lo int, adam bool, lr float64) error {
	c1, c2, flag := m.adamArgs(adam)
	return m.launchSmall(n, slot, gather, lo, lr, c1, c2, flag, 1, 0)
}

// fusedSteps is len(lrs) ≤ maxFusedSteps steps in one launch of
// step_small, step s on rows order[lo+s·n : lo+(s+1)·n] with rate lrs[s]:
// the rates and Adam's corrections go up as one table.
func (m *model[T]) fusedSteps(n, slot, lo int, lrs []float64) error {
	tab := m.htab[:0]
	for _, lr := range lrs {
		c1, c2 := m.adamConsts()
		tab = append(tab, lr, c1, c2)
	}
	m.htab = tab
	at := m.base + ptr(m.lay.tab)
	if err := m.x.upload(at, tab); err != nil {
		return err
	}
	return m.launchSmall(n, slot, true, lo, 0, 0, 0, 1, len(lrs), at)
}

// launchSmall launches step_small for steps steps of n rows: with tab not 0,
// the steps' rates and corrections are read there, else lr, c1, c2.
func (m *model[T]) launchSmall(n, slot int, gather bool, lo int, lr, c1, c2 float64, adam, steps int, tab ptr) error {
	lay := &m.lay
	xs, ys, idx := m.sources(gather)
	a := m.adam
	return m.x.launch(kStepSmall, m.dt, 1, fusedThreads,
		argP(m.base+ptr(lay.sz)), argI(len(lay.sizes)-1), argP(m.at(lay.p)), argP(m.at(lay.g)), argP(m.at(lay.m)),
		argP(m.at(lay.v)), argP(m.at(lay.act[0])), argI(lay.maxN), argP(m.at(lay.d1)), argP(m.at(lay.d2)),
		argP(xs), argP(ys), argP(idx), argI(lo), argP(m.at(lay.yb)), argI(n), argP(m.base+ptr(lay.loss)), argI(slot),
		argF(2/float64(n)), argF(a.Beta1), argF(a.Beta2), argF(a.Eps), argF(lr), argF(c1), argF(c2), argI(adam),
		argI(steps), argP(tab))
}

// multiStep is a step in two launches, step_multi and reduce_adam: the
// batch of n rows in act[0] and yb, or, with gather, rows order[lo:lo+n] of
// the training set; the loss into slot; Adam with rate lr when adam.
func (m *model[T]) multiStep(n, slot int, gather bool, lo int, adam bool, lr float64) error {
	lay := &m.lay
	xs, ys, idx := m.sources(gather)
	nb := lay.multiBlocks(n)
	if err := m.x.launch(kStepMulti, m.dt, nb, fusedThreads,
		argP(m.base+ptr(lay.sz)), argI(len(lay.sizes)-1), argP(m.at(lay.p)), argP(m.at(lay.gpart)), argI(lay.params),
		argP(m.at(lay.act[0])), argI(lay.maxN), argP(m.at(lay.d1)), argP(m.at(lay.d2)), argP(xs), argP(ys), argP(idx),
		argI(lo), argP(m.at(lay.yb)), argI(n), argP(m.base+ptr(lay.lpart)), argF(2/float64(n)), argI(lay.multiRows)); err != nil {
		return err
	}
	c1, c2, flag := m.adamArgs(adam)
	a := m.adam
	return m.x.launch(kReduceAdam, m.dt, gridFor(int64(lay.params), blockThreads), blockThreads,
		argP(m.at(lay.gpart)), argI(nb), argI(lay.params), argP(m.at(lay.g)), argP(m.at(lay.p)), argP(m.at(lay.m)),
		argP(m.at(lay.v)), argP(m.base+ptr(lay.lpart)), argP(m.base+ptr(lay.loss)), argI(slot),
		argF(a.Beta1), argF(a.Beta2), argF(a.Eps), argF(lr), argF(c1), argF(c2), argI(flag))
}

// adamStep applies PyTorch's Adam with learning rate lr.
func (m *model[T]) adamStep(lr float64) error {
	c1, c2 := m.adamConsts()
	a := m.adam
	lay := &m.lay
	return m.x.launch(kAdam, m.dt, gridFor(int64(lay.params), blockThreads), blockThreads,
		argP(m.at(lay.p)), argP(m.at(lay.g)), argP(m.at(lay.m)), argP(m.at(lay.v)), argI(lay.params),
		argF(a.Beta1), argF(a.Beta2), argF(a.Eps), argF(lr), argF(c1), argF(c2))
}

// readLoss waits for the device and returns loss slot slot, then zeroes it.
func (m *model[T]) readLoss(slot int) (float64, error) {
	at := m.base + ptr(m.lay.loss) + ptr(8*slot)
	if m.hloss == nil {
		m.hloss = make([]float64, 1)
	}
	if err := m.x.download(m.hloss, at); err != nil {
		return 0, err
	}
	return m.hloss[0], m.x.memset0(at, 8)
}

var errClosed = errors.New("cuda: the model is closed")

// batchGradient computes the gradient of the batch (x, y) of n rows into g
// and returns its loss; then runs after (on the device's thread too).
func (m *model[T]) batchGradient(x, y []float64, after func(loss float64) error) (float64, error) {
	n := backend.CheckBatch(m.lay.sizes, x, y)
	var loss float64
	err := m.x.run(func() error {
		if m.closed {
			return errClosed
		}
		if err := m.grow(n); err != nil {
			return err
		}
		if err := m.uploadBatch(x, y); err != nil {
			return err
		}
		if err := m.gradient(n, 0); err != nil {
			return err
		}
		s, err := m.readLoss(0)
		if err != nil {
			return err
		}
		loss = s / float64(n)
		return after(loss)
	})
	return loss, err
}

func (m *model[T]) Step(x, y []float64, lr float64) (float64, error) {
	return m.batchGradient(x, y, func(loss float64) error {
		if err := divergence(loss); err != nil {
			return err
		}
		return m.adamStep(lr)
	})
}

// divergence is backend.ErrDiverged for a loss that is not finite.
func divergence(loss float64) error {
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return backend.ErrDiverged
	}
	return nil
}

func (m *model[T]) Gradient(dst *backend.Net, x, y []float64) (float64, error) {
	return m.batchGradient(x, y, func(float64) error { return m.toNet(dst, m.lay.g) })
}

// toNet downloads the flat array at off (parameters or gradient) into dst.
func (m *model[T]) toNet(dst *backend.Net, off int) error {
	h := make([]T, m.lay.params)
	if err := m.x.download(h, m.at(off)); err != nil {
		return err
	}
	k := 0
	for l := range dst.W {
		for i := range dst.W[l] {
			dst.W[l][i] = float64(h[k])
			k++
		}
		for i := range dst.B[l] {
			dst.B[l][i] = float64(h[k])
			k++
		}
	}
	return nil
}

func (m *model[T]) Predict(dst, x []float64) error {
	n := backend.CheckBatch(m.lay.sizes, x, nil)
	if len(dst) != n {
		panic("backend: Predict dst length differs from the number of rows")
	}
	d := m.lay.sizes[0]
	return m.x.run(func() error {
		if m.closed {
			return errClosed
		}
		out := make([]T, min(n, m.lay.maxN))
		for lo := 0; lo < n; lo += m.lay.maxN {
			hi := min(n, lo+m.lay.maxN)
			if err := m.uploadBatch(x[lo*d:hi*d], nil); err != nil {
				return err
			}
			if err := m.forward(hi - lo); err != nil {
				return err
			}
			if err := m.x.download(out[:hi-lo], m.at(m.lay.act[m.layers()])); err != nil {
				return err
			}
			for i, v := range out[:hi-lo] {
				dst[lo+i] = float64(v)
			}
		}
		return nil
	})
}

func (m *model[T]) Net() *backend.Net {
	net := backend.NewNet(m.lay.sizes)
	net.InputScale = m.scale64
	err := m.x.run(func() error {
		if m.closed {
			return errClosed
		}
		return m.toNet(net, m.lay.p)
	})
	if err != nil {
		// The contract's Net has no error: a device that fails here has
		// failed the step before it too; NaNs make that visible.
		for l := range net.W {
			for i := range net.W[l] {
				net.W[l][i] = math.NaN()
			}
		}
	}
	return net
}

func (m *model[T]) Close() error {
	if m.closed {
		return nil
	}
	err := m.x.run(func() error {
		m.stage.close()
		if m.base != 0 {
			m.x.free(m.base)
		}
		if m.data != 0 {
			m.x.free(m.data)
		}
		if m.pts != 0 {
			m.x.free(m.pts)
		}
		return nil
	})
	m.closed, m.base, m.data, m.pts = true, 0, 0, 0
	if m.teacher != nil {
		m.teacher.Close()
	}
	return err
}
