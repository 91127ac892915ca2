//go:build gpu

package cuda

// Device tests and benchmarks: they need an NVIDIA GPU and run only in a
// binary built with -tags gpu (bench/gpu.sh builds it here and runs it on a
// GPU machine).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/reluscope/reluscope/backend"
)

func gpu(t testing.TB) *device {
	t.Helper()
	d, err := theDevice()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// On the device, StepRows on the set held there equals Step on the host's
// gathered batches, bit for bit. First: the other checks build on it.
func TestDeviceStepRowsEqualsStep(t *testing.T) {
	for _, path := range []string{"fused", "multi", "cublas"} {
		t.Run(path, func(t *testing.T) {
			defer forcePath(path)()
			deviceStepRowsEqualsStep(t)
		})
	}
}

func deviceStepRowsEqualsStep(t *testing.T) {
	d := gpu(t)
	a, b, _ := stepRowsVersusStep(t, d, d, []int{2, 64, 64, 1}, 1000, 64, 1e-10)
	a.Close()
	b.Close()
}

// The device against the native engine, as the emulator is checked:
// loss, every gradient, parameters after 100 Adam steps, predictions and
// the error statistics, to 1e−10 relative in float64.
func TestDeviceMatchesNative(t *testing.T) {
	d := gpu(t)
	t.Logf("device: %s, %s, cuBLAS %s (version %d)", d.describe(), d.sm, d.blas.lib, d.blas.version)
	for _, tc := range []struct {
		sizes []int
		batch int
		dt    backend.DType
		tol   float64
	}{
		{[]int{1, 32, 32, 32, 32, 1}, 20, backend.Float64, 1e-10},
		{[]int{1, 32, 32, 32, 32, 1}, 200, backend.Float64, 1e-10},
		{[]int{1, 32, 32, 32, 32, 1}, 2000, backend.Float64, 1e-10},
		{[]int{1, 32, 32, 32, 32, 1}, 200, backend.Float32, 1e-3},
		{[]int{1, 512, 512, 512, 512, 1}, 2000, backend.Float64, 1e-10},
		{[]int{3, 512, 512, 512, 512, 1}, 200, backend.Float64, 1e-10},
		{[]int{1, 2048, 2048, 1}, 100, backend.Float64, 1e-10},
		{[]int{2, 64, 64, 1}, 300, backend.Float32, 1e-3},
	} {
		for _, path := range []string{"fused", "multi", "cublas"} {
			if path != "cublas" && tc.sizes[1] > 64 || path == "fused" && tc.batch > 4096 {
				continue // one block a step, or blocks of 128 rows, would take seconds
			}
			t.Run(fmt.Sprintf("%v_b%d_%s_%s", tc.sizes, tc.batch, tc.dt, path), func(t *testing.T) {
				defer forcePath(path)()
				crossCheck(t, d, tc.sizes, tc.batch, tc.dt, tc.tol)
			})
		}
	}
}

// A pause must stop the device quickly: the longest a host waits for a
// StepRows at width 2048, batch 1000 (syncDepth steps queued at most).
func TestDeviceStepRowsLatency(t *testing.T) {
	d := gpu(t)
	sizes := []int{1, 2048, 2048, 2048, 2048, 1}
	net := randomNet(sizes, 1)
	mod, err := newModel(d, net, backend.Options{MaxBatch: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close()
	X, Y := randomBatch(100000, 1, 2)
	dh := mod.(backend.DataHolder)
	dh.SetData(X, Y)
	dh.SetOrder(rand.New(rand.NewPCG(1, 1)).Perm(100000))
	var worst time.Duration
	for s := 0; s < 100; s++ {
		t0 := time.Now()
		dh.StepRows(s*1000, (s+1)*1000, 1e-4)
		worst = max(worst, time.Since(t0))
	}
	t0 := time.Now()
	dh.TakeLoss()
	t.Logf("width 2048, batch 1000, m = 1e5: longest StepRows %v, drain at TakeLoss %v", worst, time.Since(t0))
}

func benchNet(W int) []int { return []int{1, W, W, W, W, 1} }

// benchPoints is the evaluation benchmarks' points: 2^24 (2^22 at W = 2048,
// as torch_gpu.py), or $RELUSCOPE_BENCH_POINTS (the fake driver's check runs
// the kernels on the CPU: a few chunks).
func benchPoints(W int) int {
	if n, err := strconv.Atoi(os.Getenv("RELUSCOPE_BENCH_POINTS")); err == nil && n > 0 {
		return n
	}
	if W == 2048 {
		return 1 << 22
	}
	return 1 << 24
}

// On the device, StepsRows (an epoch's steps in one request, as runs take
// them) equals as many StepRows bit for bit on every path — parameters,
// Adam's state and the summed loss.
func TestDeviceStepsRowsEqualsStepRows(t *testing.T) {
	d := gpu(t)
	for _, path := range []string{"fused", "multi", "cublas"} {
		t.Run(path, func(t *testing.T) {
			defer forcePath(path)()
			steps := maxFusedSteps + 44
			if path != "fused" {
				steps = 30
			}
			stepsRowsEqualsStepRows(t, d, d, steps)
		})
	}
}

// BenchmarkDeviceStep: one Adam step of [1, W×4, 1] in float64 on a training
// set held on the device (the run's path, with the engine's choice of fused
// or cuBLAS step), µs per step.
func BenchmarkDeviceStep(b *testing.B) {
	for _, W := range []int{32, 512, 2048} {
		for _, bs := range []int{20, 200, 2000, 20000} {
			b.Run(fmt.Sprintf("W=%d/batch=%d", W, bs), func(b *testing.B) { benchStep(b, W, bs) })
		}
	}
}

// BenchmarkDeviceSteps: BenchmarkDeviceStep as runs take the steps — an
// epoch's steps in requests (StepsRows) of as many as the trainer groups
// (≤ 256 steps, ≤ 2·10⁹ flops of work), µs per step.
func BenchmarkDeviceSteps(b *testing.B) {
	for _, W := range []int{32, 512, 2048} {
		for _, bs := range []int{20, 200, 2000, 20000} {
			b.Run(fmt.Sprintf("W=%d/batch=%d", W, bs), func(b *testing.B) { benchSteps(b, W, bs, true) })
		}
	}
}

// BenchmarkDevicePath: narrow networks on each of the three step paths
// (the multi-block one with blocks of 32, 64 and 128 rows) over the
// batches the paper uses and the crossovers between them; bench/gpu.sh
// writes the path table (paths.json) from it.
func BenchmarkDevicePath(b *testing.B) {
	for _, path := range []string{"fused", "multi32", "multi64", "multi128", "cublas"} {
		for _, W := range []int{16, 32, 64} {
			for _, bs := range []int{20, 100, 200, 500, 1000, 2000, 5000, 20000} {
				b.Run(fmt.Sprintf("%s/W=%d/batch=%d", path, W, bs), func(b *testing.B) {
					defer forcePath(path)()
					benchStep(b, W, bs)
				})
			}
		}
	}
}

func benchStep(b *testing.B, W, bs int) { benchSteps(b, W, bs, false) }

// benchSteps times steps of batch bs at width W: one StepRows at a time, or
// (requests) in StepsRows requests of the trainer's size.
func benchSteps(b *testing.B, W, bs int, requests bool) {
	d := gpu(b)
	m := max(10*bs, 10000)
	mod, err := newModel(d, randomNet(benchNet(W), 1), backend.Options{MaxBatch: bs})
	if err != nil {
		b.Fatal(err)
	}
	defer mod.Close()
	X, Y := randomBatch(m, 1, 2)
	dh := mod.(backend.DataHolder)
	dh.SetData(X, Y)
	dh.SetOrder(rand.New(rand.NewPCG(1, 1)).Perm(m))
	steps := m / bs
	for i := 0; i < 3; i++ {
		dh.StepRows(0, bs, 1e-4)
	}
	dh.TakeLoss()
	// The trainer's request: ≤ 256 steps, ≤ 2·10⁹ flops, within the data.
	per := 6 * float64(backend.NumParams(benchNet(W))) * float64(bs)
	k := max(1, min(steps, 256, int(2e9/per)))
	lrs := make([]float64, k)
	for i := range lrs {
		lrs[i] = 1e-4
	}
	ms, _ := mod.(backend.MultiStepper)
	if requests && ms == nil {
		b.Fatal("the model takes no StepsRows")
	}
	b.ResetTimer()
	for i := 0; i < b.N; {
		if requests {
			n := min(k, b.N-i, steps)
			if err := ms.StepsRows(0, bs, lrs[:n]); err != nil {
				b.Fatal(err)
			}
			i += n
			continue
		}
		s := i % steps
		dh.StepRows(s*bs, (s+1)*bs, 1e-4)
		i++
	}
	dh.TakeLoss() // waits for the device
	b.StopTimer()
	P := backend.NumParams(benchNet(W))
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(sec*1e6, "us/step")
	b.ReportMetric(6*float64(P)*float64(bs)/sec/1e12, "TFLOP/s")
}

// BenchmarkDeviceEval: L1/L2/L∞ of a [1, W×4, 1] student against a width-32
// teacher over 2^24 points (2^22 at W = 2048, as torch_gpu.py), seconds per
// 2^24 points.
func BenchmarkDeviceEval(b *testing.B) {
	d := gpu(b)
	for _, W := range []int{32, 512, 2048} {
		b.Run(fmt.Sprintf("W=%d", W), func(b *testing.B) { benchCompare(b, d, W) })
	}
}

// benchCompare times Compare of a [1, W×4, 1] student against a width-32
// teacher over benchPoints(W) points, in seconds per 2^24 points.
func benchCompare(b *testing.B, d *device, W int) {
	npts := benchPoints(W)
	chunk := min(1<<19, npts)                                                           // as a run's evaluator (experiment.deviceEvalValues in d = 1)
	mod, err := newModel(d, randomNet(benchNet(W), 1), backend.Options{MaxBatch: 1024}) // Compare grows it as it needs
	if err != nil {
		b.Fatal(err)
	}
	defer mod.Close()
	cmp := mod.(backend.Comparer)
	if err := cmp.SetTeacher(randomNet(benchNet(32), 2)); err != nil {
		b.Fatal(err)
	}
	x, _ := randomBatch(chunk, 1, 3)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for c := 0; c < npts/chunk; c++ {
			if _, err := cmp.Compare(x); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*float64(1<<24)/float64(npts), "s/2^24pts")
}

// TestDeviceSanitized: a few fused steps, a cuBLAS-path step and one
// Compare at small shapes, for compute-sanitizer's racecheck and synccheck
// (bench/gpu.sh runs it under both; alone it checks the results against
// the native engine like crossCheck, briefly).
func TestDeviceSanitized(t *testing.T) {
	d := gpu(t)
	for _, path := range []string{"fused", "multi", "cublas"} {
		t.Run(path, func(t *testing.T) {
			defer forcePath(path)()
			sizes := []int{2, 16, 16, 1}
			net := randomNet(sizes, 5)
			mod, err := newModel(d, net, backend.Options{MaxBatch: 32})
			if err != nil {
				t.Fatal(err)
			}
			defer mod.Close()
			nat, err := backend.Native{}.New(net, backend.Options{MaxBatch: 32, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer nat.Close()
			for s := 0; s < 3; s++ {
				x, y := randomBatch(32, 2, uint64(20+s))
				a, _ := nat.Step(x, y, 1e-3)
				b, err := mod.Step(x, y, 1e-3)
				if err != nil || math.Abs(a-b) > 1e-10*a {
					t.Fatalf("step %d: loss %v (%v), native %v", s, b, err, a)
				}
			}
			cmp := mod.(backend.Comparer)
			if err := cmp.SetTeacher(randomNet(sizes, 6)); err != nil {
				t.Fatal(err)
			}
			px, _ := randomBatch(300, 2, 7)
			if st, err := cmp.Compare(px); err != nil || st.N != 300 || !(st.Max > 0) {
				t.Fatalf("Compare: %+v, %v", st, err)
			}
		})
	}
}

// BenchmarkDeviceEvalPath: Compare at widths 16, 32 and 64 by eval_pair
// (one kernel a piece) and by the cuBLAS path (~4 launches a layer a
// piece), seconds per 2^24 points: the path table's pair_max_width.
func BenchmarkDeviceEvalPath(b *testing.B) {
	d := gpu(b)
	for _, path := range []string{"pair", "cublas"} {
		for _, W := range []int{16, 32, 64} {
			b.Run(fmt.Sprintf("%s/W=%d", path, W), func(b *testing.B) {
				defer func(t pathTable) { paths = t }(paths)
				paths.PairMaxWidth = 0
				if path == "pair" {
					paths.PairMaxWidth = evalPairW
				}
				benchCompare(b, d, W)
			})
		}
	}
}

// BenchmarkDeviceHandoff: the host's round trip to the goroutine that holds
// the device's thread and back, with nothing to do there — what every
// StepRows pays on top of its launches.
func BenchmarkDeviceHandoff(b *testing.B) {
	d := gpu(b)
	for i := 0; i < b.N; i++ {
		if err := d.run(func() error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "us/handoff")
}

// BenchmarkDeviceGemm: cuBLAS alone on a W×W layer's three products (the
// forward Z = A·Wᵀ, the weight gradient dZᵀ·A, the input gradient dZ·W) in
// float64 at batch 2000 and 20000: the ceiling of a wide network's step
// (a step of [1, W×4, 1] does three of each).
func BenchmarkDeviceGemm(b *testing.B) {
	d := gpu(b)
	for _, W := range []int{32, 512, 2048} {
		for _, n := range []int{20, 2000, 20000} {
			if (W == 32) != (n == 20) {
				continue // W = 32 at batch 20 only: the fake driver's shape
			}
			buf := func(k int) ptr {
				var p ptr
				if err := d.run(func() error {
					var err error
					if p, err = d.alloc(int64(8 * k)); err == nil {
						err = d.memset0(p, int64(8*k))
					}
					return err
				}); err != nil {
					b.Fatal(err)
				}
				return p
			}
			A, Wt, Z, G := buf(n*W), buf(W*W), buf(n*W), buf(W*W)
			for _, g := range []struct {
				name string
				call gemmCall
			}{
				{"forward", forwardGemm(n, W, W, A, Wt, Z)},
				{"weightgrad", weightGradGemm(n, W, W, A, Z, G)},
				{"inputgrad", inputGradGemm(n, W, W, Z, Wt, A)},
			} {
				b.Run(fmt.Sprintf("W=%d/batch=%d/%s", W, n, g.name), func(b *testing.B) {
					run := func(k int) {
						if err := d.run(func() error {
							for i := 0; i < k; i++ {
								if err := d.gemm(backend.Float64, g.call, 1, 0); err != nil {
									return err
								}
							}
							return d.sync()
						}); err != nil {
							b.Fatal(err)
						}
					}
					run(2)
					b.ResetTimer()
					run(b.N)
					b.StopTimer()
					sec := b.Elapsed().Seconds() / float64(b.N)
					b.ReportMetric(sec*1e6, "us/gemm")
					b.ReportMetric(2*float64(n)*float64(W)*float64(W)/sec/1e12, "TFLOP/s")
				})
			}
			_ = d.run(func() error {
				for _, p := range []ptr{A, Wt, Z, G} {
					d.free(p)
				}
				return nil
			})
		}
	}
}
