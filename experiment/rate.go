package experiment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/internal/osutil"
)

// Rate is an engine's measured speed on this machine: a fixed cost per
// Adam step (what narrow networks pay) and the arithmetic rate of wide ones.
// Every estimate of a run's time (`run`, the explorer's gate, `sweep plan`
// without finished runs or --rate) comes from one MachineRate.
type Rate struct {
	Engine  string `json:"engine"`
	DType   string `json:"dtype"`
	Threads int    `json:"threads"`
	// StepSeconds is the time of one step of a width-8 network on a
	// batch of 8: the per-step cost no FLOP count sees.
	StepSeconds float64 `json:"step_seconds"`
	// FLOPS is the floating-point rate of width-256 steps on a batch of
	// 512, the per-step cost taken off.
	FLOPS float64 `json:"flops"`
	// Measured is when, over Rounds rounds of Took seconds in all (the rate is
	// their median); Spread is (max − min)/median of the rounds' FLOPS.
	// Zero for a rate given, not measured.
	Measured time.Time `json:"measured"`
	Rounds   int       `json:"rounds"`
	Took     float64   `json:"took_seconds"`
	Spread   float64   `json:"spread"`
	// Host, CPUs and Arch say which machine measured it.
	Host string `json:"host"`
	CPUs int    `json:"cpus"`
	Arch string `json:"arch"`
	// From is the cache file the rate was read back from ("" when this
	// process measured it).
	From string `json:"-"`
}

// Seconds estimates the run's time at rate r.
func (r Rate) Seconds(k Cost) float64 {
	return float64(k.Steps)*r.StepSeconds + k.FLOP()/r.FLOPS + k.SupSeconds
}

// String is "40 GFLOP/s and 12µs a step on native, 2 threads".
func (r Rate) String() string {
	return fmt.Sprintf("%s/s and %s a step on %s, %d threads", FLOPCount(r.FLOPS), time.Duration(r.StepSeconds*float64(time.Second)).Round(100*time.Nanosecond), r.Engine, r.Threads)
}

// Source says where a measured rate comes from: "measured here on
// 2026-12-06 09:30 (median of 5 rounds in 2.0 s, spread 4 %; kept in
// PATH until …)".
func (r Rate) Source() string {
	if r.Measured.IsZero() {
		return "given"
	}
	when := "now"
	if r.From != "" {
		when = "on " + r.Measured.Local().Format("2006-01-02 15:04")
	}
	kept := ""
	if p := RateCachePath(); p != "" {
		kept = fmt.Sprintf("; kept in %s until %s", p, r.Measured.Add(RateLife).Local().Format("2006-01-02 15:04"))
	}
	return fmt.Sprintf("measured here %s (median of %d rounds in %.1f s, spread %.0f %%%s)", when, r.Rounds, r.Took, 100*r.Spread, kept)
}

// When is the short source: "measured now", "measured 2026-12-06 09:30".
func (r Rate) When() string {
	switch {
	case r.Measured.IsZero():
		return "given"
	case r.From == "":
		return "measured now"
	}
	return "measured " + r.Measured.Local().Format("2006-01-02 15:04")
}

// RateLife is how long a measured rate is used before it is measured again.
const RateLife = 7 * 24 * time.Hour

// rateRounds × (rateNarrow + rateWide) is the measurement: long enough
// that a moment's load is one round of five, not the whole rate.
const (
	rateRounds = 5
	rateNarrow = 80 * time.Millisecond
	rateWide   = 320 * time.Millisecond
)

// MeasureRate times Adam steps of engine at two shapes on threads
// goroutines (0: all cores) in five rounds over about two seconds; the
// rate is the rounds' median.
func MeasureRate(engineName string, dt backend.DType, threads int) (Rate, error) {
	eng, err := backend.Get(engineName)
	if err != nil {
		return Rate{}, err
	}
	r := Rate{Engine: eng.Name(), DType: dt.String(), Threads: threads, Rounds: rateRounds, CPUs: runtime.NumCPU(), Arch: runtime.GOARCH}
	if threads <= 0 {
		r.Threads = runtime.GOMAXPROCS(0)
	}
	r.Host, _ = os.Hostname()
	rng := rand.New(rand.NewPCG(1, 2))
	type shape struct {
		m    backend.Model
		x, y []float64
	}
	build := func(sizes []int, batch int) (shape, error) {
		net := backend.NewNet(sizes)
		net.InputScale = 1
		net.FillUniform(rng, func(l int) float64 { return 1 / math.Sqrt(float64(sizes[l])) })
		m, err := eng.New(net, backend.Options{DType: dt, MaxBatch: batch, Threads: threads})
		if err != nil {
			return shape{}, err
		}
		s := shape{m: m, x: make([]float64, batch*sizes[0]), y: make([]float64, batch)}
		for i := range s.x {
			s.x[i] = rng.Float64() - 0.5
		}
		_, err = m.Step(s.x, s.y, 1e-3) // warm the buffers
		return s, err
	}
	timeSteps := func(s shape, budget time.Duration) (float64, error) {
		n, t0 := 0, time.Now()
		for n < 3 || time.Since(t0) < budget {
			if _, err := s.m.Step(s.x, s.y, 1e-3); err != nil {
				return 0, err
			}
			n++
		}
		return time.Since(t0).Seconds() / float64(n), nil
	}
	narrow, err := build([]int{1, 8, 8, 1}, 8)
	if err != nil {
		return r, err
	}
	defer narrow.m.Close()
	wideSizes := []int{1, 256, 256, 256, 1}
	const batch = 512
	wide, err := build(wideSizes, batch)
	if err != nil {
		return r, err
	}
	defer wide.m.Close()
	flop := 6 * float64(backend.NumParams(wideSizes)) * batch
	steps, flops := make([]float64, rateRounds), make([]float64, rateRounds)
	t0 := time.Now()
	for i := range rateRounds {
		if steps[i], err = timeSteps(narrow, rateNarrow); err != nil {
			return r, err
		}
		t, err := timeSteps(wide, rateWide)
		if err != nil {
			return r, err
		}
		flops[i] = flop / math.Max(t-steps[i], t/10)
	}
	r.Took = time.Since(t0).Seconds()
	r.Measured = time.Now()
	r.StepSeconds, r.FLOPS = Median(steps), Median(flops)
	r.Spread = (slices.Max(flops) - slices.Min(flops)) / r.FLOPS
	return r, nil
}

