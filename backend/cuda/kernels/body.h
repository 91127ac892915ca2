// The kernels for one type T (a macro: double or float), each named S(op):
// included twice by common.h. See kernels.cu for the conventions.

// RELU is max(v, 0) as the native engine and PyTorch take it: a NaN stays
// NaN (a diverged or NaN input must reach the error statistics), −0 and the
// negatives become +0.
#define RELU(v) ((v) > 0 || (v) != (v) ? (v) : (T)0)

// z[i][o] = relu?(z[i][o] + b[o]) for an n×out matrix z.
KERNEL S(bias_act)(T* z, const T* b, i64 n, i64 out, i64 relu) {
  if (FITS32(n * out)) {
    unsigned o32 = (unsigned)out;
    FOR_EACH32(k, n * out) {
      T v = z[k] + b[k % o32];
      z[k] = relu ? RELU(v) : v;
    }
    return;
  }
  FOR_EACH(k, n * out) {
    T v = z[k] + b[k % out];
    z[k] = relu ? RELU(v) : v;
  }
}

// da[k] = a[k] > 0 ? da[k] : 0: the ReLU's mask on the gradient of the layer
// below.
KERNEL S(relu_mask)(T* da, const T* a, i64 len) {
  FOR_EACH(k, len) {
    if (!(a[k] > 0)) da[k] = (T)0;
  }
}

// xb[k][j] = x[idx[lo+k]][j], yb[k] = y[idx[lo+k]] for k < n: a batch of the
// training set (held on the device, already scaled) in the epoch's order.
KERNEL S(gather)(T* xb, T* yb, const T* x, const T* y, const int* idx, i64 lo, i64 n, i64 d) {
  if (FITS32(n * d)) {
    unsigned d32 = (unsigned)d;
    FOR_EACH32(k, n * d) {
      unsigned r = k / d32, j = k - r * d32;
      i64 src = idx[lo + r];
      xb[k] = x[src * d + j];
      if (j == 0) yb[r] = y[src];
    }
    return;
  }
  FOR_EACH(k, n * d) {
    i64 r = k / d, j = k - r * d;
    i64 src = idx[lo + r];
    xb[k] = x[src * d + j];
    if (j == 0) yb[r] = y[src];
  }
}

// The mean squared error of the n outputs against y, by one block: dz[i] =
// c·(out[i] − y[i]) with c = 2/n (the gradient at the output), gb = Σ dz
// (the output bias's gradient), and loss[slot] += Σ (out − y)² in double.
// Thread 0 writes gb and the loss after the block's last barrier.
DEVICE void S(mse_block)(const T* out, const T* y, T* dz, T* gb, double* loss, i64 slot, i64 n, double c) {
  __shared__ double sq[MAX_THREADS];
  __shared__ T sd[MAX_THREADS];
  double s = 0;
  T g = 0;
  FOR_BLOCK(i, n) {
    T r = out[i] - y[i];
    T d = (T)c * r;
    dz[i] = d;
    s += (double)r * (double)r;
    g += d;
  }
  int t = threadIdx.x;
  sq[t] = s;
  sd[t] = g;
  __syncthreads();
  for (int h = blockDim.x / 2; h > 0; h /= 2) {
    if (t < h) {
      sq[t] += sq[t + h];
      sd[t] += sd[t + h];
    }
    __syncthreads();
  }
  if (t == 0) {
    loss[slot] += sq[0];
    gb[0] = sd[0];
  }
}

// mse is mse_block as a kernel of one block.
KERNEL S(mse)(const T* out, const T* y, T* dz, T* gb, double* loss, i64 slot, i64 n, double c) {
  S(mse_block)(out, y, dz, gb, loss, slot, n, c);
}

