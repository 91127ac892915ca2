package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// orphanEnv puts TestNothingOutlivesAKilledTest's child in its helper
// role, naming the folder it works in.
const orphanEnv = "RELUSCOPE_ORPHAN_DIR"

// TestNothingOutlivesAKilledTest: a test binary killed mid-test (as a
// SIGKILL, or Go's -timeout panic, ends it: t.Cleanup does not run) leaves
// nothing running — not the tmux server, not the explorer in it, not a
// headless run it started.
func TestNothingOutlivesAKilledTest(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("processes are found through /proc")
	}
	needTmux(t)
	if dir := os.Getenv(orphanEnv); dir != "" {
		orphanHelper(t, dir)
		return
	}
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestNothingOutlivesAKilledTest$")
	// The child's t.TempDir() is under dir (TMPDIR): every process it
	// starts names dir on its command line.
	child.Env = append(os.Environ(), binaryEnv+"="+binary, orphanEnv+"="+dir, "TMPDIR="+dir)
	var out bytes.Buffer
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	ready := filepath.Join(dir, "ready")
	if !eventually(t, 120*time.Second, func() bool { _, err := os.Stat(ready); return err == nil }) {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("the child test did not start its explorer and run:\n%s", out.String())
	}
	before := processesNaming(dir)
	if len(before) < 3 {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("want a tmux server, an explorer and a headless run naming %s, found %v", dir, before)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	var left []proc
	if !eventually(t, 30*time.Second, func() bool { left = processesNaming(dir); return len(left) == 0 }) {
		for _, p := range left {
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
		t.Fatalf("still running after the test binary was killed: %v (before: %v)", left, before)
	}
	t.Logf("%d processes before the kill, none after", len(before))
}

// orphanHelper is the child's part: an explorer in tmux, training, and a
// long headless run beside it; then it waits to be killed.
func orphanHelper(t *testing.T, dir string) {
	e := startExplorer(t, 80, 24, "--pace", "full")
	e.waitFor("the explorer training", 120*time.Second, func(s string) bool {
		return strings.Contains(s, "▶ training") || strings.Contains(s, "L∞/L2")
	})
	run := testCmd(binary, "run", "--epochs", "100000", "--out", filepath.Join(t.TempDir(), "run"))
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ready"), []byte("ready"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Hour)
}

// proc is a running process and its command line.
type proc struct {
	pid  int
	args string
}

// processesNaming lists the processes (other than this one) whose command
// line contains s.
func processesNaming(s string) []proc {
	ents, _ := os.ReadDir("/proc")
	var ps []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte(s)) {
			continue
		}
		ps = append(ps, proc{pid, strings.Join(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"), " ")})
	}
	return ps
}

func (p proc) String() string {
	if len(p.args) > 100 {
		return strconv.Itoa(p.pid) + " " + p.args[:100] + "…"
	}
	return strconv.Itoa(p.pid) + " " + p.args
}
