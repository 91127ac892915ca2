//go:build gpu

package cuda

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// cuBLAS's v2 entry points, declared here so that no cuBLAS header or link
// library is needed to build: the library is opened at run time (gpu.md: a
// binary linked against CUDA 11.8's libcublas.so.11 does not run where only
// libcublas.so.13 is installed; the _v2 symbols are the same in all).
typedef int (*rs_create_t)(void**);
typedef int (*rs_dgemm_t)(void*, int, int, int, int, int, const double*, const double*, int, const double*, int, const double*, double*, int);
typedef int (*rs_sgemm_t)(void*, int, int, int, int, int, const float*, const float*, int, const float*, int, const float*, float*, int);
typedef int (*rs_dgemv_t)(void*, int, int, int, const double*, const double*, int, const double*, int, const double*, double*, int);
typedef int (*rs_sgemv_t)(void*, int, int, int, const float*, const float*, int, const float*, int, const float*, float*, int);
typedef int (*rs_version_t)(void*, int*);

static void* rs_lib;
static void* rs_sym[6];
static const char* rs_names[6] = {"cublasCreate_v2", "cublasGetVersion_v2", "cublasDgemm_v2", "cublasSgemm_v2",
	"cublasDgemv_v2", "cublasSgemv_v2"};

// rs_open opens path and looks its symbols up: cublasCreate_v2 and
// cublasDgemm_v2 are required (every path multiplies in float64), the
// others are checked where they are called (RS_MISSING). 0 on success,
// else the index of the first missing required symbol + 1 (or -1: no
// library).
#define RS_MISSING (-100)
static int rs_open(const char* path) {
	void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) return -1;
	for (int i = 0; i < 6; i++) {
		rs_sym[i] = dlsym(h, rs_names[i]);
	}
	static const int required[2] = {0, 2}; // cublasCreate_v2, cublasDgemm_v2
	for (int k = 0; k < 2; k++) {
		if (!rs_sym[required[k]]) { dlclose(h); return required[k] + 1; }
	}
	rs_lib = h;
	return 0;
}
static const char* rs_name(int i) { return rs_names[i]; }
static const char* rs_dlerror(void) { const char* e = dlerror(); return e ? e : ""; }
static int rs_create(void** h) { return ((rs_create_t)rs_sym[0])(h); }
static int rs_version(void* h, int* v) { if (!rs_sym[1]) { *v = 0; return 0; } return ((rs_version_t)rs_sym[1])(h, v); }
static int rs_dgemm(void* h, int ta, int tb, int m, int n, int k, double alpha, unsigned long long a, int lda,
		unsigned long long b, int ldb, double beta, unsigned long long c, int ldc) {
	return ((rs_dgemm_t)rs_sym[2])(h, ta, tb, m, n, k, &alpha, (const double*)a, lda, (const double*)b, ldb, &beta, (double*)c, ldc);
}
static int rs_sgemm(void* h, int ta, int tb, int m, int n, int k, float alpha, unsigned long long a, int lda,
		unsigned long long b, int ldb, float beta, unsigned long long c, int ldc) {
	if (!rs_sym[3]) return RS_MISSING;
	return ((rs_sgemm_t)rs_sym[3])(h, ta, tb, m, n, k, &alpha, (const float*)a, lda, (const float*)b, ldb, &beta, (float*)c, ldc);
}
static int rs_dgemv(void* h, int ta, int m, int n, double alpha, unsigned long long a, int lda,
		unsigned long long x, double beta, unsigned long long y) {
	if (!rs_sym[4]) return RS_MISSING;
	return ((rs_dgemv_t)rs_sym[4])(h, ta, m, n, &alpha, (const double*)a, lda, (const double*)x, 1, &beta, (double*)y, 1);
}
static int rs_sgemv(void* h, int ta, int m, int n, float alpha, unsigned long long a, int lda,
		unsigned long long x, float beta, unsigned long long y) {
	if (!rs_sym[5]) return RS_MISSING;
	return ((rs_sgemv_t)rs_sym[5])(h, ta, m, n, &alpha, (const float*)a, lda, (const float*)x, 1, &beta, (float*)y, 1);
}
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/reluscope/reluscope/backend"
)

