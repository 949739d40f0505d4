package pool

import (
	"testing"

	"ntgo/nt/bugcheck"
)

// testPool is a System over two host arenas with a settable IRQL.
type testPool struct {
	*System
	np, pg *Arena
	irql   uint8
	// base is the arena pages in use right after New (the list-head pages).
	baseNP, basePG int
}

type poolOpts struct {
	pages       int // arena size per source; default 4096
	maxPages    int // pool maximum per source; default pages
	noLookaside bool
	noDelayFree bool
	returnQuota func(uintptr, Kind, uintptr) bool
	pool2       func(f uint64, n uintptr, tag Tag) uintptr
	protect     bool
}

func newTestPool(t testing.TB, o poolOpts) *testPool {
	t.Helper()
	if o.pages == 0 {
		o.pages = 4096
	}
	if o.maxPages == 0 {
		o.maxPages = o.pages
	}
	tp := &testPool{np: NewArena(o.pages), pg: NewArena(o.pages)}
	tp.np.SetProtect(o.protect)
	tp.pg.SetProtect(o.protect)
	t.Cleanup(func() { tp.np.Close(); tp.pg.Close() })
	s, err := New(Config{
		NonPaged: tp.np, Paged: tp.pg,
		MaxNonPagedBytes: uintptr(o.maxPages) * pageSize, MaxPagedBytes: uintptr(o.maxPages) * pageSize,
		Cookie:           0x5eed_c0de_1234_5678,
		IRQL:             func() uint8 { return tp.irql },
		DisableLookaside: o.noLookaside, DisableDelayFree: o.noDelayFree,
		ReturnQuota: o.returnQuota, AllocatePool2: o.pool2,
	})
	if err != nil {
		t.Fatal(err)
	}
	tp.System = s
	tp.baseNP, tp.basePG = tp.np.InUse(), tp.pg.InUse()
	return tp
}

// alloc allocates or fails the test.
func (tp *testPool) alloc(t testing.TB, pt PoolType, n uintptr, tag Tag) uintptr {
	t.Helper()
	va := tp.Allocate(pt, n, tag, NormalPoolPriority, 0)
	if va == 0 {
		t.Fatalf("Allocate(%#x, %d, %v) failed", pt, n, tag)
	}
	return va
}

// idle checks that, once caches are flushed, the pool holds nothing.
func (tp *testPool) idle(t testing.TB) {
	t.Helper()
	tp.Flush()
	tp.structure(t)
	if got := tp.np.InUse(); got != tp.baseNP {
		t.Errorf("nonpaged arena: %d pages in use, want %d", got, tp.baseNP)
	}
	if got := tp.pg.InUse(); got != tp.basePG {
		t.Errorf("paged arena: %d pages in use, want %d", got, tp.basePG)
	}
	for k := range NumKinds {
		st := tp.Stats(k)
		if st.TotalPages != 0 || st.TotalBigPages != 0 || st.TotalBytes != 0 || st.RegionPages != 0 {
			t.Errorf("%v: not idle: %+v", k, st)
		}
	}
}

// wantBugcheck runs f and checks it stops with code and exactly params.
func wantBugcheck(t testing.TB, code bugcheck.Code, params [4]uintptr, f func()) {
	t.Helper()
	rec := bugcheck.Catch(f)
	if rec == nil {
		t.Fatalf("no bugcheck, want %v %#x", code, params)
	}
	if rec.Code != code || rec.Params != params {
		t.Fatalf("bugcheck %v %#x, want %v %#x", rec.Code, rec.Params, code, params)
	}
}

var tagTest = MakeTag("Test")

// structure walks every pool page and checks the invariants: headers
// sound, no two free blocks adjacent, pages tiled exactly, and the bytes in
// allocated blocks and big runs equal to each descriptor's TotalBytes.
func (tp *testPool) structure(t testing.TB) {
	t.Helper()
	var allocated [NumKinds]int64
	tp.big.each(func(e bigEntry) { allocated[e.kind] += int64(e.pages << pageShift) })
	for k := range tp.desc {
		d := &tp.desc[k]
		d.mu.Lock()
		for page := range d.pages {
			end, prevFree := page, false
			d.walkPage(page, func(bl BlockInfo) {
				if bl.Damage != "" {
					t.Errorf("%v page %#x: block %#x: %s", d.kind, page, bl.Header, bl.Damage)
				}
				free := bl.State == StateFree
				if free && prevFree {
					t.Errorf("%v page %#x: adjacent free blocks at %#x", d.kind, page, bl.Header)
				}
				if bl.State == StateAllocated {
					allocated[k] += int64(bl.Bytes)
				}
				prevFree, end = free, bl.Header+bl.Bytes
			})
			if end != page+pageSize {
				t.Errorf("%v page %#x: blocks end at %#x", d.kind, page, end)
			}
		}
		d.mu.Unlock()
		if got := tp.Stats(d.kind).TotalBytes; got != allocated[k] {
			t.Errorf("%v: TotalBytes %d, blocks hold %d", d.kind, got, allocated[k])
		}
	}
}
