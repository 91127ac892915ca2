package presets

import (
	"os"
	"path/filepath"
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
