package ex

import (
	"testing"
	"unsafe"

	"ntgo/mm/pool"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

var tagLook = pool.MakeTag("LkTs")

const entryBytes = 100

// outstanding is the number of tag's blocks allocated from the pool and not
// freed to it (blocks cached on a lookaside list count: the pool lent them).
func outstanding(e *env, tag pool.Tag) int64 {
	st, _ := e.pools.PoolUsed(tag)
	return st.Outstanding()
}

func TestNPagedLookasideReuseAndCounters(t *testing.T) {
	e := setup(t)
	var l NPagedLookasideList
	InitializeNPagedLookasideList(&l, nil, nil, 0, entryBytes, tagLook, 0)
	defer DeleteNPagedLookasideList(&l)
	p := AllocateFromNPagedLookasideList(&l)
	if p == nil {
		t.Fatal("allocation failed")
	}
	FreeToNPagedLookasideList(&l, p)
	if q := AllocateFromNPagedLookasideList(&l); q != p {
		t.Fatalf("cached entry not reused: %p, want %p", q, p)
	}
	FreeToNPagedLookasideList(&l, p)
	st := l.l.cache.Stats()
	want := pool.LookasideStats{TotalAllocates: 2, AllocateMisses: 1, TotalFrees: 2,
		Depth: pool.MinimumLookasideDepth, MaximumDepth: pool.MaximumLookasideDepth, Count: 1}
	if st != want {
		t.Fatalf("counters %+v, want %+v", st, want)
	}
	if n := outstanding(e, tagLook); n != 1 {
		t.Fatalf("%d blocks outstanding under the tag, want the 1 cached", n)
	}
}

// A burst of allocations the cache cannot serve raises the depth; quiet
// periods lower it again to the minimum.
func TestLookasideDepthFollowsLoad(t *testing.T) {
	setup(t)
	var l NPagedLookasideList
	InitializeNPagedLookasideList(&l, nil, nil, 0, entryBytes, tagLook, 0)
	defer DeleteNPagedLookasideList(&l)
	const burst = 64
	depth := func() uint16 { return l.l.cache.Stats().Depth }
	held := make([]unsafe.Pointer, burst)
	burstOnce := func() {
		for i := range held {
			held[i] = AllocateFromNPagedLookasideList(&l)
		}
		for _, p := range held {
			FreeToNPagedLookasideList(&l, p)
		}
	}
	const maxRounds = burst / pool.MinimumLookasideDepth
	for round := 0; depth() < burst; round++ {
		if round == maxRounds {
			t.Fatalf("depth %d after %d bursts", depth(), round)
		}
		burstOnce()
		before := depth()
		AdjustLookasideDepths()
		if depth() <= before {
			t.Fatalf("round %d: depth %d did not grow from %d under misses", round, depth(), before)
		}
	}
	// One more burst fills the deeper cache; after it the burst fits, so
	// a period of hits only lowers the depth by one.
	burstOnce()
	AdjustLookasideDepths()
	grown := depth()
	burstOnce()
	AdjustLookasideDepths()
	if depth() != grown-1 {
		t.Fatalf("depth %d after a hit-only period, want %d", depth(), grown-1)
	}
	// Idle periods take it back to the minimum.
	for range int(grown) {
		AdjustLookasideDepths()
	}
	if depth() != pool.MinimumLookasideDepth {
		t.Fatalf("depth %d after idling, want the minimum %d", depth(), pool.MinimumLookasideDepth)
	}
}

// Delete frees the cached entries; entries the driver never gave back stay
// allocated under its tag until it frees them.
func TestDeleteFreesCachedEntries(t *testing.T) {
	e := setup(t)
	var l PagedLookasideList
	InitializePagedLookasideList(&l, nil, nil, 0, entryBytes, tagLook, 0)
	var held []unsafe.Pointer
	for range 10 {
		held = append(held, AllocateFromPagedLookasideList(&l))
	}
	for _, p := range held[:3] {
		FreeToPagedLookasideList(&l, p)
	}
	if n := outstanding(e, tagLook); n != 10 {
		t.Fatalf("%d outstanding before delete, want 10 (3 cached)", n)
	}
	DeletePagedLookasideList(&l)
	if n := outstanding(e, tagLook); n != 7 {
		t.Fatalf("%d outstanding after delete, want the 7 never returned", n)
	}
	for _, p := range held[3:] {
		FreePoolWithTag(p, tagLook)
	}
	if n := outstanding(e, tagLook); n != 0 {
		t.Fatalf("%d outstanding after freeing the rest", n)
	}
}

// Custom callbacks run on misses and on frees past the depth, with the
// list's type, size and tag.
func TestClassicCallbacks(t *testing.T) {
	setup(t)
	var allocs, frees int
	var gotType pool.PoolType
	var gotSize uintptr
	alloc := func(ty pool.PoolType, n uintptr, tag pool.Tag) unsafe.Pointer {
		allocs++
		gotType, gotSize = ty, n
		return AllocatePoolWithTag(ty, n, tag)
	}
	free := func(p unsafe.Pointer) { frees++; FreePool(p) }
	var l NPagedLookasideList
	InitializeNPagedLookasideList(&l, alloc, free, pool.PoolRaiseIfAllocationFailure, 4, tagLook, 0)
	var held []unsafe.Pointer
	for range pool.MinimumLookasideDepth + 2 {
		held = append(held, AllocateFromNPagedLookasideList(&l))
	}
	for _, p := range held {
		FreeToNPagedLookasideList(&l, p)
	}
	if allocs != len(held) || frees != 2 {
		t.Fatalf("allocate called %d times, free %d; want %d and 2", allocs, frees, len(held))
	}
	if gotType != pool.NonPagedPool|pool.PoolRaiseIfAllocationFailure || gotSize != pool.SListEntrySize {
		t.Fatalf("allocate got type %#x size %d", gotType, gotSize)
	}
	DeleteNPagedLookasideList(&l)
	if frees != len(held) {
		t.Fatalf("delete freed %d of the %d cached", frees-2, len(held)-2)
	}
}

func TestClassicRaiseOnFailure(t *testing.T) {
	setup(t)
	huge := uintptr(testPages+1) * 4096
	var quiet, raising NPagedLookasideList
	InitializeNPagedLookasideList(&quiet, nil, nil, 0, huge, tagLook, 0)
	InitializeNPagedLookasideList(&raising, nil, nil, pool.PoolRaiseIfAllocationFailure, huge, tagLook, 0)
	defer DeleteNPagedLookasideList(&quiet)
	defer DeleteNPagedLookasideList(&raising)
	if AllocateFromNPagedLookasideList(&quiet) != nil {
		t.Fatal("impossible allocation succeeded")
	}
	if st := raised(func() { AllocateFromNPagedLookasideList(&raising) }); st != ntstatus.InsufficientResources {
		t.Fatalf("raising list raised %v", st)
	}
}

// driverContext embeds its lookaside list; the Ex callbacks reach the
// context from the list they are given.
type driverContext struct {
	misses int
	frees  int
	list   LookasideListEx
}

func contextOf(l *LookasideListEx) *driverContext {
	return (*driverContext)(unsafe.Add(unsafe.Pointer(l), -int(unsafe.Offsetof(driverContext{}.list))))
}

func TestLookasideListEx(t *testing.T) {
	setup(t)
	ctx := new(driverContext)
	alloc := func(ty pool.PoolType, n uintptr, tag pool.Tag, l *LookasideListEx) unsafe.Pointer {
		contextOf(l).misses++
		return AllocatePoolWithTag(ty, n, tag)
	}
	free := func(p unsafe.Pointer, l *LookasideListEx) { contextOf(l).frees++; FreePool(p) }
	if st := InitializeLookasideListEx(&ctx.list, alloc, free, pool.PagedPool, 0, entryBytes, tagLook, 0); st != ntstatus.Success {
		t.Fatalf("init: %v", st)
	}
	a, b := AllocateFromLookasideListEx(&ctx.list), AllocateFromLookasideListEx(&ctx.list)
	FreeToLookasideListEx(&ctx.list, a)
	FreeToLookasideListEx(&ctx.list, b)
	if ctx.misses != 2 || ctx.frees != 0 {
		t.Fatalf("misses %d frees %d", ctx.misses, ctx.frees)
	}
	FlushLookasideListEx(&ctx.list)
	if ctx.frees != 2 || ctx.list.l.cache.Stats().Count != 0 {
		t.Fatalf("flush freed %d", ctx.frees)
	}
	if AllocateFromLookasideListEx(&ctx.list) == nil || ctx.misses != 3 {
		t.Fatal("list unusable after flush")
	}
	DeleteLookasideListEx(&ctx.list)
}

func TestLookasideListExFlags(t *testing.T) {
	setup(t)
	var got pool.PoolType
	alloc := func(ty pool.PoolType, n uintptr, tag pool.Tag, _ *LookasideListEx) unsafe.Pointer {
		got = ty
		return nil
	}
	for _, c := range []struct {
		flags uint32
		want  pool.PoolType
	}{
		{0, pool.NonPagedPool},
		{LookasideListExFlagsRaiseOnFail, pool.NonPagedPool | pool.PoolRaiseIfAllocationFailure},
		{LookasideListExFlagsFailNoRaise, pool.NonPagedPool | pool.PoolQuotaFailInsteadOfRaise},
	} {
		var l LookasideListEx
		if st := InitializeLookasideListEx(&l, alloc, nil, pool.NonPagedPool, c.flags, 8, tagLook, 0); st != ntstatus.Success {
			t.Fatalf("flags %#x: %v", c.flags, st)
		}
		AllocateFromLookasideListEx(&l)
		if got != c.want {
			t.Errorf("flags %#x: callback got type %#x, want %#x", c.flags, got, c.want)
		}
		DeleteLookasideListEx(&l)
	}
	var l LookasideListEx
	if st := InitializeLookasideListEx(&l, nil, nil, pool.NonPagedPool, LookasideListExFlagsRaiseOnFail|LookasideListExFlagsFailNoRaise, 8, tagLook, 0); st != ntstatus.InvalidParameterMix {
		t.Fatalf("both flags: %v", st)
	}
	if st := InitializeLookasideListEx(&l, nil, nil, pool.NonPagedPool, 4, 8, tagLook, 0); st != ntstatus.InvalidParameter {
		t.Fatalf("unknown flag: %v", st)
	}
	// The default allocator honours both flags.
	huge := uintptr(testPages+1) * 4096
	InitializeLookasideListEx(&l, nil, nil, pool.NonPagedPool, LookasideListExFlagsRaiseOnFail, huge, tagLook, 0)
	if st := raised(func() { AllocateFromLookasideListEx(&l) }); st != ntstatus.InsufficientResources {
		t.Fatalf("RAISE_ON_FAIL raised %v", st)
	}
	DeleteLookasideListEx(&l)
	InitializeLookasideListEx(&l, nil, nil, pool.NonPagedPool, LookasideListExFlagsFailNoRaise, entryBytes, tagLook, 0)
	p := AllocateFromLookasideListEx(&l)
	if p == nil {
		t.Fatal("FAIL_NO_RAISE list cannot allocate")
	}
	FreeToLookasideListEx(&l, p)
	DeleteLookasideListEx(&l)
}

// Paged lists obey the paged-pool IRQL rule even when the cache serves the
// request.
func TestPagedLookasideIRQL(t *testing.T) {
	e := setup(t)
	var l PagedLookasideList
	InitializePagedLookasideList(&l, nil, nil, 0, entryBytes, tagLook, 0)
	p := AllocateFromPagedLookasideList(&l)
	FreeToPagedLookasideList(&l, p) // cached: the next allocation is a hit
	e.irql = pool.DispatchLevel
	rec := bugcheck.Catch(func() { AllocateFromPagedLookasideList(&l) })
	if rec == nil || rec.Code != bugcheck.BadPoolCaller || rec.Params != [4]uintptr{pool.CallerAllocIRQL, pool.DispatchLevel, uintptr(pool.PagedPool), entryBytes} {
		t.Fatalf("allocate at DISPATCH_LEVEL: %v", rec)
	}
	rec = bugcheck.Catch(func() { FreeToPagedLookasideList(&l, p) })
	if rec == nil || rec.Params != [4]uintptr{pool.CallerFreeIRQL, pool.DispatchLevel, uintptr(pool.PagedPool), uintptr(p)} {
		t.Fatalf("free at DISPATCH_LEVEL: %v", rec)
	}
	e.irql = pool.APCLevel
	DeletePagedLookasideList(&l)
	// Nonpaged lists may be used at DISPATCH_LEVEL.
	var n NPagedLookasideList
	InitializeNPagedLookasideList(&n, nil, nil, 0, entryBytes, tagLook, 0)
	e.irql = pool.DispatchLevel
	FreeToNPagedLookasideList(&n, AllocateFromNPagedLookasideList(&n))
	DeleteNPagedLookasideList(&n)
}

func TestLookasideMisuse(t *testing.T) {
	setup(t)
	var l NPagedLookasideList
	InitializeNPagedLookasideList(&l, nil, nil, 0, entryBytes, tagLook, 0)
	addr := uintptr(unsafe.Pointer(&l))
	handle := uintptr(l.l.handle)
	DeleteNPagedLookasideList(&l)
	want := [4]uintptr{bugcheck.FastFailCorruptListEntry, addr, 0, 0}
	for name, f := range map[string]func(){
		"double delete":  func() { DeleteNPagedLookasideList(&l) },
		"use after free": func() { AllocateFromNPagedLookasideList(&l) },
	} {
		rec := bugcheck.Catch(f)
		if rec == nil || rec.Code != bugcheck.KernelSecurityCheckFailure || rec.Params != want {
			t.Errorf("%s: %v, want 0x139 %#x", name, rec, want)
		}
	}
	// A copy of a live list is not the list: its handle names another address.
	InitializeNPagedLookasideList(&l, nil, nil, 0, entryBytes, tagLook, 0)
	if uintptr(l.l.handle) != handle {
		t.Fatalf("slot %d not reused (was %d)", l.l.handle, handle)
	}
	cp := new(NPagedLookasideList)
	size := int(unsafe.Sizeof(l))
	copy(unsafe.Slice((*byte)(unsafe.Pointer(cp)), size), unsafe.Slice((*byte)(unsafe.Pointer(&l)), size))
	rec := bugcheck.Catch(func() { DeleteNPagedLookasideList(cp) })
	if rec == nil || rec.Params != [4]uintptr{bugcheck.FastFailCorruptListEntry, uintptr(unsafe.Pointer(cp)), handle, 0} {
		t.Fatalf("delete of a copy: %v", rec)
	}
	DeleteNPagedLookasideList(&l)
}

// A driver writing to an entry after freeing it to the list damages the
// cache's link: the next allocation stops with DRIVER_CORRUPTED_EXPOOL.
func TestLookasideUseAfterFree(t *testing.T) {
	setup(t)
	var l NPagedLookasideList
	InitializeNPagedLookasideList(&l, nil, nil, 0, entryBytes, tagLook, 0)
	p := AllocateFromNPagedLookasideList(&l)
	FreeToNPagedLookasideList(&l, p)
	const scribble = 0x4141414141414141
	*(*uint64)(p) = scribble
	rec := bugcheck.Catch(func() { AllocateFromNPagedLookasideList(&l) })
	if rec == nil || rec.Code != bugcheck.DriverCorruptedExpool || rec.Params[0] != scribble {
		t.Fatalf("allocate over a damaged link: %v", rec)
	}
}

// A list may live in pool memory, as NT requires: it holds no Go pointers.
func TestLookasideInPoolMemory(t *testing.T) {
	e := setup(t)
	mem := AllocatePoolZero(pool.NonPagedPool, unsafe.Sizeof(NPagedLookasideList{}), tagEx)
	l := (*NPagedLookasideList)(mem)
	InitializeNPagedLookasideList(l, nil, nil, 0, entryBytes, tagLook, 0)
	FreeToNPagedLookasideList(l, AllocateFromNPagedLookasideList(l))
	DeleteNPagedLookasideList(l)
	FreePool(mem)
	if n := outstanding(e, tagLook); n != 0 {
		t.Fatalf("%d entries outstanding", n)
	}
}

func TestLookasideView(t *testing.T) {
	setup(t)
	tag := pool.MakeTag("View")
	var l LookasideListEx
	InitializeLookasideListEx(&l, nil, nil, pool.PagedPool, 0, 200, tag, 0)
	defer DeleteLookasideListEx(&l)
	FreeToLookasideListEx(&l, AllocateFromLookasideListEx(&l))
	FreeToLookasideListEx(&l, AllocateFromLookasideListEx(&l))
	p := AllocatePoolWithTag(pool.NonPagedPool, 40, tagEx) // a System per-processor list at work
	FreePool(p)
	var mine, system *LookasideInfo
	lists := Lookasides()
	for i := range lists {
		switch li := &lists[i]; {
		case li.Owner == OwnerEx && li.Tag == tag:
			mine = li
		case li.Owner == OwnerSystem && li.PoolType == pool.NonPagedPool && li.Size == 64:
			system = li
		}
	}
	if mine == nil || mine.Address != uintptr(unsafe.Pointer(&l)) || mine.Size != 200 ||
		mine.TotalAllocates != 2 || mine.AllocateMisses != 1 || mine.HitRate() != 50 {
		t.Fatalf("driver list %+v", mine)
	}
	if system == nil || system.TotalAllocates == 0 || system.TotalFrees == 0 {
		t.Fatalf("System 64-byte nonpaged list %+v", system)
	}
}
