//go:build !amd64

package gemm

var hasAsm = false

var has512 = false

func asmDirect64(k, tiles int, a []float64, rs, qs int, b []float64, ldb int, c []float64, ldc, flags int, bias, mask []float64, ldm int, colsum []float64) {
	goDirect(k, tiles, a, rs, qs, b, ldb, c, ldc, flags, bias, mask, ldm, colsum, 4, 8)
}
func asmDirect32(k, tiles int, a []float32, rs, qs int, b []float32, ldb int, c []float32, ldc, flags int, bias, mask []float32, ldm int, colsum []float32) {
	goDirect(k, tiles, a, rs, qs, b, ldb, c, ldc, flags, bias, mask, ldm, colsum, 4, 16)
}
func asm512Direct64(k, tiles int, a []float64, rs, qs int, b []float64, ldb int, c []float64, ldc, flags int, bias, mask []float64, ldm int, colsum []float64) {
	goDirect(k, tiles, a, rs, qs, b, ldb, c, ldc, flags, bias, mask, ldm, colsum, 8, 16)
}
func asm512Direct32(k, tiles int, a []float32, rs, qs int, b []float32, ldb int, c []float32, ldc, flags int, bias, mask []float32, ldm int, colsum []float32) {
	goDirect(k, tiles, a, rs, qs, b, ldb, c, ldc, flags, bias, mask, ldm, colsum, 8, 32)
}

func asmAdam64(p, g, m, v []float64, k *[8]float64) int    { return 0 }
func asmAdam32(p, g, m, v []float32, k *[8]float32) int    { return 0 }
func asm512Adam64(p, g, m, v []float64, k *[8]float64) int { return 0 }
func asm512Adam32(p, g, m, v []float32, k *[8]float32) int { return 0 }
