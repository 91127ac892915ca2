package cuda

import (
	"fmt"
	"math"

	"github.com/reluscope/reluscope/backend"
)

// The training set on the device (backend.DataHolder): it goes up once per
// run, each epoch's order once per epoch, a step gathers its batch there, and
// the loss is summed there and read once per epoch.

// SetData uploads the training set: m rows of x (scaled as the model scales
// its inputs) and m targets.
func (m *model[T]) SetData(x, y []float64) error {
	d := m.lay.sizes[0]
	rows := len(y)
	if rows == 0 || len(x) != rows*d {
		panic(fmt.Sprintf("backend: SetData with %d inputs and %d targets for d=%d", len(x), len(y), d))
	}
	return m.x.run(func() error {
		if m.closed {
			return errClosed
		}
		if m.data != 0 {
			m.x.free(m.data)
			m.data, m.hasData = 0, false
		}
		need := dataBytes(rows, d, m.dt)
		free, err := m.x.memFree()
		if err != nil {
			return err
		}
		if err := checkFits(fmt.Sprintf("the training set (%d samples)", rows), need, free); err != nil {
			return err
		}
		if m.data, err = m.x.alloc(need); err != nil {
			return err
		}
		m.dataM = rows
		if err := m.x.upload(m.data, stageInputs(nil, x, m.scale)); err != nil {
			return err
		}
		if err := m.x.upload(m.dataY(), stageValues[T](nil, y)); err != nil {
			return err
		}
		m.hasData = true
		return nil
	})
}

// dataY and dataOrder are where the targets and the epoch order start.
func (m *model[T]) dataY() ptr { return m.data.at(m.dataM*m.lay.sizes[0], m.lay.elem) }
func (m *model[T]) dataOrder() ptr {
	return m.data.at(m.dataM*(m.lay.sizes[0]+1), m.lay.elem)
}

// stageOrder converts an order of the m rows to int32, checking that every
// index is a row (a wrong one would read outside the set on the device).
func stageOrder(dst []int32, perm []int, m int) ([]int32, error) {
	dst = dst[:0]
	for i, p := range perm {
		if p < 0 || p >= m {
			return nil, fmt.Errorf("cuda: order[%d] = %d is not a row of the %d-row training set", i, p, m)
		}
		dst = append(dst, int32(p))
	}
	return dst, nil
}

// SetOrder uploads the order in which StepRows takes the rows.
func (m *model[T]) SetOrder(perm []int) error {
	if !m.hasData {
		return fmt.Errorf("cuda: SetOrder before SetData")
	}
	if len(perm) != m.dataM {
		return fmt.Errorf("cuda: an order of %d rows for a training set of %d", len(perm), m.dataM)
	}
	h, err := stageOrder(make([]int32, 0, len(perm)), perm, m.dataM)
	if err != nil {
		return err
	}
	return m.x.run(func() error { return m.x.upload(m.dataOrder(), h) })
}

// StepRows takes an Adam step on the rows order[lo:hi] of the training set
// with learning rate lr; the batch's Σ (out − y)² is added to the sum that
// TakeLoss returns. It waits for the device every syncDepth steps only.
func (m *model[T]) StepRows(lo, hi int, lr float64) error {
	if !m.hasData || lo < 0 || hi > m.dataM || lo >= hi {
		panic(fmt.Sprintf("backend: StepRows(%d, %d) on a training set of %d rows", lo, hi, m.dataM))
	}
	return m.x.run(func() error {
		if m.closed {
			return errClosed
		}
		return m.stepRows(lo, hi-lo, []float64{lr})
	})
}

// StepsRows takes len(lrs) Adam steps of n rows each, step s on the rows
// order[lo+s·n : lo+(s+1)·n] with rate lrs[s], in one request to the
// device's thread; narrow networks take up to maxFusedSteps of them in one
// launch. The same steps as as many StepRows, bit for bit.
func (m *model[T]) StepsRows(lo, n int, lrs []float64) error {
	if !m.hasData || lo < 0 || n < 1 || lo+n*len(lrs) > m.dataM {
		panic(fmt.Sprintf("backend: StepsRows(%d, %d×%d) on a training set of %d rows", lo, len(lrs), n, m.dataM))
	}
	return m.x.run(func() error {
		if m.closed {
			return errClosed
		}
		return m.stepRows(lo, n, lrs)
	})
}

// stepRows is StepsRows on the device's thread.
func (m *model[T]) stepRows(lo, n int, lrs []float64) error {
	if err := m.grow(n); err != nil {
		return err
	}
	lay := &m.lay
	if lay.path(n) == pathFused && len(lrs) > 1 {
		for s := 0; s < len(lrs); s += maxFusedSteps {
			k := min(maxFusedSteps, len(lrs)-s)
			if err := m.fusedSteps(n, 1, lo+s*n, lrs[s:s+k]); err != nil {
				return err
			}
			if err := m.paced(); err != nil {
				return err
			}
		}
		return nil
	}
	for s, lr := range lrs {
		if err := m.oneStep(lo+s*n, n, lr); err != nil {
			return err
		}
		if err := m.paced(); err != nil {
			return err
		}
	}
	return nil
}

