//go:build !amd64

package gemm

var hasAsm = false

func asmKern64(k int, a, b, c []float64, ldc int) { goKern(k, a, b, c, ldc, 8) }
func asmKern32(k int, a, b, c []float32, ldc int) { goKern(k, a, b, c, ldc, 16) }
