package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/reluscope/reluscope/experiment"
)

func runBinary(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("reluscope %v: %v\n%s", args, err, out.String())
	}
	return out.String()
}

// metricsByHash keeps what must not depend on how a sweep was run.
func metricsByHash(t *testing.T, rs []experiment.Record) map[string][]experiment.Metrics {
	t.Helper()
	out := map[string][]experiment.Metrics{}
	for _, r := range rs {
		if _, dup := out[r.Hash]; dup {
			t.Fatalf("record %s appears twice", r.Hash)
		}
		var ms []experiment.Metrics
		for _, c := range r.History {
			ms = append(ms, c.Metrics)
		}
		out[r.Hash] = ms
	}
	return out
}

// TestShardedSweepEqualsLocalSweep runs every index as its own process,
// merges, and compares with one local sweep.
func TestShardedSweepEqualsLocalSweep(t *testing.T) {
	dir := t.TempDir()
	local, shards := filepath.Join(dir, "local"), filepath.Join(dir, "shards")
	runBinary(t, "sweep", "smoke", "--out", local, "--workers", "2")
	n := strings.TrimSpace(runBinary(t, "sweep", "count", "smoke"))
	if n != "8" {
		t.Fatalf("sweep count smoke = %s, want 8", n)
	}
	for i := 0; i < 8; i++ {
		if i%2 == 0 {
			runBinary(t, "sweep", "run", "smoke", "--index", fmt.Sprint(i), "--out", shards)
		} else { // the index from a Slurm array or a Kubernetes Indexed Job
			cmd := exec.Command(binary, "sweep", "run", "smoke", "--out", shards)
			env := "SLURM_ARRAY_TASK_ID"
			if i%4 == 3 {
				env = "JOB_COMPLETION_INDEX"
			}
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", env, i))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("index %d from $%s: %v\n%s", i, env, err, out)
			}
		}
	}
	// A repeated index is skipped, and merging drops duplicates anyway.
	if out := runBinary(t, "sweep", "run", "smoke", "--index", "3", "--out", shards); !strings.Contains(out, "already finished") {
		t.Fatalf("a finished index ran again: %s", out)
	}
	merged := filepath.Join(dir, "merged.jsonl")
	runBinary(t, "sweep", "merge", "--out", merged, shards, shards)
	a, err := experiment.ReadResults(local)
	if err != nil {
		t.Fatal(err)
	}
	b, err := experiment.ReadRecords(merged)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 8 || len(b) != 8 || !reflect.DeepEqual(metricsByHash(t, a), metricsByHash(t, b)) {
		t.Fatalf("local sweep (%d runs) and merged shards (%d runs) differ", len(a), len(b))
	}
	out := runBinary(t, "report", local, "--csv", filepath.Join(dir, "r.csv"), "--png", filepath.Join(dir, "r.png"))
	for _, want := range []string{"d=1, teacher depth 3, width 16", "slope b", "ref", "-1.500", "── L∞", "figure written"} {
		if !strings.Contains(out, want) {
			t.Fatalf("report lacks %q:\n%s", want, out)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "r.png")); err != nil || st.Size() < 1000 {
		t.Fatal("report wrote no figure")
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "r.csv"))
	if lines := strings.Count(string(csv), "\n"); lines != 3 {
		t.Fatalf("report CSV has %d lines, want a header and 2 sample counts", lines)
	}
}

// TestSweepSurvivesKill9 kills a sweep mid-way and resumes it.
func TestSweepSurvivesKill9(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sw")
	args := []string{"sweep", "smoke", "--out", dir, "--workers", "2", "--set", "epochs=400", "--set", "eval_every=100"}
	results := filepath.Join(dir, "results.jsonl")
	cmd := exec.Command(binary, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(results)
		if bytes.Count(b, []byte("\n")) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the sweep finished no run in 60 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	before, _ := experiment.ReadRecords(results)
	if len(before) >= 8 {
		t.Skip("the sweep finished before it could be killed")
	}
	out := runBinary(t, args...)
	if !strings.Contains(out, fmt.Sprintf("%d already done", len(before))) {
		t.Fatalf("the resumed sweep did not skip the %d finished runs:\n%s", len(before), out)
	}
	after, err := experiment.ReadRecords(results)
	if err != nil {
		t.Fatal(err)
	}
	if len(metricsByHash(t, after)) != 8 || len(after) != 8 {
		t.Fatalf("after resume: %d records, want 8 distinct", len(after))
	}
}

func TestSweepBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "default"}, "has no sweep"},
		{[]string{"sweep", "nope"}, "unknown preset"},
		{[]string{"sweep", "count", "smoke", "--limit", "nope=2"}, "no axis"},
		{[]string{"sweep", "run", "smoke", "--index", "99"}, "out of range [0, 8)"},
		{[]string{"report", filepath.Join(t.TempDir(), "missing")}, "no such file"},
	} {
		cmd := exec.Command(binary, tc.args...)
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Fatalf("%v: err %v, output %q; want failure with %q", tc.args, err, out, tc.want)
		}
	}
}

