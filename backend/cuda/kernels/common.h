// What the kernels of both types share; included by kernels.cu (CUDA) and
// host.c (C on the host), which define KERNEL and DEVICE first.

typedef long long i64;
#define MAX_THREADS 1024
// The fused step's staging of a layer's weights in shared memory (20 KiB
// in double), beside its reductions' 16 KiB.
#define WS_ELEMS 2560
// The widest layer (and the most inputs) eval_pair takes.
#define EVAL_PAIR_W 64
// The block size of err_stats and eval_pair (the Go side's evalThreads):
// their reductions' shared arrays hold this many records.
#define EVAL_THREADS 256
// eval_pair's activations of a group of points, in shared memory: two
// buffers of EVAL_ACT doubles (16 KiB each), a point's row EVAL_PAIR_W + 1
// wide at most, so groups of at least 31 points.
#define EVAL_ACT 2048
// The side of the register tiles of the matrix products in rows_grad and
// eval_pair: each thread computes TILE × TILE outputs from TILE + TILE
// operands a step of the sum, so that a multiply-add costs half a load
// (TILE = 1 would cost two). UNROLL, defined by the includer, unrolls the
// loops over a tile, whose entries then live in registers.
#define TILE 4

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

// tile_count is the number of TILE×TILE tiles of an R×C product.
DEVICE unsigned tile_count(unsigned R, unsigned C) { return ((R + TILE - 1) / TILE) * ((C + TILE - 1) / TILE); }

// tile_at places tile k of an R×C product split into TILE×TILE tiles: its
// rows ti, ti + nr, ti + 2·nr, … (nr = ⌈R/TILE⌉) into r and its columns tj,
// tj + nc, … (nc = ⌈C/TILE⌉) into c — interleaved, so that neighbouring
// tiles take neighbouring rows or columns, which coalesces their loads and
// stores. Consecutive k take consecutive column tiles when cfirst, else
// consecutive row tiles. A row or column past the product's edge repeats
// the tile's first (its sums are computed and not stored: see in_tile).
// There are tile_count(R, C) of them.
DEVICE void tile_at(unsigned k, unsigned R, unsigned C, int cfirst, unsigned* r, unsigned* c) {
  const unsigned nr = (R + TILE - 1) / TILE, nc = (C + TILE - 1) / TILE;
  unsigned ti, tj;
  if (cfirst) {
    ti = k / nc;
    tj = k - ti * nc;
  } else {
    tj = k / nr;
    ti = k - tj * nr;
  }
  UNROLL for (int j = 0; j < TILE; j++) {
    r[j] = ti + j * nr < R ? ti + j * nr : ti;
    c[j] = tj + j * nc < C ? tj + j * nc : tj;
  }
}

// in_tile says whether entry (a, b) of a tile of tile_at's is its own
// output (not a repeat past the product's edge).
DEVICE int in_tile(const unsigned* r, const unsigned* c, int a, int b) {
  return (a == 0 || r[a] != r[0]) && (b == 0 || c[b] != c[0]);
}

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
