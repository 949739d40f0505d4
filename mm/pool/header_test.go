package pool

import (
	"testing"
)

// The small-block limit is NT's x64 one: PAGE_SIZE-32 bytes still fit a
// block with its header (255 units), PAGE_SIZE-31 is a big allocation.
func TestSmallBlockLimit(t *testing.T) {
	if MaxSmallRequest != pageSize-32 {
		t.Fatalf("MaxSmallRequest = %d, want %d", MaxSmallRequest, pageSize-32)
	}
	tp := newTestPool(t, poolOpts{})
	small := tp.alloc(t, NonPagedPool, pageSize-32, tagTest)
	if small&pageMask != HeaderSize {
		t.Errorf("PAGE_SIZE-32: body at page offset %#x, want a header-led block at the page start", small&pageMask)
	}
	if h := readHeader(small - HeaderSize); h.size != maxBlockUnits {
		t.Errorf("PAGE_SIZE-32: BlockSize %d, want %d", h.size, maxBlockUnits)
	}
	if n, _ := tp.BlockSize(small); n != pageSize-32 {
		t.Errorf("PAGE_SIZE-32: usable %d", n)
	}
	big := tp.alloc(t, NonPagedPool, pageSize-31, tagTest)
	if big&pageMask != 0 {
		t.Errorf("PAGE_SIZE-31: %#x not page-aligned", big)
	}
	if n, _ := tp.BlockSize(big); n != pageSize {
		t.Errorf("PAGE_SIZE-31: usable %d, want a page", n)
	}
	if r, ok := tp.Inspect(big); !ok || len(r.Blocks) != 1 || r.Blocks[0].State != StateBig {
		t.Errorf("PAGE_SIZE-31 is not a big allocation: %v", r)
	}
	if st := tp.Stats(KindNonPagedNx); st.TotalPages != 1 || st.TotalBigPages != 1 {
		t.Errorf("stats %+v, want one small page and one big page", st)
	}
	tp.Free(small, tagTest)
	tp.Free(big, tagTest)
	tp.idle(t)
}

func TestHeaderFields(t *testing.T) {
	tp := newTestPool(t, poolOpts{})
	for _, pt := range []PoolType{NonPagedPool, NonPagedPoolExecute, PagedPool} {
		va := tp.alloc(t, pt, 100, tagTest)
		b := va - HeaderSize
		h := readHeader(b)
		if h.prev != 0 || h.index != uint8(KindOf(pt)) || h.size != 8 || h.typ != typeAllocated || h.tag != tagTest {
			t.Errorf("%#x: header %+v", pt, h)
		}
		if h.check != uint64(tp.cookie)^uint64(b) {
			t.Errorf("%#x: check field %#x is not cookie^address", pt, h.check)
		}
		tp.Free(va, 0)
	}
	tp.idle(t)
}

// A page-aligned free block gives its head; any other gives its tail.
func TestSplitRule(t *testing.T) {
	tp := newTestPool(t, poolOpts{noLookaside: true, noDelayFree: true})
	a := tp.alloc(t, NonPagedPool, 64-HeaderSize, tagTest) // 4 units
	page := a &^ pageMask
	if a-HeaderSize != page {
		t.Fatalf("first block of a fresh page at offset %#x, want the head", a&pageMask)
	}
	b := tp.alloc(t, NonPagedPool, 96-HeaderSize, tagTest) // 6 units from the free rest
	if b-HeaderSize != page+pageSize-96 {
		t.Fatalf("block from a non-page-aligned free block at offset %#x, want its tail %#x", (b-HeaderSize)&pageMask, pageSize-96)
	}
	rest := readHeader(page + 64)
	if rest.state() != typeFree || rest.prev != 4 || rest.size != pageUnits-4-6 {
		t.Fatalf("remainder header %+v", rest)
	}
	if h := readHeader(b - HeaderSize); h.prev != pageUnits-4-6 {
		t.Fatalf("tail block PreviousSize %d", h.prev)
	}
	// Free the head: it becomes a page-aligned free block; the next small
	// request is carved from its head.
	tp.Free(a, tagTest)
	c := tp.alloc(t, NonPagedPool, 32-HeaderSize, tagTest) // 2 units
	if c-HeaderSize != page {
		t.Fatalf("page-aligned free block gave offset %#x, want its head", (c-HeaderSize)&pageMask)
	}
	tp.Free(b, tagTest)
	tp.Free(c, tagTest)
	tp.idle(t)
}

