// Kernels of reluscope's cuda engine: the elementwise and reduction work
// around cuBLAS's matrix products (bias + ReLU, the MSE residual, the ReLU
// mask, Adam, the gather of a batch from the training set on the device, and
// the evaluation's error reductions).
//
// kernels.ptx is generated from this file (see gen.sh; `go generate
// ./backend/cuda` runs it) for compute_52, which every GPU since Maxwell runs:
// the driver JIT-compiles the PTX for the GPU at hand. No nvcc is needed to
// build or run reluscope.
//
// Conventions the Go side relies on (and kernels_test.go checks in the PTX):
//   - every kernel is extern "C" and named <op>_f64 or <op>_f32;
//   - every parameter is 8 bytes (a pointer, long long or double): gorgonia's
//     cu copies 8 bytes per kernel argument;
//   - scalars are passed as double and converted to T inside;
//   - matrices are row-major, as in the native engine.
#include <math.h>

typedef long long i64;

// One thread per element, grid-stride.
#define FOR_EACH(i, n) \
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)

// z[i][o] = relu?(z[i][o] + b[o]) for an n×out matrix z.
template <typename T>
__device__ void bias_act(T* z, const T* b, i64 n, i64 out, i64 relu) {
  FOR_EACH(k, n * out) {
    T v = z[k] + b[k % out];
    z[k] = (relu && !(v > 0)) ? T(0) : v;
  }
}

// da[k] = a[k] > 0 ? da[k] : 0: the ReLU's mask on the gradient of the layer
// below.
template <typename T>
__device__ void relu_mask(T* da, const T* a, i64 len) {
  FOR_EACH(k, len) {
    if (!(a[k] > 0)) da[k] = T(0);
  }
}

// xb[k][j] = x[idx[lo+k]][j], yb[k] = y[idx[lo+k]] for k < n: a batch of the
// training set (held on the device, already scaled) in the epoch's order.
template <typename T>
__device__ void gather(T* xb, T* yb, const T* x, const T* y, const int* idx, i64 lo, i64 n, i64 d) {
  FOR_EACH(k, n * d) {
    i64 r = k / d, j = k - r * d;
    i64 src = idx[lo + r];
    xb[k] = x[src * d + j];
    if (j == 0) yb[r] = y[src];
  }
}

// The mean squared error of the n outputs against y, in one block: dz[i] =
// (2/n)·(out[i] − y[i]) (the gradient at the output), gb = Σ dz (the output
// bias's gradient), and loss[slot] += Σ (out − y)² (in double, summed in a
// fixed order). One block of MSE_THREADS threads.
#define MSE_THREADS 256
template <typename T>
__device__ void mse(const T* out, const T* y, T* dz, T* gb, double* loss, i64 slot, i64 n, double c) {
  __shared__ double sq[MSE_THREADS];
  __shared__ T sd[MSE_THREADS];
  double s = 0;
  T g = 0;
  for (i64 i = threadIdx.x; i < n; i += blockDim.x) {
    T r = out[i] - y[i];
    T d = T(c) * r;
    dz[i] = d;
    s += double(r) * double(r);
    g += d;
  }
  sq[threadIdx.x] = s;
  sd[threadIdx.x] = g;
  __syncthreads();
  for (int h = blockDim.x / 2; h > 0; h /= 2) {
    if (threadIdx.x < h) {
      sq[threadIdx.x] += sq[threadIdx.x + h];
      sd[threadIdx.x] += sd[threadIdx.x + h];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    loss[slot] += sq[0];
    gb[0] = sd[0];
  }
}

// PyTorch's Adam (ε added to √v̂) with step constants from the host:
// c1 = 1/(1−β1ᵗ), c2 = 1/(1−β2ᵗ).
template <typename T>
__device__ void adam(T* p, const T* g, T* m, T* v, i64 n, double b1, double b2, double eps, double lr, double c1, double c2) {
  T tb1 = T(b1), tob1 = T(1) - T(b1), tb2 = T(b2), tob2 = T(1) - T(b2);
  FOR_EACH(i, n) {
    T gi = g[i];
    T mi = tb1 * m[i] + tob1 * gi;
    T vi = tb2 * v[i] + (tob2 * gi) * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] + (T(-lr) * (mi * T(c1))) / (sqrt(vi * T(c2)) + T(eps));
  }
}

