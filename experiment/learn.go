package experiment

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment/learners"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// LearnerInfo is what a learner other than Adam reports.
type LearnerInfo struct {
	Name string `json:"name"`
	// Loss is the summed squared training loss Σ_j (f(x_j) − y_j)² it
	// reached (the global optimum for exact-erm and discrete).
	Loss float64 `json:"loss"`
	// Work is the subproblems (exact-erm), assignments or DP states
	// (discrete) or tuples (enumerate) it went through.
	Work    int64   `json:"work"`
	Seconds float64 `json:"seconds"`
}

// learnerProblem is cfg's instance for its learner, on samples samples.
func (c Config) learnerProblem() learners.Problem {
	return learners.Problem{Dim: c.Dim, Width: c.Width, Samples: c.Samples, OutputBias: !c.NoOutputBias, Set: c.DiscreteSet, Eps: c.NetEps}
}

// Fit runs cfg's learner (not Adam) on the samples (x: m×d, y).
func Fit(ctx context.Context, cfg Config, x, y []float64) (*backend.Net, LearnerInfo, error) {
	info := LearnerInfo{Name: cfg.Learner}
	l, err := learners.Get(cfg.Learner)
	if err != nil {
		return nil, info, fmt.Errorf("learner %s is not one of the fitting algorithms", Quote(cfg.Learner))
	}
	p := cfg.learnerProblem()
	p.Samples = len(y)
	r, err := l.Fit(ctx, p, x, y)
	if err != nil {
		return nil, info, err
	}
	if r == nil || r.Net == nil || math.IsInf(r.Loss, 0) || math.IsNaN(r.Loss) {
		return nil, info, fmt.Errorf("%s found no network with a finite loss: the targets or the parameters overflow float64 (scale them down)", cfg.Learner)
	}
	info.Loss, info.Work, info.Seconds = r.Loss, r.Work, r.Elapsed.Seconds()
	return r.Net, info, nil
}

// runLearner is Run for a learner other than Adam: the fit, then two
// checkpoints, the zero network it starts from (epoch 0) and the fitted one
// (epoch 1), evaluated as Adam's student is.
func runLearner(ctx context.Context, cfg Config, opt Options, emit func(Event) error, start time.Time,
	X, Y []float64, teacher Target, teacherNet *backend.Net, engine backend.Engine, dt backend.DType, threads int) (*Result, error) {
	res := &Result{Config: cfg, Teacher: teacherNet}
	var tcopy *backend.Net
	if teacherNet != nil {
		tcopy = teacherNet.Clone()
	}
	zero := backend.NewNet(cfg.StudentSizes())
	zero.InputScale = 1
	if err := emit(Event{Kind: KindStart, Epochs: 1, Teacher: tcopy, Inputs: append([]float64(nil), X...), Student: zero.Clone(), Backend: engine.Name()}); err != nil {
		return res, err
	}
	net, info, err := Fit(ctx, cfg, X, Y)
	if err != nil {
		res.Error = err.Error()
		res.Elapsed = time.Since(start)
		return res, err
	}
	res.Learner = &info
	res.Steps = info.Work
	evalNet := func(n *backend.Net, k, epoch int, loss float64) (Checkpoint, error) {
		t0 := time.Now()
		c := Checkpoint{Epoch: epoch, TrainLoss: loss}
		if cfg.DataFile != "" {
			c.Metrics = noMetrics()
			return c, nil
		}
		model, err := engine.New(n, backend.Options{DType: dt, MaxBatch: EvalChunk(cfg.Width), Threads: threads})
		if err != nil {
			return c, err
		}
		defer model.Close()
		ev := &evaluator{cfg: cfg, teacher: teacher, student: model, engine: engine, dtype: dt, threads: threads, ctl: opt.Control}
		if c.Metrics, err = ev.run(ctx, k); err != nil {
			return c, err
		}
		if teacherNet != nil && cfg.Sup != SupSampled && epoch == 1 {
			b, err := uniform.Sup(ctx, n, teacherNet, cfg.SupOptions(c.ArgMax, threads))
			if err != nil {
				return c, err
			}
			c.Bracket = &b
		}
		c.EvalSeconds = time.Since(t0).Seconds()
		return c, nil
	}
	y2 := 0.0
	for _, v := range Y {
		y2 += v * v
	}
	c0, err := evalNet(zero, 0, 0, y2/float64(len(Y)))
	if err != nil {
		return res, err
	}
	c1, err := evalNet(net, 1, 1, info.Loss/float64(len(Y)))
	if err != nil {
		return res, err
	}
	res.History = []Checkpoint{c0, c1}
	res.EpochLoss = []float64{c1.TrainLoss}
	res.Student = net
	res.Elapsed = time.Since(start)
	if err := emit(Event{Kind: KindProgress, Epoch: 1, Epochs: 1, Step: res.Steps, Elapsed: res.Elapsed, Loss: c1.TrainLoss,
		Checkpoints: res.History, EpochLoss: res.EpochLoss, FirstEpoch: 1, Student: net.Clone()}); err != nil {
		return res, err
	}
	return res, nil
}

// noMetrics marks a checkpoint without a teacher to compare to.
func noMetrics() Metrics {
	nan := math.NaN()
	return Metrics{L1: nan, L2: nan, Linf: nan}
}
