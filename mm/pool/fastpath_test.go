package pool

import (
	"math/rand/v2"
	"sync"
	"testing"
	"unsafe"

	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
)

// snapshot is what a declined fast path must leave as it was: the list
// of a size class on processor 0, every tag's summed counters, and the
// header of the block involved.
type snapshot struct {
	list   LookasideStats
	tags   []TagStat
	header [HeaderSize]byte
}

func snap(tp *testPool, k Kind, u uintptr, b uintptr) snapshot {
	return snapshot{list: tp.CPU(0).LookasideStats(k, int(u)), tags: tp.PoolMon(), header: *(*[HeaderSize]byte)(Ptr(b))}
}

func (s snapshot) equal(o snapshot) bool {
	if s.list != o.list || s.header != o.header || len(s.tags) != len(o.tags) {
		return false
	}
	for i := range s.tags {
		if s.tags[i] != o.tags[i] {
			return false
		}
	}
	return true
}

// hits is the allocations processor 0's list for u units of pool k served.
func hits(tp *testPool, k Kind, u uintptr) uint32 {
	st := tp.CPU(0).LookasideStats(k, int(u))
	return st.TotalAllocates - st.AllocateMisses
}

// The hit path serves a free and the next allocation of that size with the
// same block, counts both exactly, and zeroes when asked.
func TestFastPathHits(t *testing.T) {
	tp := newTestPool(t, poolOpts{})
	u := units(64)
	keep := tp.alloc(t, NonPagedPool, 64, tagTest) // the page stays
	va := tp.alloc(t, NonPagedPool, 64, tagTest)
	fill(va, 64)
	tp.Free(va, tagTest)
	if st := tp.CPU(0).LookasideStats(KindNonPagedNx, int(u)); st.Count != 1 || st.TotalFrees != 1 {
		t.Fatalf("a plain free missed the lookaside: %+v", st)
	}
	if got := tp.alloc(t, NonPagedPool, 64, tagTest); got != va || hits(tp, KindNonPagedNx, u) != 1 {
		t.Fatalf("hit gave %#x, want the cached %#x", got, va)
	}
	body := string(bytesAt(va, 64)[SListEntrySize:])
	fill(va, 64)
	if body != string(bytesAt(va, 64)[SListEntrySize:]) {
		t.Fatal("ExAllocatePoolWithTag's hit changed the body past the list link")
	}
	tp.Free(va, 0)
	if st := tp.CPU(0).LookasideStats(KindNonPagedNx, int(u)); st.Count != 1 {
		t.Fatalf("ExFreePool (tag 0) missed the lookaside: %+v", st)
	}
	if got := tp.alloc(t, NonPagedPool|PoolZeroAllocation, 64, tagTest); got != va || !allZero(va, 64) || hits(tp, KindNonPagedNx, u) != 2 {
		t.Fatalf("zeroed hit gave %#x (zero %v)", got, allZero(va, 64))
	}
	st, _ := tp.PoolUsed(tagTest)
	c := st.Kinds[KindNonPagedNx]
	if c.Allocs != 4 || c.Frees != 2 || c.Bytes != 2*int64(units(64)<<BlockShift) {
		t.Fatalf("tag counters %+v", c)
	}
	if d := tp.Stats(KindNonPagedNx); d.RunningAllocs != 4 || d.RunningDeAllocs != 2 || d.TotalBytes != c.Bytes {
		t.Fatalf("descriptor counters %+v", d)
	}
	tp.Free(va, tagTest)
	tp.Free(keep, tagTest)
	tp.idle(t)
}

func allZero(va, n uintptr) bool {
	for _, c := range bytesAt(va, n) {
		if c != 0 {
			return false
		}
	}
	return true
}

