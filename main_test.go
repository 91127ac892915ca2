package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/reluscope/reluscope/experiment"
)

// binary is the reluscope binary the whole-program tests drive, built once
// as users build it: without the race detector, which belongs to the
// in-process tests (a race build is 5–10× slower and would make these
// tests time the detector, not the program).
var binary string

// binaryEnv hands a child test process (TestNothingOutlivesAKilledTest)
// the binary already built, so that it does not build its own.
const binaryEnv = "RELUSCOPE_TEST_BINARY"

// cacheEnv marks a child test process whose cache folder is its parent's.
const cacheEnv = "RELUSCOPE_TEST_CACHE"

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	// Measured rates are kept in a cache folder of the tests' own (the
	// binaries the tests run inherit it).
	if os.Getenv(cacheEnv) == "" {
		cache, err := os.MkdirTemp("", "reluscope-cache")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(cache)
		os.Setenv("XDG_CACHE_HOME", cache)
		os.Setenv(cacheEnv, cache)
	}
	if b := os.Getenv(binaryEnv); b != "" {
		binary = b
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "reluscope-bin")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "reluscope")
	// One build at a time with bigrid's (go test runs packages in
	// parallel): the second finds the build cache warm instead of
	// compiling everything again beside the first.
	unlock := buildLock()
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	err = build.Run()
	unlock()
	if err != nil {
		panic("building reluscope: " + err.Error())
	}
	return m.Run()
}

// testCmd is exec.Command for a process a test starts: it does not
// outlive the test binary.
func testCmd(name string, args ...string) *exec.Cmd {
	return tieToTest(exec.Command(name, args...))
}

func TestBadFlagsExitNonZeroWithOneLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--samples", "-5"}, "--samples: -5 is out of range"},
		{[]string{"run", "--dim", "0"}, "--dim: 0 is out of range"},
		{[]string{"run", "--preset", "nope"}, `unknown preset "nope"`},
		{[]string{"run", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"run", "--batch", "0%"}, "percentage must be in (0, 100]"},
		{[]string{"run", "--width", "x"}, `invalid value "x" for flag -width`},
		{[]string{"run", "--set", "nope=1"}, "field nope not found"},
		{[]string{"run", "--backend", "tpu"}, `--backend: "tpu" is not one of`},
		// An error names what the user typed: the key of --set, the axis or
		// --set key in a sweep, the flag when a flag gave the value.
		{[]string{"run", "--set", "target=foo"}, `reluscope: target: "foo" is not teacher or sine`},
		{[]string{"run", "--dim", "2", "--set", "dim=0"}, "reluscope: dim: 0 is out of range"},
		{[]string{"sweep", "count", "smoke", "--set", "dim=0"}, "reluscope: run 0: dim: 0 is out of range"},
		{[]string{"sweep", "count", "smoke", "--set", "width=0"}, "reluscope: run 0: width: 0 is out of range"},
		{[]string{"bogus"}, `unknown command "bogus": the commands are explore (the default), tour, run, sweep`},
		{[]string{"explore", "--pace", "fast"}, `--pace: "fast" is not auto, full or a number`},
	} {
		cmd := testCmd(binary, tc.args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if err == nil || cmd.ProcessState.ExitCode() == 0 {
			t.Fatalf("%v: exit 0, want non-zero", tc.args)
		}
		msg := stderr.String()
		if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tc.want) || strings.Contains(msg, "goroutine") {
			t.Fatalf("%v: stderr %q, want one line containing %q", tc.args, msg, tc.want)
		}
	}
}

