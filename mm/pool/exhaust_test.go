package pool

import (
	"testing"

	"ntgo/nt/ntstatus"
)

// allocUntilRefused allocates n-byte blocks of type pt at prio until the
// pool refuses one.
func allocUntilRefused(tp *testPool, pt PoolType, n uintptr, prio Priority) []uintptr {
	var vas []uintptr
	for {
		va := tp.Allocate(pt, n, tagTest, prio, 0)
		if va == 0 {
			return vas
		}
		vas = append(vas, va)
	}
}

// The pool's maximum bounds the pages it takes; the ceilings per priority
// make low-priority requests fail first and leave high priority a reserve.
func TestExhaustionByPriority(t *testing.T) {
	const maxPages = 100
	tp := newTestPool(t, poolOpts{pages: 2 * maxPages, maxPages: maxPages})
	low := allocUntilRefused(tp, PagedPool, pageSize, LowPoolPriority)
	if len(low) != maxPages*lowPriorityCeilingPercent/percent {
		t.Fatalf("low priority got %d pages, want %d", len(low), maxPages*lowPriorityCeilingPercent/percent)
	}
	normal := allocUntilRefused(tp, PagedPool, pageSize, NormalPoolPriority)
	if len(low)+len(normal) != maxPages*normalPriorityCeilingPercent/percent {
		t.Fatalf("normal priority stopped at %d pages", len(low)+len(normal))
	}
	// Small requests that need a new page are refused at the same ceiling.
	if tp.Allocate(PagedPool, 64, tagTest, NormalPoolPriority, 0) != 0 {
		t.Fatal("small normal-priority allocation took a page past the ceiling")
	}
	high := allocUntilRefused(tp, PagedPool, pageSize, HighPoolPriority)
	if len(low)+len(normal)+len(high) != maxPages {
		t.Fatalf("high priority stopped at %d pages, want %d", len(low)+len(normal)+len(high), maxPages)
	}
	// The nonpaged pool is separate.
	tp.Free(tp.alloc(t, NonPagedPool, pageSize, tagTest), 0)
	for _, va := range append(append(low, normal...), high...) {
		tp.Free(va, tagTest)
	}
	tp.idle(t)
}

// A source that runs dry before the maximum fails cleanly too.
func TestExhaustionBySource(t *testing.T) {
	tp := newTestPool(t, poolOpts{pages: 64})
	tp.np.SetLimit(tp.baseNP + 10)
	vas := allocUntilRefused(tp, NonPagedPool, 3000, NormalPoolPriority)
	if len(vas) != 10 {
		t.Fatalf("%d one-page blocks from a 10-page source", len(vas))
	}
	if tp.Allocate(NonPagedPool, 3*pageSize, tagTest, HighPoolPriority, 0) != 0 {
		t.Fatal("big allocation from an empty source")
	}
	for _, va := range vas {
		tp.Free(va, tagTest)
	}
	tp.idle(t)
	if tp.Allocate(NonPagedPool, ^uintptr(0), tagTest, HighPoolPriority, 0) != 0 ||
		tp.Allocate(NonPagedPool, 1<<40, tagTest, HighPoolPriority, 0) != 0 {
		t.Fatal("absurd sizes allocated")
	}
}

// Pages held only by caches (lookaside lists, PendingFrees) are reclaimed
// when the pool would otherwise fail.
func TestExhaustionReclaimsCaches(t *testing.T) {
	const maxPages = 40
	tp := newTestPool(t, poolOpts{pages: 2 * maxPages, maxPages: maxPages})
	var vas []uintptr
	// 905 blocks of 128 bytes: after the frees, 4 sit on the lookaside list
	// and (905-4) mod 32 = 5 on PendingFrees.
	for range 905 {
		vas = append(vas, tp.alloc(t, NonPagedPool, 100, tagTest))
	}
	for _, va := range vas {
		tp.Free(va, tagTest)
	}
	if st := tp.Stats(KindNonPagedNx); st.TotalPages == 0 || st.PendingFrees == 0 {
		t.Fatalf("expected cached pages: %+v", st)
	}
	big := tp.Allocate(NonPagedPool, (maxPages*normalPriorityCeilingPercent/percent)*pageSize, tagTest, NormalPoolPriority, 0)
	if big == 0 {
		t.Fatalf("big allocation failed although only caches held pages: %+v", tp.Stats(KindNonPagedNx))
	}
	tp.Free(big, tagTest)
	tp.idle(t)
}

// Requests the core does not serve fail without side effects, or raise
// STATUS_INSUFFICIENT_RESOURCES if they ask for it.
func TestUnservedRequests(t *testing.T) {
	tp := newTestPool(t, poolOpts{})
	for _, c := range []struct {
		pt   PoolType
		prio Priority
	}{
		{NonPagedPoolSession, NormalPoolPriority},
		{PagedPoolSession, NormalPoolPriority},
		{PagedPool | PoolQuotaFailInsteadOfRaise, NormalPoolPriority},
		{NonPagedPool | 1<<20, NormalPoolPriority},
		{NonPagedPool, 7},
	} {
		if tp.Allocate(c.pt, 64, tagTest, c.prio, 0) != 0 {
			t.Errorf("type %#x priority %d allocated", c.pt, c.prio)
		}
	}
	st := ntstatus.Success
	ntstatus.Try(func() {
		tp.Allocate(NonPagedPoolSession|PoolRaiseIfAllocationFailure, 64, tagTest, NormalPoolPriority, 0)
	},
		func(e *ntstatus.Exception) { st = e.Status })
	if st != ntstatus.InsufficientResources {
		t.Errorf("an unserved request with the raise bit raised %v", st)
	}
	tp.Free(tp.alloc(t, NonPagedPool|PoolRaiseIfAllocationFailure, 64, tagTest), 0) // served, no raise
	va := tp.alloc(t, NonPagedPool|PoolColdAllocation, 64, tagTest)                 // a hint only
	tp.Free(va, 0)
	tp.idle(t)
}

func TestNewRejectsBadConfig(t *testing.T) {
	a, b := NewArena(4), NewArena(4)
	defer a.Close()
	defer b.Close()
	for _, c := range []Config{
		{NonPaged: a, Paged: a, MaxNonPagedBytes: pageSize, MaxPagedBytes: pageSize},
		{NonPaged: a, MaxNonPagedBytes: pageSize, MaxPagedBytes: pageSize},
		{NonPaged: a, Paged: b, MaxNonPagedBytes: 0, MaxPagedBytes: pageSize},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}
