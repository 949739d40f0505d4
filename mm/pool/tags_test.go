package pool

import "testing"

func TestTagCounters(t *testing.T) {
	tp := newTestPool(t, poolOpts{})
	a, b, c := MakeTag("AAAA"), MakeTag("BBBB"), MakeTag("CCCC")
	va1 := tp.alloc(t, NonPagedPool, 100, a)               // 8 units
	va2 := tp.alloc(t, PagedPool, 100, a)                  // 8 units
	va3 := tp.alloc(t, NonPagedPoolExecute, 3*pageSize, b) // 3 pages
	va4 := tp.alloc(t, PagedPool, 10, c)                   // 2 units
	tp.Free(va4, c)

	st, ok := tp.PoolUsed(a)
	want := TagStat{Tag: a}
	want.Kinds[KindNonPagedNx] = TagCounts{Allocs: 1, Bytes: 128}
	want.Kinds[KindPaged] = TagCounts{Allocs: 1, Bytes: 128}
	if !ok || st != want {
		t.Fatalf("!poolused AAAA = %+v, want %+v", st, want)
	}
	if _, ok := tp.PoolUsed(MakeTag("Nope")); ok {
		t.Fatal("unused tag reported")
	}
	mon := tp.PoolMon()
	if len(mon) != 3 || mon[0].Tag != b || mon[1].Tag != a || mon[2].Tag != c || mon[0].Bytes() != 3*pageSize {
		t.Fatalf("poolmon order %+v", mon)
	}
	leaks := tp.Leaks()
	if len(leaks) != 2 || leaks[0].Tag != b || leaks[1].Tag != a {
		t.Fatalf("leaks %+v", leaks)
	}
	if l := tp.Leaks(c, a); len(l) != 1 || l[0].Tag != a || l[0].Outstanding() != 2 {
		t.Fatalf("leaks restricted to CCCC, AAAA: %+v", l)
	}
	tp.Free(va1, a)
	tp.Free(va2, a)
	tp.Free(va3, b)
	if l := tp.Leaks(); len(l) != 0 {
		t.Fatalf("leaks after freeing all: %+v", l)
	}
	tp.idle(t)
}

// Tags beyond the table's capacity are counted under TagOverflow.
func TestTagOverflow(t *testing.T) {
	tp := newTestPool(t, poolOpts{})
	var vas []uintptr
	for i := range TagTableSize + 5 {
		vas = append(vas, tp.alloc(t, NonPagedPool, 16, Tag(i+1)))
	}
	if o, ok := tp.PoolUsed(TagOverflow); !ok || o.Kinds[KindNonPagedNx].Allocs != 5 {
		t.Fatalf("overflow entry %+v", o)
	}
	for i, va := range vas {
		tp.Free(va, Tag(i+1))
	}
	if o, _ := tp.PoolUsed(TagOverflow); o.Outstanding() != 0 || o.Bytes() != 0 {
		t.Fatalf("overflow entry after frees %+v", o)
	}
	tp.idle(t)
}
