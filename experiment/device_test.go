package experiment

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/backend/cuda"
)

// The cuda engine's code on a host emulator of the GPU: a model that holds
// the training set and the teacher on its device (backend.DataHolder,
// backend.Comparer).
func init() { backend.Register(cuda.Emulator("cuda-emulator")) }

// A run on an engine that holds the data and evaluates on its device takes
// the same steps as the native engine and reports the same numbers, to
// rounding: the loss comes back per epoch, the errors as device sums.
// A controlled run (the explorer's), whose steps go in requests timed as it
// goes, too.
func TestDeviceRunMatchesNative(t *testing.T) {
	for _, controlled := range []bool{false, true} {
		deviceRunMatchesNative(t, "cuda-emulator", "cuda-emulator (host emulator of the cuda engine)", controlled)
	}
}

// deviceRunMatchesNative checks a small run on engine (whose start event
// names it desc, "" to skip) against the native engine's, to 1e-9.
func deviceRunMatchesNative(t *testing.T, engine, desc string, controlled bool) {
	cfg := small()
	cfg.Width, cfg.TeacherWidth = 8, 8
	cfg.Samples, cfg.Epochs, cfg.EvalPoints = 90, 6, 300000 // batch 9; chunks of 16384 in 3 batches, the last part-full
	cfg.EvalEvery = 3
	cfg.Sup = "sampled"
	nat := runSync(t, cfg)
	cfg.Backend = engine
	var opt Options
	if controlled {
		opt.Control = NewControl()
	}
	var start Event
	res, err := Run(context.Background(), cfg, opt, func(ev Event) error {
		if ev.Kind == KindStart {
			start = ev
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if desc != "" && start.Backend != desc {
		t.Fatalf("start event names the backend %q", start.Backend)
	}
	if res.Steps != nat.Steps || len(res.History) != len(nat.History) || len(res.EpochLoss) != len(nat.EpochLoss) {
		t.Fatalf("device run: %d steps, %d checkpoints, %d epoch losses; native %d, %d, %d",
			res.Steps, len(res.History), len(res.EpochLoss), nat.Steps, len(nat.History), len(nat.EpochLoss))
	}
	close := func(what string, a, b float64) {
		if math.Abs(a-b) > 1e-9*math.Abs(b) {
			t.Errorf("%s: device %v, native %v", what, a, b)
		}
	}
	for i := range nat.EpochLoss {
		close("epoch loss", res.EpochLoss[i], nat.EpochLoss[i])
	}
	for i, c := range nat.History {
		d := res.History[i]
		if d.Epoch != c.Epoch {
			t.Fatalf("checkpoint %d at epoch %d, native %d", i, d.Epoch, c.Epoch)
		}
		close("L1", d.Metrics.L1, c.Metrics.L1)
		close("L2", d.Metrics.L2, c.Metrics.L2)
		close("L∞", d.Metrics.Linf, c.Metrics.Linf)
		if d.Metrics.N != c.Metrics.N || len(d.Metrics.ArgMax) != 1 || math.Abs(d.Metrics.ArgMax[0]-c.Metrics.ArgMax[0]) > 0 {
			t.Errorf("checkpoint %d: argmax %v of %d points, native %v of %d", i, d.Metrics.ArgMax, d.Metrics.N, c.Metrics.ArgMax, c.Metrics.N)
		}
	}
	pa, pb := res.Student.Flatten(nil), nat.Student.Flatten(nil)
	for i := range pa {
		close("parameter", pa[i], pb[i])
	}
}

// A run that diverges on the device ends with the epoch it diverged in.
func TestDeviceRunDiverges(t *testing.T) {
	cfg := small()
	cfg.Backend = "cuda-emulator"
	cfg.DType = "float32"
	cfg.Coef = 10
	cfg.Width, cfg.TeacherWidth, cfg.Depth = 4, 64, 28 // teacher outputs beyond 1e39 overflow float32
	cfg.Samples, cfg.Epochs, cfg.EvalPoints = 20, 3, 100
	cfg.Sup = "sampled"
	res, err := Run(context.Background(), cfg, Options{}, func(Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "diverged in epoch 1") {
		t.Fatalf("an overflowing float32 run on the device: %v", err)
	}
	if res == nil || len(res.History) != 1 {
		t.Fatal("the diverged run lost its initial checkpoint")
	}
}
