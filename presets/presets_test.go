package presets

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/reluscope/reluscope/experiment"
)

func TestEveryPresetLoads(t *testing.T) {
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 3 {
		t.Fatalf("%d presets, want at least default, quick and smoke", len(all))
	}
	for _, p := range all {
		if p.Description == "" {
			t.Errorf("%s has no description", p.Name)
		}
		if err := p.Config.Validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
	d, _ := Load("default")
	if d.Config.Depth != 5 || d.Config.TeacherWidth != 32 || d.Config.Coef != 0.5 || d.Config.Samples != 1000 {
		t.Fatalf("default preset is not the paper's d=1 teacher: %+v", d.Config)
	}
	s, _ := Load("smoke")
	if s.Config.Batch != (experiment.Batch{Frac: 0.2}) || s.Config.Standardize != true {
		t.Fatalf("smoke: batch %v standardize %v; want 20%% and the default true", s.Config.Batch, s.Config.Standardize)
	}
}

func TestBadFiles(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"config:\n  dim: 2\n  widht: 3\n", "bad.yaml: line 3: field widht not found"},
		{"config:\n  dim: 2\n  width: -3\n", "bad.yaml:3: width: -3 is out of range"},
		{"config:\n  batch: 300%\n", "percentage must be in (0, 100]"},
		{"config: [1, 2\n", "bad.yaml: line 1"},
		{"name: x\nsurprise: 1\n", "field surprise not found"},
	} {
		_, err := Parse("bad.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.yaml, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error spans lines: %q", tc.yaml, err)
		}
	}
}

