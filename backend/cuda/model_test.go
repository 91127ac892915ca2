package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/reluscope/reluscope/backend"
)

func randomNet(sizes []int, seed uint64) *backend.Net {
	net := backend.NewNet(sizes)
	net.InputScale = 1.7
	r := rand.New(rand.NewPCG(seed, 1))
	net.FillUniform(r, func(l int) float64 { return 1 / math.Sqrt(float64(sizes[l])) })
	return net
}

func randomBatch(n, d int, seed uint64) (x, y []float64) {
	r := rand.New(rand.NewPCG(seed, 2))
	x, y = make([]float64, n*d), make([]float64, n)
	for i := range x {
		x[i] = r.Float64() - 0.5
	}
	for i := range y {
		y[i] = r.NormFloat64()
	}
	return x, y
}

// relErr is max |a−b| / max(max |b|, tiny) over two networks' parameters.
func relErr(a, b []float64) float64 {
	var diff, scale float64
	for i := range a {
		diff = max(diff, math.Abs(a[i]-b[i]))
		scale = max(scale, math.Abs(b[i]))
	}
	return diff / max(scale, 1e-300)
}

// The products of a layer as planned for cuBLAS compute what the native
// engine's row-major products do.
func TestGemmPlansAreTheRowMajorProducts(t *testing.T) {
	e := newEmulator()
	n, in, out := 5, 3, 4
	r := rand.New(rand.NewPCG(7, 7))
	fill := func(k int) ([]float64, ptr) {
		v := make([]float64, k)
		for i := range v {
			v[i] = r.NormFloat64()
		}
		p, _ := e.alloc(int64(8 * k))
		e.upload(p, v)
		return v, p
	}
	A, pa := fill(n * in)   // n×in
	W, pw := fill(out * in) // out×in
	D, pd := fill(n * out)  // n×out
	_, pz := fill(n * out)
	_, pg := fill(out * in)
	_, pda := fill(n * in)
	e.gemm(backend.Float64, forwardGemm(n, in, out, pa, pw, pz), 1, 0)
	e.gemm(backend.Float64, weightGradGemm(n, in, out, pa, pd, pg), 1, 0)
	e.gemm(backend.Float64, inputGradGemm(n, in, out, pd, pw, pda), 1, 0)
	if err := e.sync(); err != nil {
		t.Fatal(err)
	}
	Z, G, DA := f64s(e, pz, n*out), f64s(e, pg, out*in), f64s(e, pda, n*in)
	for i := 0; i < n; i++ {
		for o := 0; o < out; o++ {
			var s float64
			for k := 0; k < in; k++ {
				s += A[i*in+k] * W[o*in+k]
			}
			if math.Abs(Z[i*out+o]-s) > 1e-14 {
				t.Fatalf("forward Z[%d][%d] = %v, want %v", i, o, Z[i*out+o], s)
			}
		}
		for k := 0; k < in; k++ {
			var s float64
			for o := 0; o < out; o++ {
				s += D[i*out+o] * W[o*in+k]
			}
			if math.Abs(DA[i*in+k]-s) > 1e-14 {
				t.Fatalf("input gradient dA[%d][%d] = %v, want %v", i, k, DA[i*in+k], s)
			}
		}
	}
	for o := 0; o < out; o++ {
		for k := 0; k < in; k++ {
			var s float64
			for i := 0; i < n; i++ {
				s += D[i*out+o] * A[i*in+k]
			}
			if math.Abs(G[o*in+k]-s) > 1e-14 {
				t.Fatalf("weight gradient gW[%d][%d] = %v, want %v", o, k, G[o*in+k], s)
			}
		}
	}
	// The bias gradient: column sums of a row-major n×in matrix as a gemv
	// with ones.
	ones := make([]float64, n)
	for i := range ones {
		ones[i] = 1
	}
	po, _ := e.alloc(8 * int64(n))
	e.upload(po, ones)
	pb, _ := e.alloc(8 * int64(in))
	e.gemv(backend.Float64, false, in, n, 1, pa, in, po, 0, pb)
	if err := e.sync(); err != nil {
		t.Fatal(err)
	}
	for k, got := range f64s(e, pb, in) {
		var s float64
		for i := 0; i < n; i++ {
			s += A[i*in+k]
		}
		if math.Abs(got-s) > 1e-14 {
			t.Fatalf("column sum %d = %v, want %v", k, got, s)
		}
	}
}

