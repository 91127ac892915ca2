package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
)

func runBinary(t *testing.T, args ...string) string {
	t.Helper()
	cmd := testCmd(binary, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("reluscope %v: %v\n%s", args, err, out.String())
	}
	return out.String()
}

// metricsByHash keeps what must not depend on how a sweep was run.
func metricsByHash(t *testing.T, rs []results.Record) map[string][]experiment.Metrics {
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
			cmd := testCmd(binary, "sweep", "run", "smoke", "--out", shards)
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
	a, err := results.ReadResults(local)
	if err != nil {
		t.Fatal(err)
	}
	b, err := results.ReadRecords(merged)
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
	resultsPath := filepath.Join(dir, "results.jsonl")
	cmd := testCmd(binary, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(resultsPath)
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
	before, _ := results.ReadRecords(resultsPath)
	if len(before) >= 8 {
		t.Skip("the sweep finished before it could be killed")
	}
	out := runBinary(t, args...)
	if !strings.Contains(out, fmt.Sprintf("%d already done", len(before))) {
		t.Fatalf("the resumed sweep did not skip the %d finished runs:\n%s", len(before), out)
	}
	after, err := results.ReadRecords(resultsPath)
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
		cmd := testCmd(binary, tc.args...)
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
	cmd := testCmd("bash", script, "smoke", "--set", "epochs=2")
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=5", "RELUSCOPE="+binary)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("slurm script: %v\n%s", err, out)
	}
	shard := func(i int) []results.Record {
		m, _ := filepath.Glob(filepath.Join(dir, "results", "shards-smoke", fmt.Sprintf("index-%07d-*.jsonl", i)))
		if len(m) != 1 {
			t.Fatalf("shards of run %d: %v", i, m)
		}
		rs, err := results.ReadRecords(m[0])
		if err != nil || len(rs) != 1 || rs[0].Index != i {
			t.Fatalf("the Slurm task wrote %v (%v), want run %d", rs, err, i)
		}
		return rs
	}
	shard(5)
	// With --offset the task runs OFFSET + $SLURM_ARRAY_TASK_ID.
	cmd = testCmd("bash", script, "smoke", "--set", "epochs=2", "--offset", "3")
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=4", "RELUSCOPE="+binary)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("slurm script with --offset: %v\n%s", err, out)
	}
	shard(7)
	// Under sbatch --export=NONE, without a reluscope where it looks: one
	// line that says how to name it, exit 127; named, it runs.
	for _, script := range []string{script, strings.Replace(script, "slurm-array.sh", "slurm-array-gpu.sh", 1)} {
		cmd = testCmd("bash", script, "smoke")
		cmd.Env = []string{"SLURM_ARRAY_TASK_ID=1", "RELUSCOPE=" + filepath.Join(dir, "nowhere", "reluscope")}
		cmd.Dir = dir
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 127 || !strings.Contains(string(out), "is not a program here") || strings.Count(string(out), "\n") != 1 {
			t.Fatalf("%s without its binary: exit %d\n%s", filepath.Base(script), cmd.ProcessState.ExitCode(), out)
		}
	}
	cmd = testCmd("bash", script, "smoke", "--set", "epochs=2")
	cmd.Env = []string{"SLURM_ARRAY_TASK_ID=6", "RELUSCOPE=" + binary, "RELUSCOPE_MEM_AVAILABLE=17179869184"}
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("slurm script in an empty environment: %v\n%s", err, out)
	}
	shard(6)
}