// PyTorch's Adam (ε added to √v̂) over n parameters, with step constants
// from the host: c1 = 1/(1−β1ᵗ), c2 = 1/(1−β2ᵗ).
DEVICE void S(adam_range)(T* p, const T* g, T* m, T* v, i64 lo, i64 n, i64 stride, double b1, double b2,
                          double eps, double lr, double c1, double c2) {
  T tb1 = (T)b1, tob1 = (T)1 - (T)b1, tb2 = (T)b2, tob2 = (T)1 - (T)b2;
  for (i64 i = lo; i < n; i += stride) {
    T gi = g[i];
    T mi = tb1 * m[i] + tob1 * gi;
    T vi = tb2 * v[i] + (tob2 * gi) * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] + ((T)(-lr) * (mi * (T)c1)) / (SQRT(vi * (T)c2) + (T)eps);
  }
}

KERNEL S(adam)(T* p, const T* g, T* m, T* v, i64 n, double b1, double b2, double eps, double lr, double c1,
               double c2) {
  S(adam_range)(p, g, m, v, (i64)blockIdx.x * blockDim.x + threadIdx.x, n, (i64)blockDim.x * gridDim.x, b1, b2,
                eps, lr, c1, c2);
}

// stats_block reduces the block's threads' error statistics (Σ|e|, Σe², max
// |e| and its first index, −1 for none) and writes one record of four doubles
// at rec[4·blockIdx.x].
DEVICE void S(stats_block)(double a1, double a2, double m, i64 im, double* rec) {
  __shared__ double s1[EVAL_THREADS], s2[EVAL_THREADS], mx[EVAL_THREADS];
  __shared__ i64 at[EVAL_THREADS];
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
    rec[4 * blockIdx.x + 3] = (double)at[0];
  }
}

// Error statistics of e = ys − yt over n points (the teacher's yt in double),
// one record of four doubles per block: Σ|e|, Σe², max |e| and the index of
// the first point at which it is reached (a NaN error counts as the largest;
// −1 for a block without points). The host sums the records in block order.
KERNEL S(err_stats)(const T* ys, const double* yt, double* rec, i64 n) {
  double a1 = 0, a2 = 0, m = -1;
  i64 im = -1;
  FOR_EACH(i, n) stats_add((double)ys[i] - yt[i], i, &a1, &a2, &m, &im);
  S(stats_block)(a1, a2, m, im, rec);
}

// tile_sums is one register tile of a product: s[a][b] = Σ_{k<K}
// X[r[a]·xr + k·xk] · Y[c[b]·yc + k·yk], each sum over k in order, so the
// result of each entry is that of the plain loop bit for bit (IEEE
// multiplication commutes). Each step of k loads TILE values of X and
// TILE of Y into registers for TILE² multiply-adds.
DEVICE void S(tile_sums)(T s[TILE][TILE], const T* X, const unsigned* r, unsigned xr, unsigned xk, const T* Y,
                         const unsigned* c, unsigned yc, unsigned yk, unsigned K) {
  unsigned xo[TILE], yo[TILE];
  UNROLL for (int a = 0; a < TILE; a++) {
    xo[a] = r[a] * xr;
    yo[a] = c[a] * yc;
    UNROLL for (int b = 0; b < TILE; b++) s[a][b] = 0;
  }
  for (unsigned k = 0; k < K; k++) {
    T xv[TILE], yv[TILE];
    UNROLL for (int a = 0; a < TILE; a++) {
      xv[a] = X[xo[a] + k * xk];
      yv[a] = Y[yo[a] + k * yk];
    }
    UNROLL for (int a = 0; a < TILE; a++) UNROLL for (int b = 0; b < TILE; b++) s[a][b] += xv[a] * yv[b];
  }
}

// layer_tiles is one dense layer on n rows by the threads of a block:
// z[i·zs + o] = act(Σ_q a[i·as + q]·W[o·ws + q] + B[o]) for i < n, o < out,
// act the ReLU when relu, each sum over q in order (as the plain loop), in
// register tiles; consecutive threads take consecutive output tiles when
// cfirst, else consecutive row tiles.
DEVICE void S(layer_tiles)(const T* a, unsigned as, unsigned in, const T* W, unsigned ws, const T* B, T* z,
                           unsigned zs, unsigned n, unsigned out, int relu, int cfirst) {
  for (unsigned k = threadIdx.x; k < tile_count(n, out); k += blockDim.x) {
    unsigned r[TILE], c[TILE];
    T s[TILE][TILE];
    tile_at(k, n, out, cfirst, r, c);
    S(tile_sums)(s, a, r, as, 1, W, c, ws, 1, in);
    UNROLL for (int i = 0; i < TILE; i++) UNROLL for (int j = 0; j < TILE; j++) {
      if (in_tile(r, c, i, j)) {
        T v = s[i][j] + B[c[j]];
        z[r[i] * zs + c[j]] = relu ? RELU(v) : v;
      }
    }
  }
}

