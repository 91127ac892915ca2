package presets

import (
	"strings"
	"testing"

	"github.com/reluscope/reluscope/experiment"
)

// FuzzParse: any bytes as a preset file give a preset or an error of one
// short line, never a panic, a hang or a grid beyond the limit; a preset
// accepted builds its first run.
func FuzzParse(f *testing.F) {
	for _, n := range Names() {
		b, _ := files.ReadFile(n + ".yaml")
		f.Add(b)
	}
	f.Add([]byte("config: {dim: 1.7}\n"))
	f.Add([]byte("name: ../x\nconfig: {dim: 1}\n"))
	f.Add([]byte("config: {dim: 1}\nsweep:\n  - []\n  - seed: {from: 0, count: 3}\n"))
	f.Add([]byte("config: {dim: 1}\n---\nconfig: {}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse("fuzz.yaml", b)
		if err != nil {
			if msg := err.Error(); len(msg) > 600 || strings.Contains(msg, "\n") {
				t.Fatalf("error of %d bytes or several lines: %q", len(msg), msg)
			}
			return
		}
		if n := p.Sweep.Len(); n < 1 || n > MaxRuns {
			t.Fatalf("a sweep of %d runs was accepted", n)
		}
		if _, err := p.RunConfig(0, nil); err != nil {
			t.Fatalf("an accepted preset's first run fails: %v", err)
		}
	})
}

// FuzzSet: any --set string gives a valid config or an error, never a
// panic or a key injected through the value.
func FuzzSet(f *testing.F) {
	for _, s := range []string{"dim=3", "seed=7", "batch=20%", "dim=", "batch=~", "samples=12.9", "dim=1\nepochs: 2", "dtype=f64", "=", "lr=1e-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, kv string) {
		base := experiment.Default()
		cfg, err := Set(base, []string{kv})
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("--set %q gave an invalid config: %v", kv, err)
		}
		if strings.ContainsAny(kv, "\n\r") {
			t.Fatalf("--set %q with a newline was accepted", kv)
		}
	})
}
