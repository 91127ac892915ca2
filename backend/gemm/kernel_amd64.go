package gemm

import "golang.org/x/sys/cpu"

//go:noescape
func kern4x8(k int, a, b, c *float64, ldc int)

//go:noescape
func kern4x16(k int, a, b, c *float32, ldc int)

// hasAsm reports whether the AVX2/FMA kernels can run here.
var hasAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func asmKern64(k int, a, b, c []float64, ldc int) { kern4x8(k, &a[0], &b[0], &c[0], ldc) }
func asmKern32(k int, a, b, c []float32, ldc int) { kern4x16(k, &a[0], &b[0], &c[0], ldc) }

//go:noescape
func kern4x8r(k int, a *float64, lda int, b, c *float64, ldc int)

//go:noescape
func kern4x16r(k int, a *float32, lda int, b, c *float32, ldc int)

func asmKernR64(k int, a []float64, lda int, b, c []float64, ldc int) {
	kern4x8r(k, &a[0], lda, &b[0], &c[0], ldc)
}
func asmKernR32(k int, a []float32, lda int, b, c []float32, ldc int) {
	kern4x16r(k, &a[0], lda, &b[0], &c[0], ldc)
}
