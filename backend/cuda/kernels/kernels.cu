// Kernels of reluscope's cuda engine: the elementwise and reduction work
// around cuBLAS's matrix products (bias + ReLU, the MSE residual, the ReLU
// mask, Adam, the gather of a batch from the training set on the device, the
// evaluation's error reductions) and one kernel that takes a whole Adam step
// of a narrow network in one block.
//
// The kernels are written once, for a type T, in body.h, included here for
// double (suffix _f64) and float (_f32) after common.h. The same headers
// compile as C on the host (host.c: the threads of a block as pthreads, the
// blocks one after another), which is how the tests run this code without a
// GPU.
//
// kernels.ptx is generated from this file (see gen.sh; `go generate
// ./backend/cuda/kernels` runs it) for compute_52, which every GPU since Maxwell runs:
// the driver JIT-compiles the PTX for the GPU at hand. No nvcc is needed to
// build or run reluscope.
//
// Conventions the Go side relies on (and ../host_test.go checks in the PTX):
//   - every kernel is extern "C" and named <op>_f64 or <op>_f32;
//   - every parameter is 8 bytes (a pointer, long long or double): gorgonia's
//     cu copies 8 bytes per kernel argument;
//   - scalars are passed as double and converted to T inside;
//   - matrices are row-major, as in the native engine;
//   - blocks are at most MAX_THREADS threads, a power of two (reductions).
#include <math.h>
#define KERNEL extern "C" __global__ void
// Not static: nvcc names a static function's __shared__ arrays with a hash
// of the source's path, and the PTX would differ from one checkout to
// another.
#define DEVICE __device__ __forceinline__
#define UNROLL _Pragma("unroll")
#include "common.h"
