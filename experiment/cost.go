package experiment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/reluscope/reluscope/backend"
)

// Cost is the work of one run of a config: what "this setting takes about
// T" and `sweep plan` are computed from, with a Rate measured here.
type Cost struct {
	// Steps is the Adam steps of the run (0 for a one-shot learner).
	Steps int64
	// TrainFLOP is the forward and backward passes of the steps: 6 flops
	// per student weight and sample (2 forward, 4 backward).
	TrainFLOP float64
	// EvalFLOP is teacher and student evaluated at every checkpoint's
	// points: 2 flops per weight and point each.
	EvalFLOP    float64
	Checkpoints int
	// SupSeconds bounds the brackets of the true sup (d > 1: each one's
	// time limit; exact 1-D sups are not counted).
	SupSeconds float64
}

// RunCost counts the work of a run of c (checkpoints and evaluation points
// resolved as c says: call it on ExplorerConfig(c) for the explorer's).
func RunCost(c Config) Cost {
	ps := float64(backend.NumParams(c.StudentSizes()))
	pt := float64(backend.NumParams(c.TeacherSizes()))
	if c.DataFile != "" {
		pt = 0
	}
	var k Cost
	if c.UsesLearner() {
		k.Checkpoints = 2
	} else {
		k.Steps = int64(c.Epochs) * int64(c.StepsPerEpoch())
		k.TrainFLOP = 6 * ps * float64(c.Samples) * float64(c.Epochs)
		for e := 0; e <= c.Epochs; e++ {
			if c.IsCheckpoint(e) {
				k.Checkpoints++
				if c.Dim > 1 && c.SupAt(e) && c.DataFile == "" {
					k.SupSeconds += c.SupTime().Seconds()
				}
			}
		}
	}
	if c.DataFile == "" {
		k.EvalFLOP = 2 * (ps + pt) * float64(c.EvalPoints) * float64(k.Checkpoints)
	}
	return k
}

// FLOP is the run's arithmetic.
func (k Cost) FLOP() float64 { return k.TrainFLOP + k.EvalFLOP }

// Rate is an engine's measured speed on this machine: a fixed cost per
// Adam step (what narrow networks pay) and the arithmetic rate of wide ones.
type Rate struct {
	Engine  string
	Threads int
	// StepSeconds is the time of one step of a width-8 network on a
	// batch of 8: the per-step cost no FLOP count sees.
	StepSeconds float64
	// FLOPS is the floating-point rate of width-256 steps on a batch of
	// 512, the per-step cost taken off.
	FLOPS float64
}

// Seconds estimates the run's time at rate r.
func (r Rate) Seconds(k Cost) float64 {
	return float64(k.Steps)*r.StepSeconds + k.FLOP()/r.FLOPS + k.SupSeconds
}

// String is "40 GFLOP/s and 12µs a step on native, 2 threads".
func (r Rate) String() string {
	return fmt.Sprintf("%s/s and %s a step on %s, %d threads", FLOPCount(r.FLOPS), time.Duration(r.StepSeconds*float64(time.Second)).Round(100*time.Nanosecond), r.Engine, r.Threads)
}

// FLOPCount writes a count of flops: 3.1 TFLOP.
func FLOPCount(f float64) string {
	units := []string{"FLOP", "kFLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP", "EFLOP"}
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.3g %s", f, units[i])
}

