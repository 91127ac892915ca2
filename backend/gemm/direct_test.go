package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

func testKernels() []string {
	kernels := []string{"go"}
	if hasAsm {
		kernels = append(kernels, "avx2-fma")
	}
	if hasAsm && has512 {
		kernels = append(kernels, "avx512")
	}
	return kernels
}

// TestDirectMatchesReference runs the direct path (small products, B not
// transposed) with every epilogue combination, transposed and plain A, edge
// rows and columns, on every kernel this CPU has, against the triple loop.
func TestDirectMatchesReference(t *testing.T) {
	for _, kern := range testKernels() {
		directCheck[float64](t, newPool[float64](1, kern), 1e-14, kern+"/f64")
		directCheck[float32](t, newPool[float32](1, kern), 1e-5, kern+"/f32")
	}
}

func directCheck[T Float](t *testing.T, p *Pool[T], tol float64, name string) {
	defer p.Close()
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 300; trial++ {
		m := 1 + r.IntN(70)
		n := 1 + r.IntN(70)
		k := r.IntN(300)
		if trial%7 == 0 {
			m, n = m/mr*mr, n/p.nr*p.nr+p.nr // whole tiles only
		}
		tA := r.IntN(2) == 1
		pad := r.IntN(3)
		lda, ldc := k+pad, n+pad
		if tA {
			lda = m + pad
		}
		ar := m
		if tA {
			ar = k
		}
		a, b := randSlice[T](r, ar*lda), randSlice[T](r, k*n)
		c := randSlice[T](r, m*ldc)
		beta := T(r.IntN(2))
		ep := &Epilogue[T]{ReLU: r.IntN(2) == 1}
		if r.IntN(2) == 1 {
			ep.Bias = randSlice[T](r, n)
		}
		if r.IntN(2) == 1 {
			ep.Mask, ep.LdMask = randSlice[T](r, m*(n+1)), n+1
			for i := range ep.Mask {
				ep.Mask[i] = max(ep.Mask[i], 0)
			}
		}
		var cs0 []T
		if r.IntN(2) == 1 {
			ep.ColSum = randSlice[T](r, n)
			cs0 = append([]T(nil), ep.ColSum...)
		}
		want := append([]T(nil), c...)
		ref(tA, false, m, n, k, 1, a, lda, b, n, beta, want, ldc)
		wantCS := append([]T(nil), cs0...)
		for i := 0; i < m; i++ {
			for x := 0; x < n; x++ {
				v := want[i*ldc+x]
				if ep.Bias != nil {
					v += ep.Bias[x]
				}
				if ep.ReLU {
					v = max(v, 0)
				}
				if ep.Mask != nil && ep.Mask[i*ep.LdMask+x] == 0 {
					v = 0
				}
				want[i*ldc+x] = v
				if cs0 != nil {
					wantCS[x] += v
				}
			}
		}
		p.GemmEpilogue(tA, false, m, n, k, 1, a, lda, b, n, beta, c, ldc, ep)
		if !p.useDirect() {
			t.Fatalf("%s: %dx%dx%d did not take the direct path", name, m, n, k)
		}
		for i := range c {
			if d := math.Abs(float64(c[i] - want[i])); d > tol*float64(k+2) || math.Signbit(float64(c[i])) && c[i] == 0 {
				t.Fatalf("%s: %dx%dx%d tA=%v β=%v %+v: C[%d] = %v, want %v", name, m, n, k, tA, beta, *ep, i, c[i], want[i])
			}
		}
		for x := range wantCS {
			if d := math.Abs(float64(ep.ColSum[x] - wantCS[x])); d > tol*float64(m*(k+2)) {
				t.Fatalf("%s: %dx%dx%d column sum %d = %v, want %v", name, m, n, k, x, ep.ColSum[x], wantCS[x])
			}
		}
	}
}