// cublasLibs are the names tried, newest first: the sonames (found through
// ld.so's cache and LD_LIBRARY_PATH), then the toolkits' usual places, for
// a machine whose cache does not list them.
var cublasLibs = []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so",
	"/usr/local/cuda/targets/x86_64-linux/lib/libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.13",
	"/usr/local/cuda/lib64/libcublas.so.12", "/usr/local/cuda/lib64/libcublas.so.11"}

// cublas is a cuBLAS handle on the context current on the device's thread.
type cublas struct {
	h       unsafe.Pointer
	lib     string
	version int
}

// loadCublas opens cuBLAS and creates a handle; the device's context must be
// current on the calling thread.
func loadCublas() (*cublas, error) {
	var tried []string
	for _, name := range cublasLibs {
		cs := C.CString(name)
		r := C.rs_open(cs)
		C.free(unsafe.Pointer(cs))
		switch {
		case r == 0:
			b := &cublas{lib: name}
			if s := C.rs_create(&b.h); s != 0 {
				return nil, fmt.Errorf("cuda: cublasCreate_v2 from %s failed with status %d", name, int(s))
			}
			var v C.int
			C.rs_version(b.h, &v)
			b.version = int(v)
			return b, nil
		case r < 0:
			tried = append(tried, name+": "+C.GoString(C.rs_dlerror()))
		default:
			tried = append(tried, fmt.Sprintf("%s lacks %s", name, C.GoString(C.rs_name(r-1))))
		}
	}
	return nil, fmt.Errorf("cuda: no usable cuBLAS (%s)", strings.Join(tried, "; "))
}

func op(t bool) C.int {
	if t {
		return 1 // CUBLAS_OP_T
	}
	return 0 // CUBLAS_OP_N
}

func (b *cublas) gemm(dt backend.DType, g gemmCall, alpha, beta float64) error {
	var s C.int
	if dt == backend.Float32 {
		s = C.rs_sgemm(b.h, op(g.transA), op(g.transB), C.int(g.m), C.int(g.n), C.int(g.k), C.float(alpha),
			C.ulonglong(g.a), C.int(g.lda), C.ulonglong(g.b), C.int(g.ldb), C.float(beta), C.ulonglong(g.c), C.int(g.ldc))
	} else {
		s = C.rs_dgemm(b.h, op(g.transA), op(g.transB), C.int(g.m), C.int(g.n), C.int(g.k), C.double(alpha),
			C.ulonglong(g.a), C.int(g.lda), C.ulonglong(g.b), C.int(g.ldb), C.double(beta), C.ulonglong(g.c), C.int(g.ldc))
	}
	if s == C.RS_MISSING {
		return fmt.Errorf("cuda: %s has no cublasSgemm_v2 (float32 on the cuBLAS path)", b.lib)
	}
	if s != 0 {
		return fmt.Errorf("cuda: cuBLAS gemm %+v failed with status %d", g, int(s))
	}
	return nil
}

func (b *cublas) gemv(dt backend.DType, transA bool, m, n int, alpha float64, a ptr, lda int, x ptr, beta float64, y ptr) error {
	var s C.int
	if dt == backend.Float32 {
		s = C.rs_sgemv(b.h, op(transA), C.int(m), C.int(n), C.float(alpha), C.ulonglong(a), C.int(lda), C.ulonglong(x), C.float(beta), C.ulonglong(y))
	} else {
		s = C.rs_dgemv(b.h, op(transA), C.int(m), C.int(n), C.double(alpha), C.ulonglong(a), C.int(lda), C.ulonglong(x), C.double(beta), C.ulonglong(y))
	}
	if s == C.RS_MISSING {
		return fmt.Errorf("cuda: %s has no cublas%cgemv_v2", b.lib, map[bool]rune{true: 'S', false: 'D'}[dt == backend.Float32])
	}
	if s != 0 {
		return fmt.Errorf("cuda: cuBLAS gemv failed with status %d", int(s))
	}
	return nil
}
