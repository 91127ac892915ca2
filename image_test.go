package main

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStaticImage builds examples/Dockerfile.static's file tree as the
// Dockerfile says (no container engine needed): FROM scratch only, the
// binary built as its header builds it, without an interpreter or a
// shared library; the binary runs a sweep run in an empty environment, and
// — where this process may chroot — inside the tree, where nothing but
// the binary and /results exists.
func TestStaticImage(t *testing.T) {
	t.Parallel() // a build of its own: it waits on the compiler, not on the other tests
	f, err := os.Open("examples/Dockerfile.static")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	root := t.TempDir()
	var froms []string
	var build string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		switch {
		case strings.Contains(line, "CGO_ENABLED=0 go build"):
			build = strings.TrimSpace(line[strings.Index(line, "CGO_ENABLED=0"):])
		case len(fields) == 0:
		case fields[0] == "FROM":
			froms = append(froms, strings.Join(fields[1:], " "))
		case fields[0] == "COPY":
			if len(fields) != 3 || fields[1] != "dist/reluscope" || fields[2] != "/reluscope" {
				t.Fatalf("COPY %v: want dist/reluscope /reluscope", fields[1:])
			}
		case fields[0] == "WORKDIR":
			if err := os.MkdirAll(filepath.Join(root, fields[1]), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(froms) != 1 || froms[0] != "scratch" {
		t.Fatalf("FROM %v: want scratch alone (nothing to pull)", froms)
	}
	// The header's build, as written (-o into the tree instead of dist/).
	if !strings.HasSuffix(build, "-o dist/reluscope .") {
		t.Fatalf("the header's build %q does not write dist/reluscope", build)
	}
	// Built as the header builds it but for -trimpath and -ldflags "-s -w",
	// which strip paths and symbols, not what the binary links: with them
	// every package compiles again (a minute here), without them the
	// build cache serves all but the few that use cgo.
	if !strings.Contains(build, "-trimpath") || !strings.Contains(build, `-ldflags "-s -w"`) {
		t.Fatalf("the header's build %q changed: update this test", build)
	}
	bin := filepath.Join(root, "reluscope")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	e, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	libs, _ := e.ImportedLibraries()
	for _, p := range e.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the image's binary asks for a dynamic loader: it would not start FROM scratch")
		}
	}
	e.Close()
	if len(libs) > 0 {
		t.Fatalf("the image's binary needs %v", libs)
	}
	// No environment at all (no PATH, HOME, TMPDIR), in the image's
	// working folder.
	work := filepath.Join(root, "results")
	run := testCmd(bin, "sweep", "run", "smoke", "--index", "3", "--out", "shards")
	run.Env, run.Dir = []string{"RELUSCOPE_MEM_AVAILABLE=17179869184"}, work
	if out, err := run.CombinedOutput(); err != nil || !strings.Contains(string(out), "run 3 of 8 done") {
		t.Fatalf("the static binary in an empty environment: %v\n%s", err, out)
	}
	// Inside the tree itself, where this process may chroot (root).
	if os.Geteuid() != 0 {
		t.Log("not root: the run inside the tree is left out")
		return
	}
	chroot, err := exec.LookPath("chroot")
	if err != nil {
		t.Log("no chroot here")
		return
	}
	in := testCmd(chroot, root, "/reluscope", "sweep", "run", "smoke", "--index", "5", "--out", "/results/shards")
	in.Env = []string{"RELUSCOPE_MEM_AVAILABLE=17179869184"}
	out, err := in.CombinedOutput()
	if strings.Contains(string(out), "Operation not permitted") {
		t.Logf("chroot refused here: %s", out)
		return
	}
	if err != nil || !strings.Contains(string(out), "run 5 of 8 done") {
		t.Fatalf("the binary inside the image's tree: %v\n%s", err, out)
	}
	if shards, _ := filepath.Glob(filepath.Join(work, "shards", "index-0000005-*.jsonl")); len(shards) != 1 {
		t.Fatalf("the run inside the tree wrote %v", shards)
	}
}
