//go:build gpu

package cuda

/*
#cgo LDFLAGS: -lcuda
#include <cuda.h>

// cu has no cuMemHostAlloc (page-locked host memory, which the device
// copies from and into asynchronously): this is its one call.
static CUresult rs_host_alloc(void** p, size_t n) { return cuMemHostAlloc(p, n, 0); }
*/
import "C"

import (
	"fmt"
	"unsafe"

	"gorgonia.org/cu"
)

func (d *device) hostAlloc(bytes int64) (unsafe.Pointer, error) {
	var p unsafe.Pointer
	if rc := C.rs_host_alloc(&p, C.size_t(bytes)); rc != C.CUDA_SUCCESS {
		return nil, fmt.Errorf("cuda: page-locking %.1f MiB of host memory: CUDA error %d", float64(bytes)/(1<<20), int(rc))
	}
	return p, nil
}

func (d *device) hostFree(p unsafe.Pointer) { cu.MemFreeHost(p) }

func (d *device) uploadAsync(dst ptr, src unsafe.Pointer, bytes int64) error {
	if err := cu.MemcpyHtoDAsync(cu.DevicePtr(dst), src, bytes, cu.Stream{}); err != nil {
		return fmt.Errorf("cuda: asynchronous copy to the device: %w", err)
	}
	return nil
}

func (d *device) downloadAsync(dst unsafe.Pointer, src ptr, bytes int64) error {
	if err := cu.MemcpyDtoHAsync(dst, cu.DevicePtr(src), bytes, cu.Stream{}); err != nil {
		return fmt.Errorf("cuda: asynchronous copy from the device: %w", err)
	}
	return nil
}

// Events live in d.events; an event is its index, reused once freed.
func (d *device) newEvent() (event, error) {
	ev, err := cu.MakeEvent(cu.DisableTiming)
	if err != nil {
		return 0, fmt.Errorf("cuda: making an event: %w", err)
	}
	if n := len(d.spare); n > 0 {
		i := d.spare[n-1]
		d.spare = d.spare[:n-1]
		d.events[i] = ev
		return i, nil
	}
	d.events = append(d.events, ev)
	return event(len(d.events) - 1), nil
}

func (d *device) record(ev event) error {
	if err := d.events[ev].Record(cu.Stream{}); err != nil {
		return fmt.Errorf("cuda: recording an event: %w", err)
	}
	return nil
}

func (d *device) wait(ev event) error {
	if err := d.events[ev].Synchronize(); err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	return nil
}

func (d *device) freeEvent(ev event) {
	cu.DestroyEvent(&d.events[ev])
	d.spare = append(d.spare, ev)
}