func TestExamples(t *testing.T) {
	// The Slurm script runs the array task's index.
	dir := t.TempDir()
	script, _ := filepath.Abs("examples/slurm-array.sh")
	cmd := exec.Command("bash", script, "smoke", "--set", "epochs=2")
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=5", "RELUSCOPE="+binary)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("slurm script: %v\n%s", err, out)
	}
	shard := func(i int) []experiment.Record {
		m, _ := filepath.Glob(filepath.Join(dir, "results", "shards-smoke", fmt.Sprintf("index-%07d-*.jsonl", i)))
		if len(m) != 1 {
			t.Fatalf("shards of run %d: %v", i, m)
		}
		rs, err := experiment.ReadRecords(m[0])
		if err != nil || len(rs) != 1 || rs[0].Index != i {
			t.Fatalf("the Slurm task wrote %v (%v), want run %d", rs, err, i)
		}
		return rs
	}
	shard(5)
	// With --offset the task runs OFFSET + $SLURM_ARRAY_TASK_ID.
	cmd = exec.Command("bash", script, "smoke", "--set", "epochs=2", "--offset", "3")
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=4", "RELUSCOPE="+binary)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("slurm script with --offset: %v\n%s", err, out)
	}
	shard(7)
	// The Kubernetes manifest is an Indexed Job over every run of its preset.
	b, err := os.ReadFile("examples/k8s-indexed-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Kind string `yaml:"kind"`
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Template       struct {
				Spec struct {
					Containers []struct {
						Command []string `yaml:"command"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &job); err != nil {
		t.Fatal(err)
	}
	c := job.Spec.Template.Spec.Containers
	if job.Kind != "Job" || job.Spec.CompletionMode != "Indexed" || len(c) != 1 || len(c[0].Command) < 4 {
		t.Fatalf("manifest: %+v", job)
	}
	preset := c[0].Command[3]
	n := strings.TrimSpace(runBinary(t, "sweep", "count", preset))
	if fmt.Sprint(job.Spec.Completions) != n || strings.Join(c[0].Command[1:3], " ") != "sweep run" {
		t.Fatalf("manifest runs %v with %d completions; %s has %s runs", c[0].Command, job.Spec.Completions, preset, n)
	}
}

// TestSweepPlan: the smoke grid's classes cover every run once; --sbatch
// writes per class the indices and a script whose task T runs the run on
// line OFFSET+T+1.
func TestSweepPlan(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr, _ := runIn(t, dir, "sweep", "plan", "smoke", "--set", "epochs=2", "--sbatch", "plan")
	if code != 0 || !strings.Contains(out, "smoke: 8 runs in") || !strings.Contains(out, "--cpus-per-task=2 --time=01:00:00") {
		t.Fatalf("sweep plan: exit %d\n%s%s", code, out, stderr)
	}
	idx, _ := filepath.Glob(filepath.Join(dir, "plan", "class-*.idx"))
	seen := map[string]bool{}
	for _, f := range idx {
		b, _ := os.ReadFile(f)
		for _, l := range strings.Fields(string(b)) {
			if seen[l] {
				t.Fatalf("run %s is in two classes", l)
			}
			seen[l] = true
		}
	}
	if len(seen) != 8 {
		t.Fatalf("the classes hold %d runs, want the grid's 8: %v", len(seen), seen)
	}
	// The first class's script, task 0 of the array at offset 0: its
	// first run.
	b, _ := os.ReadFile(filepath.Join(dir, "plan", "class-0.idx"))
	first := strings.Fields(string(b))[0]
	cmd := exec.Command("bash", filepath.Join(dir, "plan", "class-0.sh"))
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=0", "OFFSET=0", "RELUSCOPE="+binary, "RELUSCOPE_MEM_AVAILABLE=17179869184")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "run "+first+" of 8 done") {
		t.Fatalf("class-0.sh: %v\n%s", err, out)
	}
	cmd = exec.Command("bash", filepath.Join(dir, "plan", "class-0.sh"))
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=999", "RELUSCOPE="+binary)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "no run on line 1000") {
		t.Fatalf("a task past the class's runs: %v\n%s", err, out)
	}
}

// sweep count only counts: on a login node with little memory it still
// prints the grid's size (the memory of a run is sweep run's to check).
func TestSweepCountNeverChecksMemory(t *testing.T) {
	cmd := exec.Command(binary, "sweep", "count", "paper-1d")
	cmd.Env = append(os.Environ(), "RELUSCOPE_MEM_AVAILABLE=100000000") // 100 MB
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "4320" {
		t.Fatalf("sweep count paper-1d with 100 MB: %v %q", err, out)
	}
	// sweep run checks its own run on its own cores: a width-32 run fits.
	cmd = exec.Command(binary, "sweep", "run", "paper-1d", "--index", "0", "--limit", "batch+epochs=1", "--set", "epochs=1", "--set", "eval_points=1000", "--out", t.TempDir())
	cmd.Env = append(os.Environ(), "RELUSCOPE_MEM_AVAILABLE=1000000000")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sweep run of paper-1d's index 0 with 1 GB: %v\n%s", err, out)
	}
}