// k8sDocs decodes a manifest's documents strictly (an unknown or misspelt
// field is an error) into the official Kubernetes API types.
func k8sDocs(t *testing.T, path string) []any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeK8s(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// decodeK8s decodes a manifest strictly: YAML without duplicate keys, each
// document a known kind without unknown fields.
func decodeK8s(b []byte) ([]any, error) {
	var out []any
	for _, doc := range strings.Split(string(b), "\n---\n") {
		js, err := sigsyaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			return nil, err
		}
		var meta metav1.TypeMeta
		if err := json.Unmarshal(js, &meta); err != nil {
			return nil, err
		}
		var obj any
		switch meta.APIVersion + "/" + meta.Kind {
		case "batch/v1/Job":
			obj = &batchv1.Job{}
		case "v1/PersistentVolumeClaim":
			obj = &corev1.PersistentVolumeClaim{}
		case "v1/Pod":
			obj = &corev1.Pod{}
		default:
			return nil, fmt.Errorf("a %s/%s", meta.APIVersion, meta.Kind)
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj); err != nil {
			return nil, fmt.Errorf("%s: %v", meta.Kind, err)
		}
		out = append(out, obj)
	}
	return out, nil
}

// The strict decoding refuses what a lenient one lets through: a key given
// twice (the later silently winning), a misspelt field, an unknown kind.
func TestKubernetesDecodingIsStrict(t *testing.T) {
	b, err := os.ReadFile("examples/k8s-indexed-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeK8s(b); err != nil {
		t.Fatal(err)
	}
	good := string(b)
	for name, bad := range map[string]string{
		"a duplicate parallelism": strings.Replace(good, "  parallelism:", "  parallelism: 3\n  parallelism:", 1),
		"a misspelt field":        strings.Replace(good, "  parallelism:", "  paralelism:", 1),
		"an unknown kind":         strings.Replace(good, "kind: Job", "kind: Jobb", 1),
	} {
		if bad == good {
			t.Fatalf("%s: the manifest has nothing to change", name)
		}
		if _, err := decodeK8s([]byte(bad)); err == nil {
			t.Errorf("a manifest with %s decoded", name)
		}
	}
}

