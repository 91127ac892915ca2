//go:build gpu

package experiment

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/reluscope/reluscope/backend"
	_ "github.com/reluscope/reluscope/backend/cuda" // the cuda engine
)

// TestDeviceRunOnGPU: a run on the GPU — headless (its steps in requests of
// several) and controlled as the explorer controls it — equals the native
// engine's to 1e-9 (bench/gpu.sh runs it in its tests stage; without a
// device the run's error fails it).
func TestDeviceRunOnGPU(t *testing.T) {
	for _, controlled := range []bool{false, true} {
		deviceRunMatchesNative(t, "cuda", "", controlled)
	}
}

// BenchmarkDeviceEvaluator: a checkpoint's evaluation on the GPU as a run
// does it (points drawn on the host from the run's streams), 2^24 points,
// a [1, W×4, 1] student against a width-32 teacher; seconds per evaluation.
func BenchmarkDeviceEvaluator(b *testing.B) {
	for _, W := range []int{32, 512, 2048} {
		b.Run(fmt.Sprintf("W=%d", W), func(b *testing.B) {
			cfg := Default()
			cfg.Backend = "cuda"
			cfg.Width, cfg.TeacherWidth, cfg.Depth = W, 32, 5
			cfg.EvalPoints = 1 << 24
			if W == 2048 {
				cfg.EvalPoints = 1 << 22
			}
			if n, err := strconv.Atoi(os.Getenv("RELUSCOPE_BENCH_POINTS")); err == nil && n > 0 {
				cfg.EvalPoints = n // the fake driver's check: the kernels run on the CPU
			}
			teacher, err := newTarget(cfg, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer teacher.Close()
			engine, _ := backend.Get("cuda")
			student, err := engine.New(InitStudent(cfg), backend.Options{MaxBatch: EvalChunk(W)})
			if err != nil {
				b.Fatal(err)
			}
			defer student.Close()
			ev := &evaluator{cfg: cfg, teacher: teacher, student: student, engine: engine, threads: 16}
			if _, err := ev.run(context.Background(), 0); err != nil { // the teacher goes up
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := ev.run(context.Background(), i); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*float64(1<<24)/float64(cfg.EvalPoints), "s/2^24pts")
		})
	}
}
