package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestExplorerInTmux(t *testing.T) {
	e := startExplorerEnv(t, []string{"RELUSCOPE_LEAKCHECK=1"}, 100, 30)
	logf := filepath.Join(e.dir, "log")

	t0 := time.Now()
	// The first curve: the legend and a y axis with log labels.
	e.waitFor("the first curve", 60*time.Second, func(scr string) bool {
		return strings.Contains(scr, "L∞ (uniform)") && strings.Contains(scr, "e-0") && strings.Contains(scr, "┤")
	})
	t.Logf("first curve after %v", time.Since(t0))
	// Raise the width (third setting) and the samples (fourth).
	e.keys("j", "j", "Right")
	e.waitFor("width 64", 10*time.Second, func(scr string) bool { return regexp.MustCompile(`▸ width\s+64 `).MatchString(scr) })
	e.keys("j", "Right")
	scr := e.waitFor("samples 2000", 10*time.Second, func(scr string) bool { return regexp.MustCompile(`▸ samples\s+2000 `).MatchString(scr) })
	if !strings.Contains(scr, "params: t 3265 · s 12673") {
		t.Fatalf("the settings panel does not show the wider student:\n%s", scr)
	}
	// A restarted run: its start is logged with the new settings and the
	// screen shows it training on (or done with) fresh checkpoints.
	var log []byte
	if !eventually(t, 30*time.Second, func() bool {
		log, _ = os.ReadFile(logf)
		return strings.Contains(string(log), "Width:64 Samples:2000")
	}) {
		t.Fatalf("no run with width 64 and 2000 samples started; log:\n%s", log)
	}
	e.waitFor("the new run's curve", 60*time.Second, func(scr string) bool {
		return (strings.Contains(scr, "▶ training") || strings.Contains(scr, "✓ done")) && strings.Contains(scr, "L∞/L2") &&
			strings.Contains(scr, "samples = 2000 — new run started")
	})
	t.Logf("new run on screen after %v", time.Since(t0))
	// q: exit 0, nothing on stderr (a goroutine leak would be reported
	// there, RELUSCOPE_LEAKCHECK being on).
	e.quit()
	t.Logf("exited after %v", time.Since(t0))
}
