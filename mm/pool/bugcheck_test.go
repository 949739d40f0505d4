package pool

import (
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"ntgo/nt/bugcheck"
)

const (
	badPoolCallerCode = bugcheck.BadPoolCaller
	badPoolHeaderCode = bugcheck.BadPoolHeader
)

// exact is a pool that frees straight to the descriptors, so header
// checks that need the lock run during the free itself.
func exact(t *testing.T) *testPool {
	return newTestPool(t, poolOpts{noLookaside: true, noDelayFree: true})
}

func TestBugcheckAllocIRQL(t *testing.T) {
	tp := newTestPool(t, poolOpts{})
	tp.irql = DispatchLevel
	va := tp.alloc(t, NonPagedPool, 10, tagTest) // nonpaged is fine at DISPATCH_LEVEL
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerAllocIRQL, DispatchLevel, uintptr(PagedPool), 10}, func() {
		tp.Allocate(PagedPool, 10, tagTest, NormalPoolPriority, 0)
	})
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerAllocIRQL, DispatchLevel, uintptr(PagedPoolCacheAligned), 9000}, func() {
		tp.Allocate(PagedPoolCacheAligned, 9000, tagTest, NormalPoolPriority, 0)
	})
	tp.irql = DispatchLevel + 1
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerAllocIRQL, DispatchLevel + 1, uintptr(NonPagedPool), 20}, func() {
		tp.Allocate(NonPagedPool, 20, tagTest, NormalPoolPriority, 0)
	})
	tp.irql = APCLevel
	tp.Free(tp.alloc(t, PagedPool, 10, tagTest), tagTest) // paged is fine at APC_LEVEL
	tp.Free(va, tagTest)
}

func TestBugcheckFreeIRQL(t *testing.T) {
	tp := newTestPool(t, poolOpts{})
	p := tp.alloc(t, PagedPool, 10, tagTest)
	pb := tp.alloc(t, PagedPool, 3*pageSize, tagTest)
	n := tp.alloc(t, NonPagedPoolNxCacheAligned, 10, tagTest)
	tp.irql = DispatchLevel
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerFreeIRQL, DispatchLevel, uintptr(PagedPool), p}, func() { tp.Free(p, 0) })
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerFreeIRQL, DispatchLevel, uintptr(PagedPool), pb}, func() { tp.Free(pb, 0) })
	tp.irql = DispatchLevel + 1
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerFreeIRQL, DispatchLevel + 1, uintptr(NonPagedPoolNxCacheAligned), n}, func() { tp.Free(n, 0) })
}

func TestBugcheckDoubleFree(t *testing.T) {
	for _, o := range []poolOpts{{}, {noLookaside: true}, {noLookaside: true, noDelayFree: true}} {
		tp := newTestPool(t, o)
		keep := tp.alloc(t, NonPagedPool, 40, tagTest) // keeps the page
		va := tp.alloc(t, NonPagedPool, 40, tagTest)
		tp.Free(va, tagTest)
		contents := ulong1(va - HeaderSize)
		wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerDoubleFree, 0, contents, va}, func() { tp.Free(va, tagTest) })
		_ = keep
	}
	// Once the block's page went back, the address is an invalid pool address.
	tp := exact(t)
	va := tp.alloc(t, NonPagedPool, 40, tagTest)
	tp.Free(va, tagTest)
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerInvalidAddress, va, 0, 0}, func() { tp.Free(va, tagTest) })
}

func TestBugcheckBigNotAllocated(t *testing.T) {
	tp := exact(t)
	np := tp.alloc(t, NonPagedPool, 2*pageSize, tagTest)
	tp.Free(np, tagTest)
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerNonPagedNotAllocated, np, 0, 0}, func() { tp.Free(np, tagTest) })
	pg := tp.alloc(t, PagedPool, 2*pageSize, tagTest)
	tp.Free(pg, tagTest)
	base, size := tp.pg.Region()
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerPagedNotAllocated, pg, (pg - base) >> pageShift, size}, func() { tp.Free(pg, tagTest) })
	// The second page of a live big allocation is not an allocation.
	live := tp.alloc(t, PagedPool, 2*pageSize, tagTest)
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerPagedNotAllocated, live + pageSize, (live + pageSize - base) >> pageShift, size}, func() {
		tp.Free(live+pageSize, tagTest)
	})
}