// Freed neighbours merge within a page only, and a page goes back when it
// is entirely free.
func TestCoalesce(t *testing.T) {
	tp := newTestPool(t, poolOpts{noLookaside: true, noDelayFree: true})
	var blocks []uintptr
	for range 6 {
		blocks = append(blocks, tp.alloc(t, PagedPool, 600, tagTest))
	}
	pages := tp.Stats(KindPaged).TotalPages
	for _, i := range []int{1, 3, 2, 0, 5, 4} {
		tp.Free(blocks[i], tagTest)
		r, ok := tp.Inspect(blocks[i])
		if !ok {
			continue // its page went back
		}
		for j := 1; j < len(r.Blocks); j++ {
			if r.Blocks[j].State == StateFree && r.Blocks[j-1].State == StateFree {
				t.Fatalf("adjacent free blocks after freeing %d:\n%v", i, r)
			}
		}
		for _, bl := range r.Blocks {
			if bl.Damage != "" {
				t.Fatalf("damage after freeing %d:\n%v", i, r)
			}
		}
	}
	if pages < 1 {
		t.Fatal("no pages used")
	}
	tp.idle(t)
}

// Blocks never merge across pages: a block ending one page and one starting
// the next stay separate, and each page returns on its own.
func TestNoMergeAcrossPages(t *testing.T) {
	tp := newTestPool(t, poolOpts{noLookaside: true, noDelayFree: true})
	a := tp.alloc(t, NonPagedPool, MaxSmallRequest, tagTest)
	b := tp.alloc(t, NonPagedPool, MaxSmallRequest, tagTest)
	if (a-HeaderSize)&pageMask != 0 || (b-HeaderSize)&pageMask != 0 || a&^pageMask == b&^pageMask {
		t.Fatalf("two maximal blocks at %#x %#x", a, b)
	}
	tp.Free(a, tagTest)
	if got := tp.Stats(KindNonPagedNx).TotalPages; got != 1 {
		t.Fatalf("%d pages after freeing one of two full pages", got)
	}
	tp.Free(b, tagTest)
	tp.idle(t)
}

func TestCacheAligned(t *testing.T) {
	tp := newTestPool(t, poolOpts{})
	var vas []uintptr
	for n := uintptr(1); n <= MaxSmallRequest; n += 61 {
		for _, pt := range []PoolType{NonPagedPoolNxCacheAligned, NonPagedPoolCacheAligned, PagedPoolCacheAligned} {
			va := tp.alloc(t, pt, n, tagTest)
			if va%cacheLineSize != 0 {
				t.Fatalf("%#x %d bytes: %#x not cache-aligned", pt, n, va)
			}
			fill(va, n)
			vas = append(vas, va, n)
		}
	}
	for i := 0; i < len(vas); i += 2 {
		if !check(vas[i], vas[i+1]) {
			t.Fatalf("block %#x lost its contents", vas[i])
		}
		tp.Free(vas[i], tagTest)
	}
	tp.idle(t)
}

// One-unit fragments (a header and nothing else) cannot be listed; they
// rejoin the pool when a neighbour is freed.
func TestOneUnitFragment(t *testing.T) {
	tp := newTestPool(t, poolOpts{noLookaside: true, noDelayFree: true})
	a := tp.alloc(t, NonPagedPool, 127*BlockUnit-HeaderSize, tagTest) // 127 units at the head
	b := tp.alloc(t, NonPagedPool, 128*BlockUnit-HeaderSize, tagTest) // the tail 128 of 129: one unit left
	if a&^pageMask != b&^pageMask {
		t.Fatal("blocks on different pages")
	}
	frag := a - HeaderSize + 127*BlockUnit
	if h := readHeader(frag); h.size != 1 || h.state() != typeFree {
		t.Fatalf("fragment header %+v", h)
	}
	tp.Free(b, tagTest)
	tp.Free(a, tagTest)
	tp.idle(t)
}

func TestZeroAndTinyRequests(t *testing.T) {
	tp := newTestPool(t, poolOpts{})
	for _, n := range []uintptr{0, 1, 15, 16, 17} {
		va := tp.alloc(t, NonPagedPool|PoolZeroAllocation, n, tagTest)
		got, _ := tp.BlockSize(va)
		if got < n || got < BlockUnit {
			t.Errorf("%d bytes: usable %d", n, got)
		}
		for _, c := range bytesAt(va, got) {
			if c != 0 {
				t.Fatalf("%d bytes: POOL_ZERO_ALLOCATION block not zeroed", n)
			}
		}
		tp.Free(va, tagTest)
	}
	tp.idle(t)
}
