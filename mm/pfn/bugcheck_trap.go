// How the database stops on misuse and corruption.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Every check runs before the operation changes anything, so when a bugcheck
// is caught (host tests) the database is still consistent and its lock is
// released; on bare metal the bugcheck does not return.
//
// PFN_LIST_CORRUPT (0x4E) subtypes, with NT's parameter meanings:
//
//	0x01  a list head is corrupt: its first link disagrees with its count.
//	      P2 the head's first link, P3 available pages (zeroed+free+standby), P4 0.
//	0x02  a list entry is corrupt: its neighbours do not link back to it, a
//	      link leaves the database, or a frame about to be inserted is still
//	      linked (double insert). P2 the frame, P3 the highest frame, P4 its
//	      reference count.
//	0x07  a frame was unlocked (Dereference) more often than it was locked.
//	      P2 the frame, P3 its share count, P4 0.
//	0x8D  a list holds a frame whose state is not that list's (for example a
//	      Bad frame at the head of the free list). P2 the frame, P3 0, P4 0.
//	0x99  the frame is not in a state the operation accepts (freeing a free
//	      frame, reclaiming a zeroed one, releasing one frame of a contiguous
//	      run, freeing a run from its middle or while a frame of it has an
//	      extra share), or it is not RAM the database manages: beyond the
//	      database or Reserved, reported as state Reserved. P2 the frame, P3
//	      its state, P4 0.
//	0x9A  a frame still locked for I/O is being freed (FreeContiguous of a
//	      frame with extra references). P2 the frame, P3 its state, P4 its
//	      reference count.
//
// MEMORY_MANAGEMENT (0x1A) subtypes:
//
//	0x404   freeing a frame through a PTE that is not the one the database
//	        records for it. P2 the caller's PTE address, P3 the frame (NT
//	        passes the PTE contents, which this layer never reads), P4 the
//	        PTE address the entry records.
//	0x888A  a share count would overflow: the PTE/PFN bookkeeping is broken.
//	        P2 the frame, P3 its share count, P4 0.

package pfn

import (
	"ntgo/mm/physmem"
	"ntgo/nt/bugcheck"
)

// PFN_LIST_CORRUPT subtypes (parameter 1).
const (
	ListHeadCorrupt   = 0x01
	ListEntryCorrupt  = 0x02
	UnlockedTooOften  = 0x07
	ListStateMismatch = 0x8D
	FrameStateInvalid = 0x99
	FreedWhileLocked  = 0x9A
)

// MEMORY_MANAGEMENT subtypes (parameter 1).
const (
	PteMismatch   = 0x404
	ShareOverflow = 0x888A
)

// fail releases the PFN lock and bugchecks; it does not return.
//
//go:nosplit
func (db *Database) fail(code bugcheck.Code, p1, p2, p3, p4 uintptr) {
	db.lock.Release()
	bugcheck.KeBugCheckEx(code, p1, p2, p3, p4)
}

// badState bugchecks for an operation on frame p in a state it does not accept.
//
//go:nosplit
func (db *Database) badState(p physmem.PFN, s State) {
	db.fail(bugcheck.PfnListCorrupt, FrameStateInvalid, uintptr(p), uintptr(s), 0)
}

// entry returns frame p's entry, bugchecking if p is not RAM the database
// manages. The caller holds the lock.
//
//go:nosplit
func (db *Database) entry(p physmem.PFN) *Entry {
	if p >= physmem.PFN(len(db.entries)) || db.entries[p].state == StateReserved {
		db.badState(p, StateReserved)
	}
	return &db.entries[p]
}
