package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
	"github.com/reluscope/reluscope/presets"
)

// runIn runs the built reluscope in dir with args and returns its exit code,
// stdout, stderr and its peak resident memory in bytes (what it did, not
// how fast: no test here depends on the machine's speed).
func runIn(t *testing.T, dir string, args ...string) (int, string, string, int64) {
	t.Helper()
	return runEnvIn(t, dir, nil, args...)
}

// runEnvIn is runIn with env added to the environment.
func runEnvIn(t *testing.T, dir string, env []string, args ...string) (int, string, string, int64) {
	t.Helper()
	cmd := testCmd(binary, args...)
	cmd.Dir = dir
	// The memory check sees a machine of 16 GiB wherever the tests run.
	cmd.Env = append(append(os.Environ(), "RELUSCOPE_MEM_AVAILABLE=17179869184"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = int64(ru.Maxrss) * 1024 // kilobytes on Linux
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String(), rss
}

func writePreset(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBadPresetsAndFlagsAreRefused: inputs that once crashed reluscope, exhausted the
// machine or wrote outside its folder now get one line and a non-zero exit,
// at once.
func TestBadPresetsAndFlagsAreRefused(t *testing.T) {
	dir := t.TempDir()
	secret := "root:$6$" + strings.Repeat("SECRETHASH", 30) + ":19000:0:99999:7:::"
	shadow := writePreset(t, dir, "shadow", secret+"\ndaemon:*:19000:0:99999:7:::\n")
	escape := writePreset(t, dir, "escape.yaml", "name: x/../../../escaped\nconfig: {dim: 1}\n")
	abs := writePreset(t, dir, "abs.yaml", "name: /tmp/x\nconfig: {dim: 1}\n")
	huge := writePreset(t, dir, "huge.yaml", "config: {dim: 1}\nsweep:\n  - teacher_seed: {from: 0, count: 1000000000}\n")
	wide := writePreset(t, dir, "wide.yaml", "config: {dim: 1}\nsweep:\n  - teacher_seed: {from: 0, count: 100000}\n  - data_seed: {from: 0, count: 100000}\n")
	nine := "config: {dim: 1}\nsweep:\n"
	for _, k := range []string{"teacher_seed", "data_seed", "init_seed", "width", "samples", "epochs", "depth", "teacher_width", "eval_points"} {
		nine += "  - " + k + ": {from: 1, count: 200}\n"
	}
	nineP := writePreset(t, dir, "nine.yaml", nine)
	empty := writePreset(t, dir, "emptyaxis.yaml", "config: {dim: 1}\nsweep:\n  - []\n")
	afile := writePreset(t, dir, "afile", "not a folder\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--preset", "/dev/zero"}, "/dev/zero is not a regular file"},
		{[]string{"run", "--preset", shadow}, "shadow:"},
		{[]string{"sweep", "count", escape}, `name "x/../../../escaped" is not a name`},
		{[]string{"sweep", "count", abs}, `name "/tmp/x" is not a name`},
		{[]string{"sweep", "count", huge}, "a range of 1000000000 values; an axis has at most 100000"},
		{[]string{"sweep", "count", wide}, "the sweep has 100000 × 100000 = 1e+10 runs, more than the 10000000"},
		{[]string{"sweep", "count", nineP}, "runs, more than the 10000000 a sweep may have"},
		{[]string{"sweep", "count", empty}, "an empty list of groups"},
		{[]string{"run", "--preset", "smoke", "--out", afile}, "--out: mkdir " + afile + ": not a directory"},
		{[]string{"run", "--width", "4096", "--depth", "32", "--teacher-width", "4096"}, "needs about 142.1 GiB of memory and 16.0 GiB is available"},
		{[]string{"fool", "--width", "4096", "--depth", "32", "--teacher-width", "4096"}, "or pass --ignore-memory"},
		// The output folder is checked before training, not after it.
		{[]string{"sweep", "run", "smoke", "--index", "0", "--out", filepath.Join(shadow, "x")}, "--out: mkdir"},
		{[]string{"sweep", "paper-1d", "--set", "teacher_width=4096", "--set", "depth=32", "--out", filepath.Join(dir, "big")}, "runs at once ×"},
		// The GPU engine is in binaries built with -tags gpu only.
		{[]string{"run", "--backend", "cuda"}, "backend cuda is not in this binary: build with go build -tags gpu (README: GPU)"},
		{[]string{"--backend", "cuda"}, "backend cuda is not in this binary"},
		{[]string{"sweep", "smoke", "--set", "backend=cuda", "--out", filepath.Join(dir, "sw")}, "backend cuda is not in this binary"},
	} {
		code, stdout, stderr, _ := runIn(t, dir, tc.args...)
		if code == 0 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "goroutine") {
			t.Fatalf("%v: exit %d, stderr %q; want one line containing %q", tc.args, code, stderr, tc.want)
		}
		if strings.Contains(stderr, "SECRETHASHSECRETHASH") || len(stderr) > 400 {
			t.Fatalf("%v: the error quotes too much of the file: %q", tc.args, stderr)
		}
		if strings.Contains(stdout, "epoch") && tc.args[0] == "run" {
			t.Fatalf("%v: trained before refusing:\n%s", tc.args, stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "escaped")); err == nil {
		t.Fatal("a preset's name wrote outside the results folder")
	}
}

// TestSweepLock: a second sweep on a folder in use is refused, naming the
// holder; the lock goes when the first releases it.
func TestSweepLock(t *testing.T) {
	dir := t.TempDir()
	held, err := results.LockResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := results.LockResults(dir); err == nil || !strings.Contains(err.Error(), "in use by another sweep (pid") {
		t.Fatalf("second lock: %v", err)
	}
	code, _, stderr, _ := runIn(t, dir, "sweep", "smoke", "--out", dir)
	if code == 0 || !strings.Contains(stderr, "in use by another sweep") {
		t.Fatalf("a second sweep process: exit %d, %q", code, stderr)
	}
	held.Close()
	again, err := results.LockResults(dir)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.Close()
}

// TestReportRefusesBadRecordsAndFlags: a record that reluscope cannot have
// written is named by file and line; errors that cannot go on log axes and
// chart widths out of range are refused, not crashed on or looped over.
func TestReportRefusesBadRecordsAndFlags(t *testing.T) {
	dir := t.TempDir()
	rec := func(mut func(*results.Record)) string {
		r := results.Record{Hash: "h", Config: experiment.Default(), History: []experiment.Checkpoint{{}, {Epoch: 200, Metrics: experiment.Metrics{L1: 0.1, L2: 0.1, Linf: 0.3}}}}
		mut(&r)
		b, _ := json.Marshal(r)
		return string(b) + "\n"
	}
	good := rec(func(*results.Record) {})
	bad := writePreset(t, dir, "bad.jsonl", good+rec(func(r *results.Record) { r.Hash = "h2"; r.Config.Dim = 0 }))
	neg := writePreset(t, dir, "neg.jsonl", rec(func(r *results.Record) { r.Config.Samples = -5 }))
	zero := writePreset(t, dir, "zero.jsonl", rec(func(r *results.Record) { r.History[1].Metrics = experiment.Metrics{} })+
		rec(func(r *results.Record) {
			r.Hash, r.Config.Samples, r.History[1].Metrics = "h3", 100, experiment.Metrics{}
		}))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", bad}, "bad.jsonl:2: not a record reluscope wrote: dim: 0 is out of range"},
		{[]string{"report", neg, "--png", filepath.Join(dir, "f.png")}, "neg.jsonl:1: not a record reluscope wrote: samples: -5"},
		{[]string{"report", zero, "--png", filepath.Join(dir, "z.png")}, "nothing to plot on log axes"},
		{[]string{"report", writePreset(t, dir, "ok.jsonl", good), "--width", "-5"}, "--width -5: the chart's width must be in [30, 1000]"},
		{[]string{"report", filepath.Join(dir, "ok.jsonl"), "--width", "100000000"}, "must be in [30, 1000]"},
	} {
		code, _, stderr, _ := runIn(t, dir, tc.args...)
		if code == 0 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
			t.Fatalf("%v: exit %d, stderr %q; want one line containing %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestLogIsPrivateAndNoSymlink: the explorer's default log is in the
// user's state folder, private; a symlink at the log's place is refused.
func TestLogIsPrivateAndNoSymlink(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", dir)
	sd, err := stateDir()
	if err != nil || sd != filepath.Join(dir, "reluscope") {
		t.Fatalf("state dir %q (%v)", sd, err)
	}
	if st, _ := os.Stat(sd); st.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode %v, want 0700", st.Mode().Perm())
	}
	f, err := openLog(filepath.Join(sd, "reluscope.log"))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("log mode %v, want 0600", st.Mode().Perm())
	}
	target := filepath.Join(dir, "elsewhere")
	link := filepath.Join(sd, "linked.log")
	os.Symlink(target, link)
	if f, err := openLog(link); err == nil {
		f.Close()
		t.Fatal("the log followed a symlink")
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("a file was created through the symlink")
	}
}

// TestRunOutputCarriesItsNumbers: the JSON done event carries the final
// checkpoint, its lr and the run's step rate; text mode reports progress
// while nothing else is printed.
func TestRunOutputCarriesItsNumbers(t *testing.T) {
	var stdout bytes.Buffer
	if err := dispatch(t.Context(), []string{"run", "--preset", "smoke", "--json"}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var done struct {
		Type        string  `json:"type"`
		LR          float64 `json:"lr"`
		StepsPerSec float64 `json:"steps_per_sec"`
		Final       *struct {
			Epoch int     `json:"epoch"`
			L2    float64 `json:"l2"`
		} `json:"final"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &done); err != nil {
		t.Fatal(err)
	}
	if done.Type != "done" || done.LR <= 0 || done.StepsPerSec <= 0 || done.Final == nil || done.Final.Epoch != 20 || done.Final.L2 <= 0 {
		t.Fatalf("done event %s", lines[len(lines)-1])
	}
	old := progressEvery
	progressEvery = 20 * time.Millisecond
	defer func() { progressEvery = old }()
	stdout.Reset()
	if err := dispatch(t.Context(), []string{"run", "--preset", "smoke", "--width", "256", "--samples", "2000", "--epochs", "3", "--eval-every", "3"}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "        … epoch ") {
		t.Fatalf("no progress line between checkpoints:\n%s", stdout.String())
	}
}

// TestNoSilentCoercions: values that used to be cut, ignored or stored as
// typed are refused or written one way.
func TestNoSilentCoercions(t *testing.T) {
	dir := t.TempDir()
	frac := writePreset(t, dir, "frac.yaml", "config:\n  dim: 1.7\n")
	two := writePreset(t, dir, "two.yaml", "config: {dim: 1}\n---\nconfig: {dim: 2}\n")
	empty := writePreset(t, dir, "empty.yaml", "\n\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--set", "dim="}, "--set dim=: no value"},
		{[]string{"run", "--set", "batch=~"}, "--set batch=~: no value"},
		{[]string{"run", "--set", "samples=12.9"}, "samples: 12.9 is not a whole number"},
		{[]string{"run", "--set", "dim=1\nepochs: 1"}, "--set dim: a value is one line"},
		{[]string{"run", "--preset", frac}, "line 2: dim: 1.7 is not a whole number"},
		{[]string{"run", "--preset", two}, "a second YAML document"},
		{[]string{"run", "--preset", empty}, "an empty preset file"},
		{[]string{"sweep", "count", "smoke", "--set", "samples=10"}, "the sweep's axis samples sets samples too"},
	} {
		code, _, stderr, _ := runIn(t, dir, tc.args...)
		if code == 0 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
			t.Fatalf("%q: exit %d, stderr %q; want one line containing %q", tc.args, code, stderr, tc.want)
		}
	}
	// f64 is float64: the same runs, the same hashes.
	_, a, _, _ := runIn(t, dir, "sweep", "count", "smoke", "--set", "dtype=f64")
	if strings.TrimSpace(a) != "8" {
		t.Fatalf("--set dtype=f64 gives %s runs, want 8", a)
	}
	base := experiment.Default()
	f64, err := presets.Set(base, []string{"dtype=f64"})
	if err != nil || f64.DType != "float64" || experiment.ConfigHash(f64) != experiment.ConfigHash(base) {
		t.Fatalf("dtype f64 stored as %q (%v), hash differs from float64's", f64.DType, err)
	}
}

// TestSavedNetworksComeBack: a saved run's teacher and student load back as
// --teacher and --init: the same teacher gives the same run, a trained
// start begins near where the saved run ended, and a shape that does not
// fit is refused naming both.
func TestSavedNetworksComeBack(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "saved")
	final := func(args ...string) (float64, float64) {
		t.Helper()
		var stdout bytes.Buffer
		if err := dispatch(t.Context(), append([]string{"run", "--preset", "smoke", "--json"}, args...), &stdout, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		var first, last struct {
			Checkpoints []struct {
				L2 float64 `json:"l2"`
			} `json:"checkpoints"`
			Final struct {
				L2 float64 `json:"l2"`
			} `json:"final"`
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		json.Unmarshal([]byte(lines[1]), &first)
		json.Unmarshal([]byte(lines[len(lines)-1]), &last)
		return first.Checkpoints[0].L2, last.Final.L2
	}
	_, want := final("--out", out, "--lr", "0.003", "--lr-end", "0.0001", "--epochs", "100")
	if _, got := final("--teacher", filepath.Join(out, "teacher.json"), "--lr", "0.003", "--lr-end", "0.0001", "--epochs", "100"); got != want {
		t.Fatalf("the loaded teacher gives final L2 %v, the drawn one %v", got, want)
	}
	fresh0, _ := final()
	warm0, _ := final("--init", filepath.Join(out, "student.json"), "--epochs", "2")
	if !(warm0 < fresh0/2) || math.Abs(warm0/want-1) > 0.2 {
		t.Fatalf("starting from the saved student: epoch-0 L2 %v, from scratch %v, the saved run ended at %v", warm0, fresh0, want)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--preset", "smoke", "--teacher", filepath.Join(out, "teacher.json"), "--teacher-width", "8"}, "the network has layers [1 16 16 1], the config wants [1 8 8 1]"},
		{[]string{"run", "--preset", "smoke", "--init", filepath.Join(out, "student.json"), "--width", "4"}, "init_file " + filepath.Join(out, "student.json") + ": the network has layers"},
		{[]string{"run", "--preset", "smoke", "--teacher", filepath.Join(dir, "none.json")}, "no such file"},
	} {
		code, _, stderr, _ := runIn(t, dir, tc.args...)
		if code == 0 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
			t.Fatalf("%v: exit %d, stderr %q; want %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestReportFindsNestedResults: report DIR reads every results file below
// DIR — sweeps in nested folders and runs saved with --out (or the
// explorer's w) — and writes the figure in each format.
func TestReportFindsNestedResults(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"sweep", "smoke", "--out", filepath.Join(dir, "results", "deep", "sweep-smoke")},
		{"run", "--preset", "smoke", "--samples", "300", "--out", filepath.Join(dir, "results", "run-1")},
	} {
		if err := dispatch(t.Context(), args, io.Discard, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	var stdout bytes.Buffer
	if err := dispatch(t.Context(), []string{"report", filepath.Join(dir, "results"), "--png", filepath.Join(dir, "f.png"), "--csv", filepath.Join(dir, "t.csv")}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), "9 runs (0 failed") {
		t.Fatalf("report found:\n%s", stdout.String())
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "t.csv"))
	if !strings.Contains(string(csv), "l2_avg") || strings.Count(string(csv), "\n") != 4 { // header, m = 200, 300, 1000
		t.Fatalf("table:\n%s", csv)
	}
	for _, ext := range []string{"svg", "pdf"} {
		if err := dispatch(t.Context(), []string{"report", filepath.Join(dir, "results"), "--png", filepath.Join(dir, "f."+ext)}, io.Discard, io.Discard); err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
	}
}
