package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalsGiveTheTerminalBack: SIGTERM or SIGINT to an explorer that is
// training at full speed ends it with the terminal as it was — the main
// screen, no mouse reporting — ten times in a row, whether bubbletea's own
// restore or the hard-exit watchdog ends it.
func TestSignalsGiveTheTerminalBack(t *testing.T) {
	for i := 0; i < 10; i++ {
		sig, name := syscall.SIGTERM, "TERM"
		if i%2 == 1 {
			sig, name = syscall.SIGINT, "INT"
		}
		e := startExplorer(t, 80, 24, "--pace", "full", "--width", "256", "--epochs", "100000", "--eval-points", "100000")
		e.waitFor("training", 120*time.Second, func(s string) bool { return strings.Contains(s, "▶ training") || strings.Contains(s, "? waiting") })
		if flags := strings.TrimSpace(e.tmux("display", "-p", "-t", "main", "#{alternate_on} #{mouse_any_flag}")); flags != "1 1" {
			t.Fatalf("the explorer holds the terminal: alternate_on, mouse_any_flag = %q, want 1 1", flags)
		}
		pid := 0
		for _, p := range processesNaming(e.dir) {
			if strings.HasPrefix(p.args, binary+" ") {
				pid = p.pid
			}
		}
		if pid == 0 {
			t.Fatalf("no explorer process found")
		}
		syscall.Kill(pid, sig)
		code := strings.TrimSpace(string(waitFile(t, "the explorer to exit after SIG"+name, e.exitf, 60*time.Second)))
		flags := strings.TrimSpace(e.tmux("display", "-p", "-t", "main", "#{alternate_on} #{mouse_any_flag}"))
		if flags != "0 0" {
			se, _ := os.ReadFile(e.stderrf)
			t.Fatalf("SIG%s #%d: exit %s and alternate_on, mouse_any_flag = %q, want 0 0; stderr:\n%s", name, i+1, code, flags, se)
		}
		t.Logf("SIG%s #%d: exit %s, the terminal given back", name, i+1, code)
		e.tmux("kill-server")
	}
}
