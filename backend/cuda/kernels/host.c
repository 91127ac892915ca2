// The kernels of kernels.cu compiled as C for the host, so that tests run
// the device's code without a GPU: a launch runs its blocks one after
// another, the threads of a block as pthreads; __shared__ arrays are the
// kernels' static arrays (one block at a time uses them) and __syncthreads
// is a barrier of the block's threads.
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  unsigned x, y, z;
} rs_dim3;
static _Thread_local rs_dim3 threadIdx, blockIdx;
static rs_dim3 blockDim, gridDim;
static pthread_barrier_t rs_barrier;

#define KERNEL void
#define DEVICE static inline
#define __shared__ static
#define __syncthreads() pthread_barrier_wait(&rs_barrier)
#define UNROLL

#include "common.h"

static double u2d(uint64_t u) {
  double d;
  memcpy(&d, &u, 8);
  return d;
}
#define P(i, type) ((type)(uintptr_t)a[i])
#define I(i) ((i64)a[i])
#define D(i) u2d(a[i])

#define T double
#define S(name) name##_f64
#include "callers.h"
#undef T
#undef S
#define T float
#define S(name) name##_f32
#include "callers.h"
#undef T
#undef S

typedef void (*caller)(const uint64_t*);
#define ENTRY(op, n) {#op "_f64", call_##op##_f64, n}, {#op "_f32", call_##op##_f32, n}
static const struct {
  const char* name;
  caller fn;
  int nargs;
} table[] = {ENTRY(bias_act, 5), ENTRY(relu_mask, 3), ENTRY(gather, 8),   ENTRY(mse, 8),
             ENTRY(adam, 11),    ENTRY(err_stats, 4), ENTRY(step_small, 28),
             ENTRY(step_multi, 18), ENTRY(reduce_adam, 17), ENTRY(eval_pair, 10)};

typedef struct {
  caller fn;
  const uint64_t* args;
  unsigned tid;
} worker;

static void* run_worker(void* p) {
  worker* w = (worker*)p;
  threadIdx.x = w->tid;
  for (unsigned b = 0; b < gridDim.x; b++) {
    blockIdx.x = b;
    w->fn(w->args);
    pthread_barrier_wait(&rs_barrier);  // the block's shared arrays are free again
  }
  return NULL;
}

// rs_launch runs kernel name on grid blocks of block threads: 0, or −1 for
// an unknown kernel, −2 for a wrong argument count, −3 for a bad shape, −4
// when threads cannot be made.
int rs_launch(const char* name, int grid, int block, const uint64_t* args, int nargs) {
  caller fn = NULL;
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    if (strcmp(table[i].name, name) == 0) {
      if (table[i].nargs != nargs) return -2;
      fn = table[i].fn;
    }
  }
  if (!fn) return -1;
  if (grid < 1 || block < 1 || block > MAX_THREADS || (block & (block - 1)) != 0) return -3;
  gridDim.x = (unsigned)grid;
  gridDim.y = gridDim.z = 1;
  blockDim.x = (unsigned)block;
  blockDim.y = blockDim.z = 1;
  pthread_barrier_init(&rs_barrier, NULL, (unsigned)block);
  pthread_t th[MAX_THREADS];
  worker w[MAX_THREADS];
  int rc = 0;
  for (int t = 0; t < block; t++) {
    w[t].fn = fn;
    w[t].args = args;
    w[t].tid = (unsigned)t;
    if (pthread_create(&th[t], NULL, run_worker, &w[t]) != 0) {
      // Threads already made would wait forever at the barrier.
      abort();
    }
  }
  for (int t = 0; t < block; t++) pthread_join(th[t], NULL);
  pthread_barrier_destroy(&rs_barrier);
  return rc;
}

void* rs_ptr(uintptr_t p) { return (void*)p; }

// rs_nargs is the number of arguments of kernel name, or −1: no such kernel.
int rs_nargs(const char* name) {
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    if (strcmp(table[i].name, name) == 0) return table[i].nargs;
  }
  return -1;
}
