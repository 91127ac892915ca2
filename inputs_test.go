package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
)

// Inputs that once broke reluscope, each as the user typed it: data files,
// FIFOs, huge or foreign files, failed runs, signals, locks.

// TestBadDataAndFilesAreRefused: each once panicked, hung, ran out of memory or
// quoted raw text; now one short line, a non-zero exit, and a bounded
// peak memory (the race detector's shadow included).
func TestBadDataAndFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	w := func(name, body string) string { return writePreset(t, dir, name, body) }
	big := w("big.csv", "0.1,1e200\n-0.2,-1e200\n0.3,1e200\n")
	nan := w("nan.csv", "NaN,1\n0.1,0.2\n")
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse.json")
	if f, err := os.Create(sparse); err != nil || f.Truncate(1<<30) != nil {
		t.Fatal("cannot make a sparse file")
	} else {
		f.Close()
	}
	axis := w("axis.yaml", "config: {epochs: 2}\nsweep:\n  - samples: [12.9, 20.7]\n")
	long := make([]string, 100001)
	for i := range long {
		long[i] = "1"
	}
	longAxis := w("long.yaml", "config: {epochs: 2}\nsweep:\n  - teacher_seed: ["+strings.Join(long, ", ")+"]\n")
	overflow := w("overflow.yaml", "config: {epochs: 2}\nsweep:\n  - teacher_seed: {from: 9223372036854775807, count: 3}\n")
	hugeField := filepath.Join(dir, "field.csv")
	os.WriteFile(hugeField, []byte("0.1,"+strings.Repeat("9x", 50<<20)+"\n"), 0o644)
	activation := w("act.yaml", "config: {activation: "+strings.Repeat("z", 900<<10)+"}\n")
	broken := w("broken.json", "{broken")
	narrow := w("narrow.json", `{"sizes": [1, 3, 1], "w": [[1, 2, 3], [1, 1, 1]], "b": [[0, 0, 0], [0]]}`)
	for _, tc := range []struct {
		args   []string
		want   string
		maxRSS int64
	}{
		{[]string{"run", "--learner", "discrete", "--width", "1", "--vs-adam=false", "--discrete-set", "1e200"}, "found no network with a finite loss", 1 << 30},
		{[]string{"run", "--learner", "enumerate", "--data", big, "--vs-adam=false"}, "its square overflows float64", 1 << 30},
		{[]string{"run", "--learner", "discrete", "--data", big, "--vs-adam=false"}, "its square overflows float64", 1 << 30},
		{[]string{"run", "--learner", "enumerate", "--net-eps", "1e-9"}, "more than 2e+08 in all", 1 << 30},
		{[]string{"run", "--learner", "discrete", "--vs-adam=false"}, "states", 2 << 30},
		{[]string{"run", "--data", nan}, `"NaN" is not a finite number`, 1 << 30},
		{[]string{"run", "--preset", fifo}, "is not a regular file", 1 << 30},
		{[]string{"run", "--data", fifo}, "is not a regular file", 1 << 30},
		{[]string{"run", "--teacher", fifo}, "is not a regular file", 1 << 30},
		{[]string{"report", fifo}, "is not a regular file", 1 << 30},
		{[]string{"run", "--teacher", sparse}, "sparse.json", 1 << 30},
		{[]string{"run", "--teacher", broken}, "teacher_file", 1 << 30},
		{[]string{"run", "--init", broken}, "init_file", 1 << 30},
		{[]string{"run", "--init", narrow}, "init_file", 1 << 30},
		{[]string{"sweep", "count", axis}, "12.9 is not a whole number", 1 << 30},
		{[]string{"run", "--set", "samples=!!float 12.9"}, "YAML tag", 1 << 30},
		{[]string{"run", "--set", "width\nsamples=5"}, "--set", 1 << 30},
		{[]string{"run", "--set", "activation=\x1b[31mred"}, "without control characters", 1 << 30},
		{[]string{"sweep", "count", longAxis}, "100000", 1 << 30},
		{[]string{"sweep", "count", overflow}, "teacher_seed", 1 << 30},
		{[]string{"sweep", "run", "smoke", "--index", "-2"}, "--index -2: an index is ≥ 0", 1 << 30},
		{[]string{"run", "--learner", strings.Repeat("x", 100_000)}, "is not adam", 1 << 30},
		{[]string{"run", "--data", hugeField}, "field.csv:1: a line longer than 65536 bytes", 1 << 30},
		{[]string{"run", "--preset", activation}, "activation", 2 << 30},
	} {
		code, stdout, stderr, rss := runIn(t, dir, tc.args...)
		name := experiment.Excerpt(strings.Join(tc.args, " "), 80)
		if code == 0 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "goroutine ") {
			t.Fatalf("%s: exit %d, stderr %q; want one line containing %q", name, code, experiment.Excerpt(stderr, 300), tc.want)
		}
		if len(stderr) > 400 || strings.ContainsRune(stderr, 0x1b) {
			t.Fatalf("%s: the error quotes %d bytes raw: %q", name, len(stderr), experiment.Excerpt(stderr, 300))
		}
		if (strings.Contains(name, "--teacher") || strings.Contains(name, "--init")) && stdout != "" {
			t.Fatalf("%s: the run's header before its file is read:\n%s", name, stdout)
		}
		if strings.Contains(stdout, " Adam steps") && strings.Contains(name, "--learner") {
			t.Fatalf("%s: a learner's work is called Adam steps:\n%s", name, stdout)
		}
		if rss > tc.maxRSS {
			t.Fatalf("%s: peak memory %d MiB, more than %d MiB", name, rss>>20, tc.maxRSS>>20)
		}
	}
	// RELUSCOPE_MEM_AVAILABLE must be a positive number of bytes.
	for _, v := range []string{"0", "lots", "-5"} {
		cmd := testCmd(binary, "run", "--epochs", "1")
		cmd.Env = append(os.Environ(), "RELUSCOPE_MEM_AVAILABLE="+v)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "RELUSCOPE_MEM_AVAILABLE") {
			t.Fatalf("RELUSCOPE_MEM_AVAILABLE=%s: %v\n%s", v, err, out)
		}
	}
}