// The emulated device model follows the native engine: the same loss and
// gradient, the same parameters after 100 Adam steps (batches through Step
// and through StepRows on a training set held on the device), the same
// predictions, and error statistics equal to the host's.
func TestModelSequenceMatchesNative(t *testing.T) {
	for _, tc := range []struct {
		sizes []int
		batch int
		dt    backend.DType
		tol   float64
	}{
		{[]int{1, 32, 32, 32, 1}, 20, backend.Float64, 1e-10},
		{[]int{3, 16, 8, 1}, 50, backend.Float64, 1e-10},
		{[]int{2, 12, 12, 1}, 30, backend.Float32, 1e-3},
		// Weights too large for the fused step's shared staging (64×65 >
		// WS_ELEMS): its global loads.
		{[]int{2, 64, 64, 1}, 40, backend.Float64, 1e-10},
		// Several blocks of the multi-block step (128 + 128 + 44 rows).
		{[]int{2, 16, 16, 1}, 300, backend.Float64, 1e-10},
	} {
		name := strings.Trim(strings.Join(strings.Fields(fmtInts(tc.sizes)), "x"), "[]") + "_" + tc.dt.String()
		for _, path := range []string{"fused", "multi", "multi32", "cublas"} {
			if path == "cublas" && (tc.sizes[1] == 64 || tc.batch == 300) {
				// These two shapes are for the fused step's global loads and
				// the multi-block step's several blocks; the cuBLAS path
				// (one launch per operation, whatever the shape; the slowest
				// on the emulator) is checked on the other three.
				continue
			}
			t.Run(name+"_"+path, func(t *testing.T) {
				defer forcePath(path)()
				crossCheck(t, newEmulator(), tc.sizes, tc.batch, tc.dt, tc.tol)
			})
		}
	}
}

// crossCheck runs a model of the given shape on x and the native engine side
// by side: loss and gradient, 100 Adam steps (10 at width ≥ 512),
// predictions, error statistics.
func crossCheck(t *testing.T, ex executor, sizes []int, batch int, dt backend.DType, tol float64) {
	steps := 100
	if sizes[1] >= 512 {
		steps = 10 // the emulator's naive GEMM, and the device check's time
	}
	crossCheckSteps(t, ex, sizes, batch, dt, tol, steps)
}