// net_group evaluates a network (sizes sz, L layers, parameters p) on a
// group of np points held in buf (T, a point's row sz[0] + 1 wide) by the
// block's threads, layer by layer between buf and buf + EVAL_ACT, each
// output's sum in the order of the plain loop; the outputs, as double, go
// to y[0 … np−1]. Every thread of the block calls it.
DEVICE void S(net_group)(T* buf, const i64* sz, i64 L, const T* p, unsigned np, double* y) {
  T* a = buf;
  T* z = buf + EVAL_ACT;
  i64 off = 0;
  for (i64 l = 0; l < L; l++) {
    const unsigned in = (unsigned)sz[l], out = (unsigned)sz[l + 1];
    const T* W = p + off;
    // Consecutive threads take consecutive points: their loads of W[o][q]
    // are one address, their rows of a are an odd stride apart (distinct
    // banks).
    S(layer_tiles)(a, in + 1, in, W, in, W + (i64)in * out, z, out + 1, np, out, l + 1 < L, 0);
    __syncthreads();
    T* tmp = a;
    a = z;
    z = tmp;
    off += (i64)in * out + out;
  }
  FOR_BLOCK(i, np) y[i] = (double)a[i * (sz[L] + 1)];
  __syncthreads();
}

// eval_pair is Compare for narrow networks in one kernel: the block takes
// its points (x: n rows of d, staged for the student: scaled; the
// teacher's scale is folded into its first layer) in groups, evaluates the
// student (sizes ss, Ls layers, parameters sp in T) and the teacher (ts, Lt,
// tp in double) on each group with the activations in shared memory, every
// layer at most EVAL_PAIR_W wide, and accumulates the error's statistics,
// reduced per block as err_stats's: no activations stored, so pieces can be
// as large as the points' buffer, and 2 launches a piece instead of ~4 a
// layer. Blocks of at most EVAL_THREADS threads.
//
// The block's points are those of a grid-stride loop — slot s is point
// (blockIdx + ⌊s/blockDim⌋·gridDim)·blockDim + s mod blockDim — and thread
// t counts the slots t, t + blockDim, … in order, so the statistics are
// those of one point a thread, bit for bit. A group is up to EVAL_THREADS
// consecutive slots, as many as the activations' buffers hold.
KERNEL S(eval_pair)(const T* x, i64 n, i64 d, const i64* ss, i64 Ls, const T* sp, const i64* ts, i64 Lt,
                    const double* tp, double* rec) {
  __shared__ double buf[2 * EVAL_ACT];
  __shared__ double ysv[EVAL_THREADS], ytv[EVAL_THREADS];
  const unsigned t = threadIdx.x, ud = (unsigned)d, bd = blockDim.x;
  i64 wmax = d;
  for (i64 l = 1; l <= Ls; l++) wmax = ss[l] > wmax ? ss[l] : wmax;
  for (i64 l = 1; l <= Lt; l++) wmax = ts[l] > wmax ? ts[l] : wmax;
  unsigned group = EVAL_ACT / (unsigned)(wmax + 1);
  if (group > EVAL_THREADS) group = EVAL_THREADS;
  // The block's valid slots: [0, slots).
  const i64 chunks = (n + bd - 1) / bd;
  i64 slots = 0;
  if ((i64)blockIdx.x < chunks) {
    const i64 last = (chunks - 1 - blockIdx.x) / gridDim.x;  // the block's last chunk
    const i64 base = ((i64)blockIdx.x + last * gridDim.x) * bd;
    slots = last * bd + (n - base < bd ? n - base : bd);
  }
#define SLOT_POINT(s) (((i64)blockIdx.x + (s) / bd * gridDim.x) * bd + (s) % bd)
  double a1 = 0, a2 = 0, m = -1;
  i64 im = -1;
  for (i64 s0 = 0; s0 < slots; s0 += group) {
    const unsigned np = slots - s0 < group ? (unsigned)(slots - s0) : group;
    for (unsigned k = t; k < np * ud; k += bd) {
      unsigned i = k / ud, j = k - i * ud;
      ((T*)buf)[i * (ud + 1) + j] = x[SLOT_POINT(s0 + i) * d + j];
    }
    __syncthreads();
    S(net_group)((T*)buf, ss, Ls, sp, np, ysv);
    // The teacher in double on the same staged points (net_group_f64: the
    // double instance, included first).
    for (unsigned k = t; k < np * ud; k += bd) {
      unsigned i = k / ud, j = k - i * ud;
      buf[i * (ud + 1) + j] = (double)x[SLOT_POINT(s0 + i) * d + j];
    }
    __syncthreads();
    net_group_f64(buf, ts, Lt, tp, np, ytv);
    for (unsigned i = (t + bd - (unsigned)(s0 % bd)) % bd; i < np; i += bd) {
      stats_add(ysv[i] - ytv[i], SLOT_POINT(s0 + i), &a1, &a2, &m, &im);
    }
    __syncthreads();
  }
#undef SLOT_POINT
  S(stats_block)(a1, a2, m, im, rec);
}

