package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// needTmux skips (or, on CI, fails) without tmux.
func needTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is not installed (.ci/run installs it)")
		}
		t.Skip("tmux is not installed")
	}
}

// explorer is the real binary running in a detached tmux session.
type explorer struct {
	*tmuxSession
	dir, exitf, stderrf string
}

// startExplorer opens the binary with args in a w×h tmux window; the
// session is killed when the test ends.
func startExplorer(t *testing.T, w, h int, args ...string) *explorer {
	t.Helper()
	return startExplorerEnv(t, nil, w, h, args...)
}

// startExplorerEnv is startExplorer with environment variables (NAME=value)
// for the explorer. The tmux server and the explorer end with the test
// process, even when it is killed or panics at its -timeout (which skips
// t.Cleanup): the session's shell starts a watcher that kills the server
// once the test's PID is gone, and the server's SIGHUP stops the explorer.
func startExplorerEnv(t *testing.T, env []string, w, h int, args ...string) *explorer {
	t.Helper()
	needTmux(t)
	dir := t.TempDir()
	e := &explorer{dir: dir, exitf: filepath.Join(dir, "exit"), stderrf: filepath.Join(dir, "stderr")}
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:] // a command (tour) goes before the flags
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + a + "'"
	}
	sock := filepath.Join(dir, "tmux.sock")
	watch := fmt.Sprintf("(while kill -0 %d 2>/dev/null; do sleep 0.5; done; tmux -S %s kill-server) &", os.Getpid(), sock)
	script := fmt.Sprintf("%s %s %s %s --log %s --results %s %s 2>%s; echo $? > %s; sleep 60", watch, strings.Join(env, " "), binary, cmd,
		filepath.Join(dir, "log"), filepath.Join(dir, "results"), strings.Join(quoted, " "), e.stderrf, e.exitf)
	e.tmuxSession = &tmuxSession{t: t, sock: sock}
	e.tmux("new-session", "-d", "-s", "main", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), "sh", "-c", script)
	t.Cleanup(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() })
	return e
}

// tmuxSession drives the real binary in a detached tmux session with its
// own socket, as a person at a terminal would.
type tmuxSession struct {
	t    *testing.T
	sock string
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) screen() string { return s.tmux("capture-pane", "-p", "-t", "main") }

func (s *tmuxSession) keys(keys ...string) {
	s.tmux(append([]string{"send-keys", "-t", "main"}, keys...)...)
}

// waitFor polls the screen until ok holds. It fails with the last screen
// after timeout (a guard against a hang, not a speed requirement) or, if
// sooner, when the package's own time is nearly up.
func (s *tmuxSession) waitFor(what string, timeout time.Duration, ok func(screen string) bool) string {
	s.t.Helper()
	deadline, cut := waitDeadline(s.t, timeout)
	var scr string
	for {
		scr = s.screen()
		if ok(scr) {
			return scr
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if cut {
		s.t.Fatalf("waiting for %s: the test binary's -timeout is near; screen:\n%s", what, scr)
	}
	s.t.Fatalf("timed out after %v waiting for %s; screen:\n%s", timeout, what, scr)
	return ""
}

// testEndMargin is the time kept back from the test binary's -timeout: a
// wait that would run into it fails first and says what it saw, and the
// test's cleanups run.
const testEndMargin = 20 * time.Second

// waitDeadline is the deadline of a wait of at most timeout: now+timeout,
// or the test binary's own deadline less testEndMargin when that comes
// first (cut is then true).
func waitDeadline(t *testing.T, timeout time.Duration) (deadline time.Time, cut bool) {
	deadline = time.Now().Add(timeout)
	if end, ok := t.Deadline(); ok && end.Add(-testEndMargin).Before(deadline) {
		return end.Add(-testEndMargin), true
	}
	return deadline, false
}

// eventually polls ok every 50 ms until it holds (true) or the wait's
// deadline (waitDeadline) passes (false, after one last try).
func eventually(t *testing.T, timeout time.Duration, ok func() bool) bool {
	deadline, _ := waitDeadline(t, timeout)
	for !ok() {
		if time.Now().After(deadline) {
			return ok()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// waitFile waits until path holds something and returns it; like waitFor,
// it fails after timeout or when the package's time is nearly up.
func waitFile(t *testing.T, what, path string, timeout time.Duration) []byte {
	t.Helper()
	var b []byte
	if !eventually(t, timeout, func() bool { b, _ = os.ReadFile(path); return len(b) > 0 }) {
		t.Fatalf("waited %v for %s (%s)", timeout, what, path)
	}
	return b
}

// quit presses q and checks the program exits 0 without writing to stderr.
func (e *explorer) quit() {
	e.t.Helper()
	e.keys("q")
	var b []byte
	if !eventually(e.t, 20*time.Second, func() bool { b, _ = os.ReadFile(e.exitf); return len(b) > 0 }) {
		e.t.Fatalf("reluscope did not exit after q; screen:\n%s", e.screen())
	}
	if code := strings.TrimSpace(string(b)); code != "0" {
		se, _ := os.ReadFile(e.stderrf)
		e.t.Fatalf("reluscope exited %s; stderr:\n%s", code, se)
	}
	if se, _ := os.ReadFile(e.stderrf); len(se) > 0 {
		e.t.Fatalf("reluscope wrote to stderr:\n%s", se)
	}
}

// number finds re's first group on the screen as a number (NaN-free: ok
// false when absent).
func number(re *regexp.Regexp, scr string) (float64, bool) {
	m := re.FindStringSubmatch(scr)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSuffix(m[1], "k"), "M"), 64)
	if err != nil {
		return 0, false
	}
	switch {
	case strings.HasSuffix(m[1], "k"):
		v *= 1e3
	case strings.HasSuffix(m[1], "M"):
		v *= 1e6
	}
	return v, true
}
