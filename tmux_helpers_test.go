package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fastBinary is reluscope built without the race detector, for the tmux
// tests whose point is what a person sees at full speed (the pace, the
// demonstrations); built on first use.
var (
	fastOnce   sync.Once
	fastBinary string
	fastErr    error
)

func fastReluscope(t *testing.T) string {
	t.Helper()
	fastOnce.Do(func() {
		fastBinary = filepath.Join(filepath.Dir(binary), "reluscope-fast")
		out, err := exec.Command("go", "build", "-o", fastBinary, ".").CombinedOutput()
		if err != nil {
			fastErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if fastErr != nil {
		t.Fatal(fastErr)
	}
	return fastBinary
}

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
	exitf, stderrf string
}

// startExplorer opens bin with args in a w×h tmux window; the session is
// killed when the test ends.
func startExplorer(t *testing.T, bin string, w, h int, args ...string) *explorer {
	t.Helper()
	needTmux(t)
	dir := t.TempDir()
	e := &explorer{exitf: filepath.Join(dir, "exit"), stderrf: filepath.Join(dir, "stderr")}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + a + "'"
	}
	script := fmt.Sprintf("%s --log %s --results %s %s 2>%s; echo $? > %s; sleep 60", bin,
		filepath.Join(dir, "log"), filepath.Join(dir, "results"), strings.Join(quoted, " "), e.stderrf, e.exitf)
	e.tmuxSession = &tmuxSession{t: t, sock: filepath.Join(dir, "tmux.sock")}
	e.tmux("new-session", "-d", "-s", "main", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), "sh", "-c", script)
	t.Cleanup(func() { exec.Command("tmux", "-S", e.sock, "kill-server").Run() })
	return e
}

// quit presses q and checks the program exits 0 without writing to stderr.
func (e *explorer) quit() {
	e.t.Helper()
	e.keys("q")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(e.exitf); err == nil && len(b) > 0 {
			if code := strings.TrimSpace(string(b)); code != "0" {
				se, _ := os.ReadFile(e.stderrf)
				e.t.Fatalf("reluscope exited %s; stderr:\n%s", code, se)
			}
			break
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("reluscope did not exit after q; screen:\n%s", e.screen())
		}
		time.Sleep(50 * time.Millisecond)
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
