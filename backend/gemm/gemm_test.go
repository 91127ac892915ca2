package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ref is the textbook triple loop.
func ref[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for q := 0; q < k; q++ {
				var av, bv T
				if tA {
					av = a[q*lda+i]
				} else {
					av = a[i*lda+q]
				}
				if tB {
					bv = b[j*ldb+q]
				} else {
					bv = b[q*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			c[i*ldc+j] = alpha*T(s) + beta*c[i*ldc+j]
		}
	}
}

func randSlice[T Float](r *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(2*r.Float64() - 1)
	}
	return s
}

// operands draws A and B of an m×n×k product stored as tA and tB say (A is
// m×k, or k×m when tA; B is k×n, or n×k when tB), each row pad elements
// longer than it needs.
func operands[T Float](r *rand.Rand, tA, tB bool, m, n, k, pad int) (a []T, lda int, b []T, ldb int) {
	ar, lda, br, ldb := m, k+pad, k, n+pad
	if tA {
		ar, lda = k, m+pad
	}
	if tB {
		br, ldb = n, k+pad
	}
	return randSlice[T](r, ar*lda), lda, randSlice[T](r, br*ldb), ldb
}

// gemmCase is one product of the reference check: its operands, C before,
// and the triple loop's C after.
type gemmCase[T Float] struct {
	tA, tB        bool
	m, n, k       int
	alpha, beta   T
	a, b, c, want []T
	lda, ldb, ldc int
}

// gemmCases draws the reference check's 150 products (three of them large
// enough for several k blocks and row parts) and computes each one's
// triple-loop answer once, for every kernel, worker count and path to be
// checked against.
func gemmCases[T Float]() []gemmCase[T] {
	r := rand.New(rand.NewPCG(1, 2))
	dims := []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 64, 130, 300}
	cases := make([]gemmCase[T], 150)
	for trial := range cases {
		m, n, k := dims[r.IntN(len(dims))], dims[r.IntN(len(dims))], dims[r.IntN(len(dims))]
		if trial%50 == 0 {
			m, n, k = 200+r.IntN(200), 100+r.IntN(300), 260+r.IntN(300) // several k blocks and row parts
		}
		tA, tB := r.IntN(2) == 1, r.IntN(2) == 1
		pad := r.IntN(3)
		a, lda, b, ldb := operands[T](r, tA, tB, m, n, k, pad)
		ldc := n + pad
		c := randSlice[T](r, m*ldc)
		want := append([]T(nil), c...)
		alpha := []T{1, 0.5, -2}[r.IntN(3)]
		beta := []T{0, 1, 0.25}[r.IntN(3)]
		ref(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
		cases[trial] = gemmCase[T]{tA, tB, m, n, k, alpha, beta, a, b, c, want, lda, ldb, ldc}
	}
	return cases
}

func check[T Float](t *testing.T, p *Pool[T], cases []gemmCase[T], tol float64, name string) {
	for _, g := range cases {
		c := append([]T(nil), g.c...)
		p.Gemm(g.tA, g.tB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc)
		for i := range c {
			if d := math.Abs(float64(c[i] - g.want[i])); d > tol*float64(g.k) {
				t.Fatalf("%s: %dx%dx%d tA=%v tB=%v α=%v β=%v: C[%d] = %v, want %v", name, g.m, g.n, g.k, g.tA, g.tB, g.alpha, g.beta, i, c[i], g.want[i])
			}
		}
	}
}

// TestGemmMatchesReference checks every kernel this CPU can run.
func TestGemmMatchesReference(t *testing.T) {
	kernels := testKernels()
	t.Logf("kernels tested here: %v (default %s)", kernels, Kernel())
	// Split every product, however small, so row and column splits are tested.
	saved := parallelFMAsVar
	parallelFMAsVar = 0
	defer func() { parallelFMAsVar = saved }()
	savedB := directMaxB
	defer func() { directMaxB = savedB }()
	c64, c32 := gemmCases[float64](), gemmCases[float32]()
	// One worker, and three: more parts than this machine's cores, and
	// splits that do not divide the rows or columns evenly.
	for _, kern := range kernels {
		for _, workers := range []int{1, 3} {
			for _, path := range []string{"direct", "packed"} {
				directMaxB = savedB
				if path == "packed" {
					directMaxB = -1 // B not transposed takes the packed path too
				}
				p64 := newPool[float64](workers, kern)
				check(t, p64, c64, 1e-14, kern+"/f64/"+path)
				p64.Close()
				p32 := newPool[float32](workers, kern)
				check(t, p32, c32, 1e-5, kern+"/f32/"+path)
				p32.Close()
			}
		}
	}
}

func TestGemmNoAllocsAfterWarmUp(t *testing.T) {
	p := NewPool[float64](2)
	defer p.Close()
	r := rand.New(rand.NewPCG(3, 4))
	a, b, c := randSlice[float64](r, 300*300), randSlice[float64](r, 300*300), make([]float64, 300*300)
	f := func() { p.Gemm(false, true, 300, 300, 300, 1, a, 300, b, 300, 0, c, 300) }
	f()
	if n := testing.AllocsPerRun(10, f); n != 0 {
		t.Fatalf("%v allocations per product after warm-up, want 0", n)
	}
}

