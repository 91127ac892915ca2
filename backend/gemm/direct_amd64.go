package gemm

// The kernels themselves are declared in kernels_amd64.go, generated with
// them by internal/asmgen.

func asmAdam64(p, g, g2, m, v []float64, k *[8]float64) int {
	n := len(p) &^ 3
	if n > 0 {
		adam4d(n, &p[0], &g[0], ptr(g2), &m[0], &v[0], k)
	}
	return n
}

func asmAdam32(p, g, g2, m, v []float32, k *[8]float32) int {
	n := len(p) &^ 7
	if n > 0 {
		adam8s(n, &p[0], &g[0], ptr(g2), &m[0], &v[0], k)
	}
	return n
}

func asm512Adam64(p, g, g2, m, v []float64, k *[8]float64) int {
	n := len(p) &^ 7
	if n > 0 {
		adam8dz(n, &p[0], &g[0], ptr(g2), &m[0], &v[0], k)
	}
	return n
}

func asm512Adam32(p, g, g2, m, v []float32, k *[8]float32) int {
	n := len(p) &^ 15
	if n > 0 {
		adam16sz(n, &p[0], &g[0], ptr(g2), &m[0], &v[0], k)
	}
	return n
}
