package pool

import (
	"fmt"
	"testing"
)

// hostMemory reads the arenas, which are ordinary host memory.
func hostMemory(addr uintptr, b []byte) bool {
	copy(b, bytesAt(addr, uintptr(len(b))))
	return true
}

// imagePool is a pool holding every kind of page: small blocks of the
// three descriptors (allocated, cached, freed), big runs of nonpaged and
// paged pool, one with quota. It returns addresses inside live allocations,
// and others: freed blocks, the ListHeads pages, addresses in no pool page.
func imagePool(t *testing.T) (tp *testPool, allocated, others []uintptr) {
	tp = newTestPool(t, poolOpts{returnQuota: func(uintptr, Kind, uintptr) bool { return true }})
	for i, c := range []struct {
		pt PoolType
		n  uintptr
	}{
		{NonPagedPool, 48}, {NonPagedPool, 48}, {NonPagedPoolExecute, 200}, {PagedPool, 1000},
		{PagedPool, 64}, {PagedPool, 3 * pageSize}, {NonPagedPool, pageSize + 1}, {NonPagedPool, 100},
	} {
		va := tp.alloc(t, c.pt, c.n, MakeTag(fmt.Sprintf("Im%02d", i)))
		if i%3 == 1 {
			tp.Free(va, 0)
			others = append(others, va)
			continue
		}
		allocated = append(allocated, va, va+c.n-1)
	}
	quota := tp.Allocate(PagedPool, 2*pageSize, MakeTag("Quot"), NormalPoolPriority, 0x1000)
	allocated = append(allocated, quota)
	for k := range tp.desc {
		others = append(others, tp.desc[k].lists.heads)
	}
	return tp, allocated, append(others, 0x1000, tp.np.base+uintptr(tp.np.pages)*pageSize-1)
}

// The image answers !pool and the usage walk as the live pool does, for
// every kind of page, a ListHeads page and addresses in no pool page.
func TestImageMatchesLivePool(t *testing.T) {
	tp, allocated, others := imagePool(t)
	im := tp.Capture(hostMemory)
	if !im.Info.BigTable || len(im.Big) != 3 {
		t.Fatalf("captured %d big allocations (table captured: %v), want 3", len(im.Big), im.Info.BigTable)
	}
	for i, a := range append(allocated, others...) {
		live, liveOK := tp.Inspect(a)
		got, ok := im.Inspect(a)
		if ok != liveOK || got.String() != live.String() {
			t.Errorf("!pool %#x from the image (%v):\n%v\nlive (%v):\n%v", a, ok, got, liveOK, live)
		}
		if i < len(allocated) && !ok {
			t.Errorf("!pool %#x: the allocation is in no pool page", a)
		}
	}
	for k := range NumKinds {
		if got, want := im.Usage(k), tp.Usage(k); got != want {
			t.Errorf("%v usage from the image %+v, live %+v", k, got, want)
		}
	}
	if got, want := im.Info.NonPaged.InUse, uint64(tp.np.InUse()); got != want {
		t.Errorf("nonpaged pages in use %d, arena %d", got, want)
	}
	if got, want := im.Info.Paged.InUse, uint64(tp.pg.InUse()); got != want {
		t.Errorf("paged pages in use %d, arena %d", got, want)
	}
}

// Damage shows in the image's walk as in the live one.
func TestImageShowsDamage(t *testing.T) {
	tp, _, _ := imagePool(t)
	a := tp.alloc(t, NonPagedPool, 48, MakeTag("Dmg1"))
	store64(a-HeaderSize+offCheck, 0)
	live, _ := tp.Inspect(a)
	got, _ := tp.Capture(hostMemory).Inspect(a)
	if got.String() != live.String() {
		t.Fatalf("image:\n%v\nlive:\n%v", got, live)
	}
	var damaged bool
	for _, bl := range got.Blocks {
		damaged = damaged || bl.Contains && bl.Damage != ""
	}
	if !damaged {
		t.Fatalf("the overwritten cookie is not reported:\n%v", got)
	}
}

// A page the memory reader refuses is counted as handed out but has no
// contents; with the big-page table's lock held, the table is left out.
func TestImageWithoutPagesOrBigTable(t *testing.T) {
	tp, _, _ := imagePool(t)
	small := tp.alloc(t, PagedPool, 64, MakeTag("Gone"))
	refused := small &^ pageMask
	im := func() *Image {
		tp.big.mu.Lock()
		defer tp.big.mu.Unlock()
		return tp.Capture(func(addr uintptr, b []byte) bool { return addr != refused && hostMemory(addr, b) })
	}()
	if im.Info.BigTable || im.Big != nil {
		t.Errorf("big-page table captured under its lock: %v", im.Big)
	}
	if _, ok := im.Pages[refused]; ok {
		t.Error("a refused page has contents")
	}
	if im.Info.Paged.InUse != uint64(tp.pg.InUse()) {
		t.Errorf("paged pages in use %d, arena %d", im.Info.Paged.InUse, tp.pg.InUse())
	}
	if _, ok := im.Inspect(small); ok {
		t.Errorf("!pool of a page without contents")
	}
}
