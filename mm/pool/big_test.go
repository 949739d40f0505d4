package pool

import "testing"

func TestBigAllocations(t *testing.T) {
	tp := newTestPool(t, poolOpts{pages: 8192})
	for _, pt := range []PoolType{NonPagedPool, NonPagedPoolExecute, PagedPool} {
		for _, n := range []uintptr{MaxSmallRequest + 1, pageSize, pageSize + 1, 8 << 10, 1 << 20} {
			va := tp.alloc(t, pt, n, tagTest)
			if va&pageMask != 0 {
				t.Fatalf("big %d at %#x not page-aligned", n, va)
			}
			fill(va, n)
			pages := (n + pageMask) >> pageShift
			if got, quota := tp.BlockSize(va); got != pages*pageSize || quota {
				t.Fatalf("BlockSize = %d, %v", got, quota)
			}
			r, ok := tp.Inspect(va + n - 1)
			if !ok || r.Blocks[0].Addr != va || r.Blocks[0].Tag != tagTest || r.Blocks[0].Bytes != pages*pageSize || !r.Blocks[0].Contains {
				t.Fatalf("!pool of a big allocation: %v", r)
			}
			src := tp.np
			if pt == PagedPool {
				src = tp.pg
			}
			if src.Executable(va) != (pt == NonPagedPoolExecute) {
				t.Fatalf("%#x: pages executable = %v", pt, src.Executable(va))
			}
			if st := tp.Stats(KindOf(pt)); st.TotalBigPages != int64(pages) || st.TotalPages != 0 {
				t.Fatalf("stats %+v", st)
			}
			if !check(va, n) {
				t.Fatal("contents lost")
			}
			tp.Free(va, tagTest)
		}
	}
	tp.idle(t)
}

// Small-block pages of the executable pool are executable; NX ones are not.
func TestExecutablePages(t *testing.T) {
	tp := newTestPool(t, poolOpts{})
	x := tp.alloc(t, NonPagedPoolExecute, 64, tagTest)
	nx := tp.alloc(t, NonPagedPool, 64, tagTest)
	if !tp.np.Executable(x&^pageMask) || tp.np.Executable(nx&^pageMask) {
		t.Fatal("small-block page executability does not follow the pool type")
	}
	tp.Free(x, 0)
	tp.Free(nx, 0)
	tp.idle(t)
}

// The big-page table grows past its initial size and keeps every entry.
func TestBigTableGrowth(t *testing.T) {
	tp := newTestPool(t, poolOpts{pages: 4 * bigTableInitialSize})
	var vas []uintptr
	for range 3 * bigTableInitialSize {
		vas = append(vas, tp.alloc(t, NonPagedPool, pageSize, tagTest))
	}
	if len(tp.big.slots) <= bigTableInitialSize {
		t.Fatalf("table did not grow: %d slots", len(tp.big.slots))
	}
	for i := 0; i < len(vas); i += 2 {
		tp.Free(vas[i], tagTest)
	}
	for i := 1; i < len(vas); i += 2 {
		if n, _ := tp.BlockSize(vas[i]); n != pageSize {
			t.Fatalf("entry %d lost", i)
		}
		tp.Free(vas[i], tagTest)
	}
	tp.idle(t)
}