// TestKubernetesManifests: the manifests decode strictly into the official
// k8s.io/api types; the Indexed Job runs every run of its preset with
// per-index retries, time to save a state on eviction, the memory sweep
// plan gives its largest class, and the RWX claim its pods, the merge job
// and the results pod share.
func TestKubernetesManifests(t *testing.T) {
	var job *batchv1.Job
	var claim *corev1.PersistentVolumeClaim
	for _, o := range k8sDocs(t, "examples/k8s-indexed-job.yaml") {
		switch o := o.(type) {
		case *batchv1.Job:
			job = o
		case *corev1.PersistentVolumeClaim:
			claim = o
		}
	}
	if job == nil || claim == nil || len(claim.Spec.AccessModes) != 1 || claim.Spec.AccessModes[0] != corev1.ReadWriteMany {
		t.Fatalf("the manifest lacks the Job or a ReadWriteMany claim: %+v %+v", job, claim)
	}
	s := job.Spec
	pod := s.Template.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.BackoffLimitPerIndex == nil || s.Completions == nil ||
		len(pod.Containers) != 1 || pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds < 60 {
		t.Fatalf("the Job: %+v", s)
	}
	c := pod.Containers[0]
	if len(c.Command) < 4 || strings.Join(c.Command[1:3], " ") != "sweep run" {
		t.Fatalf("the Job runs %v", c.Command)
	}
	preset := c.Command[3]
	if n := strings.TrimSpace(runBinary(t, "sweep", "count", preset)); fmt.Sprint(*s.Completions) != n {
		t.Fatalf("the Job has %d completions; %s has %s runs", *s.Completions, preset, n)
	}
	if pod.Volumes[0].PersistentVolumeClaim.ClaimName != claim.Name {
		t.Fatalf("the pods mount %s, the claim is %s", pod.Volumes[0].PersistentVolumeClaim.ClaimName, claim.Name)
	}
	// The request covers the largest class's peak that sweep plan prints.
	out := runBinary(t, "sweep", "plan", preset)
	peak := 0.0
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[len(f)-1] == "GiB" {
			v, _ := strconv.ParseFloat(f[len(f)-2], 64)
			peak = max(peak, v)
		}
	}
	req := c.Resources.Requests[corev1.ResourceMemory]
	if peak == 0 || float64(req.Value()) < peak*(1<<30) {
		t.Fatalf("the pods request %s; sweep plan's largest class peaks at %.1f GiB", req.String(), peak)
	}
	for _, f := range []string{"examples/k8s-merge-job.yaml", "examples/k8s-results-pod.yaml"} {
		for _, o := range k8sDocs(t, f) {
			var vols []corev1.Volume
			switch o := o.(type) {
			case *batchv1.Job:
				vols = o.Spec.Template.Spec.Volumes
			case *corev1.Pod:
				vols = o.Spec.Volumes
			}
			if len(vols) != 1 || vols[0].PersistentVolumeClaim == nil || vols[0].PersistentVolumeClaim.ClaimName != claim.Name {
				t.Fatalf("%s does not mount %s", f, claim.Name)
			}
		}
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
	cmd := testCmd("bash", filepath.Join(dir, "plan", "class-0.sh"))
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=0", "OFFSET=0", "RELUSCOPE="+binary, "RELUSCOPE_MEM_AVAILABLE=17179869184")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "run "+first+" of 8 done") {
		t.Fatalf("class-0.sh: %v\n%s", err, out)
	}
	cmd = testCmd("bash", filepath.Join(dir, "plan", "class-0.sh"))
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=999", "RELUSCOPE="+binary)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "no run on line 1000") {
		t.Fatalf("a task past the class's runs: %v\n%s", err, out)
	}
	// As sbatch --export=NONE runs it: no PATH of the user's, no
	// RELUSCOPE, the offset as the script's argument (the submit lines
	// plan prints): the binary that wrote the script runs task 1.
	if !strings.Contains(out, "  sbatch --array=0-") || strings.Contains(out, "--export") {
		t.Fatalf("the submit lines:\n%s", out)
	}
	second := strings.Fields(string(b))[1]
	cmd = testCmd("bash", filepath.Join(dir, "plan", "class-0.sh"), "0")
	cmd.Env = []string{"SLURM_ARRAY_TASK_ID=1", "RELUSCOPE_MEM_AVAILABLE=17179869184"}
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "run "+second+" of 8 done") {
		t.Fatalf("class-0.sh under an empty environment: %v\n%s", err, out)
	}
	// A binary moved away since: one clear line.
	cmd = testCmd("bash", filepath.Join(dir, "plan", "class-0.sh"), "0")
	cmd.Env = []string{"SLURM_ARRAY_TASK_ID=1", "RELUSCOPE=" + filepath.Join(dir, "gone")}
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "reluscope is not at") {
		t.Fatalf("a missing binary: %v\n%s", err, out)
	}
}

// sweep count only counts: on a login node with little memory it still
// prints the grid's size (the memory of a run is sweep run's to check).
func TestSweepCountNeverChecksMemory(t *testing.T) {
	cmd := testCmd(binary, "sweep", "count", "paper-1d")
	cmd.Env = append(os.Environ(), "RELUSCOPE_MEM_AVAILABLE=100000000") // 100 MB
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "4320" {
		t.Fatalf("sweep count paper-1d with 100 MB: %v %q", err, out)
	}
	// sweep run checks its own run on its own cores: a width-32 run fits.
	cmd = testCmd(binary, "sweep", "run", "paper-1d", "--index", "0", "--limit", "batch+epochs=1", "--set", "epochs=1", "--set", "eval_points=1000", "--out", t.TempDir())
	cmd.Env = append(os.Environ(), "RELUSCOPE_MEM_AVAILABLE=1000000000")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sweep run of paper-1d's index 0 with 1 GB: %v\n%s", err, out)
	}
}

