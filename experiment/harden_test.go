package experiment

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/reluscope/reluscope/internal/osutil"
)

// TestLoadNetworkRefusesOverflowingSizes: sizes whose product overflows
// are refused, not handed to an engine.
func TestLoadNetworkRefusesOverflowingSizes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "n.json")
	os.WriteFile(p, []byte(`{"format":"`+NetworkFormat+`","activation":"relu","sizes":[4611686018427387904,4,1],"input_scale":1,"w":[[],[]],"b":[[],[]]}`), 0o644)
	if _, err := LoadNetwork(p); err == nil || !strings.Contains(err.Error(), "must be in [1, 16777216]") {
		t.Fatalf("err %v", err)
	}
	if _, err := LoadNetwork("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("/dev/zero: %v", err)
	}
}

// TestFileModes: everything written atomically is 0644 less the osutil.Umask.
func TestFileModes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := osutil.WriteFileAtomic(p, []byte("x")); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if want := os.FileMode(0o644 &^ osutil.Umask); st.Mode().Perm() != want {
		t.Fatalf("mode %v, want %v", st.Mode().Perm(), want)
	}
}

// TestInterruptedRunIsConsistent: a run cancelled between checkpoints
// says so, and its student is the one of its last checkpoint.
func TestInterruptedRunIsConsistent(t *testing.T) {
	cfg := small()
	cfg.Epochs, cfg.EvalEvery = 50, 10
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snap := map[int][]float64{} // the student sent with each checkpoint
	res, err := Run(ctx, cfg, Options{Interval: time.Nanosecond}, func(ev Event) error {
		if n := len(ev.Checkpoints); n > 0 && ev.Student != nil {
			snap[ev.Checkpoints[n-1].Epoch] = ev.Student.Flatten(nil)
		}
		if ev.Epoch >= 13 {
			cancel() // between the checkpoints at epochs 10 and 20
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	k := res.History[len(res.History)-1].Epoch
	if k != 10 || !strings.HasPrefix(res.Error, "interrupted in epoch") || !strings.Contains(res.Error, "last checkpoint (epoch 10)") {
		t.Fatalf("last checkpoint %d, error %q", k, res.Error)
	}
	// The saved student is the one evaluated at epoch 10.
	if !reflect.DeepEqual(res.Student.Flatten(nil), snap[10]) || len(snap[10]) == 0 {
		t.Fatal("the interrupted run's student is not the one of its last checkpoint")
	}
}

// TestExcerptEscapes: what a message quotes is short and carries no control
// character: an escape sequence is written out, not sent to the terminal;
// a huge value is read only as far as the excerpt.
func TestExcerptEscapes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", "abc"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"x\ny", `x\ny`},
		{"bad\xffbyte", `bad\xffbyte`},
		{"ñandú", "ñandú"},
		{strings.Repeat("é", 50), strings.Repeat("é", 10) + "…"},
	} {
		if got := Excerpt(tc.in, 10); got != tc.want {
			t.Errorf("Excerpt(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	huge := strings.Repeat("z", 100<<20)
	if got := Quote(huge); len(got) > 50 || !strings.HasSuffix(got, `…"`) {
		t.Fatalf("a 100 MB value is quoted as %d bytes", len(got))
	}
}
