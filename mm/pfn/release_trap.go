// Share and reference counts, and where a released frame goes.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// As in NT, the share count is the number of valid PTEs mapping a frame and
// the reference count is one for "mapped at all" (share count > 0) plus one
// per lock (an MDL probe, I/O in flight). Dropping the last share drops that
// one reference and leaves the frame in Transition if locks remain; the last
// reference gone, place puts it on a list:
//
//	owner's PTE deleted (pte 0)   → Free, or Bad if removal was requested
//	modified                      → Modified, or ModifiedNoWrite: removal
//	                                waits until the contents are written
//	clean, removal requested      → Bad, the owner's PTE restored
//	clean                         → Standby
//
// A frame of a contiguous run is released only as part of its run
// (FreeContiguous); Free or Unmap on it bugchecks.

package pfn

import (
	"ntgo/mm/physmem"
	"ntgo/nt/bugcheck"
)

// Free is the owner of the PTE at pte (0 for a frame allocated without one)
// deleting that PTE: it drops one share of Active frame p and forgets the
// PTE, so once unshared and unlocked the frame goes to the free list. Its
// contents are then garbage; they are not zeroed here.
//
//go:nosplit
func (db *Database) Free(p physmem.PFN, pte uintptr) {
	db.lock.Acquire()
	e := db.mappedEntry(p)
	db.checkOwner(p, e, pte)
	e.pte, e.originalPte = 0, 0
	db.dropShare(uint32(p))
	db.lock.Release()
}

// Unmap drops one share of Active frame p whose PTE becomes a transition
// PTE: its owner may Reclaim it until the frame is reused. dirty records
// that the PTE saw a write; noWrite that the modified contents may not be
// written out yet (the frame then waits on ModifiedNoWrite until AllowWrite).
//
//go:nosplit
func (db *Database) Unmap(p physmem.PFN, dirty, noWrite bool) {
	db.lock.Acquire()
	e := db.mappedEntry(p)
	if dirty {
		e.flags |= flagModified
	}
	if noWrite && e.flags&flagModified != 0 {
		e.flags |= flagNoWrite
	}
	db.dropShare(uint32(p))
	db.lock.Release()
}

// mappedEntry returns the entry of Active frame p that is not part of a
// contiguous run, bugchecking otherwise.
//
//go:nosplit
func (db *Database) mappedEntry(p physmem.PFN) *Entry {
	e := db.entry(p)
	if e.state != StateActive || e.flags&flagContiguous != 0 {
		db.badState(p, e.state)
	}
	return e
}

// AddShare records one more valid PTE mapping Active frame p.
//
//go:nosplit
func (db *Database) AddShare(p physmem.PFN) {
	db.lock.Acquire()
	e := db.entry(p)
	if e.state != StateActive {
		db.badState(p, e.state)
	}
	if e.shareCount == maxShare {
		db.fail(bugcheck.MemoryManagement, ShareOverflow, uintptr(p), uintptr(e.shareCount), 0)
	}
	e.shareCount++
	db.lock.Release()
}

// Managed reports whether frame p is RAM the database manages, which
// Reference accepts, rather than a hole, firmware or device memory. A
// frame's Reserved state never changes, so no lock is needed.
//
//go:nosplit
func (db *Database) Managed(p physmem.PFN) bool {
	return p < physmem.PFN(len(db.entries)) && db.entries[p].state != StateReserved
}

// Owner returns frame p's reference count and original PTE, as one read
// under the lock: a working-set trimmer asks whether a lock (MDL, I/O)
// holds the page and whether its contents have a backing copy.
//
//go:nosplit
func (db *Database) Owner(p physmem.PFN) (refs uint16, originalPte uint64) {
	db.lock.Acquire()
	e := db.entry(p)
	refs, originalPte = e.refCount, e.originalPte
	db.lock.Release()
	return refs, originalPte
}

// Available is how many frames an allocation can take now (zeroed, free
// and standby: NT's MmAvailablePages).
//
//go:nosplit
func (db *Database) Available() uint64 {
	db.lock.Acquire()
	n := available(&db.count)
	db.lock.Release()
	return n
}

