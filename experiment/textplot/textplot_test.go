package textplot

import (
	"math"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestLegendDropsWholeEntries(t *testing.T) {
	got := Legend(30, "── L∞ (uniform)", "━━ L2 (RMS)", "•• true sup ≥", "·· loss")
	if got != "── L∞ (uniform)  ━━ L2 (RMS)" { // 28 cells; the sup entry would need 43
		t.Fatalf("Legend = %q", got)
	}
	// A later, shorter entry still fits where a longer one did not.
	if got := Legend(37, "── L∞ (uniform)", "━━ L2 (RMS)", "•• true sup ≥", "·· loss"); got != "── L∞ (uniform)  ━━ L2 (RMS)  ·· loss" {
		t.Fatalf("Legend = %q", got)
	}
	if got := Legend(5, "── L∞ (uniform)"); got != "" {
		t.Fatalf("an entry wider than the legend must be dropped whole, got %q", got)
	}
	// ANSI colour does not count as width.
	red := "\x1b[31m── L∞\x1b[0m"
	if got := Legend(13, red, "━━ L2"); ansi.Strip(got) != "── L∞  ━━ L2" {
		t.Fatalf("Legend = %q", got)
	}
}

func TestTickAxisAtTheGivenColumns(t *testing.T) {
	lines := TickAxis(3, 20, []int{0, 9, 10, 19}, []string{"10", "100", "300", "1k"})
	if lines[0] != "  └┬────────┬┬────────┬" {
		t.Fatalf("rule %q", lines[0])
	}
	// "300" would touch "100": left out, its tick kept.
	if lines[1] != "   10      100        1k" {
		t.Fatalf("labels %q", lines[1])
	}
	for i, c := range []int{0, 9, 19} {
		l := []string{"10", "100", "1k"}[i]
		mid := 3 + c
		if r := []rune(lines[1]); !strings.Contains(string(r[max(0, mid-2):min(len(r), mid+3)]), l) {
			t.Fatalf("label %s not under column %d: %q", l, mid, lines[1])
		}
	}
}

func TestPalettesDifferByBackground(t *testing.T) {
	d, l := DarkPalette(), LightPalette()
	if d.Linf == l.Linf || d.L2 == l.L2 || d.Teacher == l.Teacher || d.Student == l.Student {
		t.Fatalf("dark %+v and light %+v palettes share a colour role", d, l)
	}
	// A plotted series carries its palette's colour: 3-bit maroon on a light
	// background, bright red (4-bit) on a dark one.
	ss := func(p Palette) []Series { return []Series{{Vals: []float64{0, 1, 2}, Chars: Thin, Color: p.Linf}} }
	lightLines, _ := Plot(ss(l), 3, nil, nil, true, 1)
	darkLines, _ := Plot(ss(d), 3, nil, nil, true, 1)
	if !strings.Contains(strings.Join(lightLines, "\n"), "\x1b[31m") || !strings.Contains(strings.Join(darkLines, "\n"), "\x1b[91m") {
		t.Fatalf("series colours not from the palette:\nlight %q\ndark %q", lightLines, darkLines)
	}
}

func TestPointColsLeavesGaps(t *testing.T) {
	got := PointCols([]float64{0, 10, 10}, []float64{1, 2, 3}, 10, 6)
	if got[0] != 1 || got[5] != 3 {
		t.Fatalf("PointCols = %v", got)
	}
	for _, v := range got[1:5] {
		if !math.IsNaN(v) {
			t.Fatalf("a column between the points holds %v: %v", v, got)
		}
	}
}
