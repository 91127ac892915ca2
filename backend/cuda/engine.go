//go:build gpu

package cuda

import (
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/reluscope/reluscope/backend"
)

// Engine is the cuda engine: models on the GPU named by RELUSCOPE_CUDA_DEVICE
// (default 0), all on one shared context.
type Engine struct{}

func init() { backend.Register(Engine{}) }

var (
	sharedOnce sync.Once
	shared     *device
	sharedErr  error
)

// theDevice opens the device on first use.
func theDevice() (*device, error) {
	sharedOnce.Do(func() {
		ord := 0
		if s := os.Getenv("RELUSCOPE_CUDA_DEVICE"); s != "" {
			var err error
			if ord, err = strconv.Atoi(s); err != nil || ord < 0 {
				sharedErr = fmt.Errorf("cuda: RELUSCOPE_CUDA_DEVICE=%q is not a device number (0, 1, …)", s)
				return
			}
		}
		if sharedErr = loadPaths(); sharedErr == nil {
			shared, sharedErr = openDevice(ord)
		}
	})
	return shared, sharedErr
}

func (Engine) Name() string { return "cuda" }

func (Engine) Available() error {
	_, err := theDevice()
	return err
}

func (Engine) New(net *backend.Net, opt backend.Options) (backend.Model, error) {
	d, err := theDevice()
	if err != nil {
		return nil, err
	}
	return newModel(d, net, opt)
}

// Describe names the GPU and its memory (the status line's room; the path
// table names its source in its file).
func (Engine) Describe() string {
	d, err := theDevice()
	if err != nil {
		return "cuda: " + err.Error()
	}
	return d.describe()
}