func TestBugcheckNotPool(t *testing.T) {
	tp := exact(t)
	goMem := uintptr(unsafe.Pointer(new([64]byte)))
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerNeverInPool, goMem, 0, 0}, func() { tp.Free(goMem, 0) })
	va := tp.alloc(t, NonPagedPool, 100, tagTest)
	for _, bad := range []uintptr{va + 8, va + 1, va&^pageMask + 8} {
		wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerInvalidAddress, bad, 0, 0}, func() { tp.Free(bad, 0) })
	}
	// Inside a block: its "header" is the caller's data, which does not
	// open with the cookie (allocated-looking data) or is not allocated.
	clear(bytesAt(va, 100))
	store8(va+32+offPoolType, typeAllocated)
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerInvalidHeader, va + 48, 0, 0}, func() { tp.Free(va+48, 0) })
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerDoubleFree, 0, 0, va + 16}, func() { tp.Free(va+16, 0) })
}

func TestBugcheckTagMismatch(t *testing.T) {
	tp := exact(t)
	wrong := MakeTag("Nope")
	va := tp.alloc(t, NonPagedPool, 100, tagTest)
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerTagMismatch, va, uintptr(tagTest), uintptr(wrong)}, func() { tp.Free(va, wrong) })
	big := tp.alloc(t, PagedPool, 5*pageSize, tagTest)
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerTagMismatch, big, uintptr(tagTest), uintptr(wrong)}, func() { tp.Free(big, wrong) })
	tp.Free(va, tagTest) // nothing changed; the right tag frees
	tp.Free(big, 0)      // and no tag skips the check
	tp.idle(t)
}

func TestBugcheckHeaderChecks(t *testing.T) {
	for _, c := range []struct {
		name    string
		corrupt func(b, next uintptr)
		want    func(b, next uintptr) [4]uintptr
		code    bugcheck.Code
	}{
		{"cookie", func(b, _ uintptr) { store64(b+offCheck, load64(b+offCheck)^0x40) },
			func(b, _ uintptr) [4]uintptr { return [4]uintptr{CallerInvalidHeader, b + HeaderSize, 0, 0} }, badPoolCallerCode},
		{"PoolIndex", func(b, _ uintptr) { store8(b+offPoolIndex, uint8(KindPaged)) },
			func(b, _ uintptr) [4]uintptr { return [4]uintptr{CallerHeaderCorrupt, b, ulong1(b), 0} }, badPoolCallerCode},
		{"BlockSize 1", func(b, _ uintptr) { store8(b+offBlockSize, 1) },
			func(b, _ uintptr) [4]uintptr { return [4]uintptr{CallerHeaderCorrupt, b, ulong1(b), 0} }, badPoolCallerCode},
		{"BlockSize 0", func(b, _ uintptr) { store8(b+offBlockSize, 0) },
			func(b, _ uintptr) [4]uintptr { return [4]uintptr{HeaderSizeZero, 0, 0, b} }, badPoolHeaderCode},
		{"BlockSize past page", func(b, _ uintptr) { store8(b+offBlockSize, maxBlockUnits) },
			func(b, _ uintptr) [4]uintptr {
				return [4]uintptr{HeaderSizeTooLarge, b + maxBlockUnits*BlockUnit, 0, b}
			}, badPoolHeaderCode},
		{"next PreviousSize", func(_, next uintptr) { store8(next+offPreviousSize, 3) },
			func(b, next uintptr) [4]uintptr { return [4]uintptr{HeaderNextPreviousSize, b, next, 0} }, badPoolHeaderCode},
		{"BlockSize disagrees with next", func(b, _ uintptr) { store8(b+offBlockSize, 6) },
			func(b, _ uintptr) [4]uintptr { return [4]uintptr{HeaderNextPreviousSize, b, b + 6*BlockUnit, 0} }, badPoolHeaderCode},
	} {
		t.Run(c.name, func(t *testing.T) {
			tp := exact(t)
			tp.alloc(t, NonPagedPool, 500, tagTest)          // the page head
			after := tp.alloc(t, NonPagedPool, 100, tagTest) // the page's tail
			va := tp.alloc(t, NonPagedPool, 100, tagTest)    // right before it (tail split)
			b, next := va-HeaderSize, after-HeaderSize
			if b+uintptr(readHeader(b).size)*BlockUnit != next {
				t.Fatal("layout")
			}
			c.corrupt(b, next)
			want := c.want(b, next)
			wantBugcheck(t, c.code, want, func() { tp.Free(va, 0) })
		})
	}
}