// MeasureRate times a few Adam steps of engine at two shapes (about a
// tenth of a second) on threads goroutines (0: all cores).
func MeasureRate(engineName string, dt backend.DType, threads int) (Rate, error) {
	eng, err := backend.Get(engineName)
	if err != nil {
		return Rate{}, err
	}
	r := Rate{Engine: eng.Name(), Threads: threads}
	if threads <= 0 {
		r.Threads = runtime.GOMAXPROCS(0)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	timeSteps := func(sizes []int, batch int, budget time.Duration) (perStep float64, err error) {
		net := backend.NewNet(sizes)
		net.InputScale = 1
		net.FillUniform(rng, func(l int) float64 { return 1 / math.Sqrt(float64(sizes[l])) })
		m, err := eng.New(net, backend.Options{DType: dt, MaxBatch: batch, Threads: threads})
		if err != nil {
			return 0, err
		}
		defer m.Close()
		x := make([]float64, batch*sizes[0])
		y := make([]float64, batch)
		for i := range x {
			x[i] = rng.Float64() - 0.5
		}
		if _, err := m.Step(x, y, 1e-3); err != nil { // warm the buffers
			return 0, err
		}
		n, t0 := 0, time.Now()
		for n < 3 || time.Since(t0) < budget {
			if _, err := m.Step(x, y, 1e-3); err != nil {
				return 0, err
			}
			n++
		}
		return time.Since(t0).Seconds() / float64(n), nil
	}
	if r.StepSeconds, err = timeSteps([]int{1, 8, 8, 1}, 8, 20*time.Millisecond); err != nil {
		return r, err
	}
	wide := []int{1, 256, 256, 256, 1}
	const batch = 512
	t, err := timeSteps(wide, batch, 80*time.Millisecond)
	if err != nil {
		return r, err
	}
	flop := 6 * float64(backend.NumParams(wide)) * batch
	r.FLOPS = flop / math.Max(t-r.StepSeconds, t/10)
	return r, nil
}

var rates sync.Map // "engine/dtype/threads" → Rate

// MachineRate is MeasureRate, measured once per process for each engine,
// dtype and thread count.
func MachineRate(engineName string, dt backend.DType, threads int) (Rate, error) {
	key := fmt.Sprintf("%s/%v/%d", engineName, dt, threads)
	if r, ok := rates.Load(key); ok {
		return r.(Rate), nil
	}
	r, err := MeasureRate(engineName, dt, threads)
	if err != nil {
		return r, err
	}
	rates.Store(key, r)
	return r, nil
}

// LongRun is the time over which the explorer asks before starting a run
// and `run` warns.
const LongRun = 10 * time.Minute

// Estimate is a run's estimated time at this machine's measured rate, with
// what it rests on ("1.2 PFLOP at 41 GFLOP/s"). Runs that are plainly short
// (< 10¹⁰ flops and 10⁵ steps) are not measured: they return 0.
func Estimate(c Config, threads int) (time.Duration, string, error) {
	k := RunCost(c)
	if k.FLOP() < 1e10 && k.Steps < 1e5 && k.SupSeconds < LongRun.Seconds() {
		return 0, "", nil
	}
	dt, err := backend.ParseDType(c.DType)
	if err != nil {
		return 0, "", err
	}
	r, err := MachineRate(c.Backend, dt, threads)
	if err != nil {
		return 0, "", err
	}
	s := r.Seconds(k)
	why := fmt.Sprintf("%s in %s steps at %s", FLOPCount(k.FLOP()), CountWord(k.Steps), r)
	return time.Duration(math.Min(s, 1e9) * float64(time.Second)), why, nil
}

// CountWord writes a count compactly: 820, 4.1k, 2.5M, 3.2G.
func CountWord(n int64) string {
	f := float64(n)
	switch {
	case f >= 1e9:
		return fmt.Sprintf("%.3gG", f/1e9)
	case f >= 1e6:
		return fmt.Sprintf("%.3gM", f/1e6)
	case f >= 1e3:
		return fmt.Sprintf("%.3gk", f/1e3)
	}
	return fmt.Sprintf("%d", n)
}

// Clock writes a duration as h:mm:ss, or days and hours past 99 hours.
func Clock(d time.Duration) string {
	s := int64(d.Round(time.Second).Seconds())
	if s >= 99*3600 {
		return fmt.Sprintf("%d days %d h", s/86400, (s%86400)/3600)
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, (s/60)%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