func TestGemmPanicsOnShortSlices(t *testing.T) {
	p := NewPool[float64](1)
	defer func() {
		if r := recover(); r == nil || r.(string)[:5] != "gemm:" {
			t.Fatalf("recovered %v, want a gemm: panic", r)
		}
	}()
	p.Gemm(false, false, 4, 4, 4, 1, make([]float64, 15), 4, make([]float64, 16), 4, 0, make([]float64, 16), 4)
}

var sink float64

func BenchmarkGemm(b *testing.B) {
	for _, sz := range []int{64, 256, 512, 1024} {
		for _, w := range []int{1, 2} {
			b.Run(fmt6(sz, w), func(b *testing.B) {
				p := NewPool[float64](w)
				defer p.Close()
				r := rand.New(rand.NewPCG(5, 6))
				a, bb, c := randSlice[float64](r, sz*sz), randSlice[float64](r, sz*sz), make([]float64, sz*sz)
				p.Gemm(false, false, sz, sz, sz, 1, a, sz, bb, sz, 0, c, sz)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					p.Gemm(false, false, sz, sz, sz, 1, a, sz, bb, sz, 0, c, sz)
				}
				sink += c[0]
				b.ReportMetric(2*float64(sz*sz*sz)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func fmt6(sz, w int) string {
	return "n" + itoa(sz) + "_t" + itoa(w)
}

func itoa(v int) string {
	s := ""
	for {
		s = string(rune('0'+v%10)) + s
		v /= 10
		if v == 0 {
			return s
		}
	}
}

// BenchmarkShapes times the products of a training step at the reference
// shapes on 1 and 2 threads: the crossover sets parallelFMAs.
func BenchmarkShapes(b *testing.B) {
	for _, sh := range []struct {
		name    string
		tA, tB  bool
		m, n, k int
	}{
		{"fwd_b200_w32", false, true, 200, 32, 32}, {"bwdW_b200_w32", true, false, 32, 32, 200},
		{"fwd_b2000_w32", false, true, 2000, 32, 32}, {"bwdW_b2000_w32", true, false, 32, 32, 2000},
		{"fwd_b20_w512", false, true, 20, 512, 512}, {"fwd_b200_w512", false, true, 200, 512, 512},
		{"bwdW_b20_w512", true, false, 512, 512, 20}, {"bwdA_b20_w512", false, false, 20, 512, 512},
	} {
		for _, w := range []int{1, 2} {
			b.Run(sh.name+"_t"+itoa(w), func(b *testing.B) {
				p := newPool[float64](w, Kernel())
				defer p.Close()
				r := rand.New(rand.NewPCG(5, 6))
				a, bb, c := randSlice[float64](r, sh.m*sh.k), randSlice[float64](r, sh.k*sh.n), make([]float64, sh.m*sh.n)
				lda, ldb := sh.k, sh.n
				if sh.tA {
					lda = sh.m
				}
				if sh.tB {
					ldb = sh.k
				}
				saved := parallelFMAsVar
				parallelFMAsVar = 0
				defer func() { parallelFMAsVar = saved }()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					p.Gemm(sh.tA, sh.tB, sh.m, sh.n, sh.k, 1, a, lda, bb, ldb, 0, c, sh.n)
				}
				b.ReportMetric(2*float64(sh.m*sh.n*sh.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func TestEpilogue(t *testing.T) {
	saved := parallelFMAsVar
	parallelFMAsVar = 0
	defer func() { parallelFMAsVar = saved }()
	r := rand.New(rand.NewPCG(7, 8))
	for _, workers := range []int{1, 2} {
		p := NewPool[float64](workers)
		for trial := 0; trial < 60; trial++ {
			m, n, k := 1+r.IntN(70), 1+r.IntN(70), r.IntN(300)
			a, b := randSlice[float64](r, m*k), randSlice[float64](r, n*k)
			bias := randSlice[float64](r, n)
			mask := randSlice[float64](r, m*n)
			for i := range mask {
				mask[i] = max(mask[i], 0) // a ReLU output: +0 or positive
			}
			got, want := make([]float64, m*n), make([]float64, m*n)
			ep := &Epilogue[float64]{Bias: bias, ReLU: trial%2 == 0}
			if trial%3 == 0 {
				ep.Mask, ep.LdMask = mask, n
			}
			var cs0 []float64
			if trial%4 < 2 {
				ep.ColSum = randSlice[float64](r, n)
				cs0 = append([]float64(nil), ep.ColSum...)
			}
			p.GemmEpilogue(false, true, m, n, k, 1, a, max(k, 1), b, max(k, 1), 0, got, n, ep)
			ref(false, true, m, n, k, 1, a, max(k, 1), b, max(k, 1), 0, want, n)
			for i := range want {
				v := want[i] + bias[i%n]
				if ep.ReLU {
					v = max(v, 0)
				}
				if ep.Mask != nil && mask[i] == 0 {
					v = 0
				}
				if math.Abs(got[i]-v) > 1e-13*float64(k+1) {
					t.Fatalf("%dx%dx%d relu=%v mask=%v: C[%d] = %v, want %v", m, n, k, ep.ReLU, ep.Mask != nil, i, got[i], v)
				}
				if cs0 != nil {
					cs0[i%n] += got[i]
				}
			}
			for x := range cs0 {
				if math.Abs(ep.ColSum[x]-cs0[x]) > 1e-12*float64(m*(k+1)) {
					t.Fatalf("%dx%dx%d workers %d: column sum %d = %v, want %v", m, n, k, workers, x, ep.ColSum[x], cs0[x])
				}
			}
		}
		p.Close()
	}
}
