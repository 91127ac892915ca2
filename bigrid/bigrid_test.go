package bigrid

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
)

// underTwoGB runs the binary with args under an address-space limit of
// 2·10⁶ KiB (ulimit -v: what a batch system sets), in dir. (Not 1 GB: the
// Go runtime itself does not start reliably there — at 1.2·10⁶ KiB
// `sweep count` failed 6 of 6 times on the test machine, at 10⁶ 1 of 6 —
// while 1.8–2.5·10⁶ KiB started 30 of 30.)
func underTwoGB(dir string, args ...string) *exec.Cmd { return underLimit("2000000", dir, args...) }

// underLimit is underTwoGB at another limit, in KiB.
func underLimit(kib, dir string, args ...string) *exec.Cmd {
	cmd := testCmd("sh", "-c", "ulimit -v "+kib+" && exec \"$0\" \"$@\"", binary)
	cmd.Args = append(cmd.Args, args...)
	cmd.Dir = dir
	return cmd
}

// TestTenMillionRunGridIsWalkedNotListed: a grid of 10⁷ runs (the most a
// sweep may have) under an address-space limit of about 2 GB. sweep plan,
// sweep status, a local sweep and sweep merge walk the runs by index and
// keep sets of indices as ranges, so each works in the memory of one run;
// they listed every run before (3.3 GB: "fatal error: out of memory" at
// once under this limit).
func TestTenMillionRunGridIsWalkedNotListed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ulimit -v is Linux's here")
	}
	dir := t.TempDir()
	grid := filepath.Join(dir, "g1e7.yaml")
	os.WriteFile(grid, []byte(`name: g1e7
config: {dim: 1, samples: 20, width: 8, epochs: 2, eval_points: 256}
sweep:
  - teacher_seed: {from: 0, count: 10000}
  - init_seed: {from: 0, count: 1000}
`), 0o644)
	run := func(t *testing.T, cmd *exec.Cmd) (string, int) {
		t.Helper()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if err != nil && cmd.ProcessState == nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "fatal error") || strings.Contains(out.String(), "goroutine ") {
			o := out.String()
			t.Fatalf("reluscope %v died:\n%s", cmd.Args[4:], o[max(0, len(o)-3000):])
		}
		return out.String(), cmd.ProcessState.ExitCode()
	}
	// The last run finished as a shard: status has one record to match.
	shards := filepath.Join(dir, "shards")
	runBinary(t, "sweep", "run", grid, "--index", "9999999", "--out", shards)

	t.Run("plan", func(t *testing.T) {
		t.Parallel()
		out, code := run(t, underTwoGB(dir, "sweep", "plan", grid, "--sbatch", "plan"))
		if code != 0 || !strings.Contains(out, "g1e7: 10000000 runs in 1 classes") {
			t.Fatalf("sweep plan: exit %d\n%s", code, experiment.Excerpt(out, 2000))
		}
		idx, err := os.ReadFile(filepath.Join(dir, "plan", "class-0.idx"))
		if err != nil || bytes.Count(idx, []byte("\n")) != 10_000_000 || !bytes.HasPrefix(idx, []byte("0\n1\n")) || !bytes.HasSuffix(idx, []byte("\n9999999\n")) {
			t.Fatalf("class-0.idx: %d lines (%v), want 0 … 9999999", bytes.Count(idx, []byte("\n")), err)
		}
	})
	t.Run("status", func(t *testing.T) {
		t.Parallel()
		out, code := run(t, underTwoGB(dir, "sweep", "status", grid, shards, "--block", "1000"))
		if code != 3 || // exitIncomplete
			!strings.Contains(out, "10000000 runs — 1 finished, 0 failed, 0 in progress (a saved state), 9999999 missing") ||
			!strings.Contains(out, "missing: 0-9999998\n") || strings.Count(out, "sbatch --array=") != 10_000 ||
			!strings.Contains(out, "sbatch --array=0-998 examples/slurm-array.sh "+grid+" --offset 9999000\n") {
			t.Fatalf("sweep status: exit %d\n%s", code, experiment.Excerpt(out, 2000))
		}
	})
	t.Run("merge", func(t *testing.T) {
		t.Parallel()
		out, code := run(t, underTwoGB(dir, "sweep", "merge", "--out", "merged.jsonl", shards))
		if code != 3 || // exitIncomplete
			!strings.Contains(out, "g1e7 (variant ") || !strings.Contains(out, "): 9999999 indices below the largest (9999999) have no record: 0-9999998") {
			t.Fatalf("sweep merge: exit %d\n%s", code, experiment.Excerpt(out, 2000))
		}
	})
	t.Run("sweep", func(t *testing.T) {
		t.Parallel()
		// A local sweep of the grid, stopped after its first runs: it
		// walked the grid (every run checked, the finished one found)
		// and ran runs as workers freed up.
		local := filepath.Join(dir, "local")
		if err := os.Mkdir(local, 0o755); err != nil {
			t.Fatal(err)
		}
		// At 3·10⁶ KiB: the memory guard counts what the process maps
		// (the runtime and its threads reserve 1–1.8 GB of address space
		// here), and under 2·10⁶ it could leave less than the run's 126
		// MiB. The old job list (3.3 GB) still does not fit.
		cmd := underLimit("3000000", dir, "sweep", grid, "--out", local, "--workers", "1")
		var out bytes.Buffer // read after Wait
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		resultsPath := filepath.Join(local, results.ResultsFile)
		ok := eventually(t, 5*time.Minute, func() bool {
			select {
			case <-exited:
				return true
			default:
			}
			b, _ := os.ReadFile(resultsPath)
			return bytes.Count(b, []byte("\n")) >= 3
		})
		cmd.Process.Signal(syscall.SIGINT)
		<-exited
		if !ok || !strings.Contains(out.String(), "sweep g1e7: 10000000 runs, 0 already done in "+local+", 10000000 to go on 1 workers") ||
			!strings.Contains(out.String(), "runs saved in "+resultsPath) {
			t.Fatalf("local sweep (exit %d):\n%s", cmd.ProcessState.ExitCode(), experiment.Excerpt(out.String(), 2000))
		}
		recs, err := results.ReadRecords(resultsPath)
		if err != nil || len(recs) < 3 || recs[0].Index != 0 || recs[0].Error != "" {
			t.Fatalf("local sweep's records: %d (%v)", len(recs), err)
		}
	})
}

// TestSweepCountOfTenMillionRuns: counted and checked without building
// every config (it once ran out of memory after 32 s).
func TestSweepCountOfTenMillionRuns(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(p, []byte("config: {epochs: 2}\nsweep:\n  - teacher_seed: {from: 0, count: 100000}\n  - seed: {from: 0, count: 100}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := testCmd(binary, "sweep", "count", p)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Dir = &so, &se, dir
	cmd.Run()
	code, stdout, stderr := cmd.ProcessState.ExitCode(), so.String(), se.String()
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = int64(ru.Maxrss) * 1024
	}
	if code != 0 || strings.TrimSpace(stdout) != "10000000" {
		t.Fatalf("sweep count: exit %d, %q %q", code, stdout, stderr)
	}
	if rss > 1<<30 {
		t.Fatalf("sweep count of 10⁷ runs peaked at %d MiB", rss>>20)
	}
}
