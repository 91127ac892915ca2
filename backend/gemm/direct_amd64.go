package gemm

//go:noescape
func direct4x8d(k, tiles int, a *float64, rs, qs int, b *float64, ldb int, c *float64, ldc int, flags int, bias, mask *float64, ldm int, colsum *float64)

//go:noescape
func direct4x16s(k, tiles int, a *float32, rs, qs int, b *float32, ldb int, c *float32, ldc int, flags int, bias, mask *float32, ldm int, colsum *float32)

//go:noescape
func direct8x16dz(k, tiles int, a *float64, rs, qs int, b *float64, ldb int, c *float64, ldc int, flags int, bias, mask *float64, ldm int, colsum *float64)

//go:noescape
func direct8x32sz(k, tiles int, a *float32, rs, qs int, b *float32, ldb int, c *float32, ldc int, flags int, bias, mask *float32, ldm int, colsum *float32)

func ptr[T Float](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

func asmDirect64(k, tiles int, a []float64, rs, qs int, b []float64, ldb int, c []float64, ldc, flags int, bias, mask []float64, ldm int, colsum []float64) {
	direct4x8d(k, tiles, ptr(a), rs, qs, ptr(b), ldb, &c[0], ldc, flags, ptr(bias), ptr(mask), ldm, ptr(colsum))
}

func asmDirect32(k, tiles int, a []float32, rs, qs int, b []float32, ldb int, c []float32, ldc, flags int, bias, mask []float32, ldm int, colsum []float32) {
	direct4x16s(k, tiles, ptr(a), rs, qs, ptr(b), ldb, &c[0], ldc, flags, ptr(bias), ptr(mask), ldm, ptr(colsum))
}

func asm512Direct64(k, tiles int, a []float64, rs, qs int, b []float64, ldb int, c []float64, ldc, flags int, bias, mask []float64, ldm int, colsum []float64) {
	direct8x16dz(k, tiles, ptr(a), rs, qs, ptr(b), ldb, &c[0], ldc, flags, ptr(bias), ptr(mask), ldm, ptr(colsum))
}

func asm512Direct32(k, tiles int, a []float32, rs, qs int, b []float32, ldb int, c []float32, ldc, flags int, bias, mask []float32, ldm int, colsum []float32) {
	direct8x32sz(k, tiles, ptr(a), rs, qs, ptr(b), ldb, &c[0], ldc, flags, ptr(bias), ptr(mask), ldm, ptr(colsum))
}

//go:noescape
func adam4d(n int, p, grad, m, v *float64, k *[8]float64)

//go:noescape
func adam8s(n int, p, grad, m, v *float32, k *[8]float32)

//go:noescape
func adam8dz(n int, p, grad, m, v *float64, k *[8]float64)

//go:noescape
func adam16sz(n int, p, grad, m, v *float32, k *[8]float32)

func asmAdam64(p, g, m, v []float64, k *[8]float64) int {
	n := len(p) &^ 3
	if n > 0 {
		adam4d(n, &p[0], &g[0], &m[0], &v[0], k)
	}
	return n
}

func asmAdam32(p, g, m, v []float32, k *[8]float32) int {
	n := len(p) &^ 7
	if n > 0 {
		adam8s(n, &p[0], &g[0], &m[0], &v[0], k)
	}
	return n
}

func asm512Adam64(p, g, m, v []float64, k *[8]float64) int {
	n := len(p) &^ 7
	if n > 0 {
		adam8dz(n, &p[0], &g[0], &m[0], &v[0], k)
	}
	return n
}

func asm512Adam32(p, g, m, v []float32, k *[8]float32) int {
	n := len(p) &^ 15
	if n > 0 {
		adam16sz(n, &p[0], &g[0], &m[0], &v[0], k)
	}
	return n
}
