package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
)

// TestSweepRunResumesAfterSIGTERM: a Slurm task stopped by SIGTERM (what
// --signal sends before the time limit) saves its run's state next to its
// shard; the same command again goes on from it and writes a record with
// exactly the numbers of a run never stopped (timings aside); sweep status
// counts it in progress meanwhile.
func TestSweepRunResumesAfterSIGTERM(t *testing.T) {
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"sweep", "run", "smoke", "--index", "3", "--set", "epochs=3000", "--set", "eval_every=500", "--out", out}
	}
	if code, _, stderr, _ := runIn(t, dir, args("whole")...); code != 0 {
		t.Fatalf("the uninterrupted run: exit %d\n%s", code, stderr)
	}
	cmd := testCmd(binary, args("stopped")...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// SIGTERM once its first state is on disk (checkpoint 0 saves one).
	deadline := time.Now().Add(120 * time.Second)
	var states []string
	for len(states) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		states, _ = filepath.Glob(filepath.Join(dir, "stopped", "index-0000003-*.state"))
	}
	if len(states) == 0 {
		cmd.Process.Kill()
		t.Fatal("no state file appeared")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	shards, _ := filepath.Glob(filepath.Join(dir, "stopped", "index-0000003-*.jsonl"))
	if err == nil && len(shards) == 1 {
		t.Skip("the run finished before SIGTERM arrived: nothing to resume") // a very fast machine
	}
	if err == nil || !strings.Contains(stderr.String(), "its state is saved in") {
		t.Fatalf("after SIGTERM: %v\n%s", err, stderr.String())
	}
	if _, err := os.Stat(states[0]); err != nil {
		t.Fatalf("the state is gone after SIGTERM: %v", err)
	}
	if code, out, _, _ := runIn(t, dir, "sweep", "status", "smoke", "stopped", "--set", "epochs=3000", "--set", "eval_every=500"); code != exitIncomplete ||
		!strings.Contains(out, "1 in progress") || !strings.Contains(out, "sbatch --array=0-7 examples/slurm-array.sh smoke --offset 0 --set epochs=3000 --set eval_every=500") {
		t.Fatalf("sweep status while stopped: exit %d\n%s", code, out)
	}
	// A copy of the stopped folder whose state has one bit flipped: the
	// run says so, moves the state aside and starts over (issue: it went
	// on from the damaged state to other numbers).
	damaged := filepath.Join(dir, "damaged")
	if err := os.Mkdir(damaged, 0o755); err != nil {
		t.Fatal(err)
	}
	sb, err := os.ReadFile(states[0])
	if err != nil {
		t.Fatal(err)
	}
	sb[len(sb)/2] ^= 0x10
	dstate := filepath.Join(damaged, filepath.Base(states[0]))
	if err := os.WriteFile(dstate, sb, 0o644); err != nil {
		t.Fatal(err)
	}
	// (In this process: what the command says is covered here too.)
	t.Setenv("RELUSCOPE_MEM_AVAILABLE", "17179869184")
	var derr bytes.Buffer
	if err := dispatch(context.Background(), args(damaged), io.Discard, &derr); err != nil || strings.Count(derr.String(), "is damaged (its checksum does not match its contents): moved to") != 1 {
		t.Fatalf("a damaged state: %v\n%s", err, derr.String())
	}
	if _, err := os.Stat(dstate + ".corrupt"); err != nil {
		t.Fatalf("the damaged state was not kept aside: %v", err)
	}
	code, _, errOut, _ := runIn(t, dir, args("stopped")...)
	if code != 0 || !strings.Contains(errOut, "goes on from its saved state") {
		t.Fatalf("resumed: exit %d\n%s", code, errOut)
	}
	read := func(sub string) results.Record {
		m, _ := filepath.Glob(filepath.Join(dir, sub, "index-0000003-*.jsonl"))
		if len(m) != 1 {
			t.Fatalf("%s: shards %v", sub, m)
		}
		rs, err := results.ReadRecords(m[0])
		if err != nil || len(rs) != 1 {
			t.Fatalf("%s: %v %v", sub, rs, err)
		}
		return rs[0]
	}
	a, b, c := read("whole"), read("stopped"), read("damaged")
	if !b.Resumed || a.Resumed || c.Resumed || c.StateNote == "" {
		t.Fatalf("resumed flags: whole %v, stopped %v, damaged %v (note %q)", a.Resumed, b.Resumed, c.Resumed, c.StateNote)
	}
	if !sameNumbers(a, c) {
		t.Fatalf("the run from a damaged state differs from the whole one:\n%+v\n%+v", a.History, c.History)
	}
	if !sameNumbers(a, b) {
		t.Fatalf("the resumed run differs from the whole one:\n%+v\n%+v", a.History, b.History)
	}
	// A merge of the unfinished grid says what it lacks.
	if code, _, errOut, _ := runIn(t, dir, "sweep", "merge", "--out", "m.jsonl", "stopped"); code != exitIncomplete || !strings.Contains(errOut, "3 indices below the largest (3) have no record: 0-2") {
		t.Fatalf("merge of one run of eight: exit %d\n%s", code, errOut)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "stopped", "*.state")); len(left) != 0 {
		t.Fatalf("states left after the run finished: %v", left)
	}
}

// sameNumbers says two records of one run have the same numbers at every
// checkpoint, timings aside.
func sameNumbers(a, b results.Record) bool {
	strip := func(h []experiment.Checkpoint) []experiment.Checkpoint {
		out := append([]experiment.Checkpoint(nil), h...)
		for i := range out {
			out[i].EvalSeconds = 0
			if out[i].Bracket != nil {
				br := *out[i].Bracket
				br.Seconds = 0
				out[i].Bracket = &br
			}
		}
		return out
	}
	return reflect.DeepEqual(strip(a.History), strip(b.History)) && a.Steps == b.Steps && a.Hash == b.Hash
}