// oneStep is an Adam step on rows order[lo:lo+n] by whichever path the
// batch takes.
func (m *model[T]) oneStep(lo, n int, lr float64) error {
	lay := &m.lay
	switch lay.path(n) {
	case pathFused:
		return m.fusedStep(n, 1, true, lo, true, lr)
	case pathMulti:
		return m.multiStep(n, 1, true, lo, true, lr)
	}
	d := lay.sizes[0]
	if err := m.x.launch(kGather, m.dt, gridFor(int64(n*d), blockThreads), blockThreads,
		argP(m.at(lay.act[0])), argP(m.at(lay.yb)), argP(m.data), argP(m.dataY()), argP(m.dataOrder()),
		argI(lo), argI(n), argI(d)); err != nil {
		return err
	}
	if err := m.gradient(n, 1); err != nil {
		return err
	}
	return m.adamStep(lr)
}

// paced counts a step issued without waiting and waits for the device every
// syncDepth of them.
func (m *model[T]) paced() error {
	if m.pending++; m.pending >= syncDepth {
		m.pending = 0
		return m.x.sync()
	}
	return nil
}

// TakeLoss returns Σ (out − y)² over the rows of the StepRows since the
// last call and starts a new sum; backend.ErrDiverged with it when it is not
// finite.
func (m *model[T]) TakeLoss() (float64, error) {
	var s float64
	err := m.x.run(func() error {
		m.pending = 0
		var err error
		if s, err = m.readLoss(1); err != nil {
			return err
		}
		return divergence(s)
	})
	return s, err
}

// SetTeacher puts the teacher network on the device (in float64) for
// Compare.
func (m *model[T]) SetTeacher(net *backend.Net) error {
	if net.Sizes[0] != m.lay.sizes[0] {
		return fmt.Errorf("cuda: a teacher of input size %d for a student of %d", net.Sizes[0], m.lay.sizes[0])
	}
	if m.teacher != nil {
		m.teacher.Close()
		m.teacher = nil
	}
	// A float64 student's staged inputs (x·its scale) serve the teacher too,
	// its scale folded into its first layer: one upload a piece, not two.
	m.shared = m.dt == backend.Float64 && m.scale64 != 0
	if m.shared {
		net = net.Clone()
		f := net.InputScale / m.scale64
		for i := range net.W[0] {
			net.W[0][i] *= f
		}
		net.InputScale = m.scale64
	}
	t, err := newTyped[float64](m.x, net, backend.Options{MaxBatch: m.lay.maxN}, backend.Float64)
	if err != nil {
		return err
	}
	m.teacher = t
	return nil
}

// Compare evaluates the model and the teacher at the rows of x on the device
// and returns the statistics of model − teacher; only the blocks' records
// come back.
func (m *model[T]) Compare(x []float64) (backend.ErrorStats, error) {
	if m.teacher == nil {
		return backend.ErrorStats{}, fmt.Errorf("cuda: Compare before SetTeacher")
	}
	n := backend.CheckBatch(m.lay.sizes, x, nil)
	d := m.lay.sizes[0]
	var st backend.ErrorStats
	err := m.x.run(func() error {
		if m.closed {
			return errClosed
		}
		t := m.teacher
		if m.pairs(t) {
			return m.comparePairs(t, x, n, &st)
		}
		// Pieces as large as evalRows allows: each costs ~20 launches and a
		// copy back whatever its size.
		if want := min(n, max(m.lay.evalRows(), t.lay.evalRows())); want > min(m.lay.maxN, t.lay.maxN) {
			if err := m.grow(want); err != nil {
				return err
			}
			if err := t.grow(want); err != nil {
				return err
			}
		}
		step := equalPieces(n, min(m.lay.maxN, t.lay.maxN))
		return m.pipeline(n, step, &st, func(lo, hi int) (int, error) {
			k := hi - lo
			if err := m.stage.put(m.at(m.lay.act[0]), x[lo*d:hi*d], m.scale, &st); err != nil {
				return 0, err
			}
			if err := m.forward(k); err != nil {
				return 0, err
			}
			if m.shared {
				if err := t.forwardFrom(k, m.at(m.lay.act[0])); err != nil {
					return 0, err
				}
			} else {
				if err := t.uploadBatch(x[lo*d:hi*d], nil); err != nil {
					return 0, err
				}
				if err := t.forward(k); err != nil {
					return 0, err
				}
			}
			blocks := min(evalBlocks, gridFor(int64(k), evalThreads))
			return blocks, m.x.launch(kErrStats, m.dt, blocks, evalThreads, argP(m.at(m.lay.act[m.layers()])),
				argP(t.at(t.lay.act[t.layers()])), argP(m.base+ptr(m.lay.rec)), argI(k))
		})
	})
	return st, err
}

