package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

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

// waitFor polls the screen until ok holds, failing after timeout.
func (s *tmuxSession) waitFor(what string, timeout time.Duration, ok func(screen string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	var scr string
	for time.Now().Before(deadline) {
		scr = s.screen()
		if ok(scr) {
			return scr
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("timed out waiting for %s; screen:\n%s", what, scr)
	return ""
}

func TestExplorerInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is not installed (.ci/run installs it)")
		}
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	logf, stderrf, exitf := filepath.Join(dir, "log"), filepath.Join(dir, "stderr"), filepath.Join(dir, "exit")
	script := fmt.Sprintf("RELUSCOPE_LEAKCHECK=1 %s --log %s --results %s 2>%s; echo $? > %s; sleep 60",
		binary, logf, filepath.Join(dir, "results"), stderrf, exitf)
	s := &tmuxSession{t: t, sock: filepath.Join(dir, "tmux.sock")}
	s.tmux("new-session", "-d", "-s", "main", "-x", "100", "-y", "30", "sh", "-c", script)
	defer exec.Command("tmux", "-S", s.sock, "kill-server").Run()

	t0 := time.Now()
	// The first curve: the legend and a y axis with log labels.
	s.waitFor("the first curve", 60*time.Second, func(scr string) bool {
		return strings.Contains(scr, "L∞ (uniform)") && strings.Contains(scr, "e-0") && strings.Contains(scr, "┤")
	})
	t.Logf("first curve after %v", time.Since(t0))
	// Raise the width (third setting) and the samples (fourth).
	s.keys("j", "j", "Right")
	s.waitFor("width 64", 10*time.Second, func(scr string) bool { return regexp.MustCompile(`▸ width\s+64 `).MatchString(scr) })
	s.keys("j", "Right")
	scr := s.waitFor("samples 2000", 10*time.Second, func(scr string) bool { return regexp.MustCompile(`▸ samples\s+2000 `).MatchString(scr) })
	if !strings.Contains(scr, "params: t 3265 · s 12673") {
		t.Fatalf("the settings panel does not show the wider student:\n%s", scr)
	}
	// A restarted run: its start is logged with the new settings and the
	// screen shows it training on (or done with) fresh checkpoints.
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(logf)
		if strings.Contains(string(b), "Width:64 Samples:2000") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run with width 64 and 2000 samples started; log:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.waitFor("the new run's curve", 60*time.Second, func(scr string) bool {
		return (strings.Contains(scr, "▶ training") || strings.Contains(scr, "✓ done")) && strings.Contains(scr, "L∞/L2") &&
			strings.Contains(scr, "samples = 2000 — new run started")
	})
	t.Logf("new run on screen after %v", time.Since(t0))
	s.keys("q")
	deadline = time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(exitf); err == nil && len(b) > 0 {
			if code := strings.TrimSpace(string(b)); code != "0" {
				se, _ := os.ReadFile(stderrf)
				t.Fatalf("reluscope exited %s; stderr:\n%s", code, se)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reluscope did not exit after q; screen:\n%s", s.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("exited after %v", time.Since(t0))
	if se, _ := os.ReadFile(stderrf); len(se) > 0 {
		t.Fatalf("reluscope wrote to stderr (a race or leak report?):\n%s", se)
	}
}
