// Explicit moves of frames that wait on the standby and modified lists.
//
// These are the memory manager's housekeeping, run from goroutines: the
// modified page writer (AllowWrite, ModifiedToStandby, and StartWrite,
// SetOriginalPte, EndWrite around one write), the owner of a transition PTE
// deleting it (DeleteTransition), trimming the standby list
// (StandbyToFree), and hardware error handling (MarkBad). Each takes the
// frame off its list and lets place (release_trap.go) choose the next one,
// so the routing rules live in one spot.
//
// A write in flight, as NT's modified writer does it: StartWrite takes the
// head of the modified list, clears its modified flag and holds it in
// Transition with one reference, the write's; the owner may soft-fault it
// back meanwhile (Reclaim), dirty it (the next trim's Unmap marks it
// modified again) or delete it. EndWrite drops the reference: a failed
// write marks the frame modified again, so place routes it back to the
// modified list and nothing is lost.

package pfn

import (
	"ntgo/mm/physmem"
	"ntgo/nt/bugcheck"
)

// AllowWrite moves ModifiedNoWrite frame p to the modified list: whatever
// had to reach disk before its contents (a log) has.
func (db *Database) AllowWrite(p physmem.PFN) {
	db.lock.Acquire()
	e := db.listedEntry(p, StateModifiedNoWrite)
	e.flags &^= flagNoWrite
	db.place(uint32(p))
	db.lock.Release()
}

// ModifiedToStandby completes the modified page writer's write of Modified
// frame p: its contents now have a backing copy, so it is clean and waits
// on the standby list (or goes to the bad list if its removal was requested
// while it waited, its owner told through the TransitionHook).
func (db *Database) ModifiedToStandby(p physmem.PFN) {
	db.lock.Acquire()
	e := db.listedEntry(p, StateModified)
	e.flags &^= flagModified
	db.place(uint32(p))
	db.lock.Release()
}

// StartWrite takes the frame at the head of the modified list for the
// modified page writer (see the file comment) and returns it with its
// owner's PTE address and original PTE, or false if the list is empty.
func (db *Database) StartWrite() (p physmem.PFN, pte uintptr, originalPte uint64, ok bool) {
	db.lock.Acquire()
	q, ok := db.removeHead(sharedList(StateModified))
	if ok {
		e := &db.entries[q]
		e.flags &^= flagModified
		db.setState(e, StateTransition)
		e.refCount = 1
		p, pte, originalPte = physmem.PFN(q), e.pte, e.originalPte
	}
	db.lock.Release()
	return p, pte, originalPte, ok
}

// SwapOriginalPte makes next what the PTE at pte must hold again if frame
// p is taken from it (the writer names the paging-file slot it wrote, a
// trim of a rewritten page drops it), and reports true, if p still belongs
// to that PTE and its original PTE is still old; false, changing nothing,
// otherwise (the owner deleted it, or another party changed it first).
// Trimmers call it with the page-table lock held, so it is nosplit.
//
//go:nosplit
func (db *Database) SwapOriginalPte(p physmem.PFN, pte uintptr, old, next uint64) bool {
	db.lock.Acquire()
	e := db.entry(p)
	owned := e.pte == pte && pte != 0 && e.originalPte == old && (e.state == StateActive ||
		e.state == StateTransition || e.state == StateStandby || e.state == StateModified ||
		e.state == StateModifiedNoWrite)
	if owned {
		e.originalPte = next
	}
	db.lock.Release()
	return owned
}

// EndWrite ends the write StartWrite began on frame p: written says whether
// its contents reached the backing store. The write's reference is dropped;
// an unmapped frame goes to Standby if written and not dirtied meanwhile,
// to Modified if not, to Free if its owner deleted it.
func (db *Database) EndWrite(p physmem.PFN, written bool) {
	db.lock.Acquire()
	e := db.entry(p)
	if e.state != StateTransition && e.state != StateActive {
		db.badState(p, e.state)
	}
	if !written {
		e.flags |= flagModified
	}
	if e.state == StateActive && e.refCount < 2 {
		db.fail(bugcheck.PfnListCorrupt, UnlockedTooOften, uintptr(p), uintptr(e.shareCount), 0)
	}
	db.deref(uint32(p))
	db.lock.Release()
}

// StandbyToFree takes Standby frame p from its owner, whose transition PTE
// the TransitionHook restores, and frees it.
func (db *Database) StandbyToFree(p physmem.PFN) {
	db.lock.Acquire()
	db.listedEntry(p, StateStandby)
	db.repurpose(uint32(p))
	db.place(uint32(p))
	db.lock.Release()
}

// MarkBad retires frame p. An unused frame (Zeroed, Free, Standby — its
// owner told through the TransitionHook) goes to the bad list now, and
// MarkBad returns true, as it does for a frame already Bad. A frame in use
// or holding unwritten data (Active, Transition, Modified, ModifiedNoWrite)
// is flagged and goes to the bad list when released; MarkBad returns false.
func (db *Database) MarkBad(p physmem.PFN) bool {
	db.lock.Acquire()
	e := db.entry(p)
	now := true
	switch e.state {
	case StateZeroed, StateFree, StateStandby:
		e.flags |= flagRemovalRequested
		db.unlink(uint32(p))
		db.place(uint32(p))
	case StateBad:
	default:
		e.flags |= flagRemovalRequested
		now = false
	}
	db.lock.Release()
	return now
}

// listedEntry takes frame p, which must be in list state s, off that list
// and returns its entry.
//
//go:nosplit
func (db *Database) listedEntry(p physmem.PFN, s State) *Entry {
	e := db.entry(p)
	if e.state != s {
		db.badState(p, e.state)
	}
	db.unlink(uint32(p))
	return e
}
