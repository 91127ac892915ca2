package experiment

import (
	"fmt"
	"math"
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

// LongRun is the time over which the explorer asks before starting a run
// and `run` warns.
const LongRun = 10 * time.Minute

// Estimate is a run's estimated time at this machine's measured rate
// (MachineRate), with what it rests on ("1.2 PFLOP at 41 GFLOP/s …").
// Runs that are plainly short (PlainlyShort) are not measured: they
// return 0.
func Estimate(c Config, threads int) (time.Duration, string, error) {
	if PlainlyShort(c) {
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
	d, why := EstimateAt(c, r)
	return d, why, nil
}

// PlainlyShort says whether c is too short to need a rate: under LongRun
// even at slowRate (the explorer's default run: 3.5·10¹¹ flops, about 6
// minutes at it).
func PlainlyShort(c Config) bool {
	return slowRate.Seconds(RunCost(c)) < LongRun.Seconds()
}

// slowRate is slower than any machine reluscope has measured (a loaded
// 2-core machine: 28 GFLOP/s and 9 µs a step).
var slowRate = Rate{StepSeconds: 100e-6, FLOPS: 1e9}

// EstimateAt is c's time at rate r, and what it rests on.
func EstimateAt(c Config, r Rate) (time.Duration, string) {
	k := RunCost(c)
	s := r.Seconds(k)
	why := fmt.Sprintf("%s in %s steps at %s (%s)", FLOPCount(k.FLOP()), CountWord(k.Steps), r, r.When())
	return time.Duration(math.Min(s, 1e9) * float64(time.Second)), why
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
