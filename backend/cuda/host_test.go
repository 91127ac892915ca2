package cuda

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/reluscope/reluscope/backend"
)

// The PTX shipped in the repository declares every kernel the Go side
// launches, for both dtypes, with the parameters it passes, each 8 bytes.
func TestPTXHasTheKernelTable(t *testing.T) {
	if err := checkPTX(ptx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ptx, ".target sm_52") {
		t.Fatal("the PTX does not target sm_52, the oldest GPUs the engine means to run on")
	}
	// A kernel with a missing parameter, a 4-byte one, a missing kernel.
	mse := parseEntries(ptx)["mse_f64"]
	broken := strings.Replace(ptx, "\t.param .f64 mse_f64_param_7\n", "", 1)
	if err := checkPTX(broken); err == nil || !strings.Contains(err.Error(), "mse_f64 has 7 parameters") {
		t.Fatalf("a PTX without mse_f64's last parameter (%d params before): %v", len(mse.params), err)
	}
	narrow := strings.Replace(ptx, ".param .u64 adam_f32_param_0", ".param .u32 adam_f32_param_0", 1)
	if err := checkPTX(narrow); err == nil || !strings.Contains(err.Error(), "not 8 bytes") {
		t.Fatalf("a 4-byte parameter: %v", err)
	}
	if err := checkPTX(strings.ReplaceAll(ptx, "gather_f32", "gather_x")); err == nil || !strings.Contains(err.Error(), "gather_f32 missing") {
		t.Fatalf("a missing kernel: %v", err)
	}
}

func TestGridFor(t *testing.T) {
	for _, c := range []struct {
		n       int64
		threads int
		want    int
	}{{0, 256, 1}, {1, 256, 1}, {256, 256, 1}, {257, 256, 2}, {20000 * 2048, 256, maxGrid}, {1 << 40, 256, maxGrid}} {
		if got := gridFor(c.n, c.threads); got != c.want {
			t.Errorf("gridFor(%d, %d) = %d, want %d", c.n, c.threads, got, c.want)
		}
	}
}

// The arrays of a layout do not overlap, each is 8-byte aligned, and the
// total is what they add up to.
func TestPlanLayout(t *testing.T) {
	for _, dt := range []backend.DType{backend.Float64, backend.Float32} {
		sizes := []int{3, 5, 7, 1}
		lay := planLayout(sizes, dt, 11)
		if lay.params != 3*5+5+5*7+7+7+1 {
			t.Fatalf("params %d", lay.params)
		}
		type span struct {
			name    string
			lo, len int64
		}
		e := int64(lay.elem)
		spans := []span{{"p", int64(lay.p) * e, int64(lay.params) * e}, {"g", int64(lay.g) * e, int64(lay.params) * e},
			{"m", int64(lay.m) * e, int64(lay.params) * e}, {"v", int64(lay.v) * e, int64(lay.params) * e},
			{"d1", int64(lay.d1) * e, int64(11*lay.maxW) * e}, {"d2", int64(lay.d2) * e, int64(11*lay.maxW) * e},
			{"ones", int64(lay.ones) * e, 11 * e}, {"yb", int64(lay.yb) * e, 11 * e},
			{"loss", lay.loss, 16}, {"rec", lay.rec, evalBlocks * 32}, {"sizes", lay.sz, 4 * 8},
			{"tab", lay.tab, maxFusedSteps * 3 * 8}, {"lpart", lay.lpart, int64(lay.multiBlocks(11)) * 8},
			{"gpart", int64(lay.gpart) * e, int64(lay.multiBlocks(11)*lay.params) * e}}
		for l, s := range sizes {
			spans = append(spans, span{"act", int64(lay.act[l]) * e, int64(11*s) * e})
		}
		var total int64
		for i, a := range spans {
			if a.lo%8 != 0 {
				t.Errorf("%s: %s at byte %d, not 8-byte aligned", dt, a.name, a.lo)
			}
			if a.lo+a.len > lay.bytes {
				t.Errorf("%s: %s ends at %d past the layout's %d bytes", dt, a.name, a.lo+a.len, lay.bytes)
			}
			total += a.len
			for _, b := range spans[i+1:] {
				if a.lo < b.lo+b.len && b.lo < a.lo+a.len {
					t.Errorf("%s: %s [%d, %d) overlaps %s [%d, %d)", dt, a.name, a.lo, a.lo+a.len, b.name, b.lo, b.lo+b.len)
				}
			}
		}
		if lay.bytes < total || lay.bytes > total+int64(len(spans))*8 {
			t.Errorf("%s: layout of %d bytes for arrays of %d", dt, lay.bytes, total)
		}
	}
	// Width 2048, depth 4, batch 20000 in float64: activations 1250 MiB,
	// backward buffers 625, parameters, gradient and moments 4×48.
	lay := planLayout([]int{1, 2048, 2048, 2048, 2048, 1}, backend.Float64, 20000)
	if mib := float64(lay.bytes) / (1 << 20); mib < 2255 || mib > 2265 {
		t.Fatalf("width 2048 × batch 20000: %.0f MiB planned", mib)
	}
}

