package results

import (
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/internal/osutil"
)

// A results folder, as reluscope writes it:
//
//	results.jsonl               records appended one JSON line each by a local sweep
//	index-NNNNNNN-HASH.jsonl    one record each, written atomically by sweep run --index N
//	                            (HASH: the first 12 digits of the run's config hash, so
//	                            that variants of a grid in one folder never overwrite)
//	index-NNNNNNN-HASH.state    a run stopped part-way (SIGTERM, a time limit): its
//	                            state, from which the next attempt goes on
//	results.lock                held by the sweep that appends (names its process)
//
// Any *.jsonl below it (nested folders too) is read back as records; the
// explorer's saves write results.jsonl the same way.
const (
	ResultsFile = "results.jsonl"
	LockFile    = "results.lock"
)

// ShardName is the file run i of config hash writes in a results folder.
func ShardName(i int, hash string) string {
	return fmt.Sprintf("index-%07d-%s.jsonl", i, shortHash(hash))
}

// StateName is the file of run i's saved state (experiment.RunState).
func StateName(i int, hash string) string {
	return fmt.Sprintf("index-%07d-%s.state", i, shortHash(hash))
}

func shortHash(h string) string { return h[:min(12, len(h))] }

// ResultsDir owns one results folder: it makes it, locks it for a sweep
// that appends, repairs a torn last line, reads what is finished, and
// appends records or writes shards.
type ResultsDir struct {
	Path    string
	release func()
}

// OpenResults makes the folder path if needed; nothing is locked (shards of
// many processes may share the folder).
func OpenResults(path string) (*ResultsDir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, err
	}
	return &ResultsDir{Path: path}, nil
}

// LockResults opens path for one process that appends to its results
// file: an exclusive lock (a second sweep on the folder is refused naming
// the first) and a repaired last line. Close releases it.
func LockResults(path string) (*ResultsDir, error) {
	d, err := OpenResults(path)
	if err != nil {
		return nil, err
	}
	if d.release, err = osutil.LockDir(path, filepath.Join(path, LockFile)); err != nil {
		return nil, err
	}
	if err := RepairTail(d.File()); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close releases the folder's lock, if held.
func (d *ResultsDir) Close() {
	if d.release != nil {
		d.release()
		d.release = nil
	}
}

// File is the folder's results file.
func (d *ResultsDir) File() string { return filepath.Join(d.Path, ResultsFile) }

// ShardPath is the file of job j's shard.
func (d *ResultsDir) ShardPath(j experiment.Job) string {
	return filepath.Join(d.Path, ShardName(j.Index, experiment.ConfigHash(j.Config)))
}

// LockRun takes job j for this process (sweep run --index): a second
// process on the same run of the same folder — a Slurm requeue while the
// first still runs, an evicted pod not yet gone — is refused naming the
// holder. The lock file goes when released.
func (d *ResultsDir) LockRun(j experiment.Job) (release func(), err error) {
	path := filepath.Join(d.Path, fmt.Sprintf("index-%07d-%s.lock", j.Index, shortHash(experiment.ConfigHash(j.Config))))
	return osutil.LockFile(path, fmt.Sprintf("run %d in %s is in progress in another process", j.Index, d.Path), true)
}

// StatePath is the file of job j's saved state while it is part-way.
func (d *ResultsDir) StatePath(j experiment.Job) string {
	return filepath.Join(d.Path, StateName(j.Index, experiment.ConfigHash(j.Config)))
}

// Records are every record in the folder (the results file, the shards,
// nested folders).
func (d *ResultsDir) Records() ([]Record, error) { return ReadResults(d.Path) }

// Pending are the indices of the jobs (the n runs of a grid, in index
// order) with no record in the folder yet (and, unless retryFailed, no
// failed one), and how many runs failed before. A folder without records
// has every index pending: its jobs are not built or hashed (a new grid of
// 10⁷ runs starts at once).
func (d *ResultsDir) Pending(n int, jobs iter.Seq[experiment.Job], retryFailed bool) (todo Indices, failed int, err error) {
	done, err := d.Records()
	if err != nil {
		return Indices{}, 0, err
	}
	if len(done) == 0 {
		for i := range n {
			todo.Add(i)
		}
		return todo, 0, nil
	}
	todo, failed = Pending(jobs, done, retryFailed)
	return todo, failed, nil
}

// Append adds r to the results file with one write.
func (d *ResultsDir) Append(r Record) error { return AppendRecord(d.File(), r) }

// Shard is job j's finished shard record, or nil when it has none (or one
// of another config).
func (d *ResultsDir) Shard(j experiment.Job) *Record {
	old, err := ReadRecords(d.ShardPath(j))
	if err != nil || len(old) != 1 || old[0].Hash != experiment.ConfigHash(j.Config) {
		return nil
	}
	return &old[0]
}

// WriteShard writes job j's record as its shard, atomically.
func (d *ResultsDir) WriteShard(j experiment.Job, r Record) error {
	return WriteRecordsAtomic(d.ShardPath(j), []Record{r})
}

// WriteAll writes recs as the folder's results file, atomically.
func (d *ResultsDir) WriteAll(recs []Record) error { return WriteRecordsAtomic(d.File(), recs) }

// MergeResults reads records from files and folders and keeps one of each
// run (Merge): the merged records, how many were read, and how many runs
// had copies that disagree. Finished copies of a run whose numbers differ
// are an error: nothing is merged.
func MergeResults(paths ...string) (merged []Record, read, conflicts int, err error) {
	recs, err := ReadResults(paths...)
	if err != nil {
		return nil, 0, 0, err
	}
	merged, conflicts = Merge(recs)
	// Two finished copies of one run with different numbers: which is
	// right cannot be told from here, so nothing is merged.
	first := map[string]Record{}
	var clash []int
	for _, r := range recs {
		if r.Error != "" {
			continue
		}
		if f, ok := first[r.Hash]; !ok {
			first[r.Hash] = r
		} else if !sameResult(f, r) {
			clash = append(clash, r.Index)
		}
	}
	if len(clash) > 0 {
		slices.Sort(clash)
		clash = slices.Compact(clash)
		return nil, len(recs), conflicts, fmt.Errorf("runs %s have finished copies with different numbers (another machine or engine, or an edited file?): nothing merged; keep one copy of each", ArraySpec(clash))
	}
	return merged, len(recs), conflicts, nil
}
