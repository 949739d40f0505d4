package pfn

import (
	"testing"

	"ntgo/mm/physmem"
)

// modified makes a fresh frame Modified, as a dirty trim does.
func (f *fixture) modified() physmem.PFN {
	f.t.Helper()
	p := f.alloc(false)
	f.db.Unmap(p, true, false)
	f.wantState(p, StateModified)
	return p
}

func TestWriteCompletes(t *testing.T) {
	f := newFixture(t, smallMap)
	p := f.modified()
	owner := f.info(p).Pte
	q, pte, orig, ok := f.db.StartWrite()
	if !ok || q != p || pte != owner || orig != testOriginal {
		t.Fatalf("StartWrite = %d %#x %#x %v, want frame %d of %#x", q, pte, orig, ok, p, owner)
	}
	if i := f.info(p); i.State != StateTransition || i.RefCount != 1 || i.Modified {
		t.Fatalf("writing: %v", i)
	}
	f.check()
	if f.db.SwapOriginalPte(p, owner, testOriginal+1, 0x5000) {
		t.Fatal("SwapOriginalPte accepted a stale original")
	}
	if !f.db.SwapOriginalPte(p, owner, testOriginal, 0x5000) {
		t.Fatal("SwapOriginalPte refused the owner")
	}
	if f.db.SwapOriginalPte(p, owner+8, 0x5000, 0x6000) {
		t.Fatal("SwapOriginalPte accepted another PTE")
	}
	if refs, orig := f.db.Owner(p); refs != 1 || orig != 0x5000 {
		t.Fatalf("Owner = %d %#x", refs, orig)
	}
	f.db.EndWrite(p, true)
	if i := f.info(p); i.State != StateStandby || i.OriginalPte != 0x5000 {
		t.Fatalf("written: %v", i)
	}
	if _, _, _, ok := f.db.StartWrite(); ok {
		t.Fatal("StartWrite on an empty modified list")
	}
	f.check()
}

func TestWriteFailsBackToModified(t *testing.T) {
	f := newFixture(t, smallMap)
	p := f.modified()
	f.db.StartWrite()
	f.db.EndWrite(p, false)
	f.wantState(p, StateModified)
	if q, _, _, ok := f.db.StartWrite(); !ok || q != p {
		t.Fatal("the failed page is not written again")
	}
	f.db.EndWrite(p, true)
	f.wantState(p, StateStandby)
	f.check()
}

func TestWriteWhileOwnerActs(t *testing.T) {
	f := newFixture(t, smallMap)
	// Reclaimed during the write, dirtied and trimmed again: Modified.
	p := f.modified()
	owner := f.info(p).Pte
	f.db.StartWrite()
	f.db.Reclaim(p, owner)
	if i := f.info(p); i.State != StateActive || i.RefCount != 2 {
		t.Fatalf("reclaimed while writing: %v", i)
	}
	f.db.Unmap(p, true, false)
	f.wantState(p, StateTransition)
	f.db.EndWrite(p, true)
	f.wantState(p, StateModified)
	// Reclaimed and still mapped when the write ends: Active, one reference.
	f.db.StartWrite()
	f.db.Reclaim(p, owner)
	f.db.EndWrite(p, true)
	if i := f.info(p); i.State != StateActive || i.RefCount != 1 {
		t.Fatalf("mapped after the write: %v", i)
	}
	// Deleted during the write: Free.
	f.db.Unmap(p, true, false)
	f.db.StartWrite()
	f.db.DeleteTransition(p, owner)
	if f.db.SwapOriginalPte(p, owner, testOriginal, 0x5000) {
		t.Fatal("SwapOriginalPte on a deleted page")
	}
	f.db.EndWrite(p, true)
	f.wantState(p, StateFree)
	f.check()
}

func TestWriterSkipsModifiedNoWrite(t *testing.T) {
	f := newFixture(t, smallMap)
	p := f.alloc(false)
	f.db.Unmap(p, true, true)
	f.wantState(p, StateModifiedNoWrite)
	if _, _, _, ok := f.db.StartWrite(); ok {
		t.Fatal("StartWrite took a ModifiedNoWrite page")
	}
	f.db.AllowWrite(p)
	if q, _, _, ok := f.db.StartWrite(); !ok || q != p {
		t.Fatal("StartWrite after AllowWrite")
	}
	f.db.EndWrite(p, true)
	f.check()
}

func TestAvailable(t *testing.T) {
	f := newFixture(t, smallMap)
	if got := f.db.Available(); got != 4 {
		t.Fatalf("Available = %d, want 4", got)
	}
	p := f.modified()
	if got := f.db.Available(); got != 3 {
		t.Fatalf("Available with a modified page = %d, want 3", got)
	}
	f.db.StartWrite()
	f.db.EndWrite(p, true)
	if got := f.db.Available(); got != 4 {
		t.Fatalf("Available with the page on standby = %d, want 4", got)
	}
}

// A standby frame repurposed (its owner's PTE given back through the
// TransitionHook) after its owner read its transition PTE without the PFN
// lock, as a fault on another processor may: ReclaimOwned and
// DeleteTransitionOwned refuse it, changing nothing, where Reclaim and
// DeleteTransition would stop; its true owner's calls succeed.
func TestOwnedAfterRepurpose(t *testing.T) {
	f := newFixture(t, smallMap)
	p := f.modified()
	owner := f.info(p).Pte
	f.db.StartWrite()
	f.db.EndWrite(p, true)
	f.wantState(p, StateStandby)
	f.db.StandbyToFree(p) // the repurpose
	// The frame free, then another owner's (Modified).
	for _, r := range []physmem.PFN{p, f.modified()} {
		before := f.info(r)
		if before.Pte == owner {
			t.Fatalf("frame %d still names the old owner: %v", r, before)
		}
		if f.db.ReclaimOwned(r, owner) || f.db.DeleteTransitionOwned(r, owner) || f.info(r) != before {
			t.Fatalf("a repurposed frame was taken back by its old owner: %v, was %v", f.info(r), before)
		}
	}
	f.check()
	q := f.modified()
	if !f.db.ReclaimOwned(q, f.info(q).Pte) {
		t.Fatal("ReclaimOwned refused the owner")
	}
	f.wantState(q, StateActive)
	f.db.Unmap(q, true, false)
	if !f.db.DeleteTransitionOwned(q, f.info(q).Pte) {
		t.Fatal("DeleteTransitionOwned refused the owner")
	}
	f.wantState(q, StateFree)
	f.check()
}
