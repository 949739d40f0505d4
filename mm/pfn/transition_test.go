package pfn

import (
	"testing"

	"ntgo/mm/physmem"
)

// smallMap is four free frames, 1-4, behind a reserved frame 0.
var smallMap = []Range{
	{Base: 0, Length: page, Type: RangeReserved},
	{Base: page, Length: 4 * page, Type: RangeFree},
}

// drain allocates every available frame and returns them.
func (f *fixture) drain() []physmem.PFN {
	var ps []physmem.PFN
	for f.db.Stats().Available() > 0 {
		ps = append(ps, f.alloc(false))
	}
	return ps
}

func TestAllocateZeroedOrder(t *testing.T) {
	f := newFixture(t, smallMap)
	f.fillFreeList()
	f.db.ZeroSome(1) // frame 1 zeroed; 2-4 free and dirty

	// Zeroed first.
	if p := f.alloc(true); p != 1 {
		t.Fatalf("first zeroed allocation got frame %d, want 1 from the zeroed list", p)
	}
	// Then free, zeroed on demand.
	p := f.alloc(true)
	if p != 2 || !f.zero(p) {
		t.Fatalf("second zeroed allocation got frame %d (zero %v), want 2 zeroed", p, f.zero(p))
	}
	// Then standby, repurposed and zeroed.
	rest := f.drain()
	f.fill(rest[0], 7)
	f.db.Unmap(rest[0], false, false)
	f.wantState(rest[0], StateStandby)
	owner := f.info(rest[0]).Pte
	if p := f.alloc(true); p != rest[0] || !f.zero(p) {
		t.Fatalf("standby allocation got frame %d, want %d zeroed", p, rest[0])
	}
	if len(f.restored) != 1 || f.restored[0] != (restore{rest[0], owner, testOriginal}) {
		t.Fatalf("hook calls %v, want one restoring %#x", f.restored, owner)
	}
	// Nothing left.
	if _, ok := f.db.AllocateZeroed(0, 0); ok {
		t.Fatal("allocation from empty lists succeeded")
	}
	f.check()
}

func TestAllocateAnyOrder(t *testing.T) {
	f := newFixture(t, smallMap)
	f.db.ZeroSome(2) // 1, 2 zeroed; 3, 4 free
	for _, want := range []physmem.PFN{3, 4, 1, 2} {
		p := f.alloc(false)
		if p != want {
			t.Fatalf("got frame %d, want %d (free before zeroed)", p, want)
		}
		i := f.info(p)
		if i.State != StateActive || i.RefCount != 1 || i.ShareCount != 1 || i.Pte != testPte(f.ptes) ||
			i.OriginalPte != testOriginal || i.Cache != Cached {
			t.Fatalf("allocated entry %v", i)
		}
	}
	f.db.Unmap(1, false, false)
	f.fill(1, 42)
	if p := f.alloc(false); p != 1 || !f.filled(p, 42) {
		t.Fatalf("standby allocation: frame %d", p)
	}
	if _, ok := f.db.AllocateAny(0, 0); ok {
		t.Fatal("allocation from empty lists succeeded")
	}
	f.check()
}

func TestZeroSome(t *testing.T) {
	f := newFixture(t, smallMap)
	f.fillFreeList()
	if n := f.db.ZeroSome(3); n != 3 {
		t.Fatalf("ZeroSome(3) = %d", n)
	}
	if n := f.db.ZeroSome(3); n != 1 {
		t.Fatalf("ZeroSome with one free frame left = %d", n)
	}
	if n := f.db.ZeroSome(3); n != 0 {
		t.Fatalf("ZeroSome with an empty free list = %d", n)
	}
	if f.count(StateZeroed) != 4 || f.count(StateFree) != 0 {
		t.Fatalf("stats:\n%v", f.db.Stats())
	}
	f.check() // includes CheckZeroed
}

func TestRelease(t *testing.T) {
	for _, tc := range []struct {
		name           string
		release        func(db *Database, p physmem.PFN, pte uintptr)
		want           State
		modified, kept bool // flags, and whether the PTE is still recorded
	}{
		{"free", func(db *Database, p physmem.PFN, pte uintptr) { db.Free(p, pte) }, StateFree, false, false},
		{"unmap clean", func(db *Database, p physmem.PFN, _ uintptr) { db.Unmap(p, false, false) }, StateStandby, false, true},
		{"unmap clean no-write", func(db *Database, p physmem.PFN, _ uintptr) { db.Unmap(p, false, true) }, StateStandby, false, true},
		{"unmap dirty", func(db *Database, p physmem.PFN, _ uintptr) { db.Unmap(p, true, false) }, StateModified, true, true},
		{"unmap dirty no-write", func(db *Database, p physmem.PFN, _ uintptr) { db.Unmap(p, true, true) }, StateModifiedNoWrite, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, smallMap)
			p := f.alloc(true)
			pte := f.info(p).Pte
			tc.release(f.db, p, pte)
			i := f.info(p)
			if i.State != tc.want || i.Modified != tc.modified || (i.Pte == pte) != tc.kept || i.RefCount != 0 || i.ShareCount != 0 {
				t.Fatalf("released entry %v", i)
			}
			f.check()
		})
	}
}

