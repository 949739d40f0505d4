package mm_test

// Stress runs on the kernel's real executive pools, through the API drivers
// use (ExAllocatePool2, ExFreePoolWithTag): pool pages backed by PFN-database
// frames, mapped in NT's pool regions, demand-zero for paged pool. Each run
// frees all it allocates and then finds the pools exactly where they
// started (pooltest.CheckBack: page counts, bytes, a walk of every page).

import (
	"testing"
	"unsafe"

	"ntgo/mm"
	"ntgo/mm/ex"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pool/pooltest"
)

var tagStress = pool.MakeTag("MmSt")

const (
	stressSmallAllocations = 100_000
	stressSmallBytes       = 42
	stressNonPagedMax      = 100 << 10
	stressPagedMax         = 500 << 10
	fragmentationOps       = 1_000_000
)

// allocatePool is ExAllocatePool2 of uninitialized memory, failing t if the
// pool refuses.
func allocatePool(t *testing.T, flags ex.PoolFlags, n uintptr) unsafe.Pointer {
	t.Helper()
	p := ex.AllocatePool2(flags|ex.PoolFlagUninitialized, n, tagStress)
	if p == nil {
		t.Fatalf("ExAllocatePool2(%#x, %d) failed", flags, n)
	}
	return p
}

func bytesAt(p unsafe.Pointer, n uintptr) []byte { return unsafe.Slice((*byte)(p), n) }

// pattern is the byte fill writes at offset i, and filled checks: it
// differs between neighbouring offsets and shifts with the seed.
func pattern(i int, seed uintptr) byte { return byte(uintptr(i) + seed) }

func fill(b []byte, seed uintptr) {
	for i := range b {
		b[i] = pattern(i, seed)
	}
}

func filled(b []byte, seed uintptr) bool {
	for i := range b {
		if b[i] != pattern(i, seed) {
			return false
		}
	}
	return true
}

// tagOutstanding is the live allocations and bytes under tagStress.
func tagOutstanding() (allocations, bytes int64) {
	st, _ := ex.Pools().PoolUsed(tagStress)
	return st.Outstanding(), st.Bytes()
}

// 100 000 allocations of 42 bytes, each numbered, then checked and freed.
func TestPoolStress42Bytes(t *testing.T) {
	requireBare(t)
	start := pooltest.Flushed(ex.Pools())
	blocks := make([]unsafe.Pointer, stressSmallAllocations)
	for i := range blocks {
		blocks[i] = allocatePool(t, ex.PoolFlagNonPaged, stressSmallBytes)
		*(*int)(blocks[i]) = i
	}
	charge := int64(pool.ChargeSize(pool.NonPagedPoolNx, stressSmallBytes))
	if n, bytes := tagOutstanding(); n != stressSmallAllocations || bytes != stressSmallAllocations*charge {
		t.Errorf("tag counts %d allocations, %d bytes; want %d, %d", n, bytes, stressSmallAllocations, stressSmallAllocations*charge)
	}
	for i, p := range blocks {
		if *(*int)(p) != i {
			t.Fatalf("block %d at %p overwritten", i, p)
		}
		ex.FreePoolWithTag(p, tagStress)
	}
	if n, bytes := tagOutstanding(); n != 0 || bytes != 0 {
		t.Errorf("after the frees the tag counts %d allocations, %d bytes", n, bytes)
	}
	pooltest.CheckBack(t, ex.Pools(), start)
}

// Sizes rising irregularly to 100 KiB non-paged and 500 KiB paged, each
// filled, checked and freed, beside a small neighbour that must survive.
func TestPoolStressRisingSizes(t *testing.T) {
	requireBare(t)
	start := pooltest.Flushed(ex.Pools())
	for _, c := range []struct {
		flags ex.PoolFlags
		max   uintptr
	}{{ex.PoolFlagNonPaged, stressNonPagedMax}, {ex.PoolFlagNonPagedExecute, stressNonPagedMax}, {ex.PoolFlagPaged, stressPagedMax}} {
		neighbour := bytesAt(allocatePool(t, c.flags, stressSmallBytes), stressSmallBytes)
		fill(neighbour, stressSmallBytes)
		for n := uintptr(1); n <= c.max; n += n/5 + 7 + n%13 {
			p := allocatePool(t, c.flags, n)
			fill(bytesAt(p, n), n)
			if !filled(bytesAt(p, n), n) || !filled(neighbour, stressSmallBytes) {
				t.Fatalf("flags %#x, %d bytes at %p: contents lost", c.flags, n, p)
			}
			ex.FreePoolWithTag(p, tagStress)
		}
		ex.FreePoolWithTag(unsafe.Pointer(&neighbour[0]), tagStress)
	}
	pooltest.CheckBack(t, ex.Pools(), start)
}

// PAGE_SIZE allocations until the pool refuses, each page written, then
// all checked and freed. The refusal must be the pool's own limit (the
// normal-priority ceiling below its maximum, which a high-priority request
// may still pass), not the machine running out of frames.
func TestPoolStressPageSizeUntilRefused(t *testing.T) {
	requireBare(t)
	for _, c := range []struct {
		flags ex.PoolFlags
		typ   pool.PoolType
	}{{ex.PoolFlagNonPaged, pool.NonPagedPoolNx}, {ex.PoolFlagPaged, pool.PagedPool}} {
		kind := pool.KindOf(c.typ)
		start := pooltest.Flushed(ex.Pools())
		var pages []unsafe.Pointer
		for {
			p := ex.AllocatePool2(c.flags|ex.PoolFlagUninitialized, page, tagStress)
			if p == nil {
				break
			}
			*(*int)(p) = len(pages)
			pages = append(pages, p)
		}
		refusedAt := ex.Pools().Stats(kind)
		reserve := ex.AllocatePoolWithTagPriority(c.typ, page, tagStress, pool.HighPoolPriority)
		if reserve == nil {
			t.Errorf("%v: refused after %d pages, and a high-priority page too: %+v, %d frames available",
				kind, len(pages), refusedAt, mm.PFN.Stats().Available())
		} else {
			ex.FreePoolWithTag(reserve, tagStress)
		}
		t.Logf("%v: %d pages (%d MiB) before refusal; the region holds %d of at most %d pages",
			kind, len(pages), len(pages)*physmem.PageSize>>20, refusedAt.RegionPages, refusedAt.RegionMaxPages)
		for i, p := range pages {
			if *(*int)(p) != i {
				t.Fatalf("page %d at %p overwritten", i, p)
			}
			ex.FreePoolWithTag(p, tagStress)
		}
		pooltest.CheckBack(t, ex.Pools(), start)
	}
}

// A million random allocations and frees (pooltest's workload, which the
// host runs over arenas too): the overhead and fragmentation figures of the
// kernel's pools. Run with -v for the figures. They differ a little from
// the host's, and from run to run: the kernel retunes its lookaside depths
// every second, which changes what the lists keep and so which blocks are
// reused.
func TestPoolFragmentation(t *testing.T) {
	requireBare(t)
	t.Log(pooltest.RandomWorkload(t, ex.Pools(), fragmentationOps))
}
