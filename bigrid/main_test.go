// Package bigrid tests the largest grids reluscope takes (10⁷ runs) as a
// user runs them, through the binary: apart from the root package's
// whole-program tests, so that each has Go's 10-minute budget of its own
// on a loaded machine.
package bigrid

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// binary is the reluscope binary, built once as users build it (without
// the race detector: these tests time the program, not the detector).
var binary string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "reluscope-bigrid")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	// Measured rates go to a cache folder of the tests' own.
	os.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	binary = filepath.Join(dir, "reluscope")
	// One build at a time with the root package's (the same lock): the
	// second finds the build cache warm.
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "reluscope-test-build.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		syscall.Flock(int(lock.Fd()), syscall.LOCK_EX)
	}
	build := exec.Command("go", "build", "-o", binary, "github.com/reluscope/reluscope")
	build.Stderr = os.Stderr
	err = build.Run()
	if lock != nil {
		lock.Close()
	}
	if err != nil {
		panic("building reluscope: " + err.Error())
	}
	return m.Run()
}

// testCmd is exec.Command for a process that dies with the test binary
// (Linux: SIGKILL when its parent goes away).
func testCmd(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// runBinary runs reluscope with args and fails the test if it fails.
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

// eventually polls ok every 50 ms until it holds (true) or timeout, or the
// test's own deadline less a minute, passes (false, after one last try).
func eventually(t *testing.T, timeout time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(timeout)
	if d, has := t.Deadline(); has && d.Add(-time.Minute).Before(deadline) {
		deadline = d.Add(-time.Minute)
	}
	for !ok() {
		if time.Now().After(deadline) {
			return ok()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}