// rows_grad is the gradient of a narrow network's MSE over rows r0 … r0+n−1
// of a batch, by one block: the rows gathered from the training set through
// idx when idx is not null (rows order[lo + r0 …]), else already in act and
// yb; forward, the MSE (loss[slot] += Σ (out − y)², dz scaled by c), the
// gradient into g. sizes holds the L+1 layer sizes; p and g are laid out W0
// b0 W1 b1 …; act holds layer l's input at maxN·(sizes[0]+…+sizes[l−1]);
// d1, d2 hold maxN × (widest layer); each block's rows are its own part of
// them.
DEVICE void S(rows_grad)(const i64* sizes, i64 L, const T* p, T* g, T* act, i64 maxN, T* d1, T* d2, const T* xs,
                         const T* ys, const int* idx, i64 lo, T* yb, i64 r0, i64 n, double* loss, i64 slot,
                         double c) {
  const int t = threadIdx.x;
  const i64 d = sizes[0];
  __shared__ T ws[WS_ELEMS];
  if (idx) {
    const unsigned ud = (unsigned)d;
    for (unsigned k = t; k < (unsigned)n * ud; k += blockDim.x) {
      unsigned r = k / ud, j = k - r * ud;
      i64 src = idx[lo + r0 + r];
      act[r0 * d + k] = xs[src * d + j];
      if (j == 0) yb[r0 + r] = ys[src];
    }
    __syncthreads();
  }
  // Forward: layer l's output into act at aoff + maxN·in. A layer whose
  // weights fit in WS_ELEMS is first staged in shared memory with an odd
  // row stride (in + 1), so that the threads of a warp, which take
  // consecutive outputs o of one row i, read W[o][q] from distinct banks
  // instead of 32 cache lines `in` values apart; each sum still runs over q
  // in order, so the results are those of the global loads bit for bit.
  // Indices are 32-bit (the fused path's n·width is far below 2³¹).
  i64 woff = 0, aoff = 0;
  for (i64 l = 0; l < L; l++) {
    const unsigned in = (unsigned)sizes[l], out = (unsigned)sizes[l + 1];
    const T* W = p + woff;
    const T* B = W + (i64)in * out;
    const T* a = act + aoff + r0 * in;
    T* z = act + aoff + maxN * in + r0 * out;
    const int relu = l + 1 < L;
    const int staged = (i64)out * (in + 1) <= WS_ELEMS;
    if (staged) {
      for (unsigned k = t; k < in * out; k += blockDim.x) {
        unsigned o = k / in, q = k - o * in;
        ws[o * (in + 1) + q] = W[k];
      }
      __syncthreads();
    }
    // Register tiles, consecutive threads on consecutive output tiles:
    // their rows of a warp's loads of W[o][q] are consecutive rows of the
    // staged weights (distinct banks), their loads of a few rows of a.
    S(layer_tiles)(a, in, in, staged ? ws : W, staged ? in + 1 : in, B, z, out, (unsigned)n, out, relu, 1);
    __syncthreads();
    woff += (i64)in * out + out;
    aoff += maxN * in;
  }
  // The loss and the gradient at the output (n×1 at act + aoff) into d1;
  // the output bias's gradient is the last parameter's.
  S(mse_block)(act + aoff + r0, yb + r0, d1 + r0, g + woff - 1, loss, slot, n, c);
  // Backward, from the last layer down: cur holds dz (n×out) of layer l.
  T* curB = d1;
  T* nxtB = d2;
  for (i64 l = L - 1; l >= 0; l--) {
    const i64 in = sizes[l], out = sizes[l + 1];
    woff -= in * out + out;
    aoff -= maxN * in;
    const T* W = p + woff;
    T* gW = g + woff;
    const T* a = act + aoff + r0 * in;
    const T* cur = curB + r0 * out;  // these rows' part of dz
    T* nxt = nxtB + r0 * in;
    const unsigned uin = (unsigned)in, uout = (unsigned)out, un = (unsigned)n;
    // The weight gradient gW[o][q] = Σ_i dz[i][o]·a[i][q] in register
    // tiles, each sum over i in order; consecutive threads on consecutive
    // q (coalesced loads of a and stores of gW).
    for (unsigned k = t; k < tile_count(uout, uin); k += blockDim.x) {
      unsigned o[TILE], q[TILE];
      T s[TILE][TILE];
      tile_at(k, uout, uin, 1, o, q);
      S(tile_sums)(s, cur, o, 1, uout, a, q, 1, uin, un);
      UNROLL for (int i = 0; i < TILE; i++) UNROLL for (int j = 0; j < TILE; j++) {
        if (in_tile(o, q, i, j)) gW[o[i] * uin + q[j]] = s[i][j];
      }
    }
    if (l == 0) break;
    // dz of the layer below: dz·W masked by its ReLU, whose column sums
    // are that layer's bias gradient (the in values before woff). Register
    // tiles of rows i and inputs q, each sum over o in order; a masked
    // entry's sum is computed and dropped.
    for (unsigned k = t; k < tile_count(un, uin); k += blockDim.x) {
      unsigned i[TILE], q[TILE];
      T s[TILE][TILE];
      tile_at(k, un, uin, 1, i, q);
      S(tile_sums)(s, cur, i, uout, 1, W, q, 1, uin, uout);
      UNROLL for (int a2 = 0; a2 < TILE; a2++) UNROLL for (int j = 0; j < TILE; j++) {
        if (in_tile(i, q, a2, j)) {
          const unsigned k2 = i[a2] * uin + q[j];
          nxt[k2] = a[k2] > 0 ? s[a2][j] : 0;
        }
      }
    }
    __syncthreads();
    // The bias gradient: column sums of nxt (n×in), by every thread of the
    // block: thread t sums column t % in over the rows r ≡ t / in (mod
    // blockDim / in), into shared memory; then the column's partial sums
    // are added in order. Deterministic (a fixed order for each shape).
    {
      const unsigned groups = blockDim.x / uin;  // ≥ 1 when in ≤ blockDim
      if (groups >= 2 && uin * groups <= MAX_THREADS) {
        __shared__ T part[MAX_THREADS];
        const unsigned q = t % uin, g0 = t / uin;
        T s = 0;
        if (g0 < groups)
          for (unsigned i = g0; i < un; i += groups) s += nxt[i * uin + q];
        if (g0 < groups) part[g0 * uin + q] = s;
        __syncthreads();
        if (t < uin) {
          T c = 0;
          for (unsigned r = 0; r < groups; r++) c += part[r * uin + t];
          g[woff - in + t] = c;
        }
      } else {
        FOR_BLOCK(q, in) {
          T s = 0;
          for (i64 i = 0; i < n; i++) s += nxt[i * in + q];
          g[woff - in + q] = s;
        }
      }
    }
    __syncthreads();
    T* tmp = curB;
    curB = nxtB;
    nxtB = tmp;
  }
}