// TestDirectReLUSpecialValues: the kernels' ReLU is Go's max(x, 0): NaN
// stays NaN (a diverging run must show), −0 and negatives become +0.
func TestDirectReLUSpecialValues(t *testing.T) {
	for _, kern := range testKernels() {
		p := newPool[float64](1, kern)
		n := p.nr
		a := []float64{1, 1, 1, 1} // 4×1
		b := make([]float64, n)    // 1×n
		b[0], b[1], b[2] = math.NaN(), math.Copysign(0, -1), -2
		b[3] = 3
		c := make([]float64, 4*n)
		p.GemmEpilogue(false, false, 4, n, 1, 1, a, 1, b, n, 0, c, n, &Epilogue[float64]{ReLU: true})
		for r := 0; r < 4; r++ {
			row := c[r*n:]
			if !math.IsNaN(row[0]) || math.Signbit(row[1]) || row[1] != 0 || row[2] != 0 || math.Signbit(row[2]) || row[3] != 3 {
				t.Fatalf("%s: ReLU of NaN, −0, −2, 3 = %v", kern, row[:4])
			}
		}
		p.Close()
	}
}

// TestAdamKernelsSameBits: every kernel set's vectorized Adam gives the
// portable loop's bits, for lengths with and without a tail, float64 and
// float32, over several steps.
func TestAdamKernelsSameBits(t *testing.T) {
	testAdam[float64](t)
	testAdam[float32](t)
}

func testAdam[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, kern := range testKernels() {
		pl := newPool[T](1, kern)
		for _, two := range []bool{false, true} {
			for _, n := range []int{1, 7, 8, 16, 33, 1000} {
				p0, g := randSlice[T](r, n), randSlice[T](r, n)
				var g2 []T // the second shard's gradient, or none
				if two {
					g2 = randSlice[T](r, n)
				}
				p1, p2 := append([]T(nil), p0...), append([]T(nil), p0...)
				m1, v1 := make([]T, n), make([]T, n)
				sub := T(5 * math.SmallestNonzeroFloat32) // subnormal in T
				if _, is64 := any(sub).(float64); is64 {
					sub = T(5 * math.SmallestNonzeroFloat64)
				}
				for i := 0; i < n; i += 3 {
					// A dead unit's moments: subnormal, gradient 0.
					g[i], m1[i], v1[i] = 0, sub*T(1+i%3), -sub
					if two {
						g2[i] = sub // a subnormal half, flushed
					}
				}
				m2, v2 := append([]T(nil), m1...), append([]T(nil), v1...)
				for step := 1; step <= 3; step++ {
					k := NewAdamConsts[T](0.9, 0.999, 1e-8, 1e-3, step)
					pl.Adam2(p1, g, g2, m1, v1, &k)
					adamGo(p2, g, g2, m2, v2, &k)
				}
				for i := range p1 {
					if p1[i] != p2[i] || m1[i] != m2[i] || v1[i] != v2[i] {
						t.Fatalf("%s two=%v n=%d: element %d: p %v/%v m %v/%v v %v/%v", kern, two, n, i, p1[i], p2[i], m1[i], m2[i], v1[i], v2[i])
					}
					if p1[i] == p0[i] && g[i] != 0 {
						t.Fatalf("%s two=%v n=%d: element %d did not move", kern, two, n, i)
					}
					if g[i] == 0 && (m1[i] != 0 || v1[i] != 0) {
						t.Fatalf("%s two=%v n=%d: element %d: subnormal moments %v, %v not flushed", kern, two, n, i, m1[i], v1[i])
					}
				}
				if two {
					// Adam2 on (g, g2) is Adam on g + g2 (normal values).
					g, g2 := randSlice[T](r, n), randSlice[T](r, n)
					sum := make([]T, n)
					for i := range sum {
						sum[i] = g[i] + g2[i]
					}
					pa, pb := append([]T(nil), p0...), append([]T(nil), p0...)
					ma, va, mb, vb := make([]T, n), make([]T, n), make([]T, n), make([]T, n)
					k := NewAdamConsts[T](0.9, 0.999, 1e-8, 1e-3, 1)
					pl.Adam2(pa, g, g2, ma, va, &k)
					pl.Adam(pb, sum, mb, vb, &k)
					for i := range pa {
						if pa[i] != pb[i] || ma[i] != mb[i] || va[i] != vb[i] {
							t.Fatalf("%s n=%d: Adam2 element %d: %v, Adam on the sum %v", kern, n, i, pa[i], pb[i])
						}
					}
				}
			}
		}
		pl.Close()
	}
}

// TestDotColumn runs a column product C = A·b (a layer with one output)
// through the dot kernels, with bias, ReLU, β and a leading dimension of C,
// against the triple loop.
func TestDotColumn(t *testing.T) {
	for _, kern := range testKernels() {
		dotCheck[float64](t, newPool[float64](1, kern), 1e-14, kern+"/f64")
		dotCheck[float32](t, newPool[float32](1, kern), 1e-5, kern+"/f32")
	}
}

