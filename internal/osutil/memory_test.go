package osutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTree writes files (path → contents) under a new folder.
func fakeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// least is the smallest bound of bs read from files (the process's own
// rlimits and GOMEMLIMIT, which the fake trees do not hold, left out).
func least(bs []memBound) memBound {
	best := memBound{}
	for _, b := range bs {
		if strings.HasPrefix(b.name, "RLIMIT") || b.name == "GOMEMLIMIT" {
			continue
		}
		if best.bytes == 0 || b.bytes < best.bytes {
			best = b
		}
	}
	return best
}

// TestMemBoundsFromCgroups: the guard reads the memory cgroup of the
// process — v2 (memory.max − memory.current), v1 (limit_in_bytes −
// usage_in_bytes), the hybrid layout's v2 tree — at every level up to the
// root, skips "max" and v1's unlimited value, and takes the least with
// MemAvailable.
func TestMemBoundsFromCgroups(t *testing.T) {
	const gib = 1 << 30
	meminfo := "MemTotal:       25165824 kB\nMemAvailable:   16777216 kB\n" // 16 GiB
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  memBound
	}{
		{"v2 job cgroup", map[string]string{
			"proc/meminfo":                             meminfo,
			"proc/self/cgroup":                         "0::/slurm/job_7/step_0\n",
			"cg/slurm/job_7/memory.max":                "4294967296\n", // 4 GiB
			"cg/slurm/job_7/memory.current":            "1073741824\n", // 1 GiB used
			"cg/slurm/job_7/step_0/memory.max":         "max\n",
			"cg/slurm/job_7/step_0/memory.current":     "1000\n",
			"cg/slurm/memory.max":                      "8589934592\n",
			"cg/slurm/memory.current":                  "0\n",
			"cg/memory.max":                            "max\n",
			"cg/slurm/job_7/step_0/cgroup.controllers": "memory\n",
		}, memBound{"memory.max of the cgroup /slurm/job_7", 3 * gib}},
		{"v1 pod cgroup", map[string]string{
			"proc/meminfo":     meminfo,
			"proc/self/cgroup": "12:pids:/kubepods/pod1\n4:memory:/kubepods/pod1\n1:name=systemd:/\n",
			"cg/memory/kubepods/pod1/memory.limit_in_bytes": "2147483648\n", // 2 GiB
			"cg/memory/kubepods/pod1/memory.usage_in_bytes": "536870912\n",  // 0.5 GiB
			"cg/memory/kubepods/memory.limit_in_bytes":      "9223372036854771712\n",
			"cg/memory/memory.limit_in_bytes":               "9223372036854771712\n",
		}, memBound{"memory.limit_in_bytes of the cgroup /kubepods/pod1", 3 * gib / 2}},
		{"hybrid layout, v2 limit", map[string]string{
			"proc/meminfo":                         meminfo,
			"proc/self/cgroup":                     "4:memory:/\n0::/user.slice\n",
			"cg/unified/cgroup.controllers":        "memory\n",
			"cg/unified/user.slice/memory.max":     "1073741824\n",
			"cg/unified/user.slice/memory.current": "0\n",
			"cg/memory/memory.limit_in_bytes":      "9223372036854771712\n",
		}, memBound{"memory.max of the cgroup /user.slice", gib}},
		{"a cgroup over its limit", map[string]string{
			"proc/meminfo":        meminfo,
			"proc/self/cgroup":    "0::/a\n",
			"cg/a/memory.max":     "1000\n",
			"cg/a/memory.current": "5000\n",
		}, memBound{"memory.max of the cgroup /a", 1}},
		{"no cgroup limit", map[string]string{
			"proc/meminfo":     meminfo,
			"proc/self/cgroup": "0::/\n",
			"cg/memory.max":    "max\n",
		}, memBound{"MemAvailable", 16 * gib}},
		{"nothing readable", map[string]string{}, memBound{}},
	} {
		root := fakeTree(t, tc.files)
		got := least(memBounds(filepath.Join(root, "proc"), filepath.Join(root, "cg")))
		if got != tc.want {
			t.Errorf("%s: the least bound %+v, want %+v (all: %+v)", tc.name, got, tc.want, memBounds(filepath.Join(root, "proc"), filepath.Join(root, "cg")))
		}
	}
}
