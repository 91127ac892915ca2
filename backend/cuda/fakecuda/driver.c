// A stand-in for the NVIDIA driver's libcuda.so.1 that runs on the CPU: the
// part of the driver API the cuda engine uses, with device memory in host
// memory and kernels run by ../kernels/host.c (the kernels' own CUDA source
// compiled as C). Every other symbol a binary asks of libcuda is generated
// by build.sh as a stub that fails with CUDA_ERROR_NOT_SUPPORTED. It lets
// the binaries built with -tags gpu run their device tests, and reluscope
// itself, without a GPU: a check of the engine's glue (cu's calls, argument
// passing, cuBLAS through dlopen, the device's thread), not of a GPU.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API __attribute__((visibility("default")))

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

// From host.c (hidden in this library).
int rs_launch(const char* name, int grid, int block, const uint64_t* args, int nargs);
int rs_nargs(const char* name);

enum { SUCCESS = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, INVALID_DEVICE = 101, NOT_FOUND = 500, LAUNCH_FAILED = 719 };

// The fake device's memory: what cuMemGetInfo reports (set
// FAKECUDA_MEMORY_MIB to change it) and what is allocated.
static size_t total_bytes(void) {
  const char* s = getenv("FAKECUDA_MEMORY_MIB");
  return (s ? (size_t)atoll(s) : 16384) << 20;
}
static size_t used;

API CUresult cuInit(unsigned flags) { return flags == 0 ? SUCCESS : INVALID_VALUE; }
API CUresult cuDriverGetVersion(int* v) {
  *v = 11080;
  return SUCCESS;
}
API CUresult cuDeviceGetCount(int* n) {
  *n = 1;
  return SUCCESS;
}
API CUresult cuDeviceGet(CUdevice* d, int ordinal) {
  if (ordinal != 0) return INVALID_DEVICE;
  *d = 0;
  return SUCCESS;
}
API CUresult cuDeviceGetName(char* name, int len, CUdevice d) {
  snprintf(name, (size_t)len, "fake GPU on the CPU");
  return SUCCESS;
}
API CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice d) {
  *bytes = total_bytes();
  return SUCCESS;
}
API CUresult cuDeviceGetAttribute(int* v, int attrib, CUdevice d) {
  *v = attrib == 75 ? 9 : 0;  // compute capability 9.0
  return SUCCESS;
}
API CUresult cuCtxCreate_v2(void** ctx, unsigned flags, CUdevice d) {
  *ctx = (void*)1;
  return SUCCESS;
}
API CUresult cuCtxSynchronize(void) { return SUCCESS; }
API CUresult cuModuleLoadData(void** mod, const void* image) {
  if (!strstr((const char*)image, ".entry")) return INVALID_VALUE;
  *mod = (void*)1;
  return SUCCESS;
}
API CUresult cuModuleGetFunction(void** fn, void* mod, const char* name) {
  if (rs_nargs(name) < 0) return NOT_FOUND;
  *fn = strdup(name);
  return SUCCESS;
}
API CUresult cuLaunchKernel(void* fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                            unsigned shared, void* stream, void** params, void** extra) {
  const char* name = (const char*)fn;
  int n = rs_nargs(name);
  uint64_t a[64];
  if (gy != 1 || gz != 1 || by != 1 || bz != 1 || n > 64 || extra) return INVALID_VALUE;
  for (int i = 0; i < n; i++) memcpy(&a[i], params[i], 8);
  // FAKECUDA_LAUNCHES names a file the launches' kernel names go to (the
  // fake ncu reads it).
  static FILE* launches;
  static int opened;
  if (!opened) {
    const char* f = getenv("FAKECUDA_LAUNCHES");
    launches = f ? fopen(f, "a") : NULL;
    opened = 1;
  }
  if (launches) {
    fprintf(launches, "%s\n", name);
    fflush(launches);
  }
  // A block's threads are fibers on this thread (host.c): all of them run.
  return rs_launch(name, (int)gx, (int)bx, a, n) == 0 ? SUCCESS : LAUNCH_FAILED;
}
API CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
  if (used + bytes > total_bytes()) return OUT_OF_MEMORY;
  size_t* h = calloc(1, bytes + 16);
  if (!h) return OUT_OF_MEMORY;
  h[0] = bytes;
  used += bytes;
  *p = (CUdeviceptr)(uintptr_t)(h + 2);
  return SUCCESS;
}
API CUresult cuMemFree_v2(CUdeviceptr p) {
  size_t* h = (size_t*)(uintptr_t)p - 2;
  used -= h[0];
  free(h);
  return SUCCESS;
}
API CUresult cuMemGetInfo_v2(size_t* free_, size_t* total) {
  *total = total_bytes();
  *free_ = *total - used;
  return SUCCESS;
}
API CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
  memcpy((void*)(uintptr_t)dst, src, n);
  return SUCCESS;
}
API CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
  memcpy(dst, (const void*)(uintptr_t)src, n);
  return SUCCESS;
}
// Page-locked host memory is host memory; the asynchronous copies and the
// events are synchronous (the fake device finishes each call before it
// returns), so every event has passed when it is recorded.
API CUresult cuMemHostAlloc(void** p, size_t bytes, unsigned flags) {
  *p = malloc(bytes ? bytes : 1);
  return *p ? SUCCESS : OUT_OF_MEMORY;
}
API CUresult cuMemFreeHost(void* p) {
  free(p);
  return SUCCESS;
}
API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, void* stream) {
  memcpy((void*)(uintptr_t)dst, src, n);
  return SUCCESS;
}
API CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, void* stream) {
  memcpy(dst, (const void*)(uintptr_t)src, n);
  return SUCCESS;
}
static uintptr_t events;  // made so far: each its own non-null handle
API CUresult cuEventCreate(void** ev, unsigned flags) {
  *ev = (void*)++events;
  return SUCCESS;
}
API CUresult cuEventDestroy_v2(void* ev) { return SUCCESS; }
API CUresult cuEventRecord(void* ev, void* stream) { return ev ? SUCCESS : INVALID_VALUE; }
API CUresult cuEventSynchronize(void* ev) { return ev ? SUCCESS : INVALID_VALUE; }
API CUresult cuMemsetD8_v2(CUdeviceptr p, unsigned char v, size_t n) {
  memset((void*)(uintptr_t)p, v, n);
  return SUCCESS;
}
