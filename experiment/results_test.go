package experiment

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestResultsDir: the folder type writes the layout it documents and reads
// it back: appended records and shards are finished, the rest pending; a
// torn last line is repaired on locking; a second lock is refused; merge
// counts copies that disagree.
func TestResultsDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sweep")
	d, err := LockResults(path)
	if err != nil {
		t.Fatal(err)
	}
	jobs := make([]Job, 3)
	for i := range jobs {
		c := Default()
		c.InitSeed = uint64(i + 1)
		jobs[i] = Job{Index: i, Config: c}
	}
	rec := func(j Job, e string) Record {
		return Record{Hash: ConfigHash(j.Config), Index: j.Index, Config: j.Config, Error: e}
	}
	if err := d.Append(rec(jobs[0], "")); err != nil {
		t.Fatal(err)
	}
	if _, err := LockResults(path); err == nil || !strings.Contains(err.Error(), "in use by another sweep") {
		t.Fatalf("a second lock: %v", err)
	}
	if err := d.WriteShard(jobs[2], rec(jobs[2], "")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(path, "index-0000002-"+ConfigHash(jobs[2].Config)[:12]+".jsonl")); err != nil {
		t.Fatalf("the shard is not where the layout says: %v", err)
	}
	if d.Shard(jobs[2]) == nil || d.Shard(jobs[1]) != nil {
		t.Fatal("Shard does not tell the finished run from the missing one")
	}
	other := jobs[2]
	other.Config.Width++
	if d.Shard(other) != nil {
		t.Fatal("a shard of another config counted as finished")
	}
	// A variant of the grid in the same folder writes its own shard: the
	// first stays.
	if err := d.WriteShard(other, rec(other, "")); err != nil {
		t.Fatal(err)
	}
	if d.Shard(jobs[2]) == nil || d.Shard(other) == nil {
		t.Fatal("a variant's shard overwrote the run's")
	}
	os.Remove(d.ShardPath(other))
	todo, _, err := d.Pending(slices.Values(jobs), false)
	if err != nil || todo.Spec() != "1" {
		t.Fatalf("pending %s (%v), want run 1 only", todo.Spec(), err)
	}
	d.Close()
	// A torn line (a killed writer) is cut off when the folder is locked
	// again; the records before it stay.
	f, _ := os.OpenFile(filepath.Join(path, ResultsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"hash":"abc","ind`)
	f.Close()
	d, err = LockResults(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	recs, err := d.Records()
	if err != nil || len(recs) != 2 {
		t.Fatalf("%d records after the repair (%v), want 2", len(recs), err)
	}
	if err := d.Append(rec(jobs[0], "diverged")); err != nil {
		t.Fatal(err)
	}
	merged, read, conflicts, err := MergeResults(path)
	if err != nil || len(merged) != 2 || read != 3 || conflicts != 1 || merged[0].Error != "" {
		t.Fatalf("merge: %d of %d records, %d conflicts, first error %q (%v); want 2 of 3, 1, the finished copy", len(merged), read, conflicts, merged[0].Error, err)
	}
}
