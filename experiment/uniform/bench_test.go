package uniform_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/uniform"
	"github.com/reluscope/reluscope/presets"
)

// BenchmarkBracket brackets the true sup for the paper's teacher (depth 5,
// width 32) and students trained on m = 1000 samples (batch 100, 50
// epochs, the default preset's learning rate 3·10⁻³ → 3·10⁻⁵, as `run
// --dim 3 --samples 1000 --batch 100 --epochs 50` trains them), on all
// cores with a 60 s limit (5 min at width 2048), to the goals: d = 3 width
// 32 to 0.1 %, width 512 to 1 %, width 2048 to 5 % and 1 %, d = 2 width 512
// to 0.1 %; and (lr1e-4) a width-512 student trained at the paper's rate
// 10⁻⁴ → 10⁻⁶ for the same 50 epochs, far from converged, whose bounds
// are much looser. It reports the gap reached, the boxes bounded and the
// seconds. Training the width-2048 student takes minutes;
// -bench 'Bracket/d3-w(32|512)' skips it.
func BenchmarkBracket(b *testing.B) {
	cases := []struct {
		dim, width int
		lr         float64
		gaps       []float64
		limit      time.Duration
	}{
		{3, 32, 0, []float64{0.001}, time.Minute},
		{3, 512, 0, []float64{0.01, 0.001}, time.Minute},
		{2, 512, 0, []float64{0.001}, time.Minute},
		{3, 512, 1e-4, []float64{0.01}, time.Minute},
		{3, 2048, 0, []float64{0.05, 0.01}, 5 * time.Minute},
	}
	def, err := presets.Load("default")
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range cases {
		name := fmt.Sprintf("d%d-w%d", tc.dim, tc.width)
		if tc.lr > 0 {
			name += fmt.Sprintf("-lr%g", tc.lr)
		}
		b.Run(name, func(b *testing.B) {
			cfg := def.Config
			cfg.Dim, cfg.Width, cfg.Samples, cfg.Epochs = tc.dim, tc.width, 1000, 50
			if tc.lr > 0 {
				cfg.LR, cfg.LREnd = tc.lr, tc.lr/100
			}
			cfg.Batch = experiment.Batch{Size: 100}
			cfg.EvalPoints, cfg.Sup = 1<<16, experiment.SupSampled
			res, err := experiment.Run(context.Background(), cfg, experiment.Options{}, func(experiment.Event) error { return nil })
			if err != nil {
				b.Fatal(err)
			}
			for _, gap := range tc.gaps {
				b.Run(fmt.Sprintf("gap%gpct", 100*gap), func(b *testing.B) {
					var br uniform.Bracket
					for i := 0; i < b.N; i++ {
						br, err = uniform.Sup(context.Background(), res.Student, res.Teacher, uniform.Options{Gap: gap, Time: tc.limit, Starts: res.Final().ArgMax, Threads: runtime.NumCPU()})
						if err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(100*br.Gap(), "gap%")
					b.ReportMetric(float64(br.Boxes), "boxes")
					b.ReportMetric(br.Seconds, "s")
				})
			}
		})
	}
}
