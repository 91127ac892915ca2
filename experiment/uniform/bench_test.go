package uniform_test

import (
	"context"
	"testing"
	"time"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// BenchmarkBracketD3 brackets the true sup for the paper's d = 3 teacher and
// a width-32 student trained on m = 1000 samples (batch 100, 300 epochs):
// the time to a 5 % and a 1 % gap, and the gap reached in 60 s.
func BenchmarkBracketD3(b *testing.B) {
	cfg := experiment.Default()
	cfg.Dim, cfg.Samples, cfg.Epochs = 3, 1000, 300
	cfg.Batch = experiment.Batch{Size: 100}
	cfg.EvalPoints, cfg.Sup = 1<<16, experiment.SupSampled
	res, err := experiment.Run(context.Background(), cfg, experiment.Options{}, func(experiment.Event) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	for _, gap := range []float64{0.05, 0.01, 1e-4} {
		b.Run(map[float64]string{0.05: "gap5pct", 0.01: "gap1pct", 1e-4: "60s"}[gap], func(b *testing.B) {
			var br uniform.Bracket
			for i := 0; i < b.N; i++ {
				br, err = uniform.Sup(context.Background(), res.Student, res.Teacher, uniform.Options{Gap: gap, Time: 60 * time.Second, Starts: res.Final().ArgMax})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(100*br.Gap(), "gap%")
			b.ReportMetric(float64(br.Boxes), "boxes")
		})
	}
}
