package cuda

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/reluscope/reluscope/backend"
)

// emulator is an executor on the host: device memory is Go memory, cuBLAS
// calls are a literal column-major reference, and every kernel of
// kernels.cu is written again in Go with the same arithmetic and the same
// split into blocks. It runs the models' whole sequence of operations
// without a GPU (slowly: its products are naive loops), so that tests here
// and in the packages that drive a device engine check that sequence.
type emulator struct {
	allocs map[ptr][]uint64 // 8-byte words, so every array is aligned
	next   ptr
	freed  int
	calls  map[string]int
	freeB  int64 // the memory memFree reports
}

// Emulator returns an engine named name whose models run on a fresh host
// emulator of the device (see emulator): the cuda engine's code with the GPU
// replaced by plain loops, for tests without a GPU.
func Emulator(name string) backend.Engine { return emuEngine{name} }

type emuEngine struct{ name string }

func (e emuEngine) Name() string   { return e.name }
func (emuEngine) Available() error { return nil }
func (emuEngine) Describe() string { return "host emulator of the cuda engine" }
func (emuEngine) New(net *backend.Net, opt backend.Options) (backend.Model, error) {
	return newModel(newEmulator(), net, opt)
}

func newEmulator() *emulator {
	return &emulator{allocs: map[ptr][]uint64{}, next: 1 << 32, calls: map[string]int{}, freeB: 1 << 40}
}

func (e *emulator) run(f func() error) error { return f() }

func (e *emulator) alloc(bytes int64) (ptr, error) {
	p := e.next
	e.allocs[p] = make([]uint64, (bytes+7)/8)
	e.next += ptr((bytes+4095)/4096*4096 + 4096)
	return p, nil
}

func (e *emulator) free(p ptr) {
	if _, ok := e.allocs[p]; !ok {
		panic(fmt.Sprintf("emulator: free of %#x, not an allocation", p))
	}
	delete(e.allocs, p)
	e.freed++
}

// mem returns the bytes [p, p+n) of one allocation, panicking on an access
// outside every allocation (as a device would fault).
func (e *emulator) mem(p ptr, n int64) unsafe.Pointer {
	for base, words := range e.allocs {
		if p >= base && int64(p-base)+n <= int64(8*len(words)) {
			if n == 0 {
				return nil
			}
			return unsafe.Add(unsafe.Pointer(&words[0]), int(p-base))
		}
	}
	panic(fmt.Sprintf("emulator: access of %d bytes at %#x outside every allocation", n, p))
}

func f64s(e *emulator, p ptr, n int) []float64 {
	return unsafe.Slice((*float64)(e.mem(p, int64(8*n))), n)
}
func f32s(e *emulator, p ptr, n int) []float32 {
	return unsafe.Slice((*float32)(e.mem(p, int64(4*n))), n)
}
func i32s(e *emulator, p ptr, n int) []int32 {
	return unsafe.Slice((*int32)(e.mem(p, int64(4*n))), n)
}

func (e *emulator) upload(dst ptr, src any) error {
	e.calls["upload"]++
	switch s := src.(type) {
	case []float64:
		copy(f64s(e, dst, len(s)), s)
	case []float32:
		copy(f32s(e, dst, len(s)), s)
	case []int32:
		copy(i32s(e, dst, len(s)), s)
	default:
		panic(fmt.Sprintf("emulator: upload of %T", src))
	}
	return nil
}

func (e *emulator) download(dst any, src ptr) error {
	e.calls["download"]++
	switch d := dst.(type) {
	case []float64:
		copy(d, f64s(e, src, len(d)))
	case []float32:
		copy(d, f32s(e, src, len(d)))
	default:
		panic(fmt.Sprintf("emulator: download into %T", dst))
	}
	return nil
}

func (e *emulator) memset0(p ptr, bytes int64) error {
	clear(unsafe.Slice((*byte)(e.mem(p, bytes)), bytes))
	return nil
}

func (e *emulator) sync() error             { e.calls["sync"]++; return nil }
func (e *emulator) describe() string        { return "host emulator" }
func (e *emulator) memFree() (int64, error) { return e.freeB, nil }
func (e *emulator) close() error            { return nil }
func (e *emulator) live() int               { return len(e.allocs) }
func (e *emulator) count(name string) int   { return e.calls[name] }

func (e *emulator) gemm(dt backend.DType, g gemmCall, alpha, beta float64) error {
	e.calls["gemm"]++
	if dt == backend.Float32 {
		refGemm(g, float32(alpha), float32(beta), func(p ptr, n int) []float32 { return f32s(e, p, n) })
	} else {
		refGemm(g, alpha, beta, func(p ptr, n int) []float64 { return f64s(e, p, n) })
	}
	return nil
}

// refGemm is cuBLAS's gemm by its definition: column-major, C (m×n) =
// α·op(A)·op(B) + β·C, op(A) m×k, op(B) k×n.
func refGemm[T float](g gemmCall, alpha, beta T, view func(ptr, int) []T) {
	rowsA, colsA := g.m, g.k
	if g.transA {
		rowsA, colsA = g.k, g.m
	}
	rowsB, colsB := g.k, g.n
	if g.transB {
		rowsB, colsB = g.n, g.k
	}
	if g.lda < rowsA || g.ldb < rowsB || g.ldc < g.m {
		panic(fmt.Sprintf("emulator: gemm leading dimensions %d %d %d below rows %d %d %d", g.lda, g.ldb, g.ldc, rowsA, rowsB, g.m))
	}
	A := view(g.a, g.lda*(colsA-1)+rowsA)
	B := view(g.b, g.ldb*(colsB-1)+rowsB)
	C := view(g.c, g.ldc*(g.n-1)+g.m)
	for j := 0; j < g.n; j++ {
		for i := 0; i < g.m; i++ {
			var s T
			for p := 0; p < g.k; p++ {
				var a, b T
				if g.transA {
					a = A[p+i*g.lda]
				} else {
					a = A[i+p*g.lda]
				}
				if g.transB {
					b = B[j+p*g.ldb]
				} else {
					b = B[p+j*g.ldb]
				}
				s += a * b
			}
			c := alpha * s
			if beta != 0 {
				c += beta * C[i+j*g.ldc]
			}
			C[i+j*g.ldc] = c
		}
	}
}