// The blocks' records combine as the CPU evaluator's accumulator does: the
// sums add up, the first of equal maxima wins, a NaN error is the largest,
// blocks without points are skipped.
func TestCombineRecords(t *testing.T) {
	nan := math.NaN()
	st := combineRecords([]float64{
		1, 2, 0.5, 3,
		0, 0, -1, -1, // a block without points
		4, 5, 0.7, 9,
		6, 7, 0.7, 4, // equal maximum at a smaller index: it wins
	}, 20)
	if st.SumAbs != 11 || st.SumSq != 14 || st.Max != 0.7 || st.ArgMax != 4 || st.N != 20 {
		t.Fatalf("combine = %+v", st)
	}
	st = combineRecords([]float64{1, 1, 9, 0, 1, 1, nan, 7, 1, 1, 10, 2}, 12)
	if !math.IsNaN(st.Max) || st.ArgMax != 7 {
		t.Fatalf("a NaN block: %+v", st)
	}
	// Chunks merged with their offsets.
	a := backend.ErrorStats{SumAbs: 1, SumSq: 1, Max: 0.5, ArgMax: 3, N: 10}
	b := backend.ErrorStats{SumAbs: 2, SumSq: 3, Max: 0.9, ArgMax: 1, N: 5}
	m := mergeStats(mergeStats(backend.ErrorStats{}, a, 0), b, 10)
	if m.SumAbs != 3 || m.SumSq != 4 || m.Max != 0.9 || m.ArgMax != 11 || m.N != 15 {
		t.Fatalf("merge = %+v", m)
	}
}

func TestCheckFits(t *testing.T) {
	if err := checkFits("x", 100<<20, 1<<30); err != nil {
		t.Fatal(err)
	}
	err := checkFits("a network", 2<<30, 1<<30)
	if err == nil || err.Error() != "cuda: a network needs 2048.0 MiB of device memory and 256 MiB kept for cuBLAS and the driver; 1024.0 MiB is free" {
		t.Fatalf("checkFits: %v", err)
	}
}

