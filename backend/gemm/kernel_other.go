//go:build !amd64

package gemm

var hasAsm = false

var has512 = false

// No assembly kernels here: the tables stay empty (hasAsm is false).
var (
	ymmDirect64, zmmDirect64 [9]asmKernel[float64]
	ymmDirect32, zmmDirect32 [9]asmKernel[float32]
	ymmDot64, zmmDot64       [2]asmDot[float64]
	ymmDot32, zmmDot32       [2]asmDot[float32]
)

func asmAdam64(p, g, g2, m, v []float64, k *[8]float64) int    { return 0 }
func asmAdam32(p, g, g2, m, v []float32, k *[8]float32) int    { return 0 }
func asm512Adam64(p, g, g2, m, v []float64, k *[8]float64) int { return 0 }
func asm512Adam32(p, g, g2, m, v []float32, k *[8]float32) int { return 0 }