// Checks that need the descriptor lock: the previous neighbour.
func TestBugcheckPreviousSize(t *testing.T) {
	tp := exact(t)
	a := tp.alloc(t, NonPagedPool, 100, tagTest) // 8 units at the head
	fill(a, 100)
	rest := tp.alloc(t, NonPagedPool, 16, tagTest) // from the tail
	_ = rest
	b := tp.alloc(t, NonPagedPool, 100, tagTest) // tail of the free middle
	_ = b
	// Make c, right after a: take the free middle down to nothing but c.
	r, _ := tp.Inspect(a)
	free := r.Blocks[1]
	if free.State != StateFree {
		t.Fatalf("layout:\n%v", r)
	}
	c := tp.alloc(t, NonPagedPool, uintptr(free.BlockSize)*BlockUnit-HeaderSize, tagTest)
	if c != a+8*BlockUnit {
		t.Fatalf("c at %#x, want right after a (%#x):\n%v", c, a+8*BlockUnit, r)
	}
	cb := c - HeaderSize
	store8(cb+offPreviousSize, 5) // a is 8 units
	wantBugcheck(t, badPoolHeaderCode, [4]uintptr{HeaderNeighboursDisagree, cb, 0, cb - 5*BlockUnit}, func() { tp.Free(c, 0) })

	tp = exact(t)
	tp.alloc(t, NonPagedPool, 100, tagTest)
	c = tp.alloc(t, NonPagedPool, 100, tagTest)
	cb = c - HeaderSize
	store8(cb+offPreviousSize, 0xff) // reaches before the page
	wantBugcheck(t, badPoolHeaderCode, [4]uintptr{HeaderPreviousSizeTooLarge, cb - 0xff*BlockUnit, 0, cb}, func() { tp.Free(c, 0) })

	tp = exact(t)
	a = tp.alloc(t, NonPagedPool, 100, tagTest)
	ab := a - HeaderSize
	store8(ab+offPreviousSize, 2) // nonzero at the page start
	wantBugcheck(t, badPoolHeaderCode, [4]uintptr{HeaderPreviousSizeTooLarge, ab - 2*BlockUnit, 0, ab}, func() { tp.Free(a, 0) })
}

// A freed block's header modified after the free is found when a neighbour
// merges with it, or when the block is taken off a list.
func TestBugcheckFreedHeaderModified(t *testing.T) {
	// Layout from one page: head a, free middle, c, b (tail splits).
	layout := func(t *testing.T) (tp *testPool, a, free, c uintptr) {
		tp = exact(t)
		a = tp.alloc(t, NonPagedPool, 100, tagTest)
		tp.alloc(t, NonPagedPool, 100, tagTest)
		c = tp.alloc(t, NonPagedPool, 100, tagTest)
		r, _ := tp.Inspect(a)
		return tp, a, r.Blocks[1].Header, c
	}
	tp, a, free, _ := layout(t)
	store32(free+offPoolTag, 0x41414141) // harmless: tag of a free block
	store64(free+offCheck, 0)
	ab := a - HeaderSize
	wantBugcheck(t, badPoolHeaderCode, [4]uintptr{HeaderFreedNextModified, free, ulong1(free), ab}, func() { tp.Free(a, 0) })

	tp, _, free, c := layout(t)
	store8(free+offPoolIndex, uint8(KindPaged))
	cb := c - HeaderSize
	wantBugcheck(t, badPoolHeaderCode, [4]uintptr{HeaderFreedPrevModified, free, ulong1(free), cb}, func() { tp.Free(c, 0) })

	tp, _, free, _ = layout(t)
	store8(free+offPoolType, typeAllocated) // the listed block no longer looks free
	wantBugcheck(t, badPoolHeaderCode, [4]uintptr{HeaderFreedCachedModified, free, ulong1(free), 0}, func() {
		tp.Allocate(NonPagedPool, 100, tagTest, NormalPoolPriority, 0)
	})

	// A block parked on a lookaside list.
	tp = newTestPool(t, poolOpts{})
	va := tp.alloc(t, PagedPool, 100, tagTest)
	tp.Free(va, 0)
	b := va - HeaderSize
	store8(b+offBlockSize, 9)
	wantBugcheck(t, badPoolHeaderCode, [4]uintptr{HeaderFreedCachedModified, b, ulong1(b), 0}, func() {
		tp.Allocate(PagedPool, 100, tagTest, NormalPoolPriority, 0)
	})

	// A block on PendingFrees, found when the queue drains.
	tp = newTestPool(t, poolOpts{noLookaside: true})
	va = tp.alloc(t, PagedPool, 100, tagTest)
	tp.Free(va, 0)
	b = va - HeaderSize
	store8(b+offPoolIndex, uint8(KindNonPagedNx))
	wantBugcheck(t, badPoolHeaderCode, [4]uintptr{HeaderFreedCachedModified, b, ulong1(b), 0}, tp.Flush)
}

func TestBugcheckFreeListLinks(t *testing.T) {
	tp := exact(t)
	a := tp.alloc(t, NonPagedPool, 100, tagTest)
	x := tp.alloc(t, NonPagedPool, 100, tagTest)
	r, _ := tp.Inspect(a)
	e := r.Blocks[1].Addr // the free middle's list entry
	// Flink into the pool, but not pointing back.
	storePtr(x+listBlink, 0x1230)
	storePtr(e+listFlink, x)
	wantBugcheck(t, badPoolHeaderCode, [4]uintptr{HeaderFreeListCorrupt, e, 0x1230, e}, func() {
		tp.Allocate(NonPagedPool, 100, tagTest, NormalPoolPriority, 0)
	})
}

