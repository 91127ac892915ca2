package experiment

import "github.com/reluscope/reluscope/backend"

// ExplorerConfig fills in the checkpoints left to the explorer (EvalEvery
// or EvalPoints 0) for live curves: up to 100 checkpoints, each on enough
// fresh points that evaluation costs about a quarter of the training,
// between 4096 and 65536 points. Values the user set are kept.
func ExplorerConfig(c Config) Config {
	if c.EvalEvery == 0 {
		c.EvalEvery = max(1, c.Epochs/min(c.Epochs, 100))
	}
	if c.EvalPoints == 0 {
		n := float64(c.Epochs/c.EvalEvery + 1)
		ps := float64(backend.NumParams(c.StudentSizes()))
		pt := float64(backend.NumParams(c.TeacherSizes()))
		train := 6 * ps * float64(c.Samples) * float64(c.Epochs)
		pts := 0.25 * train / (2 * (ps + pt) * n)
		p := 4096
		for p < 65536 && float64(p) < pts {
			p *= 2
		}
		c.EvalPoints = p
	}
	return c
}

// ComplexityMs are the sample counts of the explorer's sample-complexity
// view.
var ComplexityMs = []int{10, 30, 100, 300, 1000, 3000, 10000}

// Every rung of the sample-complexity view follows the protocol under
// which the paper's separation shows (the README's reduced paper sweep):
// batch 100 and rungEpochs epochs, so the Adam steps grow with m (10 per
// sample), with the setting's learning rate, at most rungFLOPs of training
// (6·params·batch per step: 100k steps, all of m = 10⁴, at width 32) and
// never fewer than rungFloorSteps. In one dimension the final uniform error
// is the exact sup. At the default setting the view takes about half a
// minute on 2 cores.
const (
	RungBatch      = 100
	rungEpochs     = 1000
	rungFloorSteps = 4000
	rungFLOPs      = 2.5e11
	rungEvalPoints = 1 << 15
)

// ComplexityConfigs are the runs of the sample-complexity view for
// settings c, one per ComplexityMs.
func ComplexityConfigs(c Config) []Config {
	var out []Config
	for _, m := range ComplexityMs {
		r := c
		r.Samples = m
		r.Batch = Batch{Size: RungBatch}
		r.Epochs = rungEpochs
		spe := r.StepsPerEpoch()
		perStep := 6 * float64(backend.NumParams(r.StudentSizes())) * float64(r.BatchSize())
		if most := max(rungFloorSteps, int(rungFLOPs/perStep)); r.Epochs*spe > most {
			r.Epochs = max(1, most/spe)
		}
		r.EvalEvery = r.Epochs // the first and last checkpoints only
		r.EvalPoints = rungEvalPoints
		r.Sup = SupSampled
		if r.Dim == 1 && r.Target != TargetSine {
			r.Sup = SupFinal // exact, milliseconds
		}
		out = append(out, r)
	}
	return out
}