// TestStatusAndMergeOfNothing: sweep status of a folder that does not
// exist, or that holds none of the grid's runs, and sweep merge of a
// folder without records exit 1 with one line, writing nothing (they said
// "4320 missing" with the whole grid's resubmission, or wrote an empty
// file, and exited 0); so does sweep plan with more cores than a node has.
func TestStatusAndMergeOfNothing(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	merged := filepath.Join(dir, "m.jsonl")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "status", "smoke", filepath.Join(dir, "mistyped")}, "is not a folder of results"},
		{[]string{"sweep", "status", "smoke", empty}, "none of the 8 runs of smoke (variant 980e55434091) is in"},
		{[]string{"sweep", "merge", empty, "--out", merged}, "no records in"},
		{[]string{"sweep", "plan", "paper-1d", "--cpus-per-task", "100000"}, "the cores are 1 to 1024"},
	} {
		err := dispatch(context.Background(), tc.args, io.Discard, io.Discard)
		if err == nil || exitCode(err) != 1 || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%v: %v; want exit 1 and one line with %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(merged); !os.IsNotExist(err) {
		t.Fatalf("merge of nothing wrote %s", merged)
	}
	if c := exitCode(&exitError{exitRunsFailed, errors.New("x")}); c != 4 {
		t.Fatalf("a sweep with failed runs exits %d, want 4", c)
	}
}

