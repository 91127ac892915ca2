package experiment

// Job is one run of a sweep.
type Job struct {
	Index  int
	Config Config
	// Variant is the grid's (Record.Variant), "" outside a sweep.
	Variant string
}

// Grid is a sweep's runs, built one at a time by index (presets.Grid): a
// grid of millions of runs is walked, never listed.
type Grid interface {
	Len() int
	Job(i int) (Job, error)
}
