package report

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
)

// checkTicks: the ticks of [lo, hi] are few, finite, positive, inside the
// range (up to rounding) and increasing.
func checkTicks(t *testing.T, lo, hi float64) {
	t.Helper()
	ts := powTicks{}.Ticks(lo, hi)
	if len(ts) > 200 {
		t.Fatalf("Ticks(%g, %g): %d ticks", lo, hi, len(ts))
	}
	l, h := max(lo, math.SmallestNonzeroFloat64), min(max(hi, lo), math.MaxFloat64)
	for i, tk := range ts {
		v := tk.Value
		if !(v > 0) || math.IsInf(v, 0) || (l > 0 && v < l*(1-1e-6)) || v > h*(1+1e-6) {
			t.Fatalf("Ticks(%g, %g): tick %g outside the axis", lo, hi, v)
		}
		if i > 0 && v <= ts[i-1].Value {
			t.Fatalf("Ticks(%g, %g): %g after %g", lo, hi, v, ts[i-1].Value)
		}
	}
}

// TestTicksAtTheEndsOfFloat64: errors of 5e-324 (the smallest float64)
// and 1e308 once looped in the tick generator until memory ran out; now
// the axis spans them with about ten labels, and the figure is drawn.
func TestTicksAtTheEndsOfFloat64(t *testing.T) {
	for _, c := range [][2]float64{{5e-324, 5e-324}, {5e-324, 1e308}, {0, 1}, {1e-3, math.Inf(1)}, {1e-3, 10}, {0.5, 0.7}} {
		checkTicks(t, c[0], c[1])
	}
	labels := 0
	for _, tk := range (powTicks{}).Ticks(5e-324, 1e308) {
		if tk.Label != "" {
			labels++
		}
	}
	if labels < 3 || labels > 14 {
		t.Fatalf("%d labels over 632 decades, want about 10", labels)
	}
	for _, errs := range [][]float64{{5e-324, 5e-324}, {1e308, 5e-324, 1e308}} {
		var pts []Point
		for i, e := range errs {
			p := Point{M: 20 << i}
			for _, k := range Metrics {
				p.Err[k], p.Avg[k] = e, e
			}
			pts = append(pts, p)
		}
		rep := Report{Points: pts}
		rep.RefSlope[L1], rep.RefSlope[L2], rep.RefSlope[Linf] = -2, -1.5, -1
		if err := WriteFigure(filepath.Join(t.TempDir(), "f.png"), []Report{rep}); err != nil {
			t.Fatalf("errors %v: %v", errs, err)
		}
	}
}

// FuzzTicks: any two floats as an axis's ends.
func FuzzTicks(f *testing.F) {
	f.Add(5e-324, 1e308)
	f.Add(1e-3, 1e-1)
	f.Add(0.0, math.Inf(1))
	f.Fuzz(func(t *testing.T, lo, hi float64) {
		if math.IsNaN(lo) || math.IsNaN(hi) {
			return // gonum never asks for a NaN range
		}
		lo, hi = math.Abs(lo), math.Abs(hi)
		checkTicks(t, min(lo, hi), max(lo, hi))
	})
}

// A slide's ticks are typeset powers of ten, every glyph of them in the
// slide's font (a missing one would be drawn as nothing: 10⁻² read as 10²).
func TestSlideTicksArePowersInTheFont(t *testing.T) {
	for e, want := range map[int]string{-3: "10⁻³", 2: "10²", 0: "1", 1: "10", -10: "10⁻¹⁰"} {
		if got := powerLabel(e); got != want {
			t.Errorf("powerLabel(%d) = %q, want %q", e, got, want)
		}
	}
	f, err := sfnt.Parse(goregular.TTF)
	if err != nil {
		t.Fatal(err)
	}
	var buf sfnt.Buffer
	labels := 0
	for _, tk := range (powTicks{sup: true}).Ticks(3e-12, 2e5) {
		for _, r := range tk.Label {
			if i, err := f.GlyphIndex(&buf, r); err != nil || i == 0 {
				t.Fatalf("tick %q: %q (%U) is not in the slide's font", tk.Label, r, r)
			}
		}
		if tk.Label != "" {
			labels++
			if !strings.HasPrefix(tk.Label, "10") && tk.Label != "1" {
				t.Fatalf("slide tick %q is not a power of ten", tk.Label)
			}
		}
	}
	if labels < 8 { // every second power past a dozen decades
		t.Fatalf("%d labelled ticks over 17 decades", labels)
	}
}
