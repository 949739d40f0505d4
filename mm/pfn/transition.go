// Explicit moves of frames that wait on the standby and modified lists.
//
// These are the memory manager's housekeeping, run from goroutines: the
// modified page writer (AllowWrite, ModifiedToStandby), the owner of a
// transition PTE deleting it (DeleteTransition), trimming the standby list
// (StandbyToFree), and hardware error handling (MarkBad). Each takes the
// frame off its list and lets place (release_trap.go) choose the next one,
// so the routing rules live in one spot.

package pfn

import "ntgo/mm/physmem"

// DeleteTransition is the owner of the transition PTE at pte deleting it:
// frame p (Standby, Modified, ModifiedNoWrite, or Transition and still
// locked) is no longer wanted and goes to the free list, at once or when
// its last lock is dropped. The owner is not called back.
func (db *Database) DeleteTransition(p physmem.PFN, pte uintptr) {
	db.lock.Acquire()
	e := db.entry(p)
	switch e.state {
	case StateStandby, StateModified, StateModifiedNoWrite, StateTransition:
	default:
		db.badState(p, e.state)
	}
	if e.pte == 0 {
		// A Transition frame whose PTE was already deleted.
		db.badState(p, e.state)
	}
	db.checkOwner(p, e, pte)
	e.pte, e.originalPte = 0, 0
	if e.state != StateTransition {
		db.unlink(uint32(p))
		db.place(uint32(p))
	}
	db.lock.Release()
}

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
