package report

import (
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestFigureStructure checks the SVG of a fixed report: axes labels, ticks
// at powers of ten with minor ticks between, every series and reference
// in the legend, and the legend to the right of the data; the PNG is
// 1200×720 pixels a panel.
func TestFigureStructure(t *testing.T) {
	dir := t.TempDir()
	reps := AggregateWith(handSweep(), false)
	svg := filepath.Join(dir, "f.svg")
	if err := WriteFigure(svg, reps); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(svg)
	texts := map[string]float64{} // text → x
	for _, m := range regexp.MustCompile(`<text x="([-\d.]+)"[^>]*>([^<]*)</text>`).FindAllStringSubmatch(string(b), -1) {
		x, _ := strconv.ParseFloat(m[1], 64)
		texts[m[2]] = x
	}
	for _, want := range []string{"training samples m", "error", "10²", "10³", "1", "d=1, teacher depth 5, width 32, c=0.5", "error vs m, min over algorithms"} {
		if _, ok := texts[want]; !ok {
			t.Fatalf("the figure lacks the text %q; it has %v", want, texts)
		}
	}
	plotRight := float64((panelW - legendW) / 1) // in points
	var legend []string
	for s, x := range texts {
		if strings.Contains(s, "(slope") || strings.HasPrefix(s, "reference") {
			legend = append(legend, s)
			if x < plotRight {
				t.Fatalf("legend entry %q at x=%v is inside the plot (its right edge is %v)", s, x, plotRight)
			}
		}
	}
	for _, want := range []string{"L1 min-max (slope", "L2 min-max (slope", "L∞ min-max (slope", "L2 min-avg (slope", "L∞ min-avg (slope", "reference "} {
		found := false
		for _, s := range legend {
			found = found || strings.HasPrefix(s, want)
		}
		if !found {
			t.Fatalf("the legend lacks %q: %v", want, legend)
		}
	}
	// Minor ticks: 2…9 × 10² on the m axis (short marks, 4 points long).
	minor := regexp.MustCompile(`M([\d.]+),([\d.]+)L([\d.]+),([\d.]+)" style="fill:none;stroke:#000000;stroke-width:0.5"`)
	short := 0
	for _, m := range minor.FindAllStringSubmatch(string(b), -1) {
		y1, _ := strconv.ParseFloat(m[2], 64)
		y2, _ := strconv.ParseFloat(m[4], 64)
		x1, _ := strconv.ParseFloat(m[1], 64)
		x2, _ := strconv.ParseFloat(m[3], 64)
		if x1 == x2 && y2-y1 > 3.9 && y2-y1 < 4.1 {
			short++
		}
	}
	if short < 8 {
		t.Fatalf("%d minor ticks on the m axis, want the 8 of 2…9 × 10²", short)
	}
	pngPath := filepath.Join(dir, "f.png")
	if err := WriteFigure(pngPath, reps); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(pngPath)
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != 1200 || cfg.Height != 720 {
		t.Fatalf("PNG %dx%d (%v), want 1200x720", cfg.Width, cfg.Height, err)
	}
	if err := WriteFigure(filepath.Join(dir, "f.pdf"), reps); err != nil {
		t.Fatal(err)
	}
}

// TestSlideStyle: the slide figure is in the Go sans-serif with typeset
// powers of ten (10², 10³), slopes with a true minus under one "slopes in
// m" heading, and legend entries that fit its narrower column; the paper
// style is the default and unchanged.
func TestSlideStyle(t *testing.T) {
	dir := t.TempDir()
	reps := AggregateWith(handSweep(), false)
	svg := filepath.Join(dir, "s.svg")
	if err := WriteFigureStyle(svg, reps, Slide); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(svg)
	s := string(b)
	for _, want := range []string{"font-family:Go", ">10²<", ">10³<", "slopes in m", "bound −"} {
		if !strings.Contains(s, want) {
			t.Fatalf("the slide figure lacks %q", want)
		}
	}
	for _, no := range []string{">1e2<", ">100<", "min-avg", "m^", "Serif"} {
		if strings.Contains(s, no) {
			t.Fatalf("the slide figure has %q", no)
		}
	}
	if _, err := StyleOf("poster"); err == nil {
		t.Fatal("an unknown style was accepted")
	}
}

// Both styles label their axes in one format, powers of ten typeset (1,
// 10, 10², 10⁻³, and 2×10⁻¹ at the ends of a range under a decade): no
// mix of 0.2, 1e-1 and 2e+02.
func TestFigureTicksInOneFormat(t *testing.T) {
	typeset := regexp.MustCompile(`^(1|10|10[⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+|[1-9](\.[0-9])?×10[⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]*|[1-9](\.[0-9])?×(1|10))$`)
	numeric := regexp.MustCompile(`^[-+0-9.e×⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+$`)
	reps := AggregateWith(handSweep(), false)
	for _, st := range []Style{Paper, Slide} {
		svg := filepath.Join(t.TempDir(), "f.svg")
		if err := WriteFigureStyle(svg, reps, st); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(svg)
		n := 0
		for _, m := range regexp.MustCompile(`<text [^>]*>([^<]*)</text>`).FindAllStringSubmatch(string(b), -1) {
			if numeric.MatchString(m[1]) {
				n++
				if !typeset.MatchString(m[1]) {
					t.Fatalf("%s style: tick label %q is not a typeset power of ten", st.Name, m[1])
				}
			}
		}
		if n < 4 {
			t.Fatalf("%s style: %d tick labels", st.Name, n)
		}
	}
}

func TestTypeset(t *testing.T) {
	for v, want := range map[float64]string{14: "14", 0.5: "0.5", 510: "5.1×10²", 0.003: "3×10⁻³", 75: "75", 4e4: "4×10⁴", 0.01: "0.01"} {
		if got := typeset(v); got != want {
			t.Fatalf("typeset(%v) = %q, want %q", v, got, want)
		}
	}
}