// step_small takes whole steps of a narrow network in one block (rows_grad
// on all the batch's rows, then, when adam is not 0, Adam on p, m, v). One
// launch instead of about 4 per layer: a narrow network's step is bound by
// launches, not arithmetic. With steps > 1 (idx not null, adam on) it takes
// that many steps, step s on rows order[lo + s·n …] with Adam's rate and
// corrections tab[3s], tab[3s+1], tab[3s+2] (the host's, so that the steps
// equal the same steps launched one by one, bit for bit): an epoch's steps
// in one launch, with neither a launch nor a handoff to the host between
// them.
KERNEL S(step_small)(const i64* sizes, i64 L, T* p, T* g, T* m, T* v, T* act, i64 maxN, T* d1, T* d2, const T* xs,
                     const T* ys, const int* idx, i64 lo0, T* yb, i64 n, double* loss, i64 slot, double c, double b1,
                     double b2, double eps, double lr0, double c10, double c20, i64 adam, i64 steps,
                     const double* tab) {
  for (i64 step = 0; step < steps; step++) {
    double lr = lr0, c1 = c10, c2 = c20;
    if (tab) {
      lr = tab[3 * step];
      c1 = tab[3 * step + 1];
      c2 = tab[3 * step + 2];
    }
    S(rows_grad)(sizes, L, p, g, act, maxN, d1, d2, xs, ys, idx, lo0 + step * n, yb, 0, n, loss, slot, c);
    if (adam) {
      __syncthreads();
      i64 np = 0;
      for (i64 l = 0; l < L; l++) np += sizes[l] * sizes[l + 1] + sizes[l + 1];
      S(adam_range)(p, g, m, v, threadIdx.x, np, blockDim.x, b1, b2, eps, lr, c1, c2);
    }
    // The next step reads the parameters Adam wrote and reuses act and yb.
    __syncthreads();
  }
}