// Error statistics of e = ys − yt over n points (the teacher's yt always in
// double), one record of four doubles
// per block: Σ|e|, Σe², max |e| and the index of the first point at which
// it is reached (a NaN error counts as the largest). The host sums the
// blocks' records in block order. EVAL_THREADS threads per block.
#define EVAL_THREADS 256
__device__ bool beats(double a, i64 ia, double b, i64 ib) {
  bool na = isnan(a), nb = isnan(b);
  if (na != nb) return na;
  if (a != b && !na) return a > b;
  return ia < ib;
}

template <typename T>
__device__ void err_stats(const T* ys, const double* yt, double* rec, i64 n) {
  __shared__ double s1[EVAL_THREADS], s2[EVAL_THREADS], mx[EVAL_THREADS];
  __shared__ i64 at[EVAL_THREADS];
  double a1 = 0, a2 = 0, m = -1;
  i64 im = -1;
  FOR_EACH(i, n) {
    double e = double(ys[i]) - double(yt[i]);
    double ae = fabs(e);
    a1 += ae;
    a2 += e * e;
    if (im < 0 || beats(ae, i, m, im)) {
      m = ae;
      im = i;
    }
  }
  int t = threadIdx.x;
  s1[t] = a1;
  s2[t] = a2;
  mx[t] = m;
  at[t] = im;
  __syncthreads();
  for (int h = blockDim.x / 2; h > 0; h /= 2) {
    if (t < h) {
      s1[t] += s1[t + h];
      s2[t] += s2[t + h];
      if (at[t + h] >= 0 && (at[t] < 0 || beats(mx[t + h], at[t + h], mx[t], at[t]))) {
        mx[t] = mx[t + h];
        at[t] = at[t + h];
      }
    }
    __syncthreads();
  }
  if (t == 0) {
    rec[4 * blockIdx.x + 0] = s1[0];
    rec[4 * blockIdx.x + 1] = s2[0];
    rec[4 * blockIdx.x + 2] = mx[0];
    rec[4 * blockIdx.x + 3] = double(at[0]);
  }
}

// y[i] = T(x[i]) · scale: inputs converted and scaled on the device.
template <typename T>
__device__ void scale_in(T* y, const double* x, i64 n, double scale) {
  FOR_EACH(i, n) { y[i] = T(x[i]) * T(scale); }
}

#define INSTANTIATE(T, S)                                                                             \
  extern "C" __global__ void bias_act_##S(T* z, const T* b, i64 n, i64 out, i64 relu) {             \
    bias_act<T>(z, b, n, out, relu);                                                                 \
  }                                                                                                  \
  extern "C" __global__ void relu_mask_##S(T* da, const T* a, i64 len) { relu_mask<T>(da, a, len); } \
  extern "C" __global__ void gather_##S(T* xb, T* yb, const T* x, const T* y, const int* idx, i64 lo, \
                                        i64 n, i64 d) {                                              \
    gather<T>(xb, yb, x, y, idx, lo, n, d);                                                          \
  }                                                                                                  \
  extern "C" __global__ void mse_##S(const T* out, const T* y, T* dz, T* gb, double* loss, i64 slot, \
                                     i64 n, double c) {                                              \
    mse<T>(out, y, dz, gb, loss, slot, n, c);                                                        \
  }                                                                                                  \
  extern "C" __global__ void adam_##S(T* p, const T* g, T* m, T* v, i64 n, double b1, double b2,     \
                                      double eps, double lr, double c1, double c2) {                 \
    adam<T>(p, g, m, v, n, b1, b2, eps, lr, c1, c2);                                                 \
  }                                                                                                  \
  extern "C" __global__ void err_stats_##S(const T* ys, const double* yt, double* rec, i64 n) {     \
    err_stats<T>(ys, yt, rec, n);                                                                    \
  }                                                                                                  \
  extern "C" __global__ void scale_in_##S(T* y, const double* x, i64 n, double scale) {             \
    scale_in<T>(y, x, n, scale);                                                                     \
  }

INSTANTIATE(double, f64)
INSTANTIATE(float, f32)