func TestUserFileAndSet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.yaml")
	os.WriteFile(path, []byte("description: mine\nconfig:\n  dim: 3\n  batch: 100\n"), 0o644)
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "mine" || p.Config.Dim != 3 || p.Config.Batch.For(1000) != 100 || p.Config.Width != experiment.Default().Width {
		t.Fatalf("loaded %+v", p)
	}
	c, err := Set(p.Config, []string{"width=64", "batch=2%", "lr=1e-3"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Width != 64 || c.Batch.For(1000) != 20 || c.LR != 1e-3 {
		t.Fatalf("after --set: %+v", c)
	}
	if _, err := Set(c, []string{"samples=0"}); err == nil || !strings.Contains(err.Error(), "samples") {
		t.Fatalf("samples=0 gave %v", err)
	}
	if _, err := Set(c, []string{"novalue"}); err == nil {
		t.Fatal("a --set without = accepted")
	}
}

func TestPaperGrids(t *testing.T) {
	for _, tc := range []struct {
		name string
		dim  int
	}{{"paper-1d", 1}, {"paper-3d", 3}} {
		p, err := Load(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if n := p.Sweep.Len(); n != 4*3*3*3*40 {
			t.Fatalf("%s: %d runs, want 4320", tc.name, n)
		}
		samples, widths, teachers, seeds := map[int]int{}, map[int]int{}, map[uint64]int{}, map[uint64]int{}
		rules := map[string]int{}
		hashes := map[string]bool{}
		for i := 0; i < p.Sweep.Len(); i++ {
			c, err := p.RunConfig(i, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.Dim != tc.dim || c.Depth != 5 || c.TeacherWidth != 32 || c.Coef != 0.5 || c.LR != 1e-4 || c.LREnd != 1e-6 ||
				!c.Standardize || c.DType != "float64" || c.EvalPoints != 1<<24 || c.Interval() != c.Epochs/5 || c.DataSeed != c.InitSeed {
				t.Fatalf("%s run %d differs from the reference: %+v", tc.name, i, c)
			}
			samples[c.Samples]++
			widths[c.Width]++
			teachers[c.TeacherSeed]++
			seeds[c.InitSeed]++
			rules[c.Batch.String()+"/"+experiment.Batch{Size: c.Epochs}.String()]++
			hashes[experiment.ConfigHash(c)] = true
		}
		if len(hashes) != 4320 {
			t.Fatalf("%s: %d distinct configs, want 4320", tc.name, len(hashes))
		}
		for _, m := range []int{100, 1000, 10000, 100000} {
			if samples[m] != 1080 {
				t.Fatalf("%s: m=%d in %d runs, want 1080", tc.name, m, samples[m])
			}
		}
		for _, w := range []int{32, 512, 2048} {
			if widths[w] != 1440 {
				t.Fatalf("%s: width %d in %d runs", tc.name, w, widths[w])
			}
		}
		for _, r := range []string{"20%/5000", "2%/5000", "100/1000"} {
			if rules[r] != 1440 {
				t.Fatalf("%s: batch/epochs %s in %d runs (have %v)", tc.name, r, rules[r], rules)
			}
		}
		if len(teachers) != 40 || len(seeds) != 3 || seeds[10000] != 1440 || seeds[10002] != 1440 {
			t.Fatalf("%s: %d teachers, seeds %v", tc.name, len(teachers), seeds)
		}
		// The batch rules of the reference: ⌈0.2m⌉, ⌈0.02m⌉, 100.
		c, _ := p.RunConfig(1*1080+0*360+1*120, nil) // m=1000, width 32, batch 2%
		if c.Samples != 1000 || c.Width != 32 || c.BatchSize() != 20 || c.Epochs != 5000 {
			t.Fatalf("%s: index arithmetic gives %+v", tc.name, c)
		}
	}
	s, _ := Load("paper-sine")
	if s.Config.Target != experiment.TargetSine || backendParams(s.Config.StudentSizes()) != 51151 || s.Config.BatchSize() != 20 || s.Config.Epochs != 5000 {
		t.Fatalf("paper-sine: %+v", s.Config)
	}
}

func backendParams(sizes []int) int {
	p := 0
	for l := 0; l+1 < len(sizes); l++ {
		p += sizes[l]*sizes[l+1] + sizes[l+1]
	}
	return p
}

func TestSweepIndexContract(t *testing.T) {
	p, _ := Load("smoke")
	n := p.Sweep.Len()
	seen := map[string]int{}
	for i := 0; i < n; i++ {
		a, err := p.RunConfig(i, []string{"epochs=3"})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := p.RunConfig(i, []string{"epochs=3"})
		if a != b {
			t.Fatalf("run %d is not deterministic", i)
		}
		if a.Epochs != 3 {
			t.Fatal("--set did not apply after the grid")
		}
		seen[experiment.ConfigHash(a)]++
	}
	if len(seen) != n {
		t.Fatalf("%d distinct runs of %d", len(seen), n)
	}
	if _, err := p.RunConfig(n, nil); err == nil {
		t.Fatal("index past the end accepted")
	}
	if err := p.Sweep.Limit("teacher_seed", 1); err != nil || p.Sweep.Len() != n/2 {
		t.Fatalf("limit: %v, %d runs", err, p.Sweep.Len())
	}
	if err := p.Sweep.Limit("nope", 1); err == nil || !strings.Contains(err.Error(), "no axis") {
		t.Fatalf("limit on a missing axis: %v", err)
	}
}

func TestBadSweeps(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"sweep:\n  - widht: [1, 2]\n", "field widht not found"},
		{"sweep:\n  - width: 3\n", "want a list"},
		{"sweep:\n  - teacher_seed: {from: 1}\n", "a range is {from: N, count: K}"},
		{"sweep:\n  - width: [1, -2]\n", "line 2"},
		{"sweep:\n  - {a: [1], b: [2]}\n", "one key"},
	} {
		_, err := Parse("s.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// TestProbe: a 10⁷-run grid is checked by building a sum of its axes'
// lengths of configs (plus the largest), not 10⁷; the largest is the
// combination of each axis's largest value; a value that fails its check
// is named by its run index.
func TestProbe(t *testing.T) {
	p, err := Parse("big.yaml", []byte(`name: big
sweep:
  - width: [8, 64, 16]
  - samples: [100, 1000, 10]
  - teacher_seed: {from: 0, count: 100000}
  - seed: {from: 0, count: 10}
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Sweep.Len() != 9_000_000 {
		t.Fatalf("%d runs, want 9·10⁶", p.Sweep.Len())
	}
	calls := 0
	size := func(c experiment.Config) float64 { return float64(c.Width * c.Samples) }
	big, err := p.Probe(nil, func(experiment.Config) error { calls++; return nil }, size)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 + 3 + 100000 + 10 + 1; calls != want {
		t.Fatalf("Probe built %d configs, want %d", calls, want)
	}
	if big.Width != 64 || big.Samples != 1000 {
		t.Fatalf("largest run: width %d, m %d; want 64, 1000", big.Width, big.Samples)
	}
	// samples=10 (value 2 of axis 1) fails: run index 0·… + 2·10⁶.
	_, err = p.Probe(nil, func(c experiment.Config) error {
		if c.Samples == 10 {
			return fmt.Errorf("too few")
		}
		return nil
	}, size)
	if err == nil || !strings.Contains(err.Error(), "run 2000000: too few") {
		t.Fatalf("a failing value: %v, want run 2000000 named", err)
	}
}

// TestSavedConfigReopens: a run's config.json (what run --out and the
// explorer's save write) is a preset of that one config; unknown keys,
// fractions and non-objects are refused.
func TestSavedConfigReopens(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run-7")
	os.MkdirAll(dir, 0o755)
	cfg := experiment.Default()
	cfg.Width, cfg.Samples, cfg.TeacherSeed = 16, 300, 4
	b, _ := json.MarshalIndent(cfg, "", "  ")
	p := filepath.Join(dir, "config.json")
	os.WriteFile(p, b, 0o644)
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.Config != cfg || got.Name != "run-7" || got.Sweep != nil {
		t.Fatalf("reopened %+v (name %q), want %+v", got.Config, got.Name, cfg)
	}
	for body, want := range map[string]string{
		`{"dim": 1, "bogus": 2}`: "bogus",
		`[1]`:                    "not a saved config",
		`{"dim": 1.5}`:           "not a whole number",
		`{"width": 0}`:           "width",
	} {
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want %q", body, err, want)
		}
	}
}

// decodedConfig is run i built the slow way, decoding every override's
// YAML over the config in turn (what compiled overrides replace).
func decodedConfig(t *testing.T, p Preset, i int, sets []string) (experiment.Config, error) {
	t.Helper()
	cfg := p.Config
	if p.Sweep != nil {
		for k, v := range p.Sweep.position(i) {
			if err := decodeInto(&cfg, p.Sweep.Axes[k].Values[v].YAML); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, kv := range sets {
		k, v, _ := strings.Cut(kv, "=")
		if err := decodeInto(&cfg, setting(k, v)); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Normalize()
	return cfg, cfg.Validate()
}

// Every run of every built-in preset, and of a grid whose groups and sets
// overlap, is the same config built from compiled overrides (Grid.Job,
// RunConfig) as decoded from YAML — values, validation errors and all.
func TestGridJobEqualsDecodedYAML(t *testing.T) {
	type tc struct {
		p    Preset
		sets []string
	}
	var cases []tc
	for _, name := range Names() {
		p, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, tc{p, nil}, tc{p, []string{"epochs=7", "seed=3", "batch=0.5"}})
	}
	mixed, err := Parse("mixed.yaml", []byte(`config: {dim: 2, samples: 50, epochs: 4}
sweep:
  - [{batch: 20%, epochs: 9}, {batch: 10, lr: 0.01, lr_end: 0.001}, {standardize: false, dtype: float32}]
  - seed: {from: 5, count: 3}
  - width: [8, 3, 16]
  - samples: [40, 7]
`))
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, tc{mixed, nil}, tc{mixed, []string{"lr=0.5", "teacher_seed=2", "width=4"}}, tc{mixed, []string{"lr_end=2"}})
	checked, refused := 0, 0
	for _, c := range cases {
		g, err := c.p.NewGrid(c.sets)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < g.Len(); i++ {
			want, werr := decodedConfig(t, c.p, i, c.sets)
			job, gerr := g.Job(i)
			rc, rerr := c.p.RunConfig(i, c.sets)
			if fmt.Sprint(werr) != fmt.Sprint(gerr) || fmt.Sprint(werr) != fmt.Sprint(rerr) {
				t.Fatalf("%s %v run %d: errors %v / Grid %v / RunConfig %v", c.p.Name, c.sets, i, werr, gerr, rerr)
			}
			if werr != nil {
				refused++
				continue
			}
			if !reflect.DeepEqual(want, job.Config) || !reflect.DeepEqual(want, rc) || job.Index != i {
				t.Fatalf("%s %v run %d:\ndecoded %+v\nGrid    %+v\nRunConfig %+v", c.p.Name, c.sets, i, want, job.Config, rc)
			}
			checked++
		}
	}
	if checked < 10000 || refused == 0 {
		t.Fatalf("checked %d runs, %d refused: the cases no longer cover both", checked, refused)
	}
	t.Logf("%d runs equal, %d refused alike", checked, refused)
}