// TestHelpOfEveryForm: -h works for every command and the explorer, and
// the top-level help lists the explorer's flags.
func TestHelpOfEveryForm(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"explore", "-h"}, {"run", "-h"}, {"fool", "-h"}, {"sweep", "-h"}, {"report", "-h"}} {
		var stdout, stderr bytes.Buffer
		if err := dispatch(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !strings.Contains(stdout.String(), "usage") {
			t.Fatalf("%v printed no usage:\n%s", args, stdout.String())
		}
	}
	var stdout bytes.Buffer
	dispatch(context.Background(), []string{"-h"}, &stdout, io.Discard)
	for _, want := range []string{"-pace", "-results", "-samples", "reluscope run [flags]"} {
		if !strings.Contains(stdout.String(), want) {
			t.Fatalf("reluscope -h lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestRunSmokeJSONAndOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	err := dispatch(context.Background(), []string{"run", "--preset", "smoke", "--json", "--out", dir}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err, stderr.String())
	}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<24)
	var kinds []string
	var ckpts int
	for sc.Scan() {
		var ev experiment.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q is not a JSON event: %v", sc.Text(), err)
		}
		kinds = append(kinds, string(ev.Kind))
		ckpts += len(ev.Checkpoints)
	}
	if kinds[0] != "start" || kinds[len(kinds)-1] != "done" || ckpts != 5 {
		t.Fatalf("events %v with %d checkpoints; want start … done and 5 checkpoints", kinds, ckpts)
	}
	for _, f := range []string{"config.json", "history.csv", "epochs.csv", "result.json", "teacher.json", "student.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("--out did not write %s", f)
		}
	}
	if _, err := experiment.LoadNetwork(filepath.Join(dir, "student.json")); err != nil {
		t.Fatal(err)
	}
	hist, _ := os.ReadFile(filepath.Join(dir, "history.csv"))
	if n := strings.Count(string(hist), "\n"); n != 6 {
		t.Fatalf("history.csv has %d lines, want a header and 5 checkpoints", n)
	}
}

