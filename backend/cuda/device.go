//go:build gpu

package cuda

import (
	"fmt"
	"runtime"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/reluscope/reluscope/backend"
)

// device is the executor on a GPU: one CUDA context, made current on one
// locked OS thread, which runs every request; cuBLAS on that context; the
// kernels of kernels.ptx, JIT-compiled by the driver once.
type device struct {
	reqs    chan func()
	ctx     cu.CUContext
	dev     cu.Device
	mod     cu.Module
	fns     [numKernels][2]cu.Function
	blas    *cublas
	name    string
	total   int64
	sm      string
	argv    [32]uint64
	argp    [32]unsafe.Pointer
	ordinal int
	events  []cu.Event // see newEvent
	spare   []event
}

// openDevice starts the goroutine that owns device ordinal's context.
func openDevice(ordinal int) (*device, error) {
	d := &device{reqs: make(chan func()), ordinal: ordinal}
	errc := make(chan error)
	go d.loop(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	return d, nil
}

// loop holds the context on its thread for the life of the process and runs
// the requests handed to it.
func (d *device) loop(errc chan<- error) {
	runtime.LockOSThread() // never unlocked: the context is current here
	err := d.init()
	errc <- err
	if err != nil {
		return
	}
	for f := range d.reqs {
		f()
	}
}

func (d *device) init() error {
	if err := checkPTX(ptx); err != nil {
		return err
	}
	n, err := cu.NumDevices()
	if err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	if n <= d.ordinal {
		return fmt.Errorf("cuda: no GPU %d (this machine has %d)", d.ordinal, n)
	}
	if d.dev, err = cu.GetDevice(d.ordinal); err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	if d.name, err = d.dev.Name(); err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	if d.total, err = d.dev.TotalMem(); err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	major, _ := d.dev.Attribute(cu.ComputeCapabilityMajor)
	minor, _ := d.dev.Attribute(cu.ComputeCapabilityMinor)
	d.sm = fmt.Sprintf("sm_%d%d", major, minor)
	if d.ctx, err = d.dev.MakeContext(cu.SchedAuto); err != nil {
		return fmt.Errorf("cuda: making a context on %s: %w", d.name, err)
	}
	if d.mod, err = cu.LoadData(ptx); err != nil {
		return fmt.Errorf("cuda: loading the kernels' PTX on %s (%s): %w", d.name, d.sm, err)
	}
	for k := range numKernels {
		for i, dt := range []backend.DType{backend.Float64, backend.Float32} {
			if d.fns[k][i], err = d.mod.Function(k.symbol(dt)); err != nil {
				return fmt.Errorf("cuda: kernel %s: %w", k.symbol(dt), err)
			}
		}
	}
	if d.blas, err = loadCublas(); err != nil {
		return err
	}
	return nil
}

func (d *device) run(f func() error) error {
	done := make(chan error, 1)
	d.reqs <- func() { done <- f() }
	return <-done
}

func (d *device) alloc(bytes int64) (ptr, error) {
	p, err := cu.MemAlloc(bytes)
	if err != nil {
		return 0, fmt.Errorf("cuda: allocating %.1f MiB: %w", float64(bytes)/(1<<20), err)
	}
	return ptr(p), nil
}

func (d *device) free(p ptr) { cu.MemFree(cu.DevicePtr(p)) }

func (d *device) upload(dst ptr, src any) error {
	p, n := hostBytes(src)
	if n == 0 {
		return nil
	}
	if err := cu.MemcpyHtoD(cu.DevicePtr(dst), p, n); err != nil {
		return fmt.Errorf("cuda: copy to the device: %w", err)
	}
	return nil
}

func (d *device) download(dst any, src ptr) error {
	p, n := hostBytes(dst)
	if n == 0 {
		return nil
	}
	if err := cu.MemcpyDtoH(p, cu.DevicePtr(src), n); err != nil {
		return fmt.Errorf("cuda: copy from the device: %w", err)
	}
	return nil
}

func (d *device) memset0(p ptr, bytes int64) error {
	if err := cu.MemsetD8(cu.DevicePtr(p), 0, bytes); err != nil {
		return fmt.Errorf("cuda: memset: %w", err)
	}
	return nil
}

func (d *device) gemm(dt backend.DType, g gemmCall, alpha, beta float64) error {
	return d.blas.gemm(dt, g, alpha, beta)
}

func (d *device) gemv(dt backend.DType, transA bool, m, n int, alpha float64, a ptr, lda int, x ptr, beta float64, y ptr) error {
	return d.blas.gemv(dt, transA, m, n, alpha, a, lda, x, beta, y)
}

func (d *device) launch(k kernel, dt backend.DType, grid, block int, args ...uint64) error {
	i := 0
	if dt == backend.Float32 {
		i = 1
	}
	for j, a := range args {
		d.argv[j] = a
		d.argp[j] = unsafe.Pointer(&d.argv[j])
	}
	if err := d.fns[k][i].Launch(grid, 1, 1, block, 1, 1, 0, cu.Stream{}, d.argp[:len(args)]); err != nil {
		return fmt.Errorf("cuda: launching %s on %d×%d: %w", k.symbol(dt), grid, block, err)
	}
	return nil
}

func (d *device) sync() error {
	if err := cu.Synchronize(); err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	return nil
}

func (d *device) describe() string {
	return fmt.Sprintf("%s, %.1f GiB", d.name, float64(d.total)/(1<<30))
}

func (d *device) memFree() (int64, error) {
	free, _, err := cu.MemInfo()
	if err != nil {
		return 0, fmt.Errorf("cuda: %w", err)
	}
	return free, nil
}