// TestNonFiniteResultsAreKept: a data run's errors are NaN and a teacher
// whose outputs overflow gives +Inf; the JSON events, the saved folder,
// the sweep's records, report, merge and resume all carry them.
func TestNonFiniteResultsAreKept(t *testing.T) {
	dir := t.TempDir()
	toy := writePreset(t, dir, "toy.csv", "x,y\n0.1,0.2\n-0.3,0.5\n0.2,-0.1\n0.4,0.3\n-0.1,0.0\n")
	code, stdout, stderr, _ := runIn(t, dir, "run", "--json", "--data", toy, "--epochs", "2", "--batch", "1")
	if code != 0 {
		t.Fatalf("run --json --data: exit %d: %s", code, stderr)
	}
	var kinds []string
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var ev struct {
			Type  string                 `json:"type"`
			Final *experiment.Checkpoint `json:"final"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("an event is not JSON: %v\n%s", err, sc.Text())
		}
		kinds = append(kinds, ev.Type)
		if ev.Type == "done" && (ev.Final == nil || ev.Final.L2 == ev.Final.L2) {
			t.Fatalf("the done event's L2 is not read back as NaN: %s", sc.Text())
		}
	}
	if len(kinds) < 2 || kinds[0] != "start" || kinds[len(kinds)-1] != "done" {
		t.Fatalf("events %v", kinds)
	}
	out := filepath.Join(dir, "d")
	if code, _, stderr, _ := runIn(t, dir, "run", "--data", toy, "--out", out, "--epochs", "2", "--batch", "1"); code != 0 {
		t.Fatalf("run --data --out: %s", stderr)
	}
	for _, f := range []string{"config.json", "result.json", "student.json", "history.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatalf("the data run's folder lacks %s", f)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "teacher.json")); err == nil {
		t.Fatal("a data run saved a teacher")
	}
	// A sweep of data runs and one of a teacher whose outputs overflow.
	inf := writePreset(t, dir, "inf.json", `{"format":"reluscope-network/v1","role":"teacher","activation":"relu","sizes":[1,2,1],"input_scale":1,"weights":[[1e300,1e300],[1e300,1e300]],"biases":[[1e300,1e300],[0]]}`)
	// A sweep whose runs failed exits 4 (exitRunsFailed), its records
	// written, also when run again with nothing left to do.
	for _, sw := range []struct {
		name, cfg, want string
		exit            int
	}{
		{"data", "{data_file: " + toy + ", epochs: 2, batch: 1, samples: 5}", "L2 —", 0},
		{"inf", "{teacher_file: " + inf + ", epochs: 2, samples: 20, batch: 20, width: 2, depth: 2, teacher_width: 2}", "FAILED: diverged", exitRunsFailed},
	} {
		p := writePreset(t, dir, sw.name+".yaml", "name: "+sw.name+"\nconfig: "+sw.cfg+"\nsweep:\n  - seed: [1, 2]\n")
		folder := filepath.Join(dir, "sw-"+sw.name)
		code, _, stderr, _ := runIn(t, dir, "sweep", p, "--out", folder, "--workers", "1")
		if code != sw.exit || !strings.Contains(stderr, sw.want) {
			t.Fatalf("sweep %s: exit %d, want %d\n%s", sw.name, code, sw.exit, stderr)
		}
		recs, err := results.ReadRecords(filepath.Join(folder, "results.jsonl"))
		if err != nil || len(recs) != 2 {
			t.Fatalf("sweep %s: %d records, %v", sw.name, len(recs), err)
		}
		if code, _, stderr, _ := runIn(t, dir, "sweep", p, "--out", folder); code != sw.exit || !strings.Contains(stderr, "2 already done") {
			t.Fatalf("resumed sweep %s: exit %d, want %d\n%s", sw.name, code, sw.exit, stderr)
		}
		if code, _, stderr, _ := runIn(t, dir, "sweep", "merge", filepath.Join(folder, "results.jsonl"), "--out", filepath.Join(dir, sw.name+".jsonl")); code != map[bool]int{true: exitIncomplete, false: 0}[sw.exit != 0] || !strings.Contains(stderr, "merged 2 records") {
			t.Fatalf("merge %s: %s", sw.name, stderr)
		}
		// A report of failed runs only says there is nothing to report.
		if code, stdout, stderr, _ := runIn(t, dir, "report", filepath.Join(folder, "results.jsonl")); (code != 0 && !strings.Contains(stderr, "no finished runs")) || strings.Contains(stdout, "NaN") {
			t.Fatalf("report %s: exit %d %s\n%s", sw.name, code, stderr, stdout)
		}
	}
}

// TestSweepRetriesFailedRuns: failed runs are counted on resume and run
// again with --retry-failed.
func TestSweepRetriesFailedRuns(t *testing.T) {
	dir := t.TempDir()
	toy := writePreset(t, dir, "toy.csv", "0.1,0.2\n-0.3,0.5\n0.2,-0.1\n")
	p := writePreset(t, dir, "f.yaml", "name: f\nconfig: {data_file: "+toy+", epochs: 2, batch: 1, samples: 5}\nsweep:\n  - seed: [1, 2]\n")
	folder := filepath.Join(dir, "sw")
	if code, _, stderr, _ := runIn(t, dir, "sweep", p, "--out", folder); code != exitRunsFailed || !strings.Contains(stderr, "2 of 2 runs failed") {
		t.Fatalf("a sweep whose runs fail: exit %d\n%s", code, stderr)
	}
	if code, _, stderr, _ := runIn(t, dir, "sweep", p, "--out", folder); code != exitRunsFailed || !strings.Contains(stderr, "2 of them failed: --retry-failed runs them again") {
		t.Fatalf("resume does not count the failed runs: exit %d\n%s", code, stderr)
	}
	if code, _, stderr, _ := runIn(t, dir, "sweep", p, "--out", folder, "--retry-failed"); code != exitRunsFailed || !strings.Contains(stderr, "2 to go") {
		t.Fatalf("--retry-failed did not run them again: exit %d\n%s", code, stderr)
	}
	// sweep run of one failing index: its record written, exit 4.
	shards := filepath.Join(dir, "shards")
	err := dispatch(context.Background(), []string{"sweep", "run", p, "--index", "1", "--out", shards}, io.Discard, io.Discard)
	if m, _ := filepath.Glob(filepath.Join(shards, "index-0000001-*.jsonl")); err == nil || exitCode(err) != exitRunsFailed || len(m) != 1 || !strings.Contains(err.Error(), "run 1 of 2 failed") {
		t.Fatalf("sweep run of a failing run: %v, shards %v", err, m)
	}
}

// TestSweepMergeCountsConflicts: two finished copies of a run with
// different numbers are a conflict, counted and said.
func TestSweepMergeCountsConflicts(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	if code, _, stderr, _ := runIn(t, dir, "sweep", "smoke", "--out", a, "--limit", "samples=1", "--limit", "teacher_seed=1", "--limit", "seed=1", "--set", "epochs=2"); code != 0 {
		t.Fatal(stderr)
	}
	b, _ := os.ReadFile(filepath.Join(a, "results.jsonl"))
	var r results.Record
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	r.History[len(r.History)-1].L2 *= 2
	c, _ := json.Marshal(r)
	other := writePreset(t, dir, "other.jsonl", string(c)+"\n")
	// Which copy is right cannot be told: nothing is merged, exit 1 (it
	// kept the first by argument order, exit 0).
	code, _, stderr, _ := runIn(t, dir, "sweep", "merge", filepath.Join(a, "results.jsonl"), other, "--out", filepath.Join(dir, "m.jsonl"))
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "have finished copies with different numbers") {
		t.Fatalf("merging two different copies of a run: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.jsonl")); !os.IsNotExist(err) {
		t.Fatal("a merge of clashing copies wrote its file")
	}
}

// TestSymlinkedLockIsRefused: a results.lock that is a symlink is not
// followed (its target would be truncated).
func TestSymlinkedLockIsRefused(t *testing.T) {
	dir := t.TempDir()
	target := writePreset(t, dir, "precious", "keep me\n")
	folder := filepath.Join(dir, "sw")
	os.MkdirAll(folder, 0o755)
	if err := os.Symlink(target, filepath.Join(folder, "results.lock")); err != nil {
		t.Fatal(err)
	}
	code, _, stderr, _ := runIn(t, dir, "sweep", "smoke", "--out", folder, "--set", "epochs=2")
	if b, _ := os.ReadFile(target); code == 0 || string(b) != "keep me\n" {
		t.Fatalf("a symlinked lock: exit %d, target now %q, %s", code, b, stderr)
	}
}

// TestSIGHUPSavesTheRun: an ssh drop (SIGHUP) stops `run --out` like
// SIGINT: it saves what it has and exits promptly with 130.
func TestSIGHUPSavesTheRun(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM} {
		dir := t.TempDir()
		out := filepath.Join(dir, "d")
		cmd := testCmd(binary, "run", "--out", out, "--epochs", "100000", "--eval-every", "1", "--width", "8", "--samples", "100")
		pipe, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(pipe)
		for rows := 0; rows < 4 && sc.Scan(); rows++ { // the header, then checkpoints
		}
		cmd.Process.Signal(sig)
		go func() {
			for sc.Scan() {
			}
		}()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(120 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: the run did not stop", sig)
		}
		if code := cmd.ProcessState.ExitCode(); code == 0 {
			t.Fatalf("%v: exit 0", sig)
		}
		if _, err := os.Stat(filepath.Join(out, "result.json")); err != nil {
			t.Fatalf("%v: nothing saved: %v", sig, err)
		}
	}
}

// TestConfigHashCoversFileContents: the same teacher path with other
// contents is another run.
func TestConfigHashCoversFileContents(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t.csv")
	os.WriteFile(p, []byte("0.1,0.2\n"), 0o644)
	cfg := experiment.Default()
	cfg.DataFile = p
	a := experiment.ConfigHash(cfg)
	os.WriteFile(p, []byte("0.1,0.3\n"), 0o644)
	if b := experiment.ConfigHash(cfg); a == b {
		t.Fatal("the hash did not change with the data file's contents")
	}
}
