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
		m := mr + r.IntN(70)
		n := p.nr/2 + r.IntN(70)
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
