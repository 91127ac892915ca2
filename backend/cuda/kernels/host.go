// Package kernels holds the cuda engine's kernels: their CUDA source
// (kernels.cu with common.h and body.h), the PTX generated from it
// (kernels.ptx, see gen.sh), and the same source compiled as C for the host
// (host.c), through which tests run the device's kernels without a GPU.
package kernels

/*
#cgo CFLAGS: -O2 -std=gnu11
#cgo LDFLAGS: -lm
#include <stdint.h>
#include <stdlib.h>
int rs_launch(const char* name, int grid, int block, const uint64_t* args, int nargs);
void* rs_ptr(uintptr_t p);
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

var mu sync.Mutex // a launch uses host.c's globals

// Launch runs kernel name (e.g. "adam_f64") on the host on grid blocks of
// block threads with the given 8-byte arguments; pointers among them must
// be host addresses (Alloc's).
func Launch(name string, grid, block int, args []uint64) error {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var a *C.uint64_t
	if len(args) > 0 {
		a = (*C.uint64_t)(unsafe.Pointer(&args[0]))
	}
	mu.Lock()
	rc := C.rs_launch(cs, C.int(grid), C.int(block), a, C.int(len(args)))
	mu.Unlock()
	switch rc {
	case 0:
		return nil
	case -1:
		return fmt.Errorf("kernels: no kernel %s", name)
	case -2:
		return fmt.Errorf("kernels: %s called with %d arguments", name, len(args))
	case -4:
		return fmt.Errorf("kernels: %s: the host cannot make %d threads' fibers", name, block)
	default:
		return fmt.Errorf("kernels: %s launched on %d blocks of %d threads", name, grid, block)
	}
}

// Alloc returns bytes zeroed bytes of C memory (so that the kernels can be
// handed its address); Free releases them.
func Alloc(bytes int64) uintptr {
	p := C.calloc(C.size_t(max(bytes, 1)), 1)
	if p == nil {
		panic("kernels: out of memory")
	}
	return uintptr(p)
}

// Free releases memory from Alloc.
func Free(p uintptr) { C.free(C.rs_ptr(C.uintptr_t(p))) }

// View is the address p (from Alloc) as a pointer.
func View(p uintptr) unsafe.Pointer { return C.rs_ptr(C.uintptr_t(p)) }
