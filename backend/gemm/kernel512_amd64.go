package gemm

import "golang.org/x/sys/cpu"

//go:noescape
func kern4x16d(k int, a, b, c *float64, ldc int)

//go:noescape
func kern4x16dr(k int, a *float64, lda int, b, c *float64, ldc int)

//go:noescape
func kern4x32s(k int, a, b, c *float32, ldc int)

//go:noescape
func kern4x32sr(k int, a *float32, lda int, b, c *float32, ldc int)

// has512 reports whether the AVX-512 kernels can run here.
var has512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

func asm512Kern64(k int, a, b, c []float64, ldc int) { kern4x16d(k, &a[0], &b[0], &c[0], ldc) }
func asm512KernR64(k int, a []float64, lda int, b, c []float64, ldc int) {
	kern4x16dr(k, &a[0], lda, &b[0], &c[0], ldc)
}
func asm512Kern32(k int, a, b, c []float32, ldc int) { kern4x32s(k, &a[0], &b[0], &c[0], ldc) }
func asm512KernR32(k int, a []float32, lda int, b, c []float32, ldc int) {
	kern4x32sr(k, &a[0], lda, &b[0], &c[0], ldc)
}
