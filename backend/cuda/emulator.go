package cuda

import (
	"fmt"
	"unsafe"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/backend/cuda/kernels"
)

// emulator is an executor on the host: device memory is C memory on the
// host, cuBLAS calls are a literal column-major reference, and the kernels
// are kernels.cu's own code compiled as C (package kernels). It runs the
// models' whole sequence of operations, kernels included, without a GPU
// (slowly: its products are naive loops), so that tests here and in the
// packages that drive a device engine check that code.
type emulator struct {
	allocs map[ptr]int64 // base address → bytes
	calls  map[string]int
	freeB  int64 // the memory memFree reports
	// pieces are the rows of each err_stats or eval_pair launch (Compare's
	// pieces).
	pieces []int
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
	return &emulator{allocs: map[ptr]int64{}, calls: map[string]int{}, freeB: 1 << 40}
}

func (e *emulator) run(f func() error) error { return f() }

func (e *emulator) alloc(bytes int64) (ptr, error) {
	p := ptr(kernels.Alloc(bytes))
	e.allocs[p] = bytes
	return p, nil
}

func (e *emulator) free(p ptr) {
	if _, ok := e.allocs[p]; !ok {
		panic(fmt.Sprintf("emulator: free of %#x, not an allocation", p))
	}
	delete(e.allocs, p)
	kernels.Free(uintptr(p))
}

// mem returns the bytes [p, p+n) of one allocation, panicking on an access
// outside every allocation (as a device would fault).
func (e *emulator) mem(p ptr, n int64) unsafe.Pointer {
	for base, size := range e.allocs {
		if p >= base && int64(p-base)+n <= size {
			return unsafe.Add(kernels.View(uintptr(base)), int(p-base))
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
	case []int64:
		copy(unsafe.Slice((*int64)(e.mem(dst, int64(8*len(s)))), len(s)), s)
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
func (e *emulator) memFree() (int64, error) { return e.freeB, nil }
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
	if k == kErrStats && len(args) == kernelInfo[k].params {
		e.pieces = append(e.pieces, int(int64(args[3])))
	}
	if k == kEvalPair && len(args) == kernelInfo[k].params {
		e.pieces = append(e.pieces, int(int64(args[1])))
	}
	if len(args) != kernelInfo[k].params {
		panic(fmt.Sprintf("emulator: %s with %d arguments, wants %d", name, len(args), kernelInfo[k].params))
	}
	// The kernels stride over what more threads would take, so fewer
	// threads per block compute the same; host threads are expensive.
	return kernels.Launch(name, grid, min(block, emuThreads), args)
}

// emuThreads is the most threads an emulated block runs on (a variable:
// tests run the kernels on their full blocks too).
var emuThreads = 16
