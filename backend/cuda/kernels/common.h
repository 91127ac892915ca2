// What the kernels of both types share; included by kernels.cu (CUDA) and
// host.c (C on the host), which define KERNEL and DEVICE first.

typedef long long i64;
#define MAX_THREADS 1024
// The fused step's staging of a layer's weights in shared memory (20 KiB
// in double), beside its reductions' 16 KiB.
#define WS_ELEMS 2560
// The outputs each thread of rows_grad's products takes at once, with
// independent sums (UNROLL, defined by the includer, unrolls their loops).
#define NACC 4
// The widest layer (and the most inputs) eval_pair takes.
#define EVAL_PAIR_W 64

// One thread per element, grid-stride.
#define FOR_EACH(i, n) \
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)
// FOR_EACH with 32-bit indices, for n < 2³¹: the kernels that divide an
// index (to find its row or column) take this when they can, a 64-bit
// division costing tens of instructions on a GPU.
#define FOR_EACH32(i, n)                                                                       \
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < (unsigned)(n); i += blockDim.x * gridDim.x)
#define FITS32(n) ((n) < 2147483647LL)
// The threads of one block over n elements.
#define FOR_BLOCK(i, n) for (i64 i = threadIdx.x; i < (n); i += blockDim.x)

// beats is the order of (error, index) pairs in the error reductions: a NaN
// error first, then the larger error, then the smaller index.
DEVICE int beats(double a, i64 ia, double b, i64 ib) {
  int na = isnan(a), nb = isnan(b);
  if (na != nb) return na;
  if (a != b && !na) return a > b;
  return ia < ib;
}

// stats_add counts the error e at point i into a thread's statistics: Σ|e|,
// Σe², the largest |e| and where it is first reached (−1: none yet).
DEVICE void stats_add(double e, i64 i, double* a1, double* a2, double* m, i64* im) {
  double ae = fabs(e);
  *a1 += ae;
  *a2 += e * e;
  if (*im < 0 || beats(ae, i, *m, *im)) {
    *m = ae;
    *im = i;
  }
}

#define T double
#define S(name) name##_f64
#define SQRT sqrt
#include "body.h"
#undef T
#undef S
#undef SQRT

#define T float
#define S(name) name##_f32
#define SQRT sqrtf
#include "body.h"
#undef T
#undef S
#undef SQRT
