package main

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/reluscope/reluscope/experiment/results"
)

// TestLearnersFromTheCommandLine: the README's toy, the refusal of an
// instance too large for exact ERM, and a sweep with the learner as an axis.
func TestLearnersFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	toy := filepath.Join(dir, "toy.csv")
	os.WriteFile(toy, []byte("x,y\n-1,1\n0,0\n1,1\n"), 0o644)
	lossRe := regexp.MustCompile(`exact-erm: the global optimum, summed squared loss Σ\(f\(x\)−y\)² = (\S+) \(mean \S+\) over 3 samples`)
	for _, tc := range []struct {
		width string
		want  float64
	}{{"1", 2.0 / 3}, {"2", 0}} {
		var stdout bytes.Buffer
		if err := dispatch(t.Context(), []string{"run", "--learner", "exact-erm", "--width", tc.width, "--no-output-bias", "--data", toy}, &stdout, io.Discard); err != nil {
			t.Fatal(err)
		}
		got, ok := number(lossRe, stdout.String())
		if !ok || math.Abs(got-tc.want) > 1e-6 || !strings.Contains(stdout.String(), "the same 3 samples") {
			t.Fatalf("width %s: loss %v, want %v:\n%s", tc.width, got, tc.want, stdout.String())
		}
	}
	code, _, stderr, rss := runIn(t, dir, "run", "--learner", "exact-erm", "--width", "3", "--samples", "2000", "--dim", "2")
	if code == 0 || !strings.Contains(stderr, "subproblems, more than the 1000000 allowed") || rss > 1<<30 {
		t.Fatalf("a huge exact ERM: exit %d at %d MB: %q", code, rss>>20, stderr)
	}
	preset := filepath.Join(dir, "learners.yaml")
	os.WriteFile(preset, []byte("config: {samples: 8, width: 2, epochs: 100, batch: 8, eval_points: 1024, sup: sampled}\nsweep:\n  - learner: [adam, exact-erm, discrete, enumerate]\n"), 0o644)
	out := filepath.Join(dir, "sw")
	if err := dispatch(t.Context(), []string{"sweep", preset, "--out", out, "--set", "student_depth=2"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	recs, err := results.ReadResults(out)
	if err != nil || len(recs) != 4 {
		t.Fatalf("%d records (%v)", len(recs), err)
	}
	for _, r := range recs {
		if r.Error != "" || len(r.History) != 2 && r.Config.Learner != "adam" {
			t.Fatalf("learner %s: %q, %d checkpoints", r.Config.Learner, r.Error, len(r.History))
		}
	}
}
