package experiment

// What messages show: quoting and excerpts of what a user gave, sizes
// in bytes; and the limits on what reluscope reads from files.

import (
	"fmt"

	"github.com/reluscope/reluscope/internal/osutil"
)

// Limits on what reluscope reads from files: a config or preset, a saved
// network, one line of a results file.
const (
	MaxPresetBytes  = 1 << 20
	MaxNetworkBytes = 1 << 30
	MaxRecordBytes  = 64 << 20
)

// Excerpt is s cut to n runes with "…", its control and invisible
// characters escaped (osutil.Excerpt).
func Excerpt(s string, n int) string { return osutil.Excerpt(s, n) }

// Quote is Excerpt(s, 40) in double quotes.
func Quote(s string) string { return osutil.Quote(s) }

// Bytes writes a size in KiB, MiB or GiB.
func Bytes(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
}