func TestRunTextShowsTheGap(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := dispatch(context.Background(), []string{"run", "--preset", "smoke", "--set", "epochs=10"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	for _, want := range []string{"teacher [1 16 16 1]", "done in", "L∞/L2 ="} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestExplorerNeedsATerminal(t *testing.T) {
	cmd := testCmd(binary)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("the explorer ran without a terminal")
	}
	if msg := stderr.String(); !strings.Contains(msg, "needs a terminal") || !strings.Contains(msg, "reluscope run") || strings.Count(msg, "\n") != 1 {
		t.Fatalf("stderr %q: want one line that suggests reluscope run", msg)
	}
	if stdout.Len() != 0 {
		t.Fatalf("wrote to stdout: %q", stdout.String())
	}
}

// TestSetSeedIsSeedFlag: --set seed=N sets the data and init seeds as --seed N does.
func TestSetSeedIsSeedFlag(t *testing.T) {
	get := func(args ...string) experiment.Config {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		cf := newConfigFlags(fs, "default")
		cfg, err := cf.parse(args, io.Discard)
		if err != nil {
			t.Fatal(args, err)
		}
		return cfg
	}
	a, b := get("--set", "seed=7"), get("--seed", "7")
	if a != b || a.DataSeed != 7 || a.InitSeed != 7 {
		t.Fatalf("--set seed=7 gives %+v, --seed 7 gives %+v", a, b)
	}
	if c := get("--seed", "7", "--set", "init_seed=9"); c.DataSeed != 7 || c.InitSeed != 9 {
		t.Fatalf("--set init_seed after --seed: %+v", c)
	}
}

// TestFoolCommand: reluscope fool writes a network of the class that is
// zero on every sample it writes, with the height it reports.
func TestFoolCommand(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := dispatch(context.Background(), []string{"fool", "--preset", "smoke", "--dim", "2", "--out", dir}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	net, err := experiment.LoadNetwork(filepath.Join(dir, "bump.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Height float64   `json:"height"`
		Center []float64 `json:"center"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "fool.json"))
	if err != nil || json.Unmarshal(b, &f) != nil {
		t.Fatalf("fool.json: %v", err)
	}
	if v := net.Eval(f.Center); f.Height <= 0 || math.Abs(v-f.Height) > 1e-12*f.Height {
		t.Fatalf("bump at its centre %v, fool.json says %v", v, f.Height)
	}
	samples, err := os.ReadFile(filepath.Join(dir, "samples.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(samples)), "\n")
	for _, l := range lines {
		var x [2]float64
		if _, err := fmt.Sscanf(l, "%g,%g", &x[0], &x[1]); err != nil {
			t.Fatal(err)
		}
		if v := net.Eval(x[:]); v != 0 {
			t.Fatalf("the bump is %v at sample %v", v, x)
		}
	}
	if !strings.Contains(stdout.String(), fmt.Sprintf("zero on all %d samples", len(lines))) {
		t.Fatalf("output:\n%s", stdout.String())
	}
}

// TestExplorerHonoursEvalFlags: --eval-points, --eval-every and --set
// eval_points reach the explorer; otherwise it chooses (0).
func TestExplorerHonoursEvalFlags(t *testing.T) {
	for _, tc := range []struct {
		args          []string
		points, every int
	}{
		{nil, 0, 0},
		{[]string{"--eval-points", "1000"}, 1000, 0},
		{[]string{"--eval-every", "7"}, 0, 7},
		{[]string{"--set", "eval_points=2048", "--set", "eval_every=3"}, 2048, 3},
		{[]string{"--student-depth", "3", "--coef", "0.7"}, 0, 0},
	} {
		fs := flag.NewFlagSet("explore", flag.ContinueOnError)
		cf := newConfigFlags(fs, "default")
		cfg, err := cf.parse(tc.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg = explorerSettings(cfg, cf.typedKey)
		if cfg.EvalPoints != tc.points || cfg.EvalEvery != tc.every {
			t.Fatalf("%v: eval points %d every %d, want %d every %d", tc.args, cfg.EvalPoints, cfg.EvalEvery, tc.points, tc.every)
		}
	}
}

// TestEveryFlagIsASetKey: each setting's flag is an alias of --set KEY=:
// the same value given either way gives the same config, and a value out
// of range is named as it was typed.
func TestEveryFlagIsASetKey(t *testing.T) {
	get := func(args ...string) (experiment.Config, error) {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		cf := newConfigFlags(fs, "default")
		return cf.parse(args, io.Discard)
	}
	// A valid value of each kind, different from the default.
	vals := map[string]string{"dim": "2", "depth": "4", "teacher_width": "8", "coef": "0.7", "student_depth": "3", "width": "8",
		"samples": "64", "batch": "20%", "epochs": "3", "lr": "0.002", "lr_end": "0.0002", "dtype": "float32", "eval_points": "512",
		"eval_every": "1", "seed": "3", "teacher_seed": "4", "data_seed": "5", "init_seed": "6", "discrete_set": "-1,1",
		"net_eps": "0.2", "backend": "gorgonia", "sup": "sampled", "sup_seconds": "2", "learner": "adam"}
	n := 0
	for _, st := range experiment.Settings {
		if st.Flag == "" {
			continue
		}
		var a, b experiment.Config
		var errA, errB error
		switch st.Kind {
		case experiment.KindBool:
			a, errA = get("--" + st.Flag)
			b, errB = get("--set", st.Key+"="+strconv.FormatBool(!st.Negate))
		default:
			v, ok := vals[st.Key]
			if !ok {
				continue // a file name: refused alike, checked elsewhere
			}
			a, errA = get("--"+st.Flag, v)
			b, errB = get("--set", st.Key+"="+v)
		}
		if errA != nil || errB != nil || a != b {
			t.Fatalf("--%s and --set %s differ: %v / %v\n%+v\n%+v", st.Flag, st.Key, errA, errB, a, b)
		}
		if a == experiment.Default() {
			t.Fatalf("--%s changed nothing", st.Flag)
		}
		n++
		if st.Ranged() {
			_, err := get("--"+st.Flag, "-7")
			if err == nil || !strings.HasPrefix(err.Error(), "--"+st.Flag+": -7 is out of range "+st.Range()) {
				t.Fatalf("--%s -7: %v", st.Flag, err)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d flags checked", n)
	}
}

// TestParseApartFromRunning: a command's arguments become its options
// without running anything.
func TestParseApartFromRunning(t *testing.T) {
	o, err := parseRun([]string{"--preset", "smoke", "--width", "8", "--json", "--out", "d", "--vs-adam=false"}, io.Discard)
	if err != nil || o.cfg.Width != 8 || !o.json || o.out != "d" || o.vsAdam {
		t.Fatalf("parseRun: %+v, %v", o, err)
	}
	if _, err := os.Stat("d"); err == nil {
		t.Fatal("parsing made the output folder")
	}
	r, err := parseReport([]string{"a", "--csv", "t.csv", "b", "--width", "40"}, io.Discard)
	if err != nil || len(r.paths) != 2 || r.csv != "t.csv" || r.width != 40 || r.failedRule != "nan" {
		t.Fatalf("parseReport: %+v, %v", r, err)
	}
	if _, err := parseReport([]string{"--width", "10", "a"}, io.Discard); err == nil {
		t.Fatal("a chart width of 10 was accepted")
	}
	// The usage lists every command of the table, once.
	for _, c := range commands {
		if n := strings.Count(usage(), "reluscope "+strings.TrimSpace(c.name+" "+c.args)+" "); n != 1 {
			t.Fatalf("the usage names %s %d times", c.name, n)
		}
	}
}

// buildLock takes the lock the test packages that build reluscope share
// (a file in the temporary folder; flock), and returns its release.
func buildLock() func() {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "reluscope-test-build.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return func() {}
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
	return func() { f.Close() }
}