func dotCheck[T Float](t *testing.T, p *Pool[T], tol float64, name string) {
	defer p.Close()
	r := rand.New(rand.NewPCG(11, 12))
	lanes := p.nr / 2
	for trial := 0; trial < 200; trial++ {
		m, k, ldc := 1+r.IntN(40), lanes*(1+r.IntN(6)), 1+r.IntN(3)
		a, b := randSlice[T](r, m*k), randSlice[T](r, k)
		c := randSlice[T](r, m*ldc)
		beta := T(r.IntN(2))
		ep := &Epilogue[T]{ReLU: r.IntN(2) == 1}
		if r.IntN(2) == 1 {
			ep.Bias = randSlice[T](r, 1)
		}
		want := append([]T(nil), c...)
		ref(false, false, m, 1, k, 1, a, k, b, 1, beta, want, ldc)
		for i := 0; i < m; i++ {
			v := want[i*ldc]
			if ep.Bias != nil {
				v += ep.Bias[0]
			}
			if ep.ReLU {
				v = max(v, 0)
			}
			want[i*ldc] = v
		}
		p.GemmEpilogue(false, false, m, 1, k, 1, a, k, b, 1, beta, c, ldc, ep)
		if (p.dot[0] != nil) != p.useDot() {
			t.Fatalf("%s: %dx1x%d: dot kernels available %v, used %v", name, m, k, p.dot[0] != nil, p.useDot())
		}
		for i := range c {
			if d := math.Abs(float64(c[i] - want[i])); d > tol*float64(k+2) || math.Signbit(float64(c[i])) && c[i] == 0 {
				t.Fatalf("%s: %dx1x%d ldc %d β=%v %+v: C[%d] = %v, want %v", name, m, k, ldc, beta, *ep, i, c[i], want[i])
			}
		}
	}
}

// TestSameBitsOnAnyWorkers: a product split over 2 or 3 workers (rows or
// columns, both paths, epilogues with column sums) gives the bits of the
// unsplit product.
func TestSameBitsOnAnyWorkers(t *testing.T) {
	saved, savedB := parallelFMAsVar, directMaxB
	defer func() { parallelFMAsVar, directMaxB = saved, savedB }()
	parallelFMAsVar = 0
	r := rand.New(rand.NewPCG(13, 14))
	for _, kern := range testKernels() {
		for trial := 0; trial < 40; trial++ {
			m, n, k := 1+r.IntN(150), 1+r.IntN(150), 1+r.IntN(300)
			tA, tB := r.IntN(2) == 1, r.IntN(2) == 1
			directMaxB = savedB
			if trial%2 == 1 {
				directMaxB = -1
			}
			a, lda, b, ldb := operands[float64](r, tA, tB, m, n, k, 0)
			bias, mask := randSlice[float64](r, n), randSlice[float64](r, m*n)
			for i := range mask {
				mask[i] = max(mask[i], 0)
			}
			var ref, refCS []float64
			for _, workers := range []int{1, 2, 3} {
				p := newPool[float64](workers, kern)
				c := make([]float64, m*n)
				ep := &Epilogue[float64]{Bias: bias, ReLU: trial%3 == 0, ColSum: make([]float64, n)}
				if trial%4 == 0 {
					ep.Mask, ep.LdMask = mask, n
				}
				p.GemmEpilogue(tA, tB, m, n, k, 1, a, lda, b, ldb, 0, c, n, ep)
				p.Close()
				if ref == nil {
					ref, refCS = c, ep.ColSum
					continue
				}
				for i := range c {
					if c[i] != ref[i] {
						t.Fatalf("%s %dx%dx%d tA=%v tB=%v: C[%d] on %d workers %v, on 1 %v", kern, m, n, k, tA, tB, i, workers, c[i], ref[i])
					}
				}
				for i := range refCS {
					if ep.ColSum[i] != refCS[i] {
						t.Fatalf("%s %dx%dx%d tA=%v tB=%v: column sum %d on %d workers %v, on 1 %v", kern, m, n, k, tA, tB, i, workers, ep.ColSum[i], refCS[i])
					}
				}
			}
		}
	}
}