// Which steps take the fused path: narrow networks, small steps.
func TestPathChoice(t *testing.T) {
	// The built-in table (estimates until a device check measures one).
	for _, c := range []struct {
		sizes []int
		n     int
		want  stepPath
	}{
		{[]int{1, 32, 32, 32, 32, 1}, 20, pathFused},
		{[]int{1, 32, 32, 32, 32, 1}, 200, pathFused},
		{[]int{1, 32, 32, 32, 32, 1}, 20000, pathMulti}, // 400 MFLOP: too much for one multiprocessor
		{[]int{1, 64, 64, 64, 64, 1}, 200, pathFused},
		{[]int{1, 64, 64, 64, 64, 1}, 2000, pathMulti},
		{[]int{1, 65, 1}, 1, pathCublas}, // too wide whatever the batch
		{[]int{1, 512, 512, 1}, 1, pathCublas},
	} {
		lay := planLayout(c.sizes, backend.Float64, c.n)
		if got := lay.path(c.n); got != c.want {
			t.Errorf("%v at %d rows (%d params): %v, want %v", c.sizes, c.n, lay.params, got, c.want)
		}
	}
	// A measured-looking table: rules by width, flops bounds inclusive.
	tab, err := parsePaths(strings.NewReader(`{"source": "test", "pair_max_width": 32, "steps": [
		{"max_width": 16, "fused_max_flops": 1e6, "multi_max_flops": 1e8, "multi_rows": 32},
		{"max_width": 48, "fused_max_flops": 2e6, "multi_max_flops": 0}]}`), "t.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		w, params, n int
		want         stepPath
	}{
		{16, 1000, 166, pathFused},  // 996,000 flops
		{16, 1000, 167, pathMulti},  // 1,002,000
		{8, 1000, 16666, pathMulti}, // 99,996,000
		{8, 1000, 16667, pathCublas},
		{17, 1000, 333, pathFused}, // the second rule
		{48, 1000, 334, pathCublas},
		{49, 10, 1, pathCublas}, // past every rule
	} {
		if got := tab.step(c.w, c.params, c.n); got != c.want {
			t.Errorf("width %d, %d params, %d rows: %v, want %v", c.w, c.params, c.n, got, c.want)
		}
	}
	// A forced multi32: blocks of 32 rows (300 rows: 10 blocks).
	func() {
		defer forcePath("multi32")()
		lay := planLayout([]int{2, 16, 16, 1}, backend.Float64, 300)
		if lay.path(300) != pathMulti || lay.multiRows != 32 || lay.multiBlocks(300) != 10 {
			t.Errorf("multi32: %v, %d rows a block, %d blocks", lay.path(300), lay.multiRows, lay.multiBlocks(300))
		}
	}()
	m16, r16 := tab.multiAt(16)
	m17, _ := tab.multiAt(17)
	m49, _ := tab.multiAt(49)
	if !m16 || r16 != 32 || m17 || m49 {
		t.Errorf("multiAt 16/17/49 = %v (rows %d) %v %v, want true (32) false false", m16, r16, m17, m49)
	}
}