func (e *emulator) gemv(dt backend.DType, transA bool, m, n int, alpha float64, a ptr, lda int, x ptr, beta float64, y ptr) error {
	e.calls["gemv"]++
	// y = α·op(A)·x + β·y as the gemm of an n-column… of one column.
	rows := m
	if transA {
		rows = n
	}
	g := gemmCall{transA: transA, m: rows, n: 1, k: m + n - rows, a: a, lda: lda, b: x, ldb: m + n - rows, c: y, ldc: rows}
	return e.gemm(dt, g, alpha, beta)
}

func (e *emulator) launch(k kernel, dt backend.DType, grid, block int, args ...uint64) error {
	name := k.symbol(dt)
	e.calls[name]++
	if len(args) != kernelInfo[k].params {
		panic(fmt.Sprintf("emulator: %s with %d arguments, wants %d", name, len(args), kernelInfo[k].params))
	}
	if grid < 1 || block < 1 || block > 1024 {
		panic(fmt.Sprintf("emulator: %s launched on %d×%d", name, grid, block))
	}
	if dt == backend.Float32 {
		emulateKernel(e, k, grid, block, args, func(p ptr, n int) []float32 { return f32s(e, p, n) })
	} else {
		emulateKernel(e, k, grid, block, args, func(p ptr, n int) []float64 { return f64s(e, p, n) })
	}
	return nil
}

// emulateKernel is kernels.cu's kernel k in Go.
func emulateKernel[T float](e *emulator, k kernel, grid, block int, a []uint64, view func(ptr, int) []T) {
	P := func(i int) ptr { return ptr(a[i]) }
	I := func(i int) int { return int(int64(a[i])) }
	F := func(i int) float64 { return fromArgF(a[i]) }
	switch k {
	case kBiasAct:
		n, out, relu := I(2), I(3), I(4)
		z, b := view(P(0), n*out), view(P(1), out)
		for i := range z {
			v := z[i] + b[i%out]
			if relu != 0 && !(v > 0) {
				v = 0
			}
			z[i] = v
		}
	case kReluMask:
		n := I(2)
		da, act := view(P(0), n), view(P(1), n)
		for i := range da {
			if !(act[i] > 0) {
				da[i] = 0
			}
		}
	case kGather:
		lo, n, d := I(5), I(6), I(7)
		idx := i32s(e, P(4), lo+n)
		xb, yb := view(P(0), n*d), view(P(1), n)
		for r := 0; r < n; r++ {
			src := int(idx[lo+r])
			copy(xb[r*d:(r+1)*d], view(P(2).at(src*d, int(unsafe.Sizeof(T(0)))), d))
			yb[r] = view(P(3).at(src, int(unsafe.Sizeof(T(0)))), 1)[0]
		}
	case kMSE:
		if grid != 1 || block != mseThreads {
			panic("emulator: mse runs as one block of mseThreads")
		}
		n, slot, c := I(6), I(5), T(F(7))
		out, y, dz := view(P(0), n), view(P(1), n), view(P(2), n)
		var s float64
		var g T
		for i := range n {
			r := out[i] - y[i]
			dz[i] = c * r
			s += float64(r) * float64(r)
			g += dz[i]
		}
		f64s(e, P(4), slot+1)[slot] += s
		view(P(3), 1)[0] = g
	case kAdam:
		n := I(4)
		b1, b2, eps, lr, c1, c2 := T(F(5)), T(F(6)), T(F(7)), T(F(8)), T(F(9)), T(F(10))
		p, g, m, v := view(P(0), n), view(P(1), n), view(P(2), n), view(P(3), n)
		for i := range n {
			mi := b1*m[i] + (1-b1)*g[i]
			vi := b2*v[i] + ((1-b2)*g[i])*g[i]
			m[i], v[i] = mi, vi
			p[i] = p[i] + (-lr*(mi*c1))/(T(math.Sqrt(float64(vi*c2)))+eps)
		}
	case kErrStats:
		if block != evalThreads {
			panic("emulator: err_stats runs on blocks of evalThreads")
		}
		n := I(3)
		ys, yt, rec := view(P(0), n), f64s(e, P(1), n), f64s(e, P(2), 4*grid)
		stride := grid * block
		for b := range grid {
			s1, s2, mx, at := 0.0, 0.0, -1.0, -1
			for t := range block {
				for i := b*block + t; i < n; i += stride {
					d := float64(ys[i]) - yt[i]
					s1 += math.Abs(d)
					s2 += d * d
					if at < 0 || beats(math.Abs(d), i, mx, at) {
						mx, at = math.Abs(d), i
					}
				}
			}
			rec[4*b], rec[4*b+1], rec[4*b+2], rec[4*b+3] = s1, s2, mx, float64(at)
		}
	case kScaleIn:
		n, scale := I(2), T(F(3))
		y, x := view(P(0), n), f64s(e, P(1), n)
		for i := range y {
			y[i] = T(x[i]) * scale
		}
	default:
		panic(fmt.Sprintf("emulator: kernel %d", k))
	}
}