func TestDirtyIsSticky(t *testing.T) {
	f := newFixture(t, smallMap)
	p := f.alloc(true)
	pte := f.info(p).Pte
	f.db.Unmap(p, true, false)
	f.db.Reclaim(p, pte)
	if !f.info(p).Modified {
		t.Fatal("reclaim lost the modified flag")
	}
	// A clean unmap now cannot make the unwritten contents clean.
	f.db.Unmap(p, false, false)
	f.wantState(p, StateModified)
	f.check()
}

func TestSharing(t *testing.T) {
	f := newFixture(t, smallMap)
	p := f.alloc(true)
	f.db.AddShare(p)
	f.db.AddShare(p)
	if i := f.info(p); i.ShareCount != 3 || i.RefCount != 1 {
		t.Fatalf("shared entry %v", i)
	}
	f.db.Unmap(p, true, false)
	f.db.Unmap(p, false, false)
	f.wantState(p, StateActive)
	f.db.Unmap(p, false, false)
	f.wantState(p, StateModified)
	f.check()
}

func TestOwnerDeletesSharedFrame(t *testing.T) {
	// The owner deletes its PTE while another PTE still maps the frame:
	// the last unmap then frees it instead of keeping it on standby.
	f := newFixture(t, smallMap)
	p := f.alloc(true)
	f.db.AddShare(p)
	f.db.Free(p, f.info(p).Pte)
	f.wantState(p, StateActive)
	f.db.Unmap(p, true, false)
	f.wantState(p, StateFree)
	if len(f.restored) != 0 {
		t.Fatalf("hook called for a deleted PTE: %v", f.restored)
	}
	f.check()
}

func TestLockedFrameWaitsInTransition(t *testing.T) {
	f := newFixture(t, smallMap)
	p := f.alloc(true)
	if !f.db.Reference(p) || !f.db.Reference(p) {
		t.Fatal("Reference refused")
	}
	f.db.Unmap(p, false, false)
	if i := f.info(p); i.State != StateTransition || i.RefCount != 2 || i.ShareCount != 0 {
		t.Fatalf("unmapped locked frame %v", i)
	}
	f.check()
	f.db.Dereference(p)
	f.wantState(p, StateTransition)
	f.db.Dereference(p)
	f.wantState(p, StateStandby)

	// Freed while locked: the free list gets it when the lock goes.
	q := f.alloc(true)
	f.db.Reference(q)
	f.db.Free(q, f.info(q).Pte)
	if i := f.info(q); i.State != StateTransition || i.Pte != 0 {
		t.Fatalf("freed locked frame %v", i)
	}
	f.db.Dereference(q)
	f.wantState(q, StateFree)
	f.check()
}

func TestReferenceLimit(t *testing.T) {
	f := newFixture(t, smallMap)
	p := f.alloc(true)
	for f.db.Reference(p) {
	}
	if i := f.info(p); i.RefCount != refLimit {
		t.Fatalf("refused at %d references, want %d", i.RefCount, refLimit)
	}
	// A frame at the limit can still be unmapped and reclaimed.
	pte := f.info(p).Pte
	f.db.Unmap(p, false, false)
	f.db.Reclaim(p, pte)
	if i := f.info(p); i.State != StateActive || i.RefCount != refLimit {
		t.Fatalf("reclaimed entry %v", i)
	}
	f.check()
}