// DirtyPages is how many frames wait on Modified and on ModifiedNoWrite.
//
//go:nosplit
func (db *Database) DirtyPages() (modified, noWrite uint64) {
	db.lock.Acquire()
	modified, noWrite = db.count[StateModified], db.count[StateModifiedNoWrite]
	db.lock.Release()
	return modified, noWrite
}

// Reference locks Active or Transition frame p (an MDL probe, I/O): it
// stays off the lists until the matching Dereference. It returns false,
// changing nothing, if the frame already has as many references as an
// entry can count; the caller fails its request.
//
//go:nosplit
func (db *Database) Reference(p physmem.PFN) bool {
	db.lock.Acquire()
	e := db.entry(p)
	if e.state != StateActive && e.state != StateTransition {
		db.badState(p, e.state)
	}
	ok := e.refCount < refLimit
	if ok {
		e.refCount++
	}
	db.lock.Release()
	return ok
}

// Dereference drops a lock taken by Reference; a Transition frame whose
// last lock it was goes to its list.
//
//go:nosplit
func (db *Database) Dereference(p physmem.PFN) {
	db.lock.Acquire()
	e := db.entry(p)
	// An Active frame's last reference belongs to its shares, not a lock.
	locked := e.state == StateActive && e.refCount > 1 || e.state == StateTransition
	if !locked {
		db.fail(bugcheck.PfnListCorrupt, UnlockedTooOften, uintptr(p), uintptr(e.shareCount), 0)
	}
	db.deref(uint32(p))
	db.lock.Release()
}

// dropShare removes one share of Active frame p; the last one takes the
// mapping's reference with it.
//
//go:nosplit
func (db *Database) dropShare(p uint32) {
	e := &db.entries[p]
	e.shareCount--
	if e.shareCount == 0 {
		db.setState(e, StateTransition)
		db.deref(p)
	}
}

// deref removes one reference of frame p and places it when none is left.
//
//go:nosplit
func (db *Database) deref(p uint32) {
	e := &db.entries[p]
	e.refCount--
	if e.refCount == 0 {
		db.place(p)
	}
}

// place puts unreferenced, unlinked frame p on the list its PTE and flags
// call for (see the file comment).
//
//go:nosplit
func (db *Database) place(p uint32) {
	e := &db.entries[p]
	removal := e.flags&flagRemovalRequested != 0
	switch {
	case e.pte == 0 || removal && e.flags&flagModified == 0:
		db.repurpose(p)
		e.flags = uint8(NotMapped)
		if removal {
			db.insert(p, StateBad)
		} else {
			db.insert(p, StateFree)
		}
	case e.flags&flagNoWrite != 0:
		db.insert(p, StateModifiedNoWrite)
	case e.flags&flagModified != 0:
		db.insert(p, StateModified)
	default:
		db.insert(p, StateStandby)
	}
}

// DeleteTransition is the owner of the transition PTE at pte deleting it:
// frame p (Standby, Modified, ModifiedNoWrite, or Transition and still
// locked) is no longer wanted and goes to the free list, at once or when
// its last lock is dropped. The owner is not called back. (A read that
// failed in the page-fault handler's or an interrupt's context deletes
// its frame so.)
//
//go:nosplit
func (db *Database) DeleteTransition(p physmem.PFN, pte uintptr) {
	db.lock.Acquire()
	e := db.checkTransition(p, pte)
	db.deleteTransition(p, e)
	db.lock.Release()
}

// DeleteTransitionOwned is DeleteTransition for an owner that read its
// transition PTE without the PFN lock (ReclaimOwned says why): false,
// changing nothing, if p is no longer the transition frame of pte.
//
//go:nosplit
func (db *Database) DeleteTransitionOwned(p physmem.PFN, pte uintptr) bool {
	return db.ifTransitionOf(p, pte, (*Database).deleteTransition)
}

// deleteTransition is DeleteTransition's move, the PFN lock held and the
// owner checked.
//
//go:nosplit
func (db *Database) deleteTransition(p physmem.PFN, e *Entry) {
	e.pte, e.originalPte = 0, 0
	if e.state != StateTransition {
		db.unlink(uint32(p))
		db.place(uint32(p))
	}
}