func TestBugcheckCorruptedExpool(t *testing.T) {
	pcIn := func(rec *bugcheck.Record) string { return runtime.FuncForPC(rec.Params[3]).Name() }
	check := func(t *testing.T, tp *testPool, link uintptr, f func()) {
		t.Helper()
		rec := bugcheck.Catch(f)
		if rec == nil || rec.Code != bugcheck.DriverCorruptedExpool || rec.Params[0] != link ||
			rec.Params[1] != uintptr(tp.irql) || rec.Params[2] != expoolRead || !strings.Contains(pcIn(rec), "mm/pool") {
			t.Fatalf("bugcheck %+v (pc in %s), want DRIVER_CORRUPTED_EXPOOL for %#x", rec, pcIn(rec), link)
		}
	}
	// A ListHeads link that leaves the pool.
	tp := exact(t)
	tp.irql = APCLevel
	a := tp.alloc(t, NonPagedPool, 100, tagTest)
	r, _ := tp.Inspect(a)
	storePtr(r.Blocks[1].Addr+listFlink, 0xdead0)
	check(t, tp, 0xdead0, func() { tp.Allocate(NonPagedPool, 100, tagTest, NormalPoolPriority, 0) })

	// A lookaside link overwritten after the free.
	tp = newTestPool(t, poolOpts{})
	va := tp.alloc(t, NonPagedPool, 100, tagTest)
	keep := tp.alloc(t, NonPagedPool, 100, tagTest)
	tp.Free(keep, 0)
	tp.Free(va, 0)
	storePtr(va, 0x4242420)
	check(t, tp, 0x4242420, func() { tp.Allocate(NonPagedPool, 100, tagTest, NormalPoolPriority, 0) })

	// A PendingFrees link overwritten after the free.
	tp = newTestPool(t, poolOpts{noLookaside: true})
	va = tp.alloc(t, PagedPool, 100, tagTest)
	keep = tp.alloc(t, PagedPool, 100, tagTest)
	tp.Free(keep, 0)
	tp.Free(va, 0)
	storePtr(va, 0x7770)
	check(t, tp, 0x7770, tp.Flush)
}

func TestBugcheckMustSucceed(t *testing.T) {
	tp := exact(t)
	for _, pt := range []PoolType{NonPagedPoolMustSucceed, NonPagedPoolCacheAlignedMustS} {
		wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerMustSucceed, uintptr(pt), 77, uintptr(tagTest)}, func() {
			tp.Allocate(pt, 77, tagTest, NormalPoolPriority, 0)
		})
	}
}

func TestQuotaOwnerReturned(t *testing.T) {
	type ret struct {
		owner uintptr
		kind  Kind
		bytes uintptr
	}
	var got []ret
	valid := true
	tp := newTestPool(t, poolOpts{returnQuota: func(o uintptr, k Kind, n uintptr) bool {
		got = append(got, ret{o, k, n})
		return valid
	}})
	va := tp.Allocate(PagedPool, 100, tagTest, NormalPoolPriority, 0x77)
	big := tp.Allocate(NonPagedPool, 2*pageSize, tagTest, NormalPoolPriority, 0x88)
	if n, q := tp.BlockSize(va); n != 112 || !q {
		t.Fatalf("BlockSize = %d, %v", n, q)
	}
	if n, q := tp.BlockSize(big); n != 2*pageSize || !q {
		t.Fatalf("big BlockSize = %d, %v", n, q)
	}
	if h := readHeader(va - HeaderSize); h.typ&typeQuota == 0 || tp.cookie.open(va-HeaderSize, h.check) != 0x77 {
		t.Fatalf("quota header %+v", h)
	}
	tp.Free(va, 0)
	tp.Free(big, 0)
	if len(got) != 2 || got[0] != (ret{0x77, KindPaged, 128}) || got[1] != (ret{0x88, KindNonPagedNx, 2 * pageSize}) {
		t.Fatalf("returned %+v", got)
	}
	// The reused block carries no owner.
	again := tp.Allocate(PagedPool, 100, tagTest, NormalPoolPriority, 0)
	if again != va {
		t.Fatal("block not reused from the lookaside list")
	}
	if _, q := tp.BlockSize(again); q {
		t.Fatal("reused block still charged")
	}
	valid = false
	bad := tp.Allocate(PagedPool, 100, tagTest, NormalPoolPriority, 0x99)
	wantBugcheck(t, badPoolCallerCode, [4]uintptr{CallerBadQuotaOwner, bad, uintptr(tagTest), 0x99}, func() { tp.Free(bad, 0) })
}
