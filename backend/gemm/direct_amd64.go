package gemm

//go:noescape
func direct4x8d(k int, a *float64, rs, qs int, b *float64, ldb int, c *float64, ldc int, flags int, bias, mask *float64, ldm int, colsum *float64)

//go:noescape
func direct4x16s(k int, a *float32, rs, qs int, b *float32, ldb int, c *float32, ldc int, flags int, bias, mask *float32, ldm int, colsum *float32)

//go:noescape
func direct4x16dz(k int, a *float64, rs, qs int, b *float64, ldb int, c *float64, ldc int, flags int, bias, mask *float64, ldm int, colsum *float64)

//go:noescape
func direct4x32sz(k int, a *float32, rs, qs int, b *float32, ldb int, c *float32, ldc int, flags int, bias, mask *float32, ldm int, colsum *float32)

func ptr[T Float](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

func asmDirect64(k int, a []float64, rs, qs int, b []float64, ldb int, c []float64, ldc, flags int, bias, mask []float64, ldm int, colsum []float64) {
	direct4x8d(k, ptr(a), rs, qs, ptr(b), ldb, &c[0], ldc, flags, ptr(bias), ptr(mask), ldm, ptr(colsum))
}

func asmDirect32(k int, a []float32, rs, qs int, b []float32, ldb int, c []float32, ldc, flags int, bias, mask []float32, ldm int, colsum []float32) {
	direct4x16s(k, ptr(a), rs, qs, ptr(b), ldb, &c[0], ldc, flags, ptr(bias), ptr(mask), ldm, ptr(colsum))
}

func asm512Direct64(k int, a []float64, rs, qs int, b []float64, ldb int, c []float64, ldc, flags int, bias, mask []float64, ldm int, colsum []float64) {
	direct4x16dz(k, ptr(a), rs, qs, ptr(b), ldb, &c[0], ldc, flags, ptr(bias), ptr(mask), ldm, ptr(colsum))
}

func asm512Direct32(k int, a []float32, rs, qs int, b []float32, ldb int, c []float32, ldc, flags int, bias, mask []float32, ldm int, colsum []float32) {
	direct4x32sz(k, ptr(a), rs, qs, ptr(b), ldb, &c[0], ldc, flags, ptr(bias), ptr(mask), ldm, ptr(colsum))
}