// Median is the median of xs (the mean of the middle two for an even
// count; NaN for none). xs is not changed.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

var (
	ratesMu sync.Mutex
	rates   = map[string]Rate{} // "engine/dtype/threads" → Rate
)

// ForgetRates forgets the rates this process measured or read: the next
// MachineRate reads the cache again, or measures.
func ForgetRates() {
	ratesMu.Lock()
	clear(rates)
	ratesMu.Unlock()
}

func rateKey(engineName string, dt backend.DType, threads int) string {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return fmt.Sprintf("%s/%v/%d", engineName, dt, threads)
}

// MachineRate is the rate of engine at dtype on threads goroutines: the
// one this process measured or read, else one measured on this machine
// within RateLife and kept in RateCachePath, else MeasureRate (kept there
// for the next process). Estimates made a day apart under different loads
// agree: they rest on one measurement.
func MachineRate(engineName string, dt backend.DType, threads int) (Rate, error) {
	if r, ok := CachedRate(engineName, dt, threads); ok {
		return r, nil
	}
	return RemeasureRate(engineName, dt, threads)
}

// RemeasureRate measures the rate again (`sweep plan --remeasure`) and
// keeps it, in this process and in RateCachePath.
func RemeasureRate(engineName string, dt backend.DType, threads int) (Rate, error) {
	r, err := MeasureRate(engineName, dt, threads)
	if err != nil {
		return r, err
	}
	ratesMu.Lock()
	rates[rateKey(engineName, dt, threads)] = r
	ratesMu.Unlock()
	storeRate(RateCachePath(), r, time.Now()) // a cache that cannot be written is measured again next time
	return r, nil
}

// CachedRate is the rate MachineRate would give without measuring, if
// there is one.
func CachedRate(engineName string, dt backend.DType, threads int) (Rate, bool) {
	key := rateKey(engineName, dt, threads)
	ratesMu.Lock()
	defer ratesMu.Unlock()
	if r, ok := rates[key]; ok {
		return r, true
	}
	path := RateCachePath()
	f, err := loadRates(path)
	if err != nil {
		return Rate{}, false
	}
	for _, r := range f.Rates {
		if rateKey(r.Engine, mustDType(r.DType), r.Threads) == key && r.fits(time.Now()) {
			r.From = path
			rates[key] = r
			return r, true
		}
	}
	return Rate{}, false
}

func mustDType(s string) backend.DType {
	dt, _ := backend.ParseDType(s)
	return dt
}

// fits says whether a kept rate was measured on this machine, within
// RateLife of now, and is a rate at all.
func (r Rate) fits(now time.Time) bool {
	host, _ := os.Hostname()
	age := now.Sub(r.Measured)
	ok := func(x float64) bool { return x > 0 && !math.IsInf(x, 0) }
	return r.Host == host && r.CPUs == runtime.NumCPU() && r.Arch == runtime.GOARCH &&
		age > -time.Minute && age < RateLife && ok(r.FLOPS) && ok(r.StepSeconds) && r.Rounds > 0
}

// RateCachePath is where measured rates are kept: reluscope/rates.json in
// the user's cache folder ($XDG_CACHE_HOME, else ~/.cache); "" when there
// is none.
func RateCachePath() string {
	dir, err := os.UserCacheDir()
	if err != nil || dir == "" {
		return ""
	}
	return filepath.Join(dir, "reluscope", "rates.json")
}

// rateFile is the cache's content; a file of another format, damaged or
// over 1 MiB is not read (and is replaced by the next measurement).
type rateFile struct {
	Format string `json:"format"`
	Rates  []Rate `json:"rates"`
}

const rateFormat = "reluscope rates 1"

func loadRates(path string) (rateFile, error) {
	var f rateFile
	if path == "" {
		return f, os.ErrNotExist
	}
	data, err := osutil.ReadFileLimited(path, 1<<20)
	if err != nil {
		return f, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return rateFile{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return rateFile{}, errors.New("data after the rates")
	}
	if f.Format != rateFormat {
		return rateFile{}, fmt.Errorf("format %q", f.Format)
	}
	return f, nil
}

// storeRate keeps r in the cache at path with the rates of other engines,
// thread counts and machines still in their life; it is written atomically
// (two processes at once: one of them wins, the other's is measured again).
func storeRate(path string, r Rate, now time.Time) error {
	if path == "" {
		return os.ErrNotExist
	}
	f, _ := loadRates(path) // damaged: replaced
	kept := []Rate{r}
	for _, o := range f.Rates {
		age := now.Sub(o.Measured)
		same := o.Engine == r.Engine && o.DType == r.DType && o.Threads == r.Threads && o.Host == r.Host
		if !same && age > -time.Minute && age < RateLife && len(kept) < 64 {
			kept = append(kept, o)
		}
	}
	data, err := json.MarshalIndent(rateFile{Format: rateFormat, Rates: kept}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return osutil.WriteFileAtomic(path, append(data, '\n'))
}
