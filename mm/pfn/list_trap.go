// Page lists.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Each of the six list states (Zeroed, Free, Standby, Modified,
// ModifiedNoWrite, Bad) has one doubly linked list threaded through the
// entries by frame number; the head holds the first and last frame. Insertion
// is at the tail and allocation takes the head, so every list is FIFO: the
// standby frame repurposed first is the one that has waited longest for its
// owner to come back. Removal from the middle (a reclaimed standby frame, a
// contiguous run) is O(1) through blink. NT additionally splits the free and
// zeroed lists by cache colour; one CPU does not need that.
//
// Counts are kept per state, not per list, so Stats can report every state;
// a list's length is its state's count. State changes go through setState so
// the counts cannot drift. Links are checked against their neighbours before
// anything is unlinked, which catches a corrupted entry before the damage
// spreads (PFN_LIST_CORRUPT 0x02).

package pfn

import (
	"ntgo/mm/physmem"
	"ntgo/nt/bugcheck"
)

// noLink is the link value for "no frame". It caps the database at noLink
// frames (16 TiB of physical memory).
const noLink = 1<<32 - 1

// listHead is one page list.
type listHead struct {
	first, last uint32
}

// setState moves entry e to state s in the per-state counts.
//
//go:nosplit
func (db *Database) setState(e *Entry, s State) {
	db.count[e.state]--
	db.count[s]++
	e.state = s
}

// insert puts frame p, which is on no list, at the tail of list s.
//
//go:nosplit
func (db *Database) insert(p uint32, s State) {
	e := &db.entries[p]
	if e.flink != noLink || e.blink != noLink {
		db.fail(bugcheck.PfnListCorrupt, ListEntryCorrupt, uintptr(p), db.highest(), uintptr(e.refCount))
	}
	h := &db.lists[s]
	db.setState(e, s)
	e.blink = h.last
	if h.last == noLink {
		h.first = p
	} else {
		db.entries[h.last].flink = p
	}
	h.last = p
}

// unlink takes frame p off the list its state names. Its state is left for
// the caller to change.
//
//go:nosplit
func (db *Database) unlink(p uint32) {
	e := &db.entries[p]
	h := &db.lists[e.state]
	if !db.linkedBack(p, e.blink, h.first, true) || !db.linkedBack(p, e.flink, h.last, false) {
		db.fail(bugcheck.PfnListCorrupt, ListEntryCorrupt, uintptr(p), db.highest(), uintptr(e.refCount))
	}
	if e.blink == noLink {
		h.first = e.flink
	} else {
		db.entries[e.blink].flink = e.flink
	}
	if e.flink == noLink {
		h.last = e.blink
	} else {
		db.entries[e.flink].blink = e.blink
	}
	e.flink, e.blink = noLink, noLink
}

// linkedBack reports whether p's neighbour n (its blink if back, else its
// flink) links back to p; with no neighbour, the list end must be p.
//
//go:nosplit
func (db *Database) linkedBack(p, n, end uint32, back bool) bool {
	switch {
	case n == noLink:
		return end == p
	case n >= uint32(len(db.entries)):
		return false
	case back:
		return db.entries[n].flink == p
	default:
		return db.entries[n].blink == p
	}
}

// removeHead unlinks and returns the first frame of list s, or false if the
// list is empty.
//
//go:nosplit
func (db *Database) removeHead(s State) (uint32, bool) {
	h := &db.lists[s]
	if (h.first == noLink) != (db.count[s] == 0) {
		db.fail(bugcheck.PfnListCorrupt, ListHeadCorrupt, uintptr(h.first), uintptr(available(&db.count)), 0)
	}
	p := h.first
	if p == noLink {
		return 0, false
	}
	if p >= uint32(len(db.entries)) || db.entries[p].state != s {
		db.fail(bugcheck.PfnListCorrupt, ListStateMismatch, uintptr(p), 0, 0)
	}
	db.unlink(p)
	return p, true
}

// repurpose takes frame p away from the owner of its transition PTE, if it
// has one: the TransitionHook restores that PTE to its original contents.
//
//go:nosplit
func (db *Database) repurpose(p uint32) {
	e := &db.entries[p]
	if e.pte != 0 && db.hook != nil {
		db.hook(physmem.PFN(p), e.pte, e.originalPte)
	}
	e.pte, e.originalPte = 0, 0
}

// highest is the highest frame in the database.
//
//go:nosplit
func (db *Database) highest() uintptr { return uintptr(len(db.entries)) - 1 }

// available is the number of frames an allocation can take, given the
// per-state counts (NT's MmAvailablePages).
//
//go:nosplit
func available(count *[NumStates]uint64) uint64 {
	return count[StateZeroed] + count[StateFree] + count[StateStandby]
}
