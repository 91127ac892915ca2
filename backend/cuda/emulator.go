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
//
// Like a device's stream, it runs the device work it is given later, in
// order, only when the host waits for it (a download, sync, wait on an
// event, free): the host memory of an asynchronous copy is read or
// written then, so a model that reuses such memory before its event has
// passed computes wrong numbers here, as it would on a GPU.
type emulator struct {
	allocs map[ptr]int64 // base address → bytes
	hosts  map[unsafe.Pointer]int64
	calls  map[string]int
	freeB  int64 // the memory memFree reports
	// pieces are the rows of each err_stats or eval_pair launch (Compare's
	// pieces).
	pieces []int
	// The device work issued and not yet run, and the first error of what
	// ran (returned at the next wait).
	queue []func() error
	qerr  error
	// events: whether each has passed.
	events []bool
	// For tests of the failures: hostAlloc refuses (no page-locked
	// memory), and the failLaunch-th launch from now fails (0: none).
	noPinned   bool
	failLaunch int
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
	return &emulator{allocs: map[ptr]int64{}, hosts: map[unsafe.Pointer]int64{}, calls: map[string]int{}, freeB: 1 << 40}
}

// issue queues device work.
func (e *emulator) issue(op func() error) error {
	e.queue = append(e.queue, op)
	return nil
}

// flush runs the queued work until done reports true (nil: all of it),
// keeping the first error of what ran for the next drain (as a device
// reports a failed kernel at the next call that waits).
func (e *emulator) flush(done func() bool) {
	for len(e.queue) > 0 && (done == nil || !done()) {
		op := e.queue[0]
		e.queue = e.queue[1:]
		if err := op(); err != nil && e.qerr == nil {
			e.qerr = err
		}
	}
}

// drain is flush, returning the first error since the last drain.
func (e *emulator) drain(done func() bool) error {
	e.flush(done)
	err := e.qerr
	e.qerr = nil
	return err
}

func (e *emulator) run(f func() error) error { return f() }

func (e *emulator) alloc(bytes int64) (ptr, error) {
	p := ptr(kernels.Alloc(bytes))
	e.allocs[p] = bytes
	return p, nil
}

func (e *emulator) free(p ptr) {
	e.flush(nil) // as cuMemFree, after the work before it
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

// bytes is the n bytes at p of one allocation.
func (e *emulator) bytes(p ptr, n int64) []byte { return unsafe.Slice((*byte)(e.mem(p, n)), n) }

func f64s(e *emulator, p ptr, n int) []float64 {
	return unsafe.Slice((*float64)(e.mem(p, int64(8*n))), n)
}
func f32s(e *emulator, p ptr, n int) []float32 {
	return unsafe.Slice((*float32)(e.mem(p, int64(4*n))), n)
}

// upload takes its copy of src at once (the host may reuse it, as after
// cuMemcpyHtoD) and writes the device later.
func (e *emulator) upload(dst ptr, src any) error {
	e.calls["upload"]++
	p, n := hostBytes(src)
	c := append([]byte(nil), unsafe.Slice((*byte)(p), n)...)
	return e.issue(func() error { copy(e.bytes(dst, n), c); return nil })
}

// download waits for the work before it.
func (e *emulator) download(dst any, src ptr) error {
	e.calls["download"]++
	err := e.drain(nil)
	switch d := dst.(type) {
	case []float64:
		copy(d, f64s(e, src, len(d)))
	case []float32:
		copy(d, f32s(e, src, len(d)))
	default:
		panic(fmt.Sprintf("emulator: download into %T", dst))
	}
	return err
}

func (e *emulator) memset0(p ptr, bytes int64) error {
	return e.issue(func() error { clear(e.bytes(p, bytes)); return nil })
}

func (e *emulator) hostAlloc(bytes int64) (unsafe.Pointer, error) {
	if e.noPinned {
		return nil, fmt.Errorf("emulator: no page-locked memory")
	}
	p := kernels.View(kernels.Alloc(bytes))
	e.hosts[p] = bytes
	return p, nil
}

func (e *emulator) hostFree(p unsafe.Pointer) {
	e.flush(nil)
	if _, ok := e.hosts[p]; !ok {
		panic(fmt.Sprintf("emulator: host free of %p, not a host allocation", p))
	}
	delete(e.hosts, p)
	kernels.Free(uintptr(p))
}

// host returns bytes [p, p+n) of one host allocation, panicking outside.
func (e *emulator) host(p unsafe.Pointer, n int64) []byte {
	for base, size := range e.hosts {
		if off := uintptr(p) - uintptr(base); uintptr(p) >= uintptr(base) && int64(off)+n <= size {
			return unsafe.Slice((*byte)(p), n)
		}
	}
	panic(fmt.Sprintf("emulator: asynchronous copy of %d bytes at %p outside every host allocation", n, p))
}

func (e *emulator) uploadAsync(dst ptr, src unsafe.Pointer, bytes int64) error {
	e.calls["uploadAsync"]++
	return e.issue(func() error {
		copy(e.bytes(dst, bytes), e.host(src, bytes))
		return nil
	})
}

func (e *emulator) downloadAsync(dst unsafe.Pointer, src ptr, bytes int64) error {
	e.calls["downloadAsync"]++
	return e.issue(func() error {
		copy(e.host(dst, bytes), e.bytes(src, bytes))
		return nil
	})
}

func (e *emulator) newEvent() (event, error) {
	e.events = append(e.events, true)
	return event(len(e.events) - 1), nil
}

func (e *emulator) record(ev event) error {
	e.events[ev] = false
	return e.issue(func() error { e.events[ev] = true; return nil })
}

// wait runs the queued work up to the event, no further.
func (e *emulator) wait(ev event) error {
	e.calls["wait"]++
	return e.drain(func() bool { return e.events[ev] })
}

func (e *emulator) freeEvent(ev event) {}

func (e *emulator) sync() error             { e.calls["sync"]++; return e.drain(nil) }
func (e *emulator) memFree() (int64, error) { return e.freeB, nil }
func (e *emulator) live() int               { return len(e.allocs) + len(e.hosts) }
func (e *emulator) count(name string) int   { return e.calls[name] }

func (e *emulator) gemm(dt backend.DType, g gemmCall, alpha, beta float64) error {
	e.calls["gemm"]++
	return e.issue(func() error {
		if dt == backend.Float32 {
			refGemm(g, float32(alpha), float32(beta), func(p ptr, n int) []float32 { return f32s(e, p, n) })
		} else {
			refGemm(g, alpha, beta, func(p ptr, n int) []float64 { return f64s(e, p, n) })
		}
		return nil
	})
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
	if e.failLaunch > 0 {
		if e.failLaunch--; e.failLaunch == 0 {
			return e.issue(func() error { return fmt.Errorf("emulator: %s failed (as asked)", name) })
		}
	}
	threads, a := min(block, emuThreads), append([]uint64(nil), args...)
	return e.issue(func() error { return kernels.Launch(name, grid, threads, a) })
}

// emuThreads is the most threads an emulated block runs on: all of a
// launch's by default (a block's threads are fibers on one host thread,
// cheap to make and to switch at a barrier). A variable: tests lower it to
// run the kernels on smaller blocks, which stride over what more threads
// would take and so compute the same (to the order of the block-wide
// reductions).
var emuThreads = 1024 // kernels.cu's MAX_THREADS
