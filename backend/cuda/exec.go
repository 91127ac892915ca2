package cuda

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/reluscope/reluscope/backend"
)

// ptr is an address in device memory (or in the emulator's).
type ptr uint64

// at is the address of element i of an array of elements of size bytes.
func (p ptr) at(i, size int) ptr { return p + ptr(i*size) }

// executor is what a model needs of a device. A model calls its methods only
// inside run, which the device executor runs on the thread that owns its
// context; they are not safe for concurrent use otherwise. Operations are
// issued in order; downloads wait for what came before them.
type executor interface {
	// run calls f where the device may be used and returns its error.
	run(f func() error) error
	alloc(bytes int64) (ptr, error)
	free(p ptr)
	// upload copies host values into device memory at dst; src is a
	// []float64, []float32, []int32 or []int64.
	upload(dst ptr, src any) error
	// download copies device memory at src into dst ([]float64 or []float32).
	download(dst any, src ptr) error
	// memset0 zeroes bytes bytes at p.
	memset0(p ptr, bytes int64) error
	// gemm is cuBLAS's column-major C = α·op(A)·op(B) + β·C (m×n, k inner).
	gemm(dt backend.DType, g gemmCall, alpha, beta float64) error
	// gemv is cuBLAS's column-major y = α·op(A)·x + β·y, A m×n, unit strides.
	gemv(dt backend.DType, transA bool, m, n int, alpha float64, a ptr, lda int, x ptr, beta float64, y ptr) error
	// launch runs a kernel of kernels.cu on grid blocks of block threads.
	launch(k kernel, dt backend.DType, grid, block int, args ...uint64) error
	// sync waits for everything issued.
	sync() error
	// memFree is the device memory free now.
	memFree() (int64, error)

	// hostAlloc is bytes of page-locked host memory, which the device
	// copies from and into while the host goes on (an error: none to be
	// had; the caller then copies from Go memory); hostFree returns it.
	hostAlloc(bytes int64) (unsafe.Pointer, error)
	hostFree(p unsafe.Pointer)
	// uploadAsync and downloadAsync are copies between page-locked host
	// memory and the device, in order with everything issued, that return
	// at once: the host memory must not be written (upload) or read
	// (download) until an event recorded after the copy has passed.
	uploadAsync(dst ptr, src unsafe.Pointer, bytes int64) error
	downloadAsync(dst unsafe.Pointer, src ptr, bytes int64) error
	// newEvent makes an event; record places it after everything issued so
	// far; wait blocks until it has passed (a recorded event), and
	// freeEvent destroys it.
	newEvent() (event, error)
	record(ev event) error
	wait(ev event) error
	freeEvent(ev event)
}

// hostBytes is the address and size of a slice of numbers.
func hostBytes(v any) (unsafe.Pointer, int64) {
	switch s := v.(type) {
	case []float64:
		return unsafe.Pointer(unsafe.SliceData(s)), int64(8 * len(s))
	case []float32:
		return unsafe.Pointer(unsafe.SliceData(s)), int64(4 * len(s))
	case []int32:
		return unsafe.Pointer(unsafe.SliceData(s)), int64(4 * len(s))
	case []int64:
		return unsafe.Pointer(unsafe.SliceData(s)), int64(8 * len(s))
	}
	panic(fmt.Sprintf("cuda: a copy of %T", v))
}

// event is an executor's handle of a point in the order of its work.
type event int

// Kernel arguments, each 8 bytes as the kernels take them.
func argP(p ptr) uint64     { return uint64(p) }
func argI(i int) uint64     { return uint64(int64(i)) }
func argF(f float64) uint64 { return math.Float64bits(f) }

// gemmCall is one matrix product in cuBLAS's column-major terms.
type gemmCall struct {
	transA, transB bool
	m, n, k        int
	a              ptr
	lda            int
	b              ptr
	ldb            int
	c              ptr
	ldc            int
}
