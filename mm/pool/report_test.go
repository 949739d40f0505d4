package pool_test

// The overhead and fragmentation figures on the host. The workload is
// pooltest's, which the kernel also runs on its real pools (mm's
// TestPoolFragmentation), so the two sets of figures compare.

import (
	"testing"

	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pool/pooltest"
)

const (
	fragmentationOps = 1_000_000
	// fragmentationPages per arena holds the workload's live set many
	// times over.
	fragmentationPages = 1 << 15
)

// arenaPools is a System over two fresh arenas of pages each.
func arenaPools(tb testing.TB, pages int) *pool.System {
	np, pg := pool.NewArena(pages), pool.NewArena(pages)
	tb.Cleanup(func() { np.Close(); pg.Close() })
	maxBytes := uintptr(pages) * physmem.PageSize
	s, err := pool.New(pool.Config{NonPaged: np, Paged: pg, MaxNonPagedBytes: maxBytes, MaxPagedBytes: maxBytes})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestFragmentationReport measures overhead and fragmentation after a
// million random operations.
func TestFragmentationReport(t *testing.T) {
	rep := pooltest.RandomWorkload(t, arenaPools(t, fragmentationPages), fragmentationOps)
	if rep.Footprint < rep.Requested {
		t.Fatalf("footprint %d below the bytes requested %d", rep.Footprint, rep.Requested)
	}
	t.Log(rep)
}

// BenchmarkFragmentation reports the same figures as benchmark metrics.
func BenchmarkFragmentation(b *testing.B) {
	var rep pooltest.Report
	for b.Loop() {
		rep = pooltest.RandomWorkload(b, arenaPools(b, fragmentationPages), fragmentationOps)
	}
	b.ReportMetric(rep.OverheadPercent(), "overhead-%")
	b.ReportMetric(rep.FragmentationPercent(), "fragmentation-%")
	b.ReportMetric(float64(rep.Footprint-rep.Requested), "overhead-bytes")
}
