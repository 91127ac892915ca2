package backend

import (
	"fmt"
	"testing"
)

// sink keeps results alive so the compiler cannot drop the work.
var sink float64

func benchNet(d, w int) *Net { return randNet([]int{d, w, w, w, w, 1}, 0.1, 1) }

// BenchmarkTrainStep is one Adam step at each reference shape of the paper
// (d ∈ {1, 3}, width ∈ {32, 512}, batch ∈ {20, 200, 2000}).
func BenchmarkTrainStep(b *testing.B) {
	for _, name := range []string{"native", "gorgonia"} {
		for _, dt := range []DType{Float64, Float32} {
			for _, d := range []int{1, 3} {
				for _, w := range []int{32, 512} {
					for _, bs := range []int{20, 200, 2000} {
						if name == "gorgonia" && (dt == Float32 || d == 3) {
							continue // gorgonia: float64 d=1 only, as a reference point
						}
						b.Run(fmt.Sprintf("%s_%s/d%d_w%d_b%d", name, dt, d, w, bs), func(b *testing.B) {
							net := benchNet(d, w)
							e, _ := Get(name)
							m, err := e.New(net, Options{DType: dt, MaxBatch: bs})
							if err != nil {
								b.Fatal(err)
							}
							defer m.Close()
							x, y := randBatch(d, bs, 3)
							m.Step(x, y, 1e-4) // warm up: buffers, graphs
							b.ReportAllocs()
							b.ResetTimer()
							for i := 0; i < b.N; i++ {
								l, err := m.Step(x, y, 1e-4)
								if err != nil {
									b.Fatal(err)
								}
								sink += l
							}
							p := float64(net.NumParams())
							b.ReportMetric(6*p*float64(bs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
						})
					}
				}
			}
		}
	}
}

// BenchmarkPredict is one forward pass over an evaluation chunk.
func BenchmarkPredict(b *testing.B) {
	for _, dt := range []DType{Float64, Float32} {
		for _, w := range []int{32, 512} {
			b.Run(fmt.Sprintf("native_%s/d1_w%d_n2048", dt, w), func(b *testing.B) {
				net := benchNet(1, w)
				m, _ := Native{}.New(net, Options{DType: dt, MaxBatch: 2048})
				x, _ := randBatch(1, 2048, 3)
				y := make([]float64, 2048)
				m.Predict(y, x)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					m.Predict(y, x)
					sink += y[0]
				}
				b.ReportMetric(2048*float64(b.N)/b.Elapsed().Seconds(), "points/s")
			})
		}
	}
}

// BenchmarkEval is evaluation as experiment does it: a width-32 teacher and
// the student predict a chunk of points (8192 for width 32, 2048 for 512, as
// experiment.EvalChunk), then the max |error|; "us/2048pts" is the time per
// 2048 points, the unit of bench/torch_step.py eval.
func BenchmarkEval(b *testing.B) {
	for _, dt := range []DType{Float64, Float32} {
		for _, w := range []int{32, 512} {
			n := max(2048, min(16384, (8<<20)/(w*w)))
			b.Run(fmt.Sprintf("native_%s/d1_w%d_n2048", dt, w), func(b *testing.B) {
				teacher, _ := Native{}.New(benchNet(1, 32), Options{MaxBatch: n})
				student, _ := Native{}.New(benchNet(1, w), Options{DType: dt, MaxBatch: n})
				defer teacher.Close()
				defer student.Close()
				x, _ := randBatch(1, n, 3)
				yt, ys := make([]float64, n), make([]float64, n)
				run := func() {
					teacher.Predict(yt, x)
					student.Predict(ys, x)
					var m float64
					for i := range ys {
						if d := ys[i] - yt[i]; d > m {
							m = d
						} else if -d > m {
							m = -d
						}
					}
					sink += m
				}
				run()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					run()
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
				b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N)*2048/float64(n), "us/2048pts")
			})
		}
	}
}
