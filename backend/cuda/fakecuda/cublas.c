// A stand-in for cuBLAS (libcublas.so.13) on the CPU: the v2 entry points
// the cuda engine opens, by their column-major definitions, on the fake
// driver's memory (host memory). See driver.c.
#define API __attribute__((visibility("default")))

API int cublasCreate_v2(void** h) {
  *h = (void*)1;
  return 0;
}
API int cublasGetVersion_v2(void* h, int* v) {
  *v = 0;
  return 0;
}

// C (m×n) = α·op(A)·op(B) + β·C, column-major; op(X) = X or Xᵀ (op 1).
#define GEMM(NAME, T)                                                                                    \
  API int NAME(void* h, int ta, int tb, int m, int n, int k, const T* alpha, const T* A, int lda,         \
               const T* B, int ldb, const T* beta, T* C, int ldc) {                                       \
    for (int j = 0; j < n; j++)                                                                          \
      for (int i = 0; i < m; i++) {                                                                      \
        T s = 0;                                                                                         \
        for (int p = 0; p < k; p++) s += (ta ? A[p + i * lda] : A[i + p * lda]) * (tb ? B[j + p * ldb] : B[p + j * ldb]); \
        C[i + j * ldc] = *alpha * s + (*beta != 0 ? *beta * C[i + j * ldc] : 0);                       \
      }                                                                                                  \
    return 0;                                                                                            \
  }
GEMM(cublasDgemm_v2, double)
GEMM(cublasSgemm_v2, float)

// y = α·op(A)·x + β·y, A m×n column-major.
#define GEMV(NAME, T)                                                                                    \
  API int NAME(void* h, int ta, int m, int n, const T* alpha, const T* A, int lda, const T* x, int incx, \
               const T* beta, T* y, int incy) {                                                          \
    int rows = ta ? n : m, cols = ta ? m : n;                                                            \
    for (int i = 0; i < rows; i++) {                                                                     \
      T s = 0;                                                                                           \
      for (int p = 0; p < cols; p++) s += (ta ? A[p + i * lda] : A[i + p * lda]) * x[p * incx];         \
      y[i * incy] = *alpha * s + (*beta != 0 ? *beta * y[i * incy] : 0);                                \
    }                                                                                                    \
    return 0;                                                                                            \
  }
GEMV(cublasDgemv_v2, double)
GEMV(cublasSgemv_v2, float)
