// The kernels of kernels.cu compiled as C for the host, so that tests run
// the device's code without a GPU: a launch runs its blocks one after
// another, the threads of a block as fibers on one host thread (a
// hand-written switch on x86-64, ucontext elsewhere);
// __shared__ arrays are the kernels' static arrays (one block at a time
// uses them) and __syncthreads switches to the next fiber until all of the
// block's threads have reached it. A barrier costs two context switches,
// not a wake-up of every host thread (with threads as pthreads, kernels
// with a barrier a layer spent most of their time in the kernel).
//
// The fibers run in turn, thread 0 first between one barrier and the
// next, thread blockDim−1 first between that one and the one after, and so
// on, so that a barrier missing between a write and a read by another
// thread shows in one of the two orders.
//
// No multiply-add fused, whatever the target (CGO_CFLAGS may ask for one
// with FMA): the emulator's rounding is IEEE's, operation by operation, so
// its results are the same on every amd64 host (TestKernelBitsPinned).
#pragma GCC optimize("fp-contract=off")
#pragma STDC FP_CONTRACT OFF
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif

typedef struct {
  unsigned x, y, z;
} rs_dim3;
static rs_dim3 threadIdx, blockIdx, blockDim, gridDim;

static void rs_syncthreads(void);

#define KERNEL void
#define DEVICE static inline
#define __shared__ static
#define __syncthreads() rs_syncthreads()
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

// A fiber: one thread of the block being run.
// Each fiber's stack: the kernels' locals are registers' worth (a tile of
// 16 sums, a few indices), far below this.
#define FIBER_STACK (64 << 10)

static char* stacks;           // MAX_THREADS stacks, made at the first launch
static caller cur_fn;          // the kernel being run
static const uint64_t* cur_args;
static int done[MAX_THREADS];  // fiber t has returned from the kernel

#if defined(__x86_64__)
// On x86-64 a switch saves the callee-saved registers, MXCSR and the x87
// control word on the stack it leaves and restores them from the one it
// enters: a few nanoseconds, where ucontext's swapcontext also makes a
// system call (the signal mask) each time.
static void* sp[MAX_THREADS];  // a waiting fiber's stack pointer
static void* sched_sp;         // the scheduler's, while a fiber runs
void rs_switch(void** save, void* to);
__asm__(
    ".text\n"
    ".p2align 4\n"
    ".type rs_switch, @function\n"
    "rs_switch:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  subq $8, %rsp\n  stmxcsr (%rsp)\n  fnstcw 4(%rsp)\n"
    "  movq %rsp, (%rdi)\n  movq %rsi, %rsp\n"
    "  ldmxcsr (%rsp)\n  fldcw 4(%rsp)\n  addq $8, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
    "  ret\n"
    ".size rs_switch, .-rs_switch\n");

static void rs_syncthreads(void) { rs_switch(&sp[threadIdx.x], sched_sp); }

static void fiber_entry(void) {
  cur_fn(cur_args);
  done[threadIdx.x] = 1;
  rs_switch(&sp[threadIdx.x], sched_sp);  // never resumed
}

// fiber_make lays out fiber t's stack as rs_switch leaves one, so that
// switching to it enters fiber_entry (with the stack aligned as a call
// would: rsp + 8 a multiple of 16).
static int fiber_make(unsigned t) {
  uint64_t* top = (uint64_t*)(stacks + (size_t)(t + 1) * FIBER_STACK);
  uint64_t* p = top - 9;
  uint32_t csr;
  uint16_t cw;
  __asm__ volatile("stmxcsr %0" : "=m"(csr));
  __asm__ volatile("fnstcw %0" : "=m"(cw));
  memset(p, 0, 9 * sizeof *p);
  memcpy(p, &csr, 4);
  memcpy((char*)p + 4, &cw, 2);
  p[7] = (uint64_t)(uintptr_t)fiber_entry;  // rs_switch's ret; p[8]: fiber_entry's "return address"
  sp[t] = p;
  return 0;
}

static int fiber_run(unsigned t) {
  rs_switch(&sched_sp, sp[t]);
  return 0;
}
#else
// Elsewhere, ucontext.
static ucontext_t ctx[MAX_THREADS], scheduler;

static void rs_syncthreads(void) { swapcontext(&ctx[threadIdx.x], &scheduler); }

static void fiber_entry(void) {
  cur_fn(cur_args);
  done[threadIdx.x] = 1;  // then back to scheduler (uc_link)
}

static int fiber_make(unsigned t) {
  if (getcontext(&ctx[t]) != 0) return -4;
  ctx[t].uc_stack.ss_sp = stacks + (size_t)t * FIBER_STACK;
  ctx[t].uc_stack.ss_size = FIBER_STACK;
  ctx[t].uc_link = &scheduler;
  makecontext(&ctx[t], fiber_entry, 0);
  return 0;
}

static int fiber_run(unsigned t) { return swapcontext(&scheduler, &ctx[t]) != 0 ? -4 : 0; }
#endif

// run_block runs block blockIdx.x: its fibers in turn until each has
// ended, in alternating order between barriers. −4: a fiber could not be
// made.
static int run_block(unsigned block) {
  for (unsigned t = 0; t < block; t++) {
    done[t] = 0;
    if (fiber_make(t) != 0) return -4;
  }
  for (unsigned phase = 0;; phase++) {
    unsigned alive = 0;
    for (unsigned i = 0; i < block; i++) {
      unsigned t = phase & 1 ? block - 1 - i : i;
      if (done[t]) continue;
      threadIdx.x = t;
      if (fiber_run(t) != 0) return -4;
      alive += !done[t];
    }
    if (!alive) return 0;
  }
}

// rs_launch runs kernel name on grid blocks of block threads: 0, or −1 for
// an unknown kernel, −2 for a wrong argument count, −3 for a bad shape, −4
// when the threads cannot be made. Not reentrant (the callers hold a lock
// or a single thread).
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
  if (!stacks && !(stacks = malloc((size_t)MAX_THREADS * FIBER_STACK))) return -4;
  gridDim.x = (unsigned)grid;
  gridDim.y = gridDim.z = 1;
  blockDim.x = (unsigned)block;
  blockDim.y = blockDim.z = 1;
  cur_fn = fn;
  cur_args = args;
  for (unsigned b = 0; b < gridDim.x; b++) {
    blockIdx.x = b;
    int rc = run_block((unsigned)block);
    if (rc != 0) return rc;
  }
  return 0;
}

void* rs_ptr(uintptr_t p) { return (void*)p; }

// rs_nargs is the number of arguments of kernel name, or −1: no such kernel.
int rs_nargs(const char* name) {
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    if (strcmp(table[i].name, name) == 0) return table[i].nargs;
  }
  return -1;
}
