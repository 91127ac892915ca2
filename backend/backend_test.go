package backend

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// randNet draws every parameter from U[-c, c] with a fixed seed.
func randNet(sizes []int, c float64, seed uint64) *Net {
	n := NewNet(sizes)
	n.InputScale = math.Sqrt(12)
	n.FillUniform(rand.New(rand.NewPCG(seed, 1)), func(int) float64 { return c })
	return n
}

func randBatch(d, n int, seed uint64) (x, y []float64) {
	r := rand.New(rand.NewPCG(seed, 2))
	x = make([]float64, n*d)
	y = make([]float64, n)
	for i := range x {
		x[i] = r.Float64() - 0.5
	}
	for i := range y {
		y[i] = r.Float64() - 0.5
	}
	return x, y
}

func mustNew(t testing.TB, name string, net *Net, dt DType) Model {
	t.Helper()
	e, err := Get(name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.New(net, Options{DType: dt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func relDiff(a, b float64) float64 {
	s := math.Max(math.Abs(a), math.Abs(b))
	if s == 0 {
		return 0
	}
	return math.Abs(a-b) / s
}

// maxRel is the largest difference between two flat vectors relative to the
// largest magnitude in the reference.
func maxRel(a, b []float64) float64 {
	var scale, diff float64
	for i := range a {
		scale = math.Max(scale, math.Abs(b[i]))
		diff = math.Max(diff, math.Abs(a[i]-b[i]))
	}
	if scale == 0 {
		return diff
	}
	return diff / scale
}

var shapes = []struct {
	name  string
	sizes []int
	batch int
}{
	{"d1_w8", []int{1, 8, 8, 1}, 16},
	{"d3_w16_L5", []int{3, 16, 16, 16, 16, 1}, 20},
	{"d2_w5_L2", []int{2, 5, 1}, 7},
}

func TestPredictMatchesEval(t *testing.T) {
	const tol = 1e-12
	for _, name := range Names() {
		for _, s := range shapes {
			net := randNet(s.sizes, 0.5, 7)
			m := mustNew(t, name, net, Float64)
			x, _ := randBatch(s.sizes[0], s.batch, 3)
			got := make([]float64, s.batch)
			if err := m.Predict(got, x); err != nil {
				t.Fatal(err)
			}
			d := s.sizes[0]
			for i := range got {
				want := net.Eval(x[i*d : (i+1)*d])
				if relDiff(got[i], want) > tol && math.Abs(got[i]-want) > tol {
					t.Fatalf("%s/%s: row %d: Predict %v, Eval %v", name, s.name, i, got[i], want)
				}
			}
		}
	}
}

// TestGradientFiniteDifferences checks each engine's gradient against
// central differences of the loss computed by Net.Eval.
// withShards runs f with large batches computed in one piece (the default
// for these small nets), then with every batch of 16 rows or more computed
// in two shards, then in shards of 8 rows.
func withShards(t *testing.T, f func(t *testing.T)) {
	saved, savedRows, savedPer := shardMinWork, shardMinRows, shardRows
	defer func() { shardMinWork, shardMinRows, shardRows = saved, savedRows, savedPer }()
	t.Run("whole", f)
	shardMinWork, shardMinRows = 0, 0
	t.Run("sharded", f) // two shards
	shardRows = 8
	t.Run("shards of 8", f)
}

func TestGradientFiniteDifferences(t *testing.T) { withShards(t, testGradientFiniteDifferences) }

func testGradientFiniteDifferences(t *testing.T) {
	const h, tol = 1e-6, 1e-6
	for _, name := range Names() {
		for _, s := range shapes {
			net := randNet(s.sizes, 0.5, 11)
			x, y := randBatch(s.sizes[0], s.batch, 5)
			m := mustNew(t, name, net, Float64)
			g := NewNet(s.sizes)
			loss, err := m.Gradient(g, x, y)
			if err != nil {
				t.Fatal(err)
			}
			if l0 := evalLoss(net, x, y); relDiff(loss, l0) > 1e-12 {
				t.Fatalf("%s/%s: loss %v, reference %v", name, s.name, loss, l0)
			}
			check := func(p *float64, an float64, what string) {
				old := *p
				*p = old + h
				lp := evalLoss(net, x, y)
				*p = old - h
				lm := evalLoss(net, x, y)
				*p = old
				fd := (lp - lm) / (2 * h)
				if math.Abs(fd-an) > tol*math.Max(1, math.Abs(fd)) {
					t.Errorf("%s/%s %s: analytic %.10g, central difference %.10g", name, s.name, what, an, fd)
				}
			}
			for l := range net.W {
				for i := range net.W[l] {
					check(&net.W[l][i], g.W[l][i], "W")
				}
				for i := range net.B[l] {
					check(&net.B[l][i], g.B[l][i], "b")
				}
			}
		}
	}
}

func evalLoss(net *Net, x, y []float64) float64 {
	d := net.Sizes[0]
	var s float64
	for i := range y {
		r := net.Eval(x[i*d:(i+1)*d]) - y[i]
		s += r * r
	}
	return s / float64(len(y))
}

// TestEnginesAgree trains the native and gorgonia engines side by side from
// the same weights on the same batches (including a short last batch).
func TestEnginesAgree(t *testing.T) { withShards(t, testEnginesAgree) }

func testEnginesAgree(t *testing.T) {
	const tol = 1e-12
	for _, s := range shapes {
		net := randNet(s.sizes, 0.5, 13)
		a := mustNew(t, "native", net, Float64)
		b := mustNew(t, "gorgonia", net, Float64)
		ga, gb := NewNet(s.sizes), NewNet(s.sizes)
		x, y := randBatch(s.sizes[0], s.batch, 9)
		la, _ := a.Gradient(ga, x, y)
		lb, _ := b.Gradient(gb, x, y)
		if relDiff(la, lb) > tol {
			t.Fatalf("%s: loss native %v gorgonia %v", s.name, la, lb)
		}
		if r := maxRel(ga.Flatten(nil), gb.Flatten(nil)); r > tol {
			t.Fatalf("%s: gradients differ by %g relative", s.name, r)
		}
		for step := 0; step < 100; step++ {
			n := s.batch
			if step%4 == 3 {
				n = s.batch/2 + 1 // a short batch, like an epoch's last
			}
			x, y := randBatch(s.sizes[0], n, uint64(100+step))
			lr := 1e-3 * math.Pow(0.99, float64(step))
			la, err := a.Step(x, y, lr)
			if err != nil {
				t.Fatal(err)
			}
			lb, err := b.Step(x, y, lr)
			if err != nil {
				t.Fatal(err)
			}
			if relDiff(la, lb) > tol {
				t.Fatalf("%s step %d: loss native %v gorgonia %v", s.name, step, la, lb)
			}
		}
		pa, pb := a.Net().Flatten(nil), b.Net().Flatten(nil)
		if r := maxRel(pa, pb); r > tol {
			t.Fatalf("%s: parameters after 100 Adam steps differ by %g relative", s.name, r)
		}
		if r := maxRel(pa, net.Flatten(nil)); r < 1e-4 {
			t.Fatalf("%s: 100 Adam steps barely moved the parameters (%g)", s.name, r)
		}
	}
}

// TestAdamFirstStep checks the first Adam step against the hand-derived
// value: with m̂ = g and v̂ = g², the update is −lr·g/(|g|+ε).
func TestAdamFirstStep(t *testing.T) {
	for _, name := range Names() {
		net := randNet([]int{2, 3, 1}, 0.5, 17)
		m := mustNew(t, name, net, Float64)
		x, y := randBatch(2, 5, 1)
		g := NewNet(net.Sizes)
		if _, err := m.Gradient(g, x, y); err != nil {
			t.Fatal(err)
		}
		const lr = 0.01
		if _, err := m.Step(x, y, lr); err != nil {
			t.Fatal(err)
		}
		got := m.Net().Flatten(nil)
		p0, g0 := net.Flatten(nil), g.Flatten(nil)
		for i := range got {
			want := p0[i] - lr*g0[i]/(math.Abs(g0[i])+1e-8)
			if math.Abs(got[i]-want) > 1e-14 {
				t.Fatalf("%s: param %d after one step %v, want %v", name, i, got[i], want)
			}
		}
	}
}

func TestFloat32CloseToFloat64(t *testing.T) {
	for _, name := range Names() {
		net := randNet([]int{3, 16, 16, 1}, 0.5, 19)
		a := mustNew(t, name, net, Float64)
		b := mustNew(t, name, net, Float32)
		x, _ := randBatch(3, 50, 4)
		pa, pb := make([]float64, 50), make([]float64, 50)
		if err := a.Predict(pa, x); err != nil {
			t.Fatal(err)
		}
		if err := b.Predict(pb, x); err != nil {
			t.Fatal(err)
		}
		if r := maxRel(pb, pa); r > 1e-5 || r == 0 {
			t.Fatalf("%s: float32 differs from float64 by %g relative (want (0, 1e-5])", name, r)
		}
	}
}

func TestDivergenceIsAnError(t *testing.T) {
	for _, name := range Names() {
		net := randNet([]int{1, 4, 1}, 0.5, 23)
		m := mustNew(t, name, net, Float64)
		x := []float64{0.1, 0.2}
		y := []float64{math.Inf(1), 0}
		if _, err := m.Step(x, y, 1e-3); err != ErrDiverged {
			t.Fatalf("%s: Step on an infinite target returned %v, want ErrDiverged", name, err)
		}
	}
}

func TestValidate(t *testing.T) {
	n := NewNet([]int{2, 3, 1})
	if err := n.Validate(); err != nil {
		t.Fatal(err)
	}
	if NumParams([]int{1, 32, 32, 32, 32, 1}) != 3265 || NumParams([]int{3, 32, 32, 32, 32, 1}) != 3329 {
		t.Fatal("parameter counts of the paper's teachers are wrong")
	}
	bad := n.Clone()
	bad.W[0] = bad.W[0][:5]
	if bad.Validate() == nil {
		t.Fatal("short weight array accepted")
	}
	bad = n.Clone()
	bad.B[1][0] = math.NaN()
	if bad.Validate() == nil {
		t.Fatal("NaN bias accepted")
	}
	bad = n.Clone()
	bad.Sizes[2] = 2
	if bad.Validate() == nil {
		t.Fatal("output width 2 accepted")
	}
}

// TestSameNumbersOnAnyThreads: a batch computed in two or three shards
// gives the same bits on 1, 2 or 3 threads (the shards depend on the batch,
// not on the threads), and so does one computed whole.
func TestSameNumbersOnAnyThreads(t *testing.T) {
	sizes := []int{1, 32, 32, 32, 32, 1}
	for _, batch := range []int{20, 200, 2500} {
		for _, dt := range []DType{Float64, Float32} {
			var ref []float64
			var refLoss float64
			for _, th := range []int{1, 2, 3} {
				net := randNet(sizes, 0.3, 21)
				if want := map[int]int{20: 1, 200: 2, 2500: 3}[batch]; numShards(batch, net.NumParams(), 32) != want {
					t.Fatalf("batch %d is in %d shards, want %d", batch, numShards(batch, net.NumParams(), 32), want)
				}
				m, err := Native{}.New(net, Options{DType: dt, Threads: th, MaxBatch: batch})
				if err != nil {
					t.Fatal(err)
				}
				var loss float64
				for step := 0; step < 20; step++ {
					x, y := randBatch(1, batch-step%3, uint64(step))
					if loss, err = m.Step(x, y, 1e-3); err != nil {
						t.Fatal(err)
					}
				}
				p := m.Net().Flatten(nil)
				m.Close()
				if ref == nil {
					ref, refLoss = p, loss
					continue
				}
				if loss != refLoss {
					t.Fatalf("batch %d %s: loss on %d threads %v, on 1 thread %v", batch, dt, th, loss, refLoss)
				}
				for i := range p {
					if p[i] != ref[i] {
						t.Fatalf("batch %d %s: parameter %d on %d threads %v, on 1 thread %v", batch, dt, i, th, p[i], ref[i])
					}
				}
			}
		}
	}
}

// TestPredictBlocks: a tall batch predicted in row blocks matches the
// network evaluated point by point, and gives the same bits on 1, 2 or 3
// threads.
func TestPredictBlocks(t *testing.T) {
	net := randNet([]int{2, 32, 32, 1}, 0.3, 23)
	const n = 3000
	if numBlocks(n, 32) != 3 {
		t.Fatalf("%d rows in %d blocks, want 3", n, numBlocks(n, 32))
	}
	x, _ := randBatch(2, n, 7)
	var ref []float64
	for _, th := range []int{1, 2, 3} {
		m, err := Native{}.New(net, Options{Threads: th, MaxBatch: 16})
		if err != nil {
			t.Fatal(err)
		}
		y := make([]float64, n)
		if err := m.Predict(y, x); err != nil {
			t.Fatal(err)
		}
		m.Close()
		if ref == nil {
			ref = y
			for i := range y {
				if want := net.Eval(x[2*i : 2*i+2]); relDiff(y[i], want) > 1e-12 {
					t.Fatalf("row %d: %v, point by point %v", i, y[i], want)
				}
			}
			continue
		}
		for i := range y {
			if y[i] != ref[i] {
				t.Fatalf("row %d on %d threads %v, on 1 thread %v", i, th, y[i], ref[i])
			}
		}
	}
}

// TestInterruptedStep: a Step whose stop function fires part-way (in one
// shard or in the whole batch) returns ErrInterrupted and changes nothing;
// taken again it gives the bits of an uninterrupted run.
func TestInterruptedStep(t *testing.T) {
	sizes := []int{1, 32, 32, 32, 1}
	for _, batch := range []int{20, 2500} { // one part, then shards
		ref := mustNew(t, "native", randNet(sizes, 0.3, 5), Float64)
		got := mustNew(t, "native", randNet(sizes, 0.3, 5), Float64)
		in, ok := got.(Interruptible)
		if !ok {
			t.Fatal("the native model is not Interruptible")
		}
		var calls atomic.Int64 // shards ask from several goroutines
		in.SetInterrupt(func() bool { return calls.Add(1) == 3 })
		for step := 0; step < 5; step++ {
			x, y := randBatch(1, batch, uint64(step))
			lr, err := ref.Step(x, y, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			before := got.Net().Flatten(nil)
			calls.Store(0)
			if _, err := got.Step(x, y, 1e-3); err != ErrInterrupted {
				t.Fatalf("batch %d step %d: stop fired, Step returned %v", batch, step, err)
			}
			after := got.Net().Flatten(nil)
			for i := range before {
				if before[i] != after[i] {
					t.Fatalf("batch %d: an interrupted step changed parameter %d", batch, i)
				}
			}
			calls.Store(-1 << 20) // no more interrupts for the retry
			lg, err := got.Step(x, y, 1e-3)
			if err != nil || lg != lr {
				t.Fatalf("batch %d step %d: retried loss %v (%v), uninterrupted %v", batch, step, lg, err, lr)
			}
		}
		a, b := ref.Net().Flatten(nil), got.Net().Flatten(nil)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("batch %d: parameter %d %v after interrupted-and-retried steps, %v without", batch, i, b[i], a[i])
			}
		}
		ref.Close()
		got.Close()
	}
}
