package experiment

import (
	"math"
	"testing"
)

// Every setting but seed (which sets three keys) reaches its own field,
// and Ptr, Num and Value read the same value.
func TestSettingsReachTheirFields(t *testing.T) {
	c := Default()
	c.Width, c.LR, c.Batch, c.SupBoxes, c.Backend = 77, 0.0025, Batch{Frac: 0.2}, 123, "native"
	for _, s := range Settings {
		if (s.Ptr(&c) == nil) != (s.Key == "seed") {
			t.Errorf("setting %s: field %v", s.Key, s.field)
		}
	}
	w := MustSetting("width")
	*w.Ptr(&c).(*int) = 78
	if c.Width != 78 || w.Num(c) != 78 || c.Value("width") != "78" {
		t.Fatalf("width: %d %v %q", c.Width, w.Num(c), c.Value("width"))
	}
	if c.Value("lr") != "0.0025" || MustSetting("lr").Num(c) != 0.0025 || c.Value("batch") != c.Batch.String() ||
		c.Value("sup_boxes") != "123" || c.Value("backend") != "native" || c.Value("seed") != "" || c.Value("nope") != "" {
		t.Fatalf("values: lr %q batch %q boxes %q backend %q", c.Value("lr"), c.Value("batch"), c.Value("sup_boxes"), c.Value("backend"))
	}
	if !math.IsNaN(MustSetting("backend").Num(c)) {
		t.Fatal("a string setting has a number")
	}
}
