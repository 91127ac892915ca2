package results

import (
	"fmt"
	"iter"
	"os"
	"strings"

	"github.com/reluscope/reluscope/experiment"
)

// GridStatus is where a grid's runs stand in a results folder: each index
// finished (a record without an error), failed (only failed records), in
// progress (a saved state: stopped part-way, or running now) or missing.
// ToRun is the missing and in-progress ones together (what to submit).
type GridStatus struct {
	Runs                                         int
	Finished, Failed, InProgress, Missing, ToRun Indices
	// Others are the records in the folder of other variants of the
	// grid's preset (another --set): never counted above.
	Others []VariantRecords
}

// VariantRecords counts the records of one variant of a preset, with the
// first of them.
type VariantRecords struct {
	Variant string
	Records int
	First   Record
}

// Status reads the records and states under dir and walks jobs, the runs
// of variant variant of preset preset (records match a run by its config
// hash, states by index and hash). A run whose config no record has and
// with no state at its index is missing without being hashed.
func Status(dir, preset, variant string, jobs iter.Seq[experiment.Job]) (GridStatus, error) {
	var recs []Record
	states := map[string]bool{}
	stateAt := map[int]bool{} // the indices with a state file
	if _, err := os.Stat(dir); err == nil {
		if recs, err = ReadResults(dir); err != nil {
			return GridStatus{}, err
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return GridStatus{}, err
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "index-") && strings.HasSuffix(e.Name(), ".state") {
				states[e.Name()] = true
				var i int
				if _, err := fmt.Sscanf(e.Name(), "index-%d-", &i); err == nil {
					stateAt[i] = true
				}
			}
		}
	} else if !os.IsNotExist(err) {
		return GridStatus{}, err
	}
	rs := recordSets(recs)
	var st GridStatus
	at := map[string]int{}
	for _, r := range recs {
		if r.Preset != preset || r.Variant == variant || r.Variant == "" {
			continue
		}
		k, seen := at[r.Variant]
		if !seen {
			k = len(st.Others)
			at[r.Variant] = k
			st.Others = append(st.Others, VariantRecords{Variant: r.Variant, First: r})
		}
		st.Others[k].Records++
	}
	for j := range jobs {
		st.Runs++
		if !rs.configs[j.Config] && !stateAt[j.Index] {
			// No record of its config, no state at its index: missing,
			// without hashing it.
			st.Missing.Add(j.Index)
			st.ToRun.Add(j.Index)
			continue
		}
		h := experiment.ConfigHash(j.Config)
		switch {
		case rs.finished[h]:
			st.Finished.Add(j.Index)
		case states[StateName(j.Index, h)]:
			st.InProgress.Add(j.Index)
			st.ToRun.Add(j.Index)
		case rs.tried[h]:
			st.Failed.Add(j.Index)
		default:
			st.Missing.Add(j.Index)
			st.ToRun.Add(j.Index)
		}
	}
	return st, nil
}