// pipeline runs Compare's pieces of step points (of n) through the stager:
// piece issues the work of the points [lo, hi), staged by m.stage.put, and
// returns the blocks of records it leaves in the model's records; those
// come back asynchronously and are merged into st in order.
func (m *model[T]) pipeline(n, step int, st *backend.ErrorStats, piece func(lo, hi int) (int, error)) error {
	if err := m.stage.reserve(m.x, step, m.lay.sizes[0]); err != nil {
		return err
	}
	for lo := 0; lo < n; lo += step {
		hi := min(n, lo+step)
		blocks, err := piece(lo, hi)
		if err == nil {
			err = m.stage.records(m.base+ptr(m.lay.rec), lo, hi-lo, blocks, st)
		}
		if err != nil {
			m.stage.drain(nil)
			return err
		}
	}
	return m.stage.drain(st)
}

// equalPieces is the size of the fewest equal pieces, each at most most
// long, that n points are cut into (not full ones and a sliver: each piece
// costs its launches and a copy back whatever its size).
func equalPieces(n, most int) int {
	pieces := (n + most - 1) / most
	return (n + pieces - 1) / max(1, pieces)
}

// pairRows is the most points one eval_pair launch takes (its buffer: 1 MiB
// a coordinate): small enough that a Compare of 2^19 points (a run's, in
// d = 1) is four pieces, each staged while the device works on the last; a
// variable, so that tests can take it smaller.
var pairRows = 1 << 17

// pairs reports whether Compare takes eval_pair: a float64 student whose
// staged points the teacher reads, both networks at most evalPairW wide
// (and as many inputs).
func (m *model[T]) pairs(t *model[float64]) bool {
	return m.shared && m.lay.maxW <= paths.PairMaxWidth && t.lay.maxW <= paths.PairMaxWidth
}

// comparePairs is Compare by eval_pair: equal pieces of at most pairRows
// points, each one upload, one launch and its records back.
func (m *model[T]) comparePairs(t *model[float64], x []float64, n int, st *backend.ErrorStats) error {
	d := m.lay.sizes[0]
	rows := min(n, pairRows)
	if m.pts == 0 || m.ptsRows < rows {
		if m.pts != 0 {
			m.x.free(m.pts)
			m.pts = 0
		}
		free, err := m.x.memFree()
		if err != nil {
			return err
		}
		if err := checkFits("the evaluation's points", int64(rows*d*m.lay.elem), free); err != nil {
			return err
		}
		if m.pts, err = m.x.alloc(int64(rows * d * m.lay.elem)); err != nil {
			return err
		}
		m.ptsRows = rows
	}
	return m.pipeline(n, equalPieces(n, rows), st, func(lo, hi int) (int, error) {
		k := hi - lo
		if err := m.stage.put(m.pts, x[lo*d:hi*d], m.scale, st); err != nil {
			return 0, err
		}
		blocks := min(evalBlocks, gridFor(int64(k), evalThreads))
		return blocks, m.x.launch(kEvalPair, m.dt, blocks, evalThreads, argP(m.pts), argI(k), argI(d),
			argP(m.base+ptr(m.lay.sz)), argI(m.layers()), argP(m.at(m.lay.p)),
			argP(t.base+ptr(t.lay.sz)), argI(t.layers()), argP(t.at(t.lay.p)), argP(m.base+ptr(m.lay.rec)))
	})
}

// combineRecords sums err_stats's per-block records (Σ|e|, Σe², max |e|,
// its index) over n points in block order: the first of equal maxima wins
// and a NaN error is the largest, as in the CPU evaluator.
func combineRecords(rec []float64, n int) backend.ErrorStats {
	st := backend.ErrorStats{ArgMax: -1, N: n}
	for b := 0; b+4 <= len(rec); b += 4 {
		st.SumAbs += rec[b]
		st.SumSq += rec[b+1]
		at := int(rec[b+3])
		if at < 0 {
			continue // a block without points
		}
		if st.ArgMax < 0 || beats(rec[b+2], at, st.Max, st.ArgMax) {
			st.Max, st.ArgMax = rec[b+2], at
		}
	}
	return st
}

// beats is kernels.cu's order of (error, index) pairs: NaN first, then the
// larger error, then the smaller index.
func beats(a float64, ia int, b float64, ib int) bool {
	na, nb := math.IsNaN(a), math.IsNaN(b)
	if na != nb {
		return na
	}
	if a != b && !na {
		return a > b
	}
	return ia < ib
}

// mergeStats adds the statistics of the next rows (their ArgMax counted from
// offset) to st.
func mergeStats(st, next backend.ErrorStats, offset int) backend.ErrorStats {
	if next.N == 0 {
		return st
	}
	st.SumAbs += next.SumAbs
	st.SumSq += next.SumSq
	if next.ArgMax >= 0 && (st.N == 0 || beats(next.Max, next.ArgMax+offset, st.Max, st.ArgMax)) {
		st.Max, st.ArgMax = next.Max, next.ArgMax+offset
	}
	st.N += next.N
	return st
}
