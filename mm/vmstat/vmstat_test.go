package vmstat

import (
	"strings"
	"testing"

	"ntgo/mm/pfn"
	"ntgo/mm/pool"
)

// usageOf is a pool whose every kind has the same usage.
type usageOf pool.Usage

func (u usageOf) Usage(pool.Kind) pool.Usage { return pool.Usage(u) }

func TestWrite(t *testing.T) {
	var stats pfn.Stats
	stats.Frames = 1024
	stats.ByState[pfn.StateReserved] = 24
	stats.ByState[pfn.StateFree] = 900
	r := Report{PFN: stats, Counters: Counters{CommittedPages: 50}}
	var b strings.Builder
	r.Write(&b)
	out := b.String()
	wantRows(t, out,
		"Physical memory:       1000 pages (4000 KiB)\n",
		"Available pages:        900 (3600 KiB)\n",
		"  Reserved:              24\n",
		"Commit charge:           50 pages (200 KiB), limit 1000 pages",
		"PFN database:          1024 entries x 32 bytes = 32 KiB")
	if strings.Contains(out, "System PTEs") || strings.Contains(out, "Pool pages") {
		t.Errorf("!vm without system PTEs or pools shows them:\n%s", out)
	}

	r.SystemPtesFree, r.SystemPtesTotal = 7, 8
	r.Pools = NewPools(usageOf{Pages: 2, Allocated: 300}, PoolPages{InUse: 3, Max: 10}, PoolPages{InUse: 1, Max: 10})
	b.Reset()
	r.Write(&b)
	wantRows(t, b.String(),
		"System PTEs:              7 free of 8\n",
		"Paged:                  2 pages +      0 big pages:        300 bytes allocated",
		"Pool pages:        non-paged 3 of 10, paged 1 of 10\n")
}

// wantRows checks that out holds every row.
func wantRows(t *testing.T, out string, rows ...string) {
	t.Helper()
	for _, row := range rows {
		if !strings.Contains(out, row) {
			t.Errorf("!vm lacks %q:\n%s", row, out)
		}
	}
}
