package experiment

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Record is one finished run of a sweep, one JSON line of a results file.
type Record struct {
	Hash     string       `json:"hash"`  // ConfigHash(Config)
	Index    int          `json:"index"` // position in the sweep's grid
	Preset   string       `json:"preset,omitempty"`
	Config   Config       `json:"config"`
	History  []Checkpoint `json:"history"`
	Steps    int64        `json:"steps"`
	Seconds  float64      `json:"seconds"`
	Finished time.Time    `json:"finished"`
	Error    string       `json:"error,omitempty"`
}

// ConfigHash identifies a run by its complete configuration: the first 16
// hex digits of the SHA-256 of its JSON.
func ConfigHash(c Config) string {
	b, _ := json.Marshal(c)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// AppendRecord appends r as one JSON line to path with a single write and
// an fsync, after cutting off a torn last line left by a crash.
func AppendRecord(path string, r Record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	if err := RepairTail(path); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	return writeSyncClose(f, line)
}

// RepairTail truncates path after its last newline, dropping a line a
// killed process left half-written. A missing file is fine.
func RepairTail(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	// Find the last newline, reading backwards in blocks.
	size := st.Size()
	buf := make([]byte, 64<<10)
	end := size
	for end > 0 {
		start := max(0, end-int64(len(buf)))
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && err != io.EOF {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			keep := start + int64(i) + 1
			if keep == size {
				return nil
			}
			return f.Truncate(keep)
		}
		end = start
	}
	return f.Truncate(0)
}

// ReadRecords reads every complete record of path (a torn last line is
// skipped); a missing file has none.
func ReadRecords(path string) ([]Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	rd := bufio.NewReaderSize(f, 1<<20)
	for ln := 1; ; ln++ {
		line, err := rd.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			var r Record
			if jerr := json.Unmarshal(line, &r); jerr != nil {
				return out, fmt.Errorf("%s:%d: %v", path, ln, jerr)
			}
			out = append(out, r)
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// ReadResults reads records from files and from every *.jsonl file in
// directories, in sorted order.
func ReadResults(paths ...string) ([]Record, error) {
	var out []Record
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		files := []string{p}
		if st.IsDir() {
			files, _ = filepath.Glob(filepath.Join(p, "*.jsonl"))
			sort.Strings(files)
		}
		for _, f := range files {
			rs, err := ReadRecords(f)
			if err != nil {
				return nil, err
			}
			out = append(out, rs...)
		}
	}
	return out, nil
}

// Dedup keeps the first record of each hash, in order.
func Dedup(rs []Record) []Record {
	seen := map[string]bool{}
	var out []Record
	for _, r := range rs {
		if !seen[r.Hash] {
			seen[r.Hash] = true
			out = append(out, r)
		}
	}
	return out
}

// Job is one run of a sweep.
type Job struct {
	Index  int
	Config Config
}

// RunJob runs one job to a record; a failed run (divergence, say) is a
// record with Error set, a cancelled one returns ctx's error.
func RunJob(ctx context.Context, j Job, preset string, threads int) (Record, error) {
	t0 := time.Now()
	res, err := Run(ctx, j.Config, Options{Threads: threads}, func(Event) error { return nil })
	if err != nil && ctx.Err() != nil {
		return Record{}, ctx.Err()
	}
	rec := Record{Hash: ConfigHash(j.Config), Index: j.Index, Preset: preset, Config: j.Config,
		Seconds: time.Since(t0).Seconds(), Finished: time.Now().UTC()}
	if res != nil {
		rec.History, rec.Steps = res.History, res.Steps
	}
	if err != nil {
		rec.Error = err.Error()
	}
	return rec, nil
}

// RunPool runs jobs on workers goroutines, each computing on its share of
// the cores, and calls done (serialized) with each record as it finishes. It stops early when ctx ends or done fails,
// returning that error; every goroutine has ended when it returns.
func RunPool(ctx context.Context, jobs []Job, workers int, preset string, done func(Record) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers = max(1, min(workers, len(jobs)))
	threads := max(1, runtime.GOMAXPROCS(0)/workers)
	feed := make(chan Job)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range feed {
				rec, err := RunJob(ctx, j, preset, threads)
				if err != nil {
					fail(err)
					return
				}
				mu.Lock()
				err = done(rec)
				mu.Unlock()
				if err != nil {
					fail(err)
					return
				}
			}
		}()
	}
send:
	for _, j := range jobs {
		select {
		case feed <- j:
		case <-ctx.Done():
			break send
		}
	}
	close(feed)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// Pending drops the jobs whose config hash is already in done.
func Pending(jobs []Job, done []Record) []Job {
	have := map[string]bool{}
	for _, r := range done {
		have[r.Hash] = true
	}
	var out []Job
	for _, j := range jobs {
		if !have[ConfigHash(j.Config)] {
			out = append(out, j)
		}
	}
	return out
}

// ShardName is the file a single-index run writes in a shard folder.
func ShardName(i int) string { return fmt.Sprintf("index-%07d.jsonl", i) }

// WriteRecordsAtomic writes records as JSON lines to path atomically.
func WriteRecordsAtomic(path string, rs []Record) error {
	var b strings.Builder
	for _, r := range rs {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return WriteFileAtomic(path, []byte(b.String()))
}
