package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// bigRun is a run whose estimate (about 3.6 GiB) is well above the
// limits below; the guard must refuse it before allocating anything.
var bigRun = []string{"run", "--width", "2048", "--samples", "100000", "--epochs", "1", "--eval-points", "1000000"}

// TestMemoryGuardSeesRLIMIT_AS: under an address-space limit (ulimit -v,
// as a batch system sets it) a run too big for it is refused in one line
// naming the limit, instead of dying in the runtime.
func TestMemoryGuardSeesRLIMIT_AS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ulimit -v and /proc/self/status are Linux's here")
	}
	cmd := testCmd("sh", "-c", "ulimit -v 3000000 && exec \"$0\" \"$@\"", binary)
	cmd.Args = append(cmd.Args, bigRun...)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	msg := string(out)
	if err == nil || cmd.ProcessState.ExitCode() != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "is available (RLIMIT_AS less what the process maps)") {
		t.Fatalf("under ulimit -v 3000000: %v\n%s", err, msg)
	}
	t.Logf("%s", strings.TrimSpace(msg))
}

// TestMemoryGuardSeesItsCgroup: in a memory cgroup of 1.5 GB (what Slurm's
// --mem and Kubernetes' limits make) the same run is refused naming the
// cgroup. It makes a child of the test's own cgroup, where the machine
// lets it (root, a writable v1 or v2 memory hierarchy); else it skips,
// saying why.
func TestMemoryGuardSeesItsCgroup(t *testing.T) {
	dir, limitFile, err := childMemoryCgroup(t)
	if err != nil {
		t.Skip("no memory cgroup can be made here: ", err)
	}
	if err := os.WriteFile(filepath.Join(dir, limitFile), []byte("1500000000"), 0o644); err != nil {
		t.Skip("the cgroup's limit cannot be set: ", err)
	}
	cmd := testCmd("sh", "-c", "echo $$ > \"$1\" && shift && exec \"$@\"", "sh", filepath.Join(dir, "cgroup.procs"), binary)
	cmd.Args = append(cmd.Args, bigRun...)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	msg := string(out)
	if err == nil || cmd.ProcessState.ExitCode() != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, limitFile+" of the cgroup") {
		t.Fatalf("in a cgroup of 1.5 GB: %v\n%s", err, msg)
	}
	t.Logf("%s", strings.TrimSpace(msg))
}

// childMemoryCgroup makes a cgroup under this process's memory cgroup and
// removes it when the test ends; it returns its folder and the name of its
// limit file.
func childMemoryCgroup(t *testing.T) (string, string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var base, limit string
		switch {
		case strings.Contains(","+parts[1]+",", ",memory,"):
			base, limit = "/sys/fs/cgroup/memory", "memory.limit_in_bytes"
		case parts[0] == "0" && parts[1] == "":
			base, limit = "/sys/fs/cgroup", "memory.max"
			if c, err := os.ReadFile(filepath.Join(base, parts[2], "cgroup.subtree_control")); err != nil || !strings.Contains(string(c), "memory") {
				continue // the memory controller is not on for children here
			}
		default:
			continue
		}
		dir := filepath.Join(base, parts[2], fmt.Sprintf("reluscope-test-%d", os.Getpid()))
		if err := os.Mkdir(dir, 0o755); err != nil {
			continue
		}
		t.Cleanup(func() { os.Remove(dir) })
		return dir, limit, nil
	}
	return "", "", fmt.Errorf("no writable memory hierarchy in /proc/self/cgroup")
}
