package pfn

import (
	"testing"

	"ntgo/mm/physmem"
	"ntgo/nt/ntstatus"
)

func TestAllocateContiguous(t *testing.T) {
	f := newFixture(t, testMap)

	// Highest run first.
	p, st := f.db.AllocateContiguous(4, 0, 1000, 0, WriteCombined)
	if st != ntstatus.Success || p != 60 {
		t.Fatalf("got %d, %v; want frames 60-63", p, st)
	}
	for q := p; q < p+4; q++ {
		i := f.info(q)
		if i.State != StateActive || i.RefCount != 1 || i.ShareCount != 1 || i.Pte != 0 ||
			i.Cache != WriteCombined || !i.Contiguous || i.StartOfRun != (q == p) {
			t.Fatalf("run frame %v", i)
		}
	}
	f.check()

	// Bounds: [20, 35] holds free frames 24-31 and 34-35 around the
	// loader's 32-33; a run of 3 must not straddle them.
	if p, st = f.db.AllocateContiguous(3, 20, 35, 0, Cached); st != ntstatus.Success || p != 29 {
		t.Fatalf("bounded: got %d, %v; want 29", p, st)
	}
	if _, st = f.db.AllocateContiguous(3, 32, 35, 0, Cached); st != ntstatus.InsufficientResources {
		t.Fatalf("no room: %v", st)
	}
	if _, st = f.db.AllocateContiguous(1, 20, 10, 0, Cached); st != ntstatus.InsufficientResources {
		t.Fatalf("empty bounds: %v", st)
	}

	// Boundary: 4 frames in [34, 58] not crossing a multiple of 8 cannot
	// use 55-58; the highest that fit are 52-55.
	if p, st = f.db.AllocateContiguous(4, 34, 58, 8, Uncached); st != ntstatus.Success || p != 52 {
		t.Fatalf("boundary: got %d, %v; want 52", p, st)
	}
	if p/8 != (p+3)/8 {
		t.Fatalf("run %d-%d crosses a multiple of 8", p, p+3)
	}
	f.check()

	if n := f.db.FreeContiguous(52); n != 4 {
		t.Fatalf("FreeContiguous = %d", n)
	}
	for q := physmem.PFN(52); q < 56; q++ {
		if i := f.info(q); i.State != StateFree || i.Contiguous || i.StartOfRun {
			t.Fatalf("freed run frame %v", i)
		}
	}
	// Adjacent runs stay separate.
	a, _ := f.db.AllocateContiguous(2, 52, 53, 0, Cached)
	b, _ := f.db.AllocateContiguous(2, 54, 55, 0, Cached)
	if n := f.db.FreeContiguous(a); n != 2 || b != 54 {
		t.Fatalf("adjacent runs: freed %d", n)
	}
	f.wantState(b, StateActive)
	f.check()
}

func TestAllocateContiguousTakesStandbyAndZeroed(t *testing.T) {
	f := newFixture(t, smallMap)
	ps := f.drain()                // frames 1-4
	f.db.Unmap(ps[0], true, false) // 1 modified: not takeable
	f.db.Free(ps[1], f.info(ps[1]).Pte)
	f.db.ZeroSome(1)                    // 2 zeroed
	f.db.Unmap(ps[2], false, false)     // 3 standby
	f.db.Free(ps[3], f.info(ps[3]).Pte) // 4 free
	owner := f.info(3).Pte
	p, st := f.db.AllocateContiguous(3, 0, 100, 0, Cached)
	if st != ntstatus.Success || p != 2 {
		t.Fatalf("got %d, %v; want frames 2-4", p, st)
	}
	if len(f.restored) != 1 || f.restored[0] != (restore{3, owner, testOriginal}) {
		t.Fatalf("hook calls %v", f.restored)
	}
	if _, st := f.db.AllocateContiguous(1, 0, 100, 0, Cached); st != ntstatus.InsufficientResources {
		t.Fatalf("modified frame taken: %v", st)
	}
	f.check()
}

func TestAllocateContiguousInvalid(t *testing.T) {
	f := newFixture(t, smallMap)
	for _, tc := range []struct {
		n, boundary physmem.PFN
		c           Cache
	}{
		{0, 0, Cached},
		{1, 0, NotMapped},
		{2, 3, Cached}, // not a power of two
		{4, 2, Cached}, // smaller than the run
	} {
		if _, st := f.db.AllocateContiguous(tc.n, 0, 100, tc.boundary, tc.c); st != ntstatus.InvalidParameter {
			t.Errorf("%+v: %v", tc, st)
		}
	}
	if _, st := f.db.AllocateContiguous(5, 0, 100, 0, Cached); st != ntstatus.InsufficientResources {
		t.Errorf("run larger than memory: %v", st)
	}
	if _, st := f.db.AllocateContiguous(1<<62, 0, 100, 0, Cached); st != ntstatus.InsufficientResources {
		t.Errorf("huge run: %v", st)
	}
	f.check()
}
