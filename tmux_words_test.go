package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestShareLineWrapsAtSpaces: at 80×24 the command `y` shows wraps over
// the status rows at spaces only — copied off the screen and joined with
// spaces it is the command itself (it broke inside --eval-points before: "--eval-" / "points"),
// and it runs.
func TestShareLineWrapsAtSpaces(t *testing.T) {
	e := startExplorer(t, 80, 24, "--pace", "full")
	e.waitFor("the first checkpoint", 120*time.Second, func(s string) bool { return strings.Contains(s, "L∞/L2") })
	e.keys("s") // a new student and data: a command of 142 columns
	e.waitFor("the new run's first checkpoint", 120*time.Second, func(s string) bool {
		// The panel shows the new seed from the key on; a finish after it
		// is the new run's.
		return strings.Contains(s, "data seed     10001") && strings.Contains(s, "finished in")
	})
	e.keys("y")
	scr := e.waitFor("the shared command", 30*time.Second, func(s string) bool { return strings.Contains(s, "sent to the clipboard") })
	logged := ""
	eventually(t, 10*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(e.dir, "log"))
		if m := regexp.MustCompile(`share: (reluscope run[^\n]*)`).FindAllSubmatch(b, -1); len(m) > 0 {
			logged = string(m[len(m)-1][1])
		}
		return logged != ""
	})
	lines := strings.Split(scr, "\n")
	var rows []string
	for i, l := range lines {
		if strings.Contains(l, "sent to the clipboard") {
			for _, r := range lines[i:] {
				if strings.Contains(r, "? keys") {
					break // the key bar
				}
				rows = append(rows, strings.TrimSpace(r))
			}
			break
		}
	}
	joined := strings.Join(rows, " ")
	t.Logf("the shared command on screen:\n%s", strings.Join(rows, "\n"))
	if len(rows) < 2 || !strings.Contains(joined, logged) {
		t.Fatalf("the command on screen, rows joined:\n%s\nis not the command shared:\n%s\nscreen:\n%s", joined, logged, scr)
	}
	for _, r := range rows {
		if strings.HasSuffix(r, "-") {
			t.Fatalf("a row ends inside a flag: %q", r)
		}
	}
	if _, err := parseRun(shellSplit(logged)[2:], nil); err != nil {
		t.Fatalf("%s: %v", logged, err)
	}
	e.quit()
}

// TestHeadlineKeepsNotAt64x20: at the smallest size the panels take, the
// title's claim keeps its negation (it read "… the uniform error L∞
// does" before).
func TestHeadlineKeepsNotAt64x20(t *testing.T) {
	e := startExplorer(t, 64, 20)
	scr := e.waitFor("the explorer's panels", 60*time.Second, func(s string) bool { return strings.Contains(s, "settings") })
	first := strings.SplitN(scr, "\n", 2)[0]
	if !strings.Contains(first, "L∞ does not") {
		t.Fatalf("the headline at 64×20 is %q", first)
	}
	e.quit()
}