// Every misuse the full path stops on is declined by the hit path with
// nothing changed, and the full path that Allocate and Free then run stops
// with NT's code and parameters (before it changes anything either).
func TestFastPathDeclinesMisuse(t *testing.T) {
	other := MakeTag("Nope")
	u := units(64)
	cases := []struct {
		name   string
		pt     PoolType
		damage func(tp *testPool, va uintptr) // after the allocation
		cached bool                           // free va onto the list before damage
		alloc  bool                           // the misuse is found allocating, else freeing with tag
		tag    Tag
		popped bool // the full path takes the block off the list before it stops
		code   bugcheck.Code
		params func(va uintptr) [4]uintptr
	}{
		{name: "wrong tag", pt: NonPagedPool, tag: other, code: badPoolCallerCode,
			params: func(va uintptr) [4]uintptr {
				return [4]uintptr{CallerTagMismatch, va, uintptr(tagTest), uintptr(other)}
			}},
		{name: "double free of a cached block", pt: NonPagedPool, cached: true, tag: tagTest, code: badPoolCallerCode,
			params: func(va uintptr) [4]uintptr {
				return [4]uintptr{CallerDoubleFree, 0, ulong1(va - HeaderSize), va}
			}},
		{name: "header cookie overwritten", pt: NonPagedPool, tag: tagTest, code: badPoolCallerCode,
			damage: func(tp *testPool, va uintptr) { store64(va-HeaderSize+offCheck, 0x1234) },
			params: func(va uintptr) [4]uintptr { return [4]uintptr{CallerInvalidHeader, va, 0, 0} }},
		{name: "block size overwritten", pt: NonPagedPool, tag: tagTest, code: badPoolHeaderCode,
			damage: func(tp *testPool, va uintptr) { store8(va-HeaderSize+offBlockSize, uint8(u+1)) },
			params: func(va uintptr) [4]uintptr {
				b := va - HeaderSize
				return [4]uintptr{HeaderNextPreviousSize, b, b + (u+1)<<BlockShift, 0}
			}},
		{name: "next header's PreviousSize overwritten", pt: NonPagedPool, tag: tagTest, code: badPoolHeaderCode,
			damage: func(tp *testPool, va uintptr) { store8(va-HeaderSize+u<<BlockShift+offPreviousSize, 3) },
			params: func(va uintptr) [4]uintptr {
				b := va - HeaderSize
				return [4]uintptr{HeaderNextPreviousSize, b, b + u<<BlockShift, 0}
			}},
		{name: "free above APC_LEVEL (paged)", pt: PagedPool, tag: tagTest, code: badPoolCallerCode,
			damage: func(tp *testPool, va uintptr) { tp.irql = DispatchLevel },
			params: func(va uintptr) [4]uintptr { return [4]uintptr{CallerFreeIRQL, DispatchLevel, uintptr(PagedPool), va} }},
		{name: "free above DISPATCH_LEVEL", pt: NonPagedPool, tag: tagTest, code: badPoolCallerCode,
			damage: func(tp *testPool, va uintptr) { tp.irql = DispatchLevel + 1 },
			params: func(va uintptr) [4]uintptr {
				return [4]uintptr{CallerFreeIRQL, DispatchLevel + 1, uintptr(NonPagedPool), va}
			}},
		{name: "allocate above APC_LEVEL (paged)", pt: PagedPool, cached: true, alloc: true, code: badPoolCallerCode,
			damage: func(tp *testPool, va uintptr) { tp.irql = DispatchLevel },
			params: func(va uintptr) [4]uintptr { return [4]uintptr{CallerAllocIRQL, DispatchLevel, uintptr(PagedPool), 64} }},
		{name: "cached block's link overwritten", pt: NonPagedPool, cached: true, alloc: true, code: bugcheck.DriverCorruptedExpool,
			damage: func(tp *testPool, va uintptr) { storePtr(va, 0x4242420) },
			params: func(va uintptr) [4]uintptr { return [4]uintptr{0x4242420, PassiveLevel, expoolRead} }},
		{name: "cached block's header overwritten", pt: NonPagedPool, cached: true, alloc: true, popped: true, code: badPoolHeaderCode,
			damage: func(tp *testPool, va uintptr) { store8(va-HeaderSize+offPoolIndex, uint8(KindPaged)) },
			params: func(va uintptr) [4]uintptr {
				return [4]uintptr{HeaderFreedCachedModified, va - HeaderSize, ulong1(va - HeaderSize), 0}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp := newTestPool(t, poolOpts{})
			tp.alloc(t, c.pt, 64, tagTest)       // the page's head: the page stays
			tp.alloc(t, c.pt, 64, tagTest)       // its tail
			va := tp.alloc(t, c.pt, 64, tagTest) // before the tail, so a header follows it
			k := KindOf(c.pt)
			if c.cached {
				tp.Free(va, tagTest)
			}
			if c.damage != nil {
				c.damage(tp, va)
			}
			before := snap(tp, k, u, va-HeaderSize)
			rec := bugcheck.Catch(func() {
				if c.alloc {
					tp.Allocate(c.pt, 64, tagTest, NormalPoolPriority, 0)
				} else {
					tp.Free(va, c.tag)
				}
			})
			want := c.params(va)
			if c.code == bugcheck.DriverCorruptedExpool && rec != nil {
				rec.Params[3] = 0 // the code address
			}
			if rec == nil || rec.Code != c.code || rec.Params != want {
				t.Fatalf("bugcheck %+v, want %v %#x", rec, c.code, want)
			}
			if after := snap(tp, k, u, va-HeaderSize); !c.popped && !after.equal(before) {
				t.Fatalf("state changed before the stop:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

// Without Config.IRQL the pool checks the current processor's software
// copy of the IRQL (ke.CurrentIrql), on the hit path as on the full one.
func TestFastPathReadsIrqlCopy(t *testing.T) {
	a, b := NewArena(64), NewArena(64)
	defer a.Close()
	defer b.Close()
	s, err := New(Config{NonPaged: a, Paged: b, MaxNonPagedBytes: 64 * pageSize, MaxPagedBytes: 64 * pageSize})
	if err != nil {
		t.Fatal(err)
	}
	keep := s.Allocate(PagedPool, 64, tagTest, NormalPoolPriority, 0)
	va := s.Allocate(PagedPool, 64, tagTest, NormalPoolPriority, 0)
	s.Free(va, tagTest) // cached: the next allocation would hit
	old := ke.RaiseIrql(ke.DispatchLevel)
	rec := bugcheck.Catch(func() { s.Allocate(PagedPool, 64, tagTest, NormalPoolPriority, 0) })
	ke.LowerIrql(old)
	if rec == nil || rec.Params != [4]uintptr{CallerAllocIRQL, DispatchLevel, uintptr(PagedPool), 64} {
		t.Fatalf("bugcheck %+v, want BAD_POOL_CALLER 8 at DISPATCH_LEVEL", rec)
	}
	if st := s.CPU(0).LookasideStats(KindPaged, int(units(64))); st.Count != 1 {
		t.Fatalf("the hit path served paged pool at DISPATCH_LEVEL: %+v", st)
	}
	if s.Allocate(PagedPool, 64, tagTest, NormalPoolPriority, 0) != va {
		t.Fatal("no hit at PASSIVE_LEVEL")
	}
	s.Free(va, tagTest)
	s.Free(keep, tagTest)
}

// Goroutines on four simulated processors, whose processor number changes
// between and within their calls (as a goroutine moved by the scheduler
// sees it), allocate and free concurrently; at quiescence the counters
// summed over the processors and the shared table are exact.
func TestFastPathCountersExactUnderConcurrency(t *testing.T) {
	const (
		processors = 4
		workers    = 8
		rounds     = 3000
	)
	cpus := make([]*PerCPU, processors)
	for i := range cpus {
		cpus[i] = new(PerCPU)
	}
	a, b := NewArena(2048), NewArena(2048)
	defer a.Close()
	defer b.Close()
	s, err := New(Config{NonPaged: a, Paged: b, MaxNonPagedBytes: 2048 * pageSize, MaxPagedBytes: 2048 * pageSize,
		CPUs: cpus, CPUNumber: func() int { return rand.IntN(processors) }})
	if err != nil {
		t.Fatal(err)
	}
	baseNP, basePG := a.InUse(), b.InUse()
	tags := []Tag{MakeTag("Cnt0"), MakeTag("Cnt1"), MakeTag("Cnt2")}
	sizes := []uintptr{16, 64, 200, 496, 600}
	var want [3][NumKinds]uint64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var mine [3][NumKinds]uint64
			var held []uintptr
			for i := range rounds {
				tg, n := (w+i)%len(tags), sizes[(w*7+i)%len(sizes)]
				pt := []PoolType{NonPagedPool, PagedPool, NonPagedPool | PoolZeroAllocation}[i%3]
				va := s.Allocate(pt, n, tags[tg], NormalPoolPriority, 0)
				if va == 0 {
					t.Error("allocation failed")
					return
				}
				mine[tg][KindOf(pt)]++
				held = append(held, va)
				if len(held) > 4 || i%5 == 0 {
					j := rand.IntN(len(held))
					s.Free(held[j], 0)
					held = append(held[:j], held[j+1:]...)
				}
			}
			for _, va := range held {
				s.Free(va, 0)
			}
			mu.Lock()
			for i := range mine {
				for k := range mine[i] {
					want[i][k] += mine[i][k]
				}
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	var hits uint32
	for _, c := range cpus {
		for k := range NumKinds {
			for u := minBlockUnits; u <= SmallLists; u++ {
				st := c.LookasideStats(k, u)
				hits += st.TotalAllocates - st.AllocateMisses
			}
		}
	}
	if hits == 0 {
		t.Fatal("no lookaside hits: the test did not reach the fast path")
	}
	for i, tg := range tags {
		st, ok := s.PoolUsed(tg)
		for k := range NumKinds {
			c := st.Kinds[k]
			if !ok || c.Allocs != want[i][k] || c.Frees != want[i][k] || c.Bytes != 0 {
				t.Errorf("%v %v: %+v, want %d allocations and frees, 0 bytes", tg, Kind(k), c, want[i][k])
			}
		}
	}
	for k := range NumKinds {
		var allocs uint64
		for i := range tags {
			allocs += want[i][k]
		}
		if d := s.Stats(k); d.RunningAllocs != allocs || d.RunningDeAllocs != allocs || d.TotalBytes != 0 {
			t.Errorf("%v: %+v, want %d allocations and frees", k, d, allocs)
		}
	}
	s.Flush()
	if a.InUse() != baseNP || b.InUse() != basePG {
		t.Errorf("after Flush: %d and %d arena pages in use, want %d and %d", a.InUse(), b.InUse(), baseNP, basePG)
	}
}

// zeroBody clears exactly the n bytes it is given, for every body size a
// list serves and the memclr sizes past them.
func TestZeroBody(t *testing.T) {
	buf := make([]byte, 2*MaxCachedRequest+64)
	for n := uintptr(BlockUnit); n <= MaxCachedRequest+BlockUnit; n += BlockUnit {
		for i := range buf {
			buf[i] = 0xA5
		}
		a := uintptr(unsafe.Pointer(&buf[BlockUnit]))
		zeroBody(a, n)
		for i, c := range buf {
			inside := uintptr(i) >= BlockUnit && uintptr(i) < BlockUnit+n
			if inside != (c == 0) {
				t.Fatalf("zeroBody(%d): byte %d is %#x", n, int(i)-BlockUnit, c)
			}
		}
	}
}