// crossCheckSteps is crossCheck with the number of Adam steps.
func crossCheckSteps(t *testing.T, ex executor, sizes []int, batch int, dt backend.DType, tol float64, steps int) {
	net := randomNet(sizes, 3)
	d := sizes[0]
	opt := backend.Options{DType: dt, MaxBatch: batch, Threads: 1}
	nat, err := backend.Native{}.New(net, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer nat.Close()
	dev, err := newModel(ex, net, opt) // the executor given: the device on a GPU

	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()

	x, y := randomBatch(batch, d, 4)
	gN, gD := backend.NewNet(sizes), backend.NewNet(sizes)
	lN, _ := nat.Gradient(gN, x, y)
	lD, err := dev.Gradient(gD, x, y)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(lN-lD) > tol*lN {
		t.Fatalf("loss %v, native %v", lD, lN)
	}
	if e := relErr(gD.Flatten(nil), gN.Flatten(nil)); e > tol {
		t.Fatalf("gradient differs from native by %.3g (relative)", e)
	}

	// Adam steps through Step.
	for s := 0; s < steps; s++ {
		x, y := randomBatch(batch, d, uint64(100+s))
		a, err1 := nat.Step(x, y, 1e-3)
		b, err2 := dev.Step(x, y, 1e-3)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if math.Abs(a-b) > tol*math.Max(a, 1e-12)*10 {
			t.Fatalf("step %d loss %v, native %v", s, b, a)
		}
	}
	if e := relErr(dev.Net().Flatten(nil), nat.Net().Flatten(nil)); e > tol {
		t.Fatalf("parameters after %d steps differ from native by %.3g", steps, e)
	}

	// Predict, in more rows than the buffers hold.
	px, _ := randomBatch(3*batch+7, d, 9)
	pn, pd := make([]float64, len(px)/d), make([]float64, len(px)/d)
	nat.Predict(pn, px)
	if err := dev.Predict(pd, px); err != nil {
		t.Fatal(err)
	}
	if e := relErr(pd, pn); e > tol {
		t.Fatalf("predictions differ from native by %.3g", e)
	}

	// Error statistics on the device against the host's.
	teacher := randomNet(sizes, 11)
	cmp := dev.(backend.Comparer)
	if err := cmp.SetTeacher(teacher); err != nil {
		t.Fatal(err)
	}
	st, err := cmp.Compare(px)
	if err != nil {
		t.Fatal(err)
	}
	want := hostStats(pn, teacher, px)
	if st.N != want.N || st.ArgMax != want.ArgMax || relErr([]float64{st.SumAbs, st.SumSq, st.Max}, []float64{want.SumAbs, want.SumSq, want.Max}) > tol {
		t.Fatalf("Compare = %+v, host %+v", st, want)
	}
	// A planted NaN input, late in the points: its error is NaN, which
	// counts as the largest (the sums are NaN too), wherever the device's
	// reduction meets it.
	at := len(pn) - 3
	px[at*d] = math.NaN()
	st, err = cmp.Compare(px)
	if err != nil {
		t.Fatal(err)
	}
	if st.N != want.N || st.ArgMax != at || !math.IsNaN(st.Max) || !math.IsNaN(st.SumAbs) || !math.IsNaN(st.SumSq) {
		t.Fatalf("Compare with a NaN at point %d = %+v, want the NaN there as the max", at, st)
	}
}

// hostStats is the error statistics of a student's values ys at the rows
// of x against teacher, on the host.
func hostStats(ys []float64, teacher *backend.Net, x []float64) backend.ErrorStats {
	d := len(x) / len(ys)
	st := backend.ErrorStats{ArgMax: -1, N: len(ys)}
	for i, v := range ys {
		e := math.Abs(v - teacher.Eval(x[i*d:(i+1)*d]))
		st.SumAbs += e
		st.SumSq += e * e
		if e > st.Max || st.ArgMax < 0 {
			st.Max, st.ArgMax = e, i
		}
	}
	return st
}

// forcePath makes every step take the fused path (step_small), the
// multi-block path (step_multi and reduce_adam) or the cuBLAS path (one
// kernel per operation), and returns what restores the default.
func forcePath(path string) func() {
	keep := paths
	r := stepRule{MaxWidth: 1 << 30}
	switch {
	case path == "fused":
		r.FusedFlops, r.MultiFlops = math.Inf(1), math.Inf(1)
	case strings.HasPrefix(path, "multi"): // "multi" (the default rows a block) or "multi32" (32 rows)
		r.MultiFlops = math.Inf(1)
		r.MultiRows, _ = strconv.Atoi(strings.TrimPrefix(path, "multi"))
	}
	paths = pathTable{Source: "forced: " + path, Steps: []stepRule{r}, PairMaxWidth: keep.PairMaxWidth}
	return func() { paths = keep }
}

func fmtInts(v []int) string {
	var b strings.Builder
	for _, x := range v {
		b.WriteString(" ")
		b.WriteString(itoa(x))
	}
	return b.String()
}

func itoa(x int) string {
	if x == 0 {
		return "0"
	}
	var s []byte
	for ; x > 0; x /= 10 {
		s = append([]byte{byte('0' + x%10)}, s...)
	}
	return string(s)
}

// Training on a set held on the device (StepRows in an epoch's order) takes
// the same steps, bit for bit, as gathering the batches on the host and
// calling Step; the epoch's loss comes back once, as Σ (out − y)².
func TestStepRowsEqualsStep(t *testing.T) {
	for _, path := range []string{"fused", "multi", "cublas"} {
		t.Run(path, func(t *testing.T) {
			defer forcePath(path)()
			stepRowsEqualsStep(t)
		})
	}
}

func stepRowsEqualsStep(t *testing.T) {
	e1, e2 := newEmulator(), newEmulator()
	const m = 70
	a, b, perm := stepRowsVersusStep(t, e1, e2, []int{2, 16, 16, 1}, m, 16, 1e-12)
	dh := b.(backend.DataHolder)
	// The host waits for the device every syncDepth steps, not at each:
	// 2·syncDepth+1 steps, 2 waits and nothing downloaded.
	syncs, downs := e2.count("sync"), e2.count("download")
	for s := 0; s < 2*syncDepth+1; s++ {
		if err := dh.StepRows(0, 1+s%5, 1e-3); err != nil {
			t.Fatal(err)
		}
	}
	if s, d := e2.count("sync")-syncs, e2.count("download")-downs; s != 2 || d != 0 {
		t.Fatalf("%d StepRows waited %d times and downloaded %d times, want 2 and 0", 2*syncDepth+1, s, d)
	}
	if err := dh.SetOrder(append(perm[:m-1:m-1], m)); err == nil || !strings.Contains(err.Error(), "not a row") {
		t.Fatalf("an order naming row %d of %d: %v", m, m, err)
	}
	a.Close()
	b.Close()
	if e1.live() != 0 || e2.live() != 0 {
		t.Fatalf("allocations left after Close: %d, %d", e1.live(), e2.live())
	}
}

// stepRowsVersusStep trains two copies of a network for 3 epochs of m rows
// in batches of bs: a on ea through Step with batches gathered on the host,
// b on eb through StepRows on the set held there. Every epoch's TakeLoss
// must be the Step losses' Σ·rows (to tol), the parameters equal bit for
// bit at the end. It returns both models and the last order.
func stepRowsVersusStep(t *testing.T, ea, eb executor, sizes []int, m, bs int, tol float64) (a, b backend.Model, perm []int) {
	t.Helper()
	d := sizes[0]
	net := randomNet(sizes, 5)
	X, Y := randomBatch(m, d, 6)
	opt := backend.Options{MaxBatch: bs}
	a, _ = newModel(ea, net, opt)
	b, _ = newModel(eb, net, opt)
	dh := b.(backend.DataHolder)
	if err := dh.SetData(X, Y); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	perm = r.Perm(m)
	for epoch := 0; epoch < 3; epoch++ {
		r.Shuffle(m, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		if err := dh.SetOrder(perm); err != nil {
			t.Fatal(err)
		}
		var sum float64
		for lo := 0; lo < m; lo += bs {
			hi := min(m, lo+bs)
			xb, yb := make([]float64, 0, d*bs), make([]float64, 0, bs)
			for _, i := range perm[lo:hi] {
				xb = append(xb, X[d*i:d*i+d]...)
				yb = append(yb, Y[i])
			}
			l, err := a.Step(xb, yb, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			sum += l * float64(hi-lo)
			if err := dh.StepRows(lo, hi, 1e-3); err != nil {
				t.Fatal(err)
			}
		}
		got, err := dh.TakeLoss()
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-sum) > tol*sum {
			t.Fatalf("epoch %d: TakeLoss %v, Σ of Step losses × rows %v", epoch, got, sum)
		}
	}
	pa, pb := a.Net().Flatten(nil), b.Net().Flatten(nil)
	for i := range pa {
		if pa[i] != pb[i] {
			t.Fatalf("parameter %d: StepRows %v, Step %v", i, pb[i], pa[i])
		}
	}
	return a, b, perm
}

// A batch larger than the buffers grows them, keeping the parameters and
// Adam's state: the steps match the native engine's.
func TestGrowKeepsAdamState(t *testing.T) {
	sizes := []int{1, 8, 1}
	net := randomNet(sizes, 8)
	opt := backend.Options{MaxBatch: 4}
	nat, _ := backend.Native{}.New(net, opt)
	dev, _ := newModel(newEmulator(), net, opt)
	for s, n := range []int{4, 4, 9, 3, 40} {
		x, y := randomBatch(n, 1, uint64(s))
		nat.Step(x, y, 1e-2)
		if _, err := dev.Step(x, y, 1e-2); err != nil {
			t.Fatal(err)
		}
	}
	if e := relErr(dev.Net().Flatten(nil), nat.Net().Flatten(nil)); e > 1e-12 {
		t.Fatalf("after growing, parameters differ from native by %.3g", e)
	}
}

// A diverged step is refused before Adam changes anything.
func TestStepDiverged(t *testing.T) {
	net := randomNet([]int{1, 4, 1}, 1)
	dev, _ := newModel(newEmulator(), net, backend.Options{})
	before := dev.Net().Flatten(nil)
	_, err := dev.Step([]float64{0.1}, []float64{math.Inf(1)}, 1e-3)
	if err != backend.ErrDiverged {
		t.Fatalf("Step on an infinite target: %v", err)
	}
	if e := relErr(dev.Net().Flatten(nil), before); e != 0 {
		t.Fatalf("a diverged step changed the parameters by %g", e)
	}
}

// A model too big for the device's free memory is refused with the sizes.
func TestModelTooBigForDevice(t *testing.T) {
	emu := newEmulator()
	emu.freeB = 300 << 20
	m, err := newModel(emu, randomNet([]int{1, 2048, 2048, 2048, 1}, 1), backend.Options{MaxBatch: 20000})
	if err == nil || !strings.Contains(err.Error(), "MiB of device memory") {
		t.Fatalf("a 1.7 GiB model on a 300 MiB device: %v", err)
	}
	if m != nil {
		t.Fatalf("a refused model is %#v, not nil", m)
	}
	if emu.live() != 0 {
		t.Fatalf("%d allocations left after a refusal", emu.live())
	}
}

// StepsRows takes the same steps as as many StepRows, bit for bit —
// parameters, Adam's state (the next step) and the summed loss — on both
// paths, over more steps than one launch of step_small takes, with a rate
// that changes from step to step.
func TestStepsRowsEqualsStepRows(t *testing.T) {
	for _, path := range []string{"fused", "fused-small-blocks", "multi", "cublas"} {
		t.Run(path, func(t *testing.T) {
			// Past one launch's maxFusedSteps where steps are fused; the
			// other paths take one step at a time, however many: 30.
			steps := maxFusedSteps + 44
			if path == "multi" || path == "cublas" {
				steps = 30
			}
			if path == "fused-small-blocks" {
				// 16 threads a block where the engine launches 256: each
				// thread strides over 16 threads' share.
				defer func(n int) { emuThreads = n }(emuThreads)
				emuThreads = 16
				path, steps = "fused", 30
			}
			defer forcePath(path)()
			e1, e2 := newEmulator(), newEmulator()
			stepsRowsEqualsStepRows(t, e1, e2, steps)
			if path == "fused" && steps > maxFusedSteps {
				// 266 steps in two launches, 44 in one, then the one step.
				if l := e2.count("step_small_f64"); l != 4 {
					t.Fatalf("StepsRows of %d steps and one StepRows launched %d kernels, want 4", steps, l)
				}
			}
		})
	}
}

// stepsRowsEqualsStepRows takes steps Adam steps of 4 rows on a model on e1
// one StepRows at a time and on e2 in two StepsRows requests (the first
// longer than one launch of step_small where there are that many), then
// one more StepRows on each, and wants the summed loss and every parameter
// equal bit for bit (executors: the emulator, or the device itself).
func stepsRowsEqualsStepRows(t *testing.T, e1, e2 executor, steps int) {
	t.Helper()
	sizes := []int{2, 16, 16, 1}
	const n = 4
	m := n * steps
	net := randomNet(sizes, 8)
	X, Y := randomBatch(m, 2, 9)
	perm := rand.New(rand.NewPCG(3, 3)).Perm(m)
	lrs := make([]float64, steps)
	for s := range lrs {
		lrs[s] = 1e-3 * math.Pow(0.99, float64(s))
	}
	var models [2]backend.Model
	var loss [2]float64
	for i, ex := range []executor{e1, e2} {
		mod, err := newModel(ex, net, backend.Options{MaxBatch: n})
		if err != nil {
			t.Fatal(err)
		}
		defer mod.Close()
		dh := mod.(backend.DataHolder)
		if err := dh.SetData(X, Y); err != nil {
			t.Fatal(err)
		}
		if err := dh.SetOrder(perm); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			for s, lr := range lrs {
				if err := dh.StepRows(s*n, (s+1)*n, lr); err != nil {
					t.Fatal(err)
				}
			}
		} else {
			// In two requests, the first longer than one launch
			// (when there are that many steps).
			k := min(steps-2, maxFusedSteps+10)
			if err := mod.(backend.MultiStepper).StepsRows(0, n, lrs[:k]); err != nil {
				t.Fatal(err)
			}
			if err := mod.(backend.MultiStepper).StepsRows(k*n, n, lrs[k:]); err != nil {
				t.Fatal(err)
			}
		}
		if loss[i], err = dh.TakeLoss(); err != nil {
			t.Fatal(err)
		}
		// One more step: Adam's moments and step count agree too.
		if err := dh.StepRows(0, n, 1e-3); err != nil {
			t.Fatal(err)
		}
		models[i] = mod
	}
	if loss[0] != loss[1] {
		t.Fatalf("summed loss %v one by one, %v in StepsRows", loss[0], loss[1])
	}
	pa, pb := models[0].Net().Flatten(nil), models[1].Net().Flatten(nil)
	for i := range pa {
		if pa[i] != pb[i] {
			t.Fatalf("parameter %d: %v one by one, %v in StepsRows", i, pa[i], pb[i])
		}
	}
}

// Compare cuts its points into equal pieces (each costs its launches and a
// copy back whatever its size), and uploads each once. With pieces of at
// most 1000 points: 2990 points of a network too wide for eval_pair in three
// pieces of 997, 997 and 996, not two of 1000 and a remainder; a narrow
// one's 900 points in one eval_pair launch, 1990 in two of 995.
func TestComparePiecesAreEqual(t *testing.T) {
	for _, tc := range []struct {
		sizes  []int
		points int
		want   string
	}{
		{[]int{1, 80, 1}, 2990, "[997 997 996]"},
		{[]int{1, 4, 1}, 900, "[900]"},
		{[]int{1, 4, 1}, 1990, "[995 995]"},
	} {
		// Pieces of at most 1000 points on either path.
		defer func(n, b int) { pairRows, evalBytes = n, b }(pairRows, evalBytes)
		pairRows, evalBytes = 1000, 8*82*1000
		e := newEmulator()
		mod, err := newModel(e, randomNet(tc.sizes, 1), backend.Options{MaxBatch: 8})
		if err != nil {
			t.Fatal(err)
		}
		defer mod.Close()
		cmp := mod.(backend.Comparer)
		if err := cmp.SetTeacher(randomNet(tc.sizes, 2)); err != nil {
			t.Fatal(err)
		}
		x, _ := randomBatch(tc.points, 1, 3)
		st, err := cmp.Compare(x)
		if err != nil || st.N != tc.points {
			t.Fatalf("%v: Compare: %+v, %v", tc.sizes, st, err)
		}
		if fmt.Sprint(e.pieces) != tc.want {
			t.Fatalf("%v, %d points: pieces %v, want %s", tc.sizes, tc.points, e.pieces, tc.want)
		}
		// A float64 student's staged points serve the teacher: one upload
		// a piece (once the buffers have grown, which uploads the
		// parameters).
		ups, pieces := e.count("upload")+e.count("uploadAsync"), len(e.pieces)
		if st2, err := cmp.Compare(x); err != nil || st2 != st {
			t.Fatalf("%v: Compare again: %+v, %v; first %+v", tc.sizes, st2, err, st)
		}
		if u := e.count("upload") + e.count("uploadAsync") - ups; u != pieces {
			t.Fatalf("%v: %d uploads for %d pieces", tc.sizes, u, pieces)
		}
	}
}

// Compare's pieces go through two slots of page-locked memory, the next
// piece staged while the device works on the last: on the emulator, whose
// work runs only when the host waits (as a stream's), a slot reused before
// its piece has passed would evaluate the wrong points. Many small pieces
// on both paths against the host's statistics, with a NaN planted in a
// middle piece; each piece waited for once, its points copied once.
func TestComparePipelinesItsPieces(t *testing.T) {
	defer func(n, b int) { pairRows, evalBytes = n, b }(pairRows, evalBytes)
	for _, sizes := range [][]int{{1, 80, 1}, {2, 16, 16, 1}} {
		pairRows, evalBytes = 50, 8*82*50
		e := newEmulator()
		net := randomNet(sizes, 4)
		mod, err := newModel(e, net, backend.Options{MaxBatch: 8})
		if err != nil {
			t.Fatal(err)
		}
		defer mod.Close()
		cmp := mod.(backend.Comparer)
		teacher := randomNet(sizes, 5)
		if err := cmp.SetTeacher(teacher); err != nil {
			t.Fatal(err)
		}
		d := sizes[0]
		x, _ := randomBatch(1003, d, 6)
		x[517*d] = math.NaN()
		st, err := cmp.Compare(x)
		if err != nil {
			t.Fatal(err)
		}
		if st.N != 1003 || st.ArgMax != 517 || !math.IsNaN(st.Max) || !math.IsNaN(st.SumSq) {
			t.Fatalf("%v: Compare with a NaN at 517 = %+v", sizes, st)
		}
		x[517*d] = 0.5
		ups, waits, pieces := e.count("uploadAsync"), e.count("wait"), len(e.pieces)
		if st, err = cmp.Compare(x); err != nil {
			t.Fatal(err)
		}
		n := len(e.pieces) - pieces
		if n < 20 || e.count("uploadAsync")-ups != n || e.count("wait")-waits != n {
			t.Fatalf("%v: %d pieces, %d asynchronous uploads, %d waits", sizes, n, e.count("uploadAsync")-ups, e.count("wait")-waits)
		}
		ys := make([]float64, 1003)
		for i := range ys {
			ys[i] = net.Eval(x[i*d : (i+1)*d])
		}
		want := hostStats(ys, teacher, x)
		if st.ArgMax != want.ArgMax || relErr([]float64{st.SumAbs, st.SumSq, st.Max}, []float64{want.SumAbs, want.SumSq, want.Max}) > 1e-12 {
			t.Fatalf("%v: Compare in %d pieces = %+v, host %+v", sizes, n, st, want)
		}
	}
}

// Compare without page-locked memory (Go memory and synchronous copies),
// and after a launch failing midway: the error comes back, and the next
// Compare merges nothing of the failed one's pieces.
func TestComparePipelineFailures(t *testing.T) {
	defer func(n, b int) { pairRows, evalBytes = n, b }(pairRows, evalBytes)
	for _, sizes := range [][]int{{1, 80, 1}, {2, 16, 16, 1}} {
		pairRows, evalBytes = 50, 8*82*50
		x, _ := randomBatch(1003, sizes[0], 6)
		compare := func(e *emulator) (backend.Comparer, backend.ErrorStats) {
			mod, err := newModel(e, randomNet(sizes, 4), backend.Options{MaxBatch: 8})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { mod.Close() })
			cmp := mod.(backend.Comparer)
			if err := cmp.SetTeacher(randomNet(sizes, 5)); err != nil {
				t.Fatal(err)
			}
			st, err := cmp.Compare(x)
			if err != nil {
				t.Fatal(err)
			}
			return cmp, st
		}
		_, want := compare(newEmulator())
		plain := newEmulator()
		plain.noPinned = true
		if _, st := compare(plain); st != want || plain.count("uploadAsync") != 0 || plain.count("upload") < 20 {
			t.Fatalf("%v without page-locked memory: %+v (%d synchronous uploads), want %+v", sizes, st, plain.count("upload"), want)
		}
		e := newEmulator()
		cmp, _ := compare(e)
		e.failLaunch = 7
		if _, err := cmp.Compare(x); err == nil || !strings.Contains(err.Error(), "failed (as asked)") {
			t.Fatalf("%v: Compare with a failing launch: %v", sizes, err)
		}
		if st, err := cmp.Compare(x); err != nil || st != want {
			t.Fatalf("%v: Compare after a failed one: %+v, %v; want %+v", sizes, st, err, want)
		}
		if n := e.live(); n == 0 {
			t.Fatalf("no allocations live before Close")
		}
	}
}