// Bad tables get one line naming the file and what is wrong.
func TestPathTableRefusals(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"steps": [{"max_width": 0}]}`, "steps[0].max_width = 0, want 1 to 256"},
		{`{"steps": [{"max_width": 32}, {"max_width": 16}]}`, "want them ascending"},
		{`{"steps": [{"max_width": 128, "multi_max_flops": 1}]}`, "multi-block step, which takes at most 64"},
		{`{"steps": [{"max_width": 32, "fused_max_flops": -1}]}`, "flops -1, want ≥ 0"},
		{`{"pair_max_width": 65}`, "pair_max_width = 65, want 0 to 64"},
		{`{"steps": [{"max_width": 32, "multi_rows": 4}]}`, "multi_rows = 4, want 8 to 1024"},
		{`{"stepz": []}`, `unknown field "stepz"`},
		{`{"steps": [`, "unexpected EOF"},
		{`{"source": "` + strings.Repeat("x", 70000) + `"}`, "over 64 KiB"},
	} {
		_, err := parsePaths(strings.NewReader(c.json), "p.json")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "cuda: path table p.json") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%.40s: %v, want %q", c.json, err, c.want)
		}
	}
	// RELUSCOPE_CUDA_PATHS: read when set, refused when not a file.
	keep := paths
	defer func() { paths = keep }()
	dir := t.TempDir()
	good := filepath.Join(dir, "paths.json")
	os.WriteFile(good, []byte(`{"source": "measured here", "steps": [], "pair_max_width": 0}`), 0o644)
	t.Setenv(pathsEnv, good)
	if err := loadPaths(); err != nil || paths.Source != "measured here" || paths.step(32, 100, 1) != pathCublas {
		t.Fatalf("loadPaths: %v, table %+v", err, paths)
	}
	t.Setenv(pathsEnv, dir)
	if err := loadPaths(); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
		t.Fatalf("a directory: %v", err)
	}
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(pathsEnv, fifo) // refused before it is opened: a FIFO would block
	if err := loadPaths(); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
		t.Fatalf("a FIFO: %v", err)
	}
	t.Setenv(pathsEnv, filepath.Join(dir, "none.json"))
	if err := loadPaths(); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("a missing file: %v", err)
	}
}

func TestEvalRows(t *testing.T) {
	for _, c := range []struct {
		sizes []int
		want  int
	}{
		{[]int{1, 32, 32, 32, 32, 1}, 64527},
		{[]int{1, 2048, 2048, 2048, 2048, 1}, 1023},
		{[]int{1, 2, 1}, 1 << 17},
		{[]int{1, 1 << 24, 1}, 1},
	} {
		lay := planLayout(c.sizes, backend.Float64, 1)
		if got := lay.evalRows(); got != c.want {
			t.Errorf("evalRows of %v = %d, want %d", c.sizes, got, c.want)
		}
	}
}

// Compare's parallel staging writes what the serial one does, bit for bit,
// in both dtypes, whatever the split (and a NaN stays a NaN).
func TestStageParallel(t *testing.T) {
	x, _ := randomBatch(300007, 1, 7)
	x[123456] = math.NaN()
	for _, n := range []int{10, 1 << 15, len(x)} {
		want := stageInputs(nil, x[:n], 0.37)
		got := make([]float64, n)
		stageParallel(got, x[:n], 0.37)
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("%d values: [%d] = %v, want %v", n, i, got[i], want[i])
			}
		}
		want32 := stageInputs(nil, x[:n], float32(0.37))
		got32 := make([]float32, n)
		stageParallel(got32, x[:n], float32(0.37))
		for i := range want32 {
			if math.Float32bits(got32[i]) != math.Float32bits(want32[i]) {
				t.Fatalf("float32, %d values: [%d] = %v, want %v", n, i, got32[i], want32[i])
			}
		}
	}
}

// BenchmarkStage: a run's Compare's points (2^19 in d = 1) staged on one
// core and on all of them.
func BenchmarkStage(b *testing.B) {
	x, _ := randomBatch(1<<19, 1, 7)
	dst := make([]float64, len(x))
	b.Run("serial", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			stageInputs(dst[:0], x, 0.5)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e3, "us/2^19")
	})
	b.Run("parallel", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			stageParallel(dst, x, 0.5)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e3, "us/2^19")
	})
}

// FuzzPathTable: any bytes as a path table either get one line naming the
// file or a table whose rules keep their promises — widths ascending and
// in range, the multi-block step only where it may go, eval_pair at most
// its widest — and whose choice of path never fails.
func FuzzPathTable(f *testing.F) {
	f.Add(builtinPaths)
	f.Add([]byte(`{"source": "s", "steps": [{"max_width": 16, "fused_max_flops": 1e6, "multi_max_flops": 1e8, "multi_rows": 32}, {"max_width": 64}], "pair_max_width": 32}`))
	f.Add([]byte(`{"steps": [{"max_width": 1e400}]}`))
	f.Add([]byte(`{"steps": null, "pair_max_width": -0}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := parsePaths(strings.NewReader(string(b)), "f.json")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cuda: path table f.json") {
				t.Fatalf("an error not naming the table: %v", err)
			}
			return
		}
		for i, r := range tab.Steps {
			if r.MaxWidth < 1 || r.MaxWidth > fusedWidest || (i > 0 && r.MaxWidth <= tab.Steps[i-1].MaxWidth) {
				t.Fatalf("rule %d: width %d accepted", i, r.MaxWidth)
			}
			if ok, rows := tab.multiAt(r.MaxWidth); ok && (r.MaxWidth > multiWidest || rows < 8 || rows > 1024) {
				t.Fatalf("rule %d: the multi-block step at width %d with %d rows", i, r.MaxWidth, rows)
			}
		}
		if tab.PairMaxWidth < 0 || tab.PairMaxWidth > evalPairW {
			t.Fatalf("pair_max_width %d accepted", tab.PairMaxWidth)
		}
		for _, w := range []int{1, 16, 63, 64, 65, 256, 4096} {
			for _, n := range []int{1, 20, 20000} {
				if p := tab.step(w, 6*w*w, n); p < pathCublas || p > pathMulti {
					t.Fatalf("width %d, %d rows: path %d", w, n, p)
				}
			}
		}
	})
}