// TestOneRunnerPerIndex: a second `sweep run --index I` on the same folder
// while the first trains (a Slurm requeue, an evicted pod still running)
// is refused naming the first, and trains nothing; once the run has
// finished, a state left beside its record is removed.
func TestOneRunnerPerIndex(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "shards")
	args := []string{"sweep", "run", "smoke", "--index", "2", "--set", "epochs=100000", "--out", out}
	first := testCmd(binary, args...)
	first.Dir = dir
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	if !eventually(t, 120*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(out, "index-0000002-*.state"))
		return len(m) == 1 // training: checkpoint 0 saved its state
	}) {
		t.Fatal("the first runner saved no state")
	}
	code, _, stderr, _ := runIn(t, dir, args...)
	want := fmt.Sprintf("run 2 in %s is in progress in another process (pid %d on", out, first.Process.Pid)
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("a second runner of index 2: exit %d\n%s\nwant one line with %q", code, stderr, want)
	}
	// The same from this process (a third runner).
	if err := dispatch(context.Background(), args, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("a third runner of index 2: %v", err)
	}
	first.Process.Signal(syscall.SIGTERM)
	first.Wait()
	// The run finished elsewhere (its record written) while a stopped
	// copy's state stayed: the next runner removes the state.
	short := []string{"sweep", "run", "smoke", "--index", "2", "--set", "epochs=2", "--out", out}
	if code, _, stderr, _ := runIn(t, dir, short...); code != 0 {
		t.Fatalf("the short run: exit %d\n%s", code, stderr)
	}
	m, _ := filepath.Glob(filepath.Join(out, "index-0000002-*.jsonl"))
	if len(m) != 1 {
		t.Fatalf("shards %v", m)
	}
	stale := strings.TrimSuffix(m[0], ".jsonl") + ".state"
	if err := os.WriteFile(stale, []byte("left over"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr, _ := runIn(t, dir, short...); code != 0 || !strings.Contains(stderr, "already finished") || !strings.Contains(stderr, "stale state removed") {
		t.Fatalf("a finished run with a stale state: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatal("the stale state is still there")
	}
	if locks, _ := filepath.Glob(filepath.Join(out, "*.lock")); len(locks) != 0 {
		t.Fatalf("lock files left: %v", locks)
	}
}

// TestMergeKeepsVariantsApart: two variants of one grid in one folder (the
// smoke grid as shards but for index 5, and index 5 again with --set
// width=8). Merge refuses to mix them (it merged both, and the variant's
// index 5 hid the missing shard); --variant keeps one, whose gap is
// named; --variant all keeps both, a gap per variant.
func TestMergeKeepsVariantsApart(t *testing.T) {
	dir := t.TempDir()
	shards := filepath.Join(dir, "shards")
	for i := 0; i < 8; i++ {
		if i != 5 {
			runBinary(t, "sweep", "run", "smoke", "--index", strconv.Itoa(i), "--out", shards)
		}
	}
	runBinary(t, "sweep", "run", "smoke", "--index", "5", "--set", "width=8", "--out", shards)
	recs, err := results.ReadResults(shards)
	if err != nil || len(recs) != 8 {
		t.Fatalf("%d records (%v)", len(recs), err)
	}
	main := recs[0].Variant
	for _, r := range recs {
		if r.Variant == "" {
			t.Fatalf("record %d carries no variant", r.Index)
		}
	}
	code, stdout, stderr, _ := runIn(t, dir, "sweep", "merge", "--out", "m.jsonl", shards)
	stderr += stdout
	if code != 1 || !strings.Contains(stderr, "are of 2 variants") || !strings.Contains(stderr, "(1 record)") {
		t.Fatalf("merge of two variants: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.jsonl")); err == nil {
		t.Fatal("a refused merge wrote its file")
	}
	// One variant, with its gap: merged and written, exit 3 (incomplete);
	// --allow-partial exits 0.
	code, _, stderr, _ = runIn(t, dir, "sweep", "merge", "--variant", main[:6], "--out", "m.jsonl", shards)
	got, _ := results.ReadRecords(filepath.Join(dir, "m.jsonl"))
	if code != exitIncomplete || len(got) != 7 || !strings.Contains(stderr, "1 indices below the largest (7) have no record: 5") ||
		!strings.Contains(stderr, "incomplete (above): merged as far as they go, exit 3") {
		t.Fatalf("merge --variant %s: exit %d, %d records\n%s", main[:6], code, len(got), stderr)
	}
	if code, _, stderr, _ = runIn(t, dir, "sweep", "merge", "--variant", main[:6], "--allow-partial", "--out", "m.jsonl", shards); code != 0 {
		t.Fatalf("merge --allow-partial: exit %d\n%s", code, stderr)
	}
	code, _, stderr, _ = runIn(t, dir, "sweep", "merge", "--variant", "all", "--out", "both.jsonl", shards)
	got, _ = results.ReadRecords(filepath.Join(dir, "both.jsonl"))
	if code != exitIncomplete || len(got) != 8 || !strings.Contains(stderr, "(variant "+main+"): 1 indices below the largest (7) have no record: 5") {
		t.Fatalf("merge --variant all: exit %d, %d records\n%s", code, len(got), stderr)
	}
	// Status counts one variant and names the other, with the --set that
	// counts it; exit 3 while runs are missing.
	code, out, _, _ := runIn(t, dir, "sweep", "status", "smoke", shards)
	if code != exitIncomplete || !strings.Contains(out, "7 finished, 0 failed, 0 in progress (a saved state), 1 missing") ||
		!strings.Contains(out, "1 record of variant ") || !strings.Contains(out, "(width 16 ≠ 8)") || !strings.Contains(out, "--set width=8 counts them") {
		t.Fatalf("status of the main variant: exit %d\n%s", code, out)
	}
	code, out, _, _ = runIn(t, dir, "sweep", "status", "smoke", shards, "--set", "width=8", "--allow-partial")
	if code != 0 || !strings.Contains(out, "1 finished, 0 failed, 0 in progress (a saved state), 7 missing") ||
		!strings.Contains(out, "7 records of variant "+main) {
		t.Fatalf("status of the width-8 variant: exit %d\n%s", code, out)
	}
	// The report of both: a table per variant, each named; the width-8
	// run is never in the main variant's min-max cell.
	_, both, _, _ := runIn(t, dir, "report", "both.jsonl", "--csv", "t.csv")
	if strings.Count(both, ", variant ") != 2 || !strings.Contains(both, "— smoke, variant "+main) {
		t.Fatalf("report of two variants:\n%s", both)
	}
	_, one, _, _ := runIn(t, dir, "report", "m.jsonl")
	tableOfVariant := func(out string) string {
		i := strings.Index(out, "variant "+main)
		j := strings.Index(out[i+1:], "\nd=")
		if j < 0 {
			return out[i:]
		}
		return out[i : i+1+j]
	}
	if tableOfVariant(one) != tableOfVariant(both) {
		t.Fatalf("the main variant's table changed beside another variant:\n%s\n---\n%s", tableOfVariant(one), tableOfVariant(both))
	}
	csvb, _ := os.ReadFile(filepath.Join(dir, "t.csv"))
	if !strings.Contains(string(csvb), ",smoke,"+main+"\n") {
		t.Fatalf("the CSV does not name the variant:\n%s", csvb)
	}
}

// TestSweepPlanTimesFromFinishedRuns: with finished shards of the grid in
// results/shards-PRESET, plan's times are their medians (and the rest at
// their median rate): the same in every run of plan, whatever the load;
// --rate gives the rate instead of measuring it.
func TestSweepPlanTimesFromFinishedRuns(t *testing.T) {
	dir := t.TempDir()
	shards := filepath.Join(dir, "results", "shards-smoke")
	for _, i := range []string{"0", "1", "2"} {
		runBinary(t, "sweep", "run", "smoke", "--index", i, "--out", shards)
	}
	// Another variant's run in the folder is not counted.
	runBinary(t, "sweep", "run", "smoke", "--index", "3", "--set", "epochs=7", "--out", shards)
	code, first, stderr, _ := runIn(t, dir, "sweep", "plan", "smoke")
	if code != 0 || !strings.Contains(first, "1 of 2 classes: the median time of their finished runs in results/shards-smoke (3 runs)") ||
		!strings.Contains(first, "the finished runs' median rate") || strings.Contains(first, "measured here") {
		t.Fatalf("plan with 3 finished runs: exit %d\n%s%s", code, first, stderr)
	}
	_, again, _, _ := runIn(t, dir, "sweep", "plan", "smoke")
	if again != first {
		t.Fatalf("two plans from the same finished runs differ:\n%s\n%s", first, again)
	}
	code, out, stderr, _ := runIn(t, t.TempDir(), "sweep", "plan", "smoke", "--rate", "50")
	if code != 0 || !strings.Contains(out, "native/float64: 50 GFLOP/s given (--rate)") || strings.Contains(out, "measured here") {
		t.Fatalf("plan --rate 50: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, _, _ := runIn(t, dir, "sweep", "plan", "smoke", "--rate", "-1"); code != 1 {
		t.Fatalf("--rate -1: exit %d", code)
	}
	// Without finished runs or --rate: a rate measured here once (two
	// seconds, five rounds), kept, and the next plan's the same.
	empty := t.TempDir()
	cache := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + cache}
	code, m1, stderr, _ := runEnvIn(t, empty, env, "sweep", "plan", "smoke")
	if code != 0 || !strings.Contains(m1, "measured here now (median of 5 rounds in ") || !strings.Contains(m1, "kept in "+filepath.Join(cache, "reluscope", "rates.json")) {
		t.Fatalf("plan measuring: exit %d\n%s%s", code, m1, stderr)
	}
	_, m2, _, _ := runEnvIn(t, empty, env, "sweep", "plan", "smoke")
	if !strings.Contains(m2, "measured here on ") || tableOf(m1) != tableOf(m2) {
		t.Fatalf("the second plan did not use the kept rate:\n%s\n%s", m1, m2)
	}
	_, m3, _, _ := runEnvIn(t, empty, env, "sweep", "plan", "smoke", "--remeasure")
	if !strings.Contains(m3, "measured here now") {
		t.Fatalf("--remeasure:\n%s", m3)
	}
}

// tableOf is a plan's output from its class table on (the sources above
// it say when the rate was measured).
func tableOf(out string) string {
	_, t, _ := strings.Cut(out, "FLOP/run")
	return t
}

// --max-time: a class whose runs need longer than the partition's limit
// asks for the limit and goes on over several submissions, and its script
// says so and requeues itself often enough; a limit too short or not a
// time is refused in one line.
func TestSweepPlanMaxTime(t *testing.T) {
	dir := t.TempDir()
	// At 10⁻⁶ GFLOP/s the smoke runs take hours: over a 1-hour limit.
	code, out, stderr, _ := runIn(t, dir, "sweep", "plan", "smoke", "--rate", "0.000001", "--max-time", "1:00:00", "--sbatch", "plan")
	if code != 0 || !strings.Contains(out, "--time=01:00:00") || !strings.Contains(out, "submissions of --max-time each") ||
		!strings.Contains(out, "runs longer than --max-time 1:00:00 go on over several submissions") {
		t.Fatalf("plan --max-time: exit %d\n%s%s", code, out, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "plan", "class-1.sh"))
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	if !strings.Contains(script, "#SBATCH --time=01:00:00") || !strings.Contains(script, "# Longer than --max-time 1:00:00: each run goes on over about") ||
		!strings.Contains(script, "#SBATCH --signal=B:TERM@300") {
		t.Fatalf("class-1.sh:\n%s", script)
	}
	// The requeue cap is at least twice the submissions a run needs.
	var n, cap int
	if _, err := fmt.Sscanf(script[strings.Index(script, "goes on over about"):], "goes on over about %d submissions", &n); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscanf(script[strings.Index(script, "RELUSCOPE_MAX_REQUEUES:-"):], "RELUSCOPE_MAX_REQUEUES:-%d}", &cap); err != nil || n < 2 || cap < 2*n {
		t.Fatalf("about %d submissions, requeued at most %d times (%v)", n, cap, err)
	}
	for _, bad := range []string{"10", "0:19:59", "1-25:00:00", "an hour", "1:61:00", "-5"} {
		code, _, stderr, _ := runIn(t, dir, "sweep", "plan", "smoke", "--rate", "1", "--max-time", bad)
		if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--max-time") {
			t.Errorf("--max-time %s: exit %d, %q", bad, code, stderr)
		}
	}
	// A limit above the estimate changes nothing.
	_, plain, _, _ := runIn(t, dir, "sweep", "plan", "smoke", "--rate", "50")
	_, roomy, _, _ := runIn(t, dir, "sweep", "plan", "smoke", "--rate", "50", "--max-time", "7-00:00:00")
	if tableOf(plain) != strings.Replace(tableOf(roomy), "runs longer than", "", 1) && strings.Contains(roomy, "submissions of --max-time") {
		t.Fatalf("a roomy --max-time changed the plan:\n%s", roomy)
	}
}

func TestParseSlurmTime(t *testing.T) {
	for in, want := range map[string]int{"90": 5400, "10:30": 630, "01:00:00": 3600, "2-12": 2*86400 + 12*3600,
		"1-00:30": 86400 + 1800, "7-00:00:00": 7 * 86400, "0-0:0:5": 5} {
		if got, err := parseSlurmTime(in); err != nil || got != want {
			t.Errorf("parseSlurmTime(%q) = %d %v, want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "1:2:3:4", "1-24:00:00", "1:60", "-1", "1--2", "400-00:00:00"} {
		if _, err := parseSlurmTime(bad); err == nil {
			t.Errorf("parseSlurmTime(%q) accepted", bad)
		}
	}
	if formatSlurmTime(7*86400) != "7-00:00:00" || formatSlurmTime(3600+61) != "01:01:01" {
		t.Fatal(formatSlurmTime(7*86400), formatSlurmTime(3661))
	}
	// 10 hours of run under a 2-hour limit: 1.5·10 h + 10 min over
	// 1 h 55 min a submission = 8 submissions.
	if tm, n := askTime(36000, 7200); tm != "02:00:00" || n != 8 {
		t.Fatalf("askTime = %s, %d", tm, n)
	}
	if tm, n := askTime(60, 7200); tm != "01:00:00" || n != 1 {
		t.Fatalf("askTime(60 s) = %s, %d", tm, n)
	}
}
