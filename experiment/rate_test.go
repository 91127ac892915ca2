package experiment

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/reluscope/reluscope/backend"
)

func TestMedian(t *testing.T) {
	xs := []float64{5, 1, 3}
	if Median(xs) != 3 || Median([]float64{4, 1, 3, 2}) != 2.5 || !math.IsNaN(Median(nil)) {
		t.Fatal(Median(xs), Median([]float64{4, 1, 3, 2}))
	}
	if xs[0] != 5 {
		t.Fatal("Median sorted its argument")
	}
}

// forgetRates empties this process's rates, so that the next one is read
// from the cache or measured; the cache goes to a folder of the test's.
func forgetRates(t *testing.T) string {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	ForgetRates()
	t.Cleanup(ForgetRates)
	return RateCachePath()
}

// A measured rate is kept on disk and read back by the next process (here:
// with this process's rates forgotten) instead of measured again; a rate
// of another machine, out of its week, damaged or foreign is not used.
func TestRateIsKeptAndCheckedWhenRead(t *testing.T) {
	path := forgetRates(t)
	host, _ := os.Hostname()
	now := time.Now()
	good := Rate{Engine: "native", DType: "float64", Threads: 1, StepSeconds: 2e-6, FLOPS: 4e10,
		Measured: now.Add(-time.Hour), Rounds: 5, Took: 2, Host: host, CPUs: runtime.NumCPU(), Arch: runtime.GOARCH}
	if err := storeRate(path, good, now); err != nil {
		t.Fatal(err)
	}
	r, ok := CachedRate("native", backend.Float64, 1)
	if !ok || r.FLOPS != 4e10 || r.From != path || !strings.Contains(r.Source(), "measured here on ") || !strings.HasPrefix(r.When(), "measured 20") {
		t.Fatalf("kept rate read back as %+v %v (%s)", r, ok, r.Source())
	}
	if _, ok := CachedRate("native", backend.Float64, 2); ok {
		t.Fatal("a rate of 1 thread was used for 2")
	}
	for name, bad := range map[string]func(*Rate){
		"another host":  func(r *Rate) { r.Host += "x" },
		"other cores":   func(r *Rate) { r.CPUs++ },
		"8 days old":    func(r *Rate) { r.Measured = now.Add(-8 * 24 * time.Hour) },
		"in the future": func(r *Rate) { r.Measured = now.Add(time.Hour) },
		"zero FLOP/s":   func(r *Rate) { r.FLOPS = 0 },
		"NaN per step":  func(r *Rate) { r.StepSeconds = math.NaN() },
	} {
		r := good
		bad(&r)
		if r.fits(now) {
			t.Errorf("a rate of %s fits", name)
		}
	}
	for name, data := range map[string]string{
		"torn":           `{"format":"reluscope rates 1","rates":[{"engine":"nat`,
		"foreign":        `{"format":"other","rates":[]}`,
		"unknown fields": `{"format":"reluscope rates 1","rates":[],"x":1}`,
		"two documents":  `{"format":"reluscope rates 1","rates":[]} {}`,
	} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := loadRates(path); err == nil {
			t.Errorf("a %s cache was read", name)
		}
	}
	// A damaged cache is replaced by the next rate kept.
	if err := storeRate(path, good, now); err != nil {
		t.Fatal(err)
	}
	if f, err := loadRates(path); err != nil || len(f.Rates) != 1 {
		t.Fatalf("after a damaged cache: %+v %v", f, err)
	}
	// Keeping a rate keeps the others' (another thread count) and drops
	// the same key's old one.
	two := good
	two.Threads, two.FLOPS = 2, 7e10
	if err := storeRate(path, two, now); err != nil {
		t.Fatal(err)
	}
	again := good
	again.FLOPS = 5e10
	if err := storeRate(path, again, now); err != nil {
		t.Fatal(err)
	}
	f, err := loadRates(path)
	if err != nil || len(f.Rates) != 2 || f.Rates[0].FLOPS != 5e10 || f.Rates[1].FLOPS != 7e10 {
		t.Fatalf("cache %+v %v", f, err)
	}
}

// MachineRate measures once and keeps it: the file is written, and a
// process that forgot its rates (the next process) reads the same numbers.
func TestMachineRateMeasuresOnce(t *testing.T) {
	path := forgetRates(t)
	r, err := MachineRate("native", backend.Float64, 1)
	if err != nil || !(r.FLOPS > 0) || math.IsInf(r.FLOPS, 0) || !(r.StepSeconds > 0) || r.Rounds != rateRounds || r.Took < 1.5 || r.From != "" {
		t.Fatalf("rate %+v %v", r, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal("the measured rate was not kept:", err)
	}
	ForgetRates()
	back, err := MachineRate("native", backend.Float64, 1)
	if err != nil || back.FLOPS != r.FLOPS || back.StepSeconds != r.StepSeconds || back.From != path {
		t.Fatalf("read back %+v %v, measured %+v", back, err, r)
	}
	// A cache folder that cannot be written: measured, used, not kept.
	t.Setenv("XDG_CACHE_HOME", filepath.Join(path, "not-a-folder"))
	ForgetRates()
	if _, err := MachineRate("native", backend.Float64, 1); err != nil {
		t.Fatal("an unwritable cache failed the rate:", err)
	}
}
