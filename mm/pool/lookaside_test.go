package pool

import (
	"testing"
)

// lookasideArena gives n 16-byte-aligned entries of foreign memory.
func lookasideEntries(t *testing.T, n int) []uintptr {
	a := NewArena(1)
	t.Cleanup(a.Close)
	base, ok := a.AllocPages(1, false)
	if !ok {
		t.Fatal("no page")
	}
	var es []uintptr
	for i := range n {
		es = append(es, base+uintptr(i)*SListEntrySize*2)
	}
	return es
}

func TestLookasideCounters(t *testing.T) {
	var l Lookaside
	l.Init(MaximumLookasideDepth)
	es := lookasideEntries(t, 8)
	if e, _, ok := l.Allocate(); e != 0 || !ok {
		t.Fatal("empty list gave an entry")
	}
	for i, e := range es[:MinimumLookasideDepth] {
		if !l.Free(e) {
			t.Fatalf("free %d refused below the depth", i)
		}
	}
	if l.Free(es[MinimumLookasideDepth]) {
		t.Fatal("free accepted at the depth")
	}
	for i := MinimumLookasideDepth - 1; i >= 0; i-- {
		if e, _, ok := l.Allocate(); e != es[i] || !ok {
			t.Fatalf("pop %#x, want LIFO %#x", e, es[i])
		}
	}
	want := LookasideStats{TotalAllocates: 5, AllocateMisses: 1, TotalFrees: 5, FreeMisses: 1,
		Depth: MinimumLookasideDepth, MaximumDepth: MaximumLookasideDepth}
	if got := l.Stats(); got != want {
		t.Fatalf("stats %+v, want %+v", got, want)
	}
}

func TestLookasideAdjustDepth(t *testing.T) {
	var l Lookaside
	l.Init(MaximumLookasideDepth)
	run := func(allocs, misses int) uint16 {
		// Drive the counters directly: the policy only sees deltas.
		l.list.mu.Lock()
		l.totalAllocates += uint32(allocs)
		l.allocateMisses += uint32(misses)
		l.list.mu.Unlock()
		l.AdjustDepth()
		return l.Stats().Depth
	}
	// Every allocation missing: raise by min(1000*256/2000+5, 30) = 30.
	if d := run(100, 100); d != 4+30 {
		t.Fatalf("all misses: depth %d, want 34", d)
	}
	// 10% misses: 100*256/2000+5 = 17.
	if d := run(1000, 100); d != 34+17 {
		t.Fatalf("10%% misses: depth %d, want 51", d)
	}
	// Under 0.5% misses: lower by one.
	if d := run(1000, 4); d != 50 {
		t.Fatalf("low miss rate: depth %d, want 50", d)
	}
	// Idle (fewer than 25 allocations): lower by 10.
	if d := run(24, 24); d != 40 {
		t.Fatalf("idle: depth %d, want 40", d)
	}
	for range 10 {
		run(0, 0)
	}
	if d := l.Stats().Depth; d != MinimumLookasideDepth {
		t.Fatalf("long idle: depth %d, want the minimum", d)
	}
	for range 20 {
		run(1000, 1000)
	}
	if d := l.Stats().Depth; d != MaximumLookasideDepth {
		t.Fatalf("constant misses: depth %d, want the maximum", d)
	}
	// Counter wrap-around does not confuse the deltas.
	l.list.mu.Lock()
	l.totalAllocates, l.lastTotalAllocates = 10, ^uint32(0)-100
	l.allocateMisses, l.lastAllocateMisses = 0, 0
	l.list.mu.Unlock()
	l.AdjustDepth()
	if d := l.Stats().Depth; d != MaximumLookasideDepth-1 {
		t.Fatalf("after wrap: depth %d, want %d", d, MaximumLookasideDepth-1)
	}
}

