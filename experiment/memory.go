package experiment

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment/uniform"
	"github.com/reluscope/reluscope/internal/osutil"
)

// MemoryEstimate is the peak memory in bytes of a run of cfg computing on
// threads goroutines (0: all cores), counted from what it allocates: the
// training set (and the copy the start event carries), the teacher and
// its activations, the student with its gradient, Adam moments, transposed
// weights and the activations of its largest batch, the evaluator's
// single-threaded copies of both networks per goroutine, the snapshots of
// the student, and the Go runtime's base. A sweep runs one per worker.
func MemoryEstimate(cfg Config, threads int) uint64 {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	eb := 8.0 // bytes of an engine's float
	if cfg.DType == "float32" {
		eb = 4
	}
	ss, ts := cfg.StudentSizes(), cfg.TeacherSizes()
	sum := func(s []int) float64 {
		t := 0.0
		for _, v := range s {
			t += float64(v)
		}
		return t
	}
	ps, pt := float64(backend.NumParams(ss)), float64(backend.NumParams(ts))
	m, d := float64(cfg.Samples), float64(cfg.Dim)
	data := 2*m*d*8 + 3*m*8
	chunk := float64(EvalChunk(cfg.Width))
	rows := max(float64(cfg.BatchSize()), chunk)
	// A model: its parameters (×2 to predict: the weights and their
	// transpose; ×6 to train: also gradient, two moments, a float64 copy)
	// and activations (×3 to train: the backward pass's two buffers).
	model := func(p float64, sizes []int, rows float64, train bool) float64 {
		if train {
			return p*eb*6 + rows*sum(sizes)*eb*3 + min(64<<20, 2*p*eb)
		}
		return p*eb*2 + rows*sum(sizes)*eb
	}
	teacher := model(pt, ts, float64(TargetBatch), false) + pt*8
	if cfg.Target == TargetSine {
		teacher = 0
	}
	student := model(ps, ss, rows, true)
	eval := 3 * chunk * 8
	if threads > 1 {
		eval += float64(threads) * (model(ps, ss, chunk, false) + model(pt, ts, chunk, false) + 3*chunk*8)
	}
	if cfg.Backend == "cuda" {
		// runDevice's two batches of points and the engine's two slots of
		// page-locked memory for them.
		eval += 4 * max(deviceEvalValues, chunk*d) * 8
	}
	snapshots := 4 * ps * 8
	sup := 0.0
	if cfg.Sup != SupSampled {
		sup = uniform.SupBytes(ss, ts)
	}
	const base = 40 << 20
	return uint64(1.5*(data+teacher+student+eval+snapshots+sup) + base)
}

// LimitMemory holds the Go runtime's heap to bytes (the estimate of the
// runs a process makes at once), so that the estimate bounds the peak: the
// collector works harder as the heap nears it instead of letting it grow
// to twice what is live. A GOMEMLIMIT in the environment wins.
func LimitMemory(bytes uint64) {
	if os.Getenv("GOMEMLIMIT") == "" && bytes > 0 && bytes < math.MaxInt64 {
		debug.SetMemoryLimit(int64(bytes))
	}
}

// CheckMemory refuses a config whose estimated peak, times copies (a
// sweep's workers), does not fit in 90 % of the available memory.
func CheckMemory(cfg Config, threads, copies int) error {
	avail, bound, err := osutil.MemAvailable()
	if err != nil {
		return err
	}
	if avail == 0 {
		return nil
	}
	need := MemoryEstimate(cfg, threads) * uint64(max(1, copies))
	if float64(need) <= 0.9*float64(avail) {
		return nil
	}
	each := ""
	if copies > 1 {
		each = fmt.Sprintf(" (%d runs at once × %s)", copies, Bytes(MemoryEstimate(cfg, threads)))
	}
	return fmt.Errorf("this run needs about %s of memory%s and %s is available (%s): make it smaller (width, depth, samples, eval points, workers) or pass --ignore-memory", Bytes(need), each, Bytes(avail), bound)
}