// step_multi is a step's gradient for large batches of narrow networks:
// block b takes rows b·rows … of the n (rows_grad) and writes its partial
// gradient at gpart + b·params and its Σ (out − y)² at lpart[b]; reduce_adam
// then sums them in block order. No atomics: the sums' order is fixed.
KERNEL S(step_multi)(const i64* sizes, i64 L, const T* p, T* gpart, i64 params, T* act, i64 maxN, T* d1, T* d2,
                     const T* xs, const T* ys, const int* idx, i64 lo, T* yb, i64 n, double* lpart, double c,
                     i64 rows) {
  const i64 r0 = (i64)blockIdx.x * rows;
  if (r0 >= n) return;                          // the whole block: no barrier is left half-met
  if (threadIdx.x == 0) lpart[blockIdx.x] = 0;  // rows_grad's thread 0 adds to it after its barriers
  S(rows_grad)(sizes, L, p, gpart + (i64)blockIdx.x * params, act, maxN, d1, d2, xs, ys, idx, lo, yb, r0,
               n - r0 < rows ? n - r0 : rows, lpart, blockIdx.x, c);
}

// reduce_adam sums step_multi's nb partial gradients in block order into g,
// then, when adam is not 0, applies Adam to each parameter; block 0's
// thread 0 adds the partial losses, in order, to loss[slot].
KERNEL S(reduce_adam)(const T* gpart, i64 nb, i64 params, T* g, T* p, T* m, T* v, const double* lpart, double* loss,
                      i64 slot, double b1, double b2, double eps, double lr, double c1, double c2, i64 adam) {
  FOR_EACH(i, params) {
    T s = 0;
    for (i64 b = 0; b < nb; b++) s += gpart[b * params + i];
    g[i] = s;
    if (adam) S(adam_range)(p, g, m, v, i, i + 1, 1, b1, b2, eps, lr, c1, c2);
  }
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    double s = 0;
    for (i64 b = 0; b < nb; b++) s += lpart[b];
    loss[slot] += s;
  }
}
#undef RELU
