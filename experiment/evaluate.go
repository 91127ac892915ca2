package experiment

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/reluscope/reluscope/backend"
)

// TargetBatch is the most points a target predicts at once (labelling the
// training data, drawing the function view).
const TargetBatch = 2048

// EvalChunk is the number of evaluation points held in memory at once for
// a student of this width: at least 2048, and enough that a layer's product
// (chunk × width × width) is big enough to split over the cores, at most
// 16384.
func EvalChunk(width int) int {
	return max(TargetBatch, min(16384, (8<<20)/max(1, width*width)))
}

type evaluator struct {
	cfg       Config
	teacher   Target
	student   backend.Model
	engine    backend.Engine
	dtype     backend.DType
	threads   int
	x, yt, ys []float64
	onDevice  bool         // the teacher was handed to the student's device
	devBuf    [2][]float64 // runDevice's batches of points
	ctl       *Control     // told the evaluation's progress (may be nil)
}

type predictor interface {
	Predict(dst, x []float64) error
}

// run evaluates the student against the teacher on cfg.EvalPoints fresh
// uniform points, chunk by chunk; chunk c of the k-th checkpoint draws its
// points from its own seeded stream, and the chunks' sums are combined in
// chunk order, so the numbers do not depend on how many goroutines evaluate.
// With several threads and chunks, each goroutine evaluates whole chunks on
// its own single-threaded copies of the two networks: small products do not
// split well, whole chunks do.
func (e *evaluator) run(ctx context.Context, k int) (Metrics, error) {
	e.ctl.evalBegin(k, e.cfg.EvalPoints)
	defer e.ctl.evalEnd()
	if cmp, ok := e.student.(backend.Comparer); ok && e.teacher.Net() != nil {
		return e.runDevice(ctx, k, cmp)
	}
	chunk := EvalChunk(e.cfg.Width)
	nch := (e.cfg.EvalPoints + chunk - 1) / chunk
	accs := make([]accumulator, nch)
	workers := min(e.threads, nch)
	if workers <= 1 {
		if e.x == nil {
			e.x = make([]float64, chunk*e.cfg.Dim)
			e.yt, e.ys = make([]float64, chunk), make([]float64, chunk)
		}
		for c := range accs {
			if err := ctx.Err(); err != nil {
				return Metrics{}, err
			}
			if err := e.chunk(k, c, chunk, e.teacher, e.student, e.x, e.yt, e.ys, &accs[c]); err != nil {
				return Metrics{}, err
			}
		}
		return merge(accs), nil
	}
	net := e.student.Net()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t, err := newTarget(e.cfg, 1)
			if err != nil {
				fail(err)
				return
			}
			defer t.Close()
			s, err := e.engine.New(net, backend.Options{DType: e.dtype, MaxBatch: chunk, Threads: 1})
			if err != nil {
				fail(err)
				return
			}
			defer s.Close()
			x, yt, ys := make([]float64, chunk*e.cfg.Dim), make([]float64, chunk), make([]float64, chunk)
			for c := int(next.Add(1) - 1); c < nch; c = int(next.Add(1) - 1) {
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
				if err := e.chunk(k, c, chunk, t, s, x, yt, ys, &accs[c]); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return Metrics{}, firstErr
	}
	return merge(accs), nil
}

// points fills xb with chunk c of checkpoint k's evaluation points (chunks
// of size points) from the chunk's own seeded stream and returns them.
func (e *evaluator) points(k, c, size int, xb []float64) []float64 {
	n := min(size, e.cfg.EvalPoints-c*size)
	r := newRand(e.cfg.DataSeed^0x9e3779b97f4a7c15, streamEval|uint64(k)<<8|uint64(c)<<32)
	x := xb[:n*e.cfg.Dim]
	for i := range x {
		x[i] = r.Float64() - 0.5
	}
	return x
}

// deviceEvalValues is about how many coordinates of evaluation points go to
// a device in one Compare (2^19 points in d = 1): whole chunks, enough that
// the device's work is not lost in its launches and copies, and that the
// engine's pieces (2^17 points at most a launch) overlap their copies and
// staging with the device's work within one call.
const deviceEvalValues = 1 << 19

// runDevice evaluates on the student's own device (a backend.Comparer, with
// the teacher held there too): the same points as run, drawn chunk by chunk
// from the same streams, on the host's cores (the next batch of chunks while
// the device computes this one), and sent in batches of whole chunks; only
// each batch's sums and maximum come back. The sums are added in another
// order than the host's, so the metrics agree with it to rounding, not bit
// for bit; the maximum and its point are the same.
func (e *evaluator) runDevice(ctx context.Context, k int, cmp backend.Comparer) (Metrics, error) {
	if !e.onDevice {
		if err := cmp.SetTeacher(e.teacher.Net()); err != nil {
			return Metrics{}, err
		}
		e.onDevice = true
	}
	d := e.cfg.Dim
	chunk := EvalChunk(e.cfg.Width)
	nch := (e.cfg.EvalPoints + chunk - 1) / chunk
	per := max(1, deviceEvalValues/(chunk*d)) // chunks per batch
	nb := (nch + per - 1) / per
	if len(e.devBuf[0]) < per*chunk*d {
		e.devBuf = [2][]float64{make([]float64, per*chunk*d), make([]float64, per*chunk*d)}
	}
	// gen draws batch b's chunks into buf, split over the threads, and
	// returns its points.
	gen := func(b int, buf []float64) []float64 {
		c0, c1 := b*per, min(nch, (b+1)*per)
		var wg sync.WaitGroup
		var next atomic.Int64
		next.Store(int64(c0))
		for w := 0; w < min(e.threads, c1-c0); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := int(next.Add(1) - 1); c < c1; c = int(next.Add(1) - 1) {
					e.points(k, c, chunk, buf[(c-c0)*chunk*d:])
				}
			}()
		}
		wg.Wait()
		n := min(e.cfg.EvalPoints, c1*chunk) - c0*chunk
		return buf[:n*d]
	}
	accs := make([]accumulator, nb)
	ready := make(chan []float64, 1)
	go func() { ready <- gen(0, e.devBuf[0]) }()
	for b := range accs {
		x := <-ready
		if b+1 < nb {
			go func() { ready <- gen(b+1, e.devBuf[(b+1)%2]) }()
		}
		err := ctx.Err()
		var st backend.ErrorStats
		if err == nil {
			st, err = cmp.Compare(x)
		}
		if err != nil {
			if b+1 < nb {
				<-ready // the batch being drawn
			}
			return Metrics{}, err
		}
		accs[b] = accumulator{sumAbs: st.SumAbs, sumSq: st.SumSq, max: st.Max, n: st.N}
		e.ctl.evalAdd(len(x) / d)
		if st.ArgMax >= 0 {
			accs[b].arg = append([]float64(nil), x[st.ArgMax*d:(st.ArgMax+1)*d]...)
		}
	}
	return merge(accs), nil
}

// chunk evaluates chunk c of checkpoint k into acc.
func (e *evaluator) chunk(k, c, size int, teacher, student predictor, xb, yt, ys []float64, acc *accumulator) error {
	d := e.cfg.Dim
	x := e.points(k, c, size, xb)
	n := len(x) / d
	if err := teacher.Predict(yt[:n], x); err != nil {
		return err
	}
	if err := student.Predict(ys[:n], x); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		acc.add(ys[i]-yt[i], x[i*d:(i+1)*d])
	}
	e.ctl.evalAdd(n)
	return nil
}