func TestSListGuard(t *testing.T) {
	var l SList
	es := lookasideEntries(t, 3)
	for _, e := range es {
		l.Push(e)
	}
	store64(es[2], 0xbad0) // overwrite the head's link
	if e, bad, ok := l.Pop(); ok || e != 0 || bad != 0xbad0 {
		t.Fatalf("Pop of a damaged entry = %#x, %#x, %v", e, bad, ok)
	}
	if l.Depth() != 3 {
		t.Fatal("damaged pop changed the list")
	}
}

// Small frees go to the current processor's lookaside list and the next
// allocation of that size on that processor gets the block back.
func TestPoolLookaside(t *testing.T) {
	cpus := []*PerCPU{new(PerCPU), new(PerCPU)}
	cpu := 0
	a, b := NewArena(64), NewArena(64)
	defer a.Close()
	defer b.Close()
	s, err := New(Config{NonPaged: a, Paged: b, MaxNonPagedBytes: 64 * pageSize, MaxPagedBytes: 64 * pageSize,
		CPUs: cpus, CPUNumber: func() int { return cpu }})
	if err != nil {
		t.Fatal(err)
	}
	va := s.Allocate(NonPagedPool, 100, tagTest, NormalPoolPriority, 0)
	s.Free(va, tagTest)
	u := int(units(100))
	if st := cpus[0].LookasideStats(KindNonPagedNx, u); st.Count != 1 || st.TotalFrees != 1 {
		t.Fatalf("cpu0 list after free: %+v", st)
	}
	if r, _ := s.Inspect(va); r.Blocks[0].State != StateCached {
		t.Fatalf("freed block not cached:\n%v", r)
	}
	cpu = 1
	if other := s.Allocate(NonPagedPool, 100, tagTest, NormalPoolPriority, 0); other == va {
		t.Fatal("cpu1 got cpu0's cached block")
	} else {
		s.Free(other, tagTest)
	}
	cpu = 0
	if again := s.Allocate(NonPagedPool, 100, tagTest, NormalPoolPriority, 0); again != va {
		t.Fatalf("cpu0 got %#x, want its cached %#x", again, va)
	}
	st := cpus[0].LookasideStats(KindNonPagedNx, u)
	if st.TotalAllocates != 2 || st.AllocateMisses != 1 || st.Count != 0 {
		t.Fatalf("cpu0 list after hit: %+v", st)
	}
	// Cache-aligned requests bypass the lists.
	before := cpus[0].LookasideStats(KindNonPagedNx, u).TotalAllocates
	s.Free(s.Allocate(NonPagedPoolNxCacheAligned, 100, tagTest, NormalPoolPriority, 0), tagTest)
	if cpus[0].LookasideStats(KindNonPagedNx, u).TotalAllocates != before {
		t.Fatal("cache-aligned allocation used a lookaside list")
	}
	s.AdjustLookasideDepths()
	if d := cpus[0].LookasideStats(KindNonPagedNx, u).Depth; d != MinimumLookasideDepth {
		t.Fatalf("idle list depth %d", d)
	}
}

// Frees the lookaside list refuses wait on PendingFrees until
// PendingFreeThreshold of them are queued, then are released together.
func TestPendingFrees(t *testing.T) {
	tp := newTestPool(t, poolOpts{noLookaside: true})
	var vas []uintptr
	for range PendingFreeThreshold {
		vas = append(vas, tp.alloc(t, PagedPool, MaxSmallRequest, tagTest)) // a page each
	}
	for i, va := range vas[:PendingFreeThreshold-1] {
		tp.Free(va, tagTest)
		if st := tp.Stats(KindPaged); st.PendingFrees != uint32(i+1) || st.TotalPages != PendingFreeThreshold {
			t.Fatalf("after %d frees: %+v", i+1, st)
		}
	}
	tp.Free(vas[PendingFreeThreshold-1], tagTest)
	if st := tp.Stats(KindPaged); st.PendingFrees != 0 || st.TotalPages != 0 {
		t.Fatalf("after the threshold: %+v", st)
	}
	tp.idle(t)
}
