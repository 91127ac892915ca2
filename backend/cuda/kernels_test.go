package cuda

import (
	"math"
	"testing"

	"github.com/reluscope/reluscope/backend"
)

// The reductions on blocks of their full size (256 threads) and with NaNs:
// mse's loss, gradient and bias gradient; err_stats's records over several
// blocks, the first of equal maxima, a NaN error.
func TestKernelReductionsOnFullBlocks(t *testing.T) {
	e := newEmulator()
	const n = 1000
	up := func(v []float64) ptr {
		p, _ := e.alloc(int64(8 * len(v)))
		e.upload(p, v)
		return p
	}
	out, y := make([]float64, n), make([]float64, n)
	for i := range out {
		out[i], y[i] = math.Sin(float64(i)), math.Cos(float64(i))
	}
	pOut, pY := up(out), up(y)
	pDz, _ := e.alloc(8 * n)
	pGb, _ := e.alloc(8)
	pLoss := up([]float64{0, 5})
	c := 2.0 / n
	if err := e.launch(kMSE, backend.Float64, 1, mseThreads, argP(pOut), argP(pY), argP(pDz), argP(pGb), argP(pLoss), argI(1), argI(n), argF(c)); err != nil {
		t.Fatal(err)
	}
	if err := e.sync(); err != nil {
		t.Fatal(err)
	}
	var wantLoss, wantGb float64
	for i := range out {
		r := out[i] - y[i]
		wantLoss += r * r
		wantGb += c * r
	}
	loss := f64s(e, pLoss, 2)
	if loss[0] != 0 || math.Abs(loss[1]-(5+wantLoss)) > 1e-12*wantLoss {
		t.Fatalf("mse loss slots %v, want [0 %v]", loss, 5+wantLoss)
	}
	if gb := f64s(e, pGb, 1)[0]; math.Abs(gb-wantGb) > 1e-12 {
		t.Fatalf("mse bias gradient %v, want %v", gb, wantGb)
	}
	for i, dz := range f64s(e, pDz, n) {
		if dz != c*(out[i]-y[i]) {
			t.Fatalf("dz[%d] = %v, want %v", i, dz, c*(out[i]-y[i]))
		}
	}

	// err_stats over 3 blocks of 256: the largest error |e| = 3 at rows 700
	// and 123 (the first wins), then a NaN at row 900 (it wins).
	ys := make([]float64, n)
	copy(ys, y)
	ys[700], ys[123] = y[700]+3, y[123]-3
	pYs := up(ys)
	pRec, _ := e.alloc(8 * 4 * 3)
	stats := func() backend.ErrorStats {
		if err := e.launch(kErrStats, backend.Float64, 3, evalThreads, argP(pYs), argP(pY), argP(pRec), argI(n)); err != nil {
			t.Fatal(err)
		}
		if err := e.sync(); err != nil {
			t.Fatal(err)
		}
		return combineRecords(f64s(e, pRec, 12), n)
	}
	st := stats()
	if st.Max != 3 || st.ArgMax != 123 || math.Abs(st.SumAbs-6) > 1e-12 || math.Abs(st.SumSq-18) > 1e-12 {
		t.Fatalf("err_stats = %+v, want max 3 at 123, Σ|e| 6, Σe² 18", st)
	}
	f64s(e, pYs, n)[900] = math.NaN()
	if st := stats(); !math.IsNaN(st.Max) || st.ArgMax != 900 {
		t.Fatalf("err_stats with a NaN at 900 = %+v", st)
	}
}

// The fused step on its full block (256 threads) as the engine launches it
// matches the native engine, on shapes past the ones of
// TestModelSequenceMatchesNative; and the multi-block step on blocks of 64
// threads.
func TestFusedStepOnFullBlocks(t *testing.T) {
	defer func(n int) { emuThreads = n }(emuThreads)
	defer forcePath("fused")()
	crossCheckSteps(t, newEmulator(), []int{2, 24, 24, 1}, 40, backend.Float64, 1e-10, 20)
	// Weights too large for the shared staging, the bias gradient over 4
	// groups of rows (52×53 > WS_ELEMS).
	crossCheckSteps(t, newEmulator(), []int{2, 52, 52, 1}, 20, backend.Float64, 1e-10, 20)
	// The multi-block step on blocks of 64 threads (which stride over what
	// 256 would take): 140 rows in blocks of 128 and 12.
	emuThreads = 64
	defer forcePath("multi")()
	crossCheck(t, newEmulator(), []int{2, 8, 8, 1}, 140, backend.Float64, 1e-10)
}
