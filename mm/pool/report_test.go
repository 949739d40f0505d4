package pool

import (
	"math/rand/v2"
	"testing"
)

// fragReport describes the pool after a random workload.
type fragReport struct {
	ops                    int
	live                   int
	requested              uintptr // bytes the live allocations asked for
	footprint              uintptr // bytes of pages the pools hold for them
	cached                 uintptr // bytes parked in caches before the flush
	smallPageBytes, inFree uintptr // small-block pages, and the free blocks inside them
}

func (r fragReport) overheadPercent() float64 {
	return 100 * float64(r.footprint-r.requested) / float64(r.footprint)
}

func (r fragReport) fragmentationPercent() float64 {
	return 100 * float64(r.inFree) / float64(r.smallPageBytes)
}

// fragmentationWorkload runs ops random allocations and frees (sizes mostly
// small, some big, all three pools, about liveTarget blocks live) and
// measures the result with the caches flushed.
func fragmentationWorkload(tb testing.TB, ops int) fragReport {
	const liveTarget = 8000
	tp := newTestPool(tb, poolOpts{pages: 1 << 15})
	r := rand.New(rand.NewPCG(42, 4242))
	type live struct{ va, n uintptr }
	var blocks []live
	types := [...]PoolType{NonPagedPool, NonPagedPoolExecute, PagedPool}
	for range ops {
		if len(blocks) == 0 || r.IntN(2*liveTarget) >= len(blocks) {
			var n uintptr
			switch p := r.IntN(100); {
			case p < 70:
				n = uintptr(r.IntN(256)) + 1
			case p < 90:
				n = uintptr(r.IntN(MaxSmallRequest-256)) + 257
			case p < 98:
				n = uintptr(r.IntN(16<<10-MaxSmallRequest)) + MaxSmallRequest + 1
			default:
				n = uintptr(r.IntN(48<<10)) + 16<<10
			}
			blocks = append(blocks, live{tp.alloc(tb, types[r.IntN(len(types))], n, tagTest), n})
			continue
		}
		i := r.IntN(len(blocks))
		tp.Free(blocks[i].va, tagTest)
		blocks[i] = blocks[len(blocks)-1]
		blocks = blocks[:len(blocks)-1]
	}
	rep := fragReport{ops: ops, live: len(blocks)}
	for _, bl := range blocks {
		rep.requested += bl.n
	}
	for k := range NumKinds {
		rep.cached += tp.Usage(k).Cached
	}
	tp.Flush()
	for k := range NumKinds {
		u := tp.Usage(k)
		rep.footprint += uintptr(u.Pages+u.BigPages) * pageSize
		rep.smallPageBytes += uintptr(u.Pages) * pageSize
		rep.inFree += u.Free
	}
	for _, bl := range blocks {
		tp.Free(bl.va, tagTest)
	}
	tp.idle(tb)
	return rep
}

// TestFragmentationReport measures overhead and fragmentation after a
// million random operations.
func TestFragmentationReport(t *testing.T) {
	rep := fragmentationWorkload(t, 1_000_000)
	if rep.footprint < rep.requested {
		t.Fatalf("footprint %d below the bytes requested %d", rep.footprint, rep.requested)
	}
	t.Logf("after %d ops: %d live blocks, %d bytes requested, %d bytes of pages held (overhead %.1f%%), "+
		"%d bytes free inside %d bytes of small-block pages (fragmentation %.1f%%), %d bytes were cached",
		rep.ops, rep.live, rep.requested, rep.footprint, rep.overheadPercent(),
		rep.inFree, rep.smallPageBytes, rep.fragmentationPercent(), rep.cached)
}

// BenchmarkFragmentation reports the same figures as benchmark metrics.
func BenchmarkFragmentation(b *testing.B) {
	var rep fragReport
	for b.Loop() {
		rep = fragmentationWorkload(b, 1_000_000)
	}
	b.ReportMetric(rep.overheadPercent(), "overhead-%")
	b.ReportMetric(rep.fragmentationPercent(), "fragmentation-%")
	b.ReportMetric(float64(rep.footprint-rep.requested), "overhead-bytes")
}
