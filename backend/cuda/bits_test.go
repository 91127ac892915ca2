package cuda

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/reluscope/reluscope/backend"
)

// The kernels' bits, pinned. A change to how the fused and multi-block
// steps or eval_pair divide their work among threads (register tiles,
// staging) must keep every output's sum in its order, so that the results
// stay those of the kernels before it bit for bit. Each case trains a
// network on the emulator through Step and StepsRows, then compares it
// with a teacher through eval_pair; the SHA-256 of every parameter, loss
// and statistic is pinned to the value the kernels gave before their
// register tiling (main 0d1c126).
//
// The shapes are the edges of a tiling: rows and outputs that are not
// multiples of a tile, inputs of 1 to 3, the unstaged weights of width 64,
// several blocks of the multi-block step and a partial last one, float32,
// and blocks of 4, 16, 64 and 256 threads (the block size changes the
// reductions' order, so each case runs at one).
//
// The emulator is C compiled by the host's gcc with -ffp-contract=off (no
// multiply-add fused, whatever CGO_CFLAGS asks of the target): on amd64
// its rounding is IEEE's, operation by operation. The hashes were taken
// there, and the test runs there only.
func TestKernelBitsPinned(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the pinned bits are amd64's")
	}
	for _, tc := range []struct {
		name    string
		path    string
		threads int
		sizes   []int
		teacher []int
		batch   int
		dt      backend.DType
		want    string
	}{
		{"fused-odd", "fused", 16, []int{3, 6, 5, 1}, []int{3, 7, 1}, 37, backend.Float64,
			"1a177b96a56283d03b6c542d00baf08a1bf78acc7ffbe3eb5ee19a9844322d8d"},
		{"fused-w32", "fused", 64, []int{1, 32, 32, 32, 1}, []int{1, 32, 32, 1}, 20, backend.Float64,
			"32149f049ac05d59e20e60b6d6512df889ee2b962865591596c4c220830b8593"},
		{"fused-w32-full", "fused", 256, []int{2, 32, 32, 1}, []int{2, 64, 1}, 50, backend.Float64,
			"b051c9460fa19a0ea3cf457658c5cfc553964e8626b44c28a7bd0cced5617598"},
		{"fused-unstaged", "fused", 16, []int{2, 64, 64, 1}, []int{2, 5, 5, 1}, 13, backend.Float64,
			"84cc986228778db483ca5806ac00db3246309cb8a417a90a368f44b44188168a"},
		{"fused-f32", "fused", 4, []int{2, 12, 9, 1}, []int{2, 12, 1}, 30, backend.Float32,
			"5155694ab7bb3b95565d708d8898c82b19d16212a3ebb7f8d8eb2e8a9a4a7c25"},
		{"multi", "multi", 64, []int{2, 16, 16, 1}, []int{2, 16, 1}, 300, backend.Float64,
			"4d0da8a963de0583fed6e943723e7d12c85832d74b1dd429142890f7d833c963"},
		{"multi32-odd", "multi32", 16, []int{3, 10, 7, 1}, []int{3, 9, 1}, 77, backend.Float64,
			"5cedc69e752afa0eba0e884e06176e921b0798fc60b8f9dba656955b67bb2cdb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(n int) { emuThreads = n }(emuThreads)
			emuThreads = tc.threads
			defer forcePath(tc.path)()
			got := kernelBits(t, tc.sizes, tc.teacher, tc.batch, tc.dt)
			if got != tc.want {
				t.Fatalf("the kernels' bits are %s, pinned %s: an output's sum changed its order", got, tc.want)
			}
		})
	}
}

// kernelBits trains a network of the given sizes on the emulator — 4 Steps
// on batches of batch rows, then an epoch of a held set through StepsRows
// and one StepRows — and compares it with a teacher (eval_pair) on 1000
// points; it returns the SHA-256 of the losses, the
// parameters and the statistics.
func kernelBits(t *testing.T, sizes, teacher []int, batch int, dt backend.DType) string {
	t.Helper()
	d := sizes[0]
	h := sha256.New()
	put := func(v ...float64) {
		for _, x := range v {
			binary.Write(h, binary.LittleEndian, math.Float64bits(x))
		}
	}
	e := newEmulator()
	mod, err := newModel(e, randomNet(sizes, 21), backend.Options{DType: dt, MaxBatch: batch})
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close()
	for s := range 4 {
		x, y := randomBatch(batch, d, uint64(30+s))
		l, err := mod.Step(x, y, 1e-2)
		if err != nil {
			t.Fatal(err)
		}
		put(l)
	}
	const steps = 5
	m := steps*batch + 3
	X, Y := randomBatch(m, d, 40)
	dh := mod.(backend.DataHolder)
	if err := dh.SetData(X, Y); err != nil {
		t.Fatal(err)
	}
	if err := dh.SetOrder(rand.New(rand.NewPCG(4, 4)).Perm(m)); err != nil {
		t.Fatal(err)
	}
	lrs := []float64{1e-2, 8e-3, 6e-3, 4e-3, 2e-3}
	if err := mod.(backend.MultiStepper).StepsRows(0, batch, lrs); err != nil {
		t.Fatal(err)
	}
	if err := dh.StepRows(steps*batch, m, 1e-3); err != nil {
		t.Fatal(err)
	}
	l, err := dh.TakeLoss()
	if err != nil {
		t.Fatal(err)
	}
	put(l)
	put(mod.Net().Flatten(nil)...)
	cmp := mod.(backend.Comparer)
	if err := cmp.SetTeacher(randomNet(teacher, 22)); err != nil {
		t.Fatal(err)
	}
	px, _ := randomBatch(1000, d, 41)
	st, err := cmp.Compare(px)
	if err != nil {
		t.Fatal(err)
	}
	put(st.SumAbs, st.SumSq, st.Max, float64(st.ArgMax), float64(st.N))
	// The kernels pinned are the kernels run.
	sfx := suffix(dt)
	for _, k := range []string{"step_small", "step_multi", "eval_pair"} {
		want := k == "step_small" && paths.Steps[0].FusedFlops > 0 ||
			k == "step_multi" && paths.Steps[0].FusedFlops == 0 ||
			k == "eval_pair" && dt == backend.Float64
		if got := e.count(k+"_"+sfx) > 0; got != want {
			t.Fatalf("%s launched: %v, want %v", k+"_"+sfx, got, want)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}