func TestReclaim(t *testing.T) {
	for _, tc := range []struct {
		name     string
		unmap    func(db *Database, p physmem.PFN)
		modified bool
		ref      uint16
	}{
		{"standby", func(db *Database, p physmem.PFN) { db.Unmap(p, false, false) }, false, 1},
		{"modified", func(db *Database, p physmem.PFN) { db.Unmap(p, true, false) }, true, 1},
		{"modified no-write", func(db *Database, p physmem.PFN) { db.Unmap(p, true, true) }, true, 1},
		{"transition", func(db *Database, p physmem.PFN) { db.Reference(p); db.Unmap(p, true, false) }, true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, smallMap)
			p := f.alloc(true)
			pte := f.info(p).Pte
			f.fill(p, 0x1234)
			tc.unmap(f.db, p)
			f.db.Reclaim(p, pte)
			i := f.info(p)
			if i.State != StateActive || i.ShareCount != 1 || i.RefCount != tc.ref || i.Pte != pte || i.Modified != tc.modified {
				t.Fatalf("reclaimed entry %v", i)
			}
			if !f.filled(p, 0x1234) {
				t.Fatal("contents lost")
			}
			f.check()
		})
	}
}

func TestDeleteTransition(t *testing.T) {
	f := newFixture(t, smallMap)
	p := f.alloc(true)
	pte := f.info(p).Pte
	f.db.Unmap(p, true, true)
	f.db.DeleteTransition(p, pte)
	if i := f.info(p); i.State != StateFree || i.Pte != 0 || i.Modified {
		t.Fatalf("deleted entry %v", i)
	}

	q := f.alloc(true)
	pte = f.info(q).Pte
	f.db.Reference(q)
	f.db.Unmap(q, false, false)
	f.db.DeleteTransition(q, pte)
	f.wantState(q, StateTransition)
	f.db.Dereference(q)
	f.wantState(q, StateFree)
	if len(f.restored) != 0 {
		t.Fatalf("hook called on the owner's own deletion: %v", f.restored)
	}
	f.check()
}

func TestModifiedWriter(t *testing.T) {
	f := newFixture(t, smallMap)
	p := f.alloc(true)
	pte := f.info(p).Pte
	f.db.Unmap(p, true, true)
	f.wantState(p, StateModifiedNoWrite)
	f.db.AllowWrite(p)
	f.wantState(p, StateModified)
	f.db.ModifiedToStandby(p)
	if i := f.info(p); i.State != StateStandby || i.Modified || i.Pte != pte {
		t.Fatalf("written entry %v", i)
	}
	f.check()
	f.db.StandbyToFree(p)
	f.wantState(p, StateFree)
	if len(f.restored) != 1 || f.restored[0] != (restore{p, pte, testOriginal}) {
		t.Fatalf("hook calls %v", f.restored)
	}
	f.check()
}

func TestMarkBad(t *testing.T) {
	f := newFixture(t, testMap)

	// Unused frames go at once.
	if !f.db.MarkBad(1) {
		t.Fatal("free frame not retired at once")
	}
	f.wantState(1, StateBad)
	f.db.ZeroSome(1)
	if !f.db.MarkBad(2) {
		t.Fatal("zeroed frame not retired at once")
	}
	f.wantState(2, StateBad)
	if !f.db.MarkBad(2) {
		t.Fatal("bad frame: MarkBad false")
	}

	// A standby frame's owner is told.
	s := f.alloc(false)
	spte := f.info(s).Pte
	f.db.Unmap(s, false, false)
	if !f.db.MarkBad(s) {
		t.Fatal("standby frame not retired at once")
	}
	f.wantState(s, StateBad)
	if len(f.restored) != 1 || f.restored[0].pte != spte {
		t.Fatalf("hook calls %v", f.restored)
	}

	// An active frame goes when freed.
	a := f.alloc(false)
	if f.db.MarkBad(a) {
		t.Fatal("active frame retired at once")
	}
	f.wantState(a, StateActive)
	f.db.Free(a, f.info(a).Pte)
	f.wantState(a, StateBad)

	// A clean active frame unmapped goes bad, its owner told.
	c := f.alloc(false)
	cpte := f.info(c).Pte
	f.db.MarkBad(c)
	f.db.Unmap(c, false, false)
	f.wantState(c, StateBad)
	if last := f.restored[len(f.restored)-1]; last.pte != cpte {
		t.Fatalf("hook calls %v", f.restored)
	}

	// A modified frame keeps its data until written.
	m := f.alloc(false)
	f.db.Unmap(m, true, true)
	if f.db.MarkBad(m) {
		t.Fatal("modified frame retired before being written")
	}
	f.db.AllowWrite(m)
	f.wantState(m, StateModified)
	f.db.ModifiedToStandby(m)
	f.wantState(m, StateBad)

	// Bad frames are never allocated again.
	f.check()
	for _, p := range f.drain() {
		if p == 1 || p == 2 || p == s || p == a || p == c || p == m {
			t.Fatalf("bad frame %d allocated", p)
		}
	}
	if n := f.count(StateBad); n != 6 {
		t.Fatalf("%d bad frames, want 6", n)
	}
	f.check()
}
