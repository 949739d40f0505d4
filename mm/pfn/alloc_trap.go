// Single-frame allocation: a frame from the lists becomes Active.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The page-fault handler calls AllocateZeroed for demand-zero faults and
// Reclaim for soft faults.
//
// The order in which lists are tried is NT's (see the package comment). A
// frame taken from Free or Standby for a zeroed request is zeroed under the
// lock: with interrupts off that holds them for one 4 KiB clear, the same
// bound ZeroSome keeps. A standby frame is repurposed before reuse: the
// TransitionHook restores its old owner's PTE so a later touch there faults
// the old contents in from their backing copy instead of seeing new data.

package pfn

import (
	"ntgo/mm/physmem"
	"ntgo/nt/bugcheck"
)

// The lists an allocation tries, in order.
var (
	zeroedOrder = [...]State{StateZeroed, StateFree, StateStandby}
	anyOrder    = [...]State{StateFree, StateZeroed, StateStandby}
)

// AllocateZeroed takes a zero-filled frame for the PTE at pte (0 if the
// frame will not be tracked by a PTE), recording originalPte as what that
// PTE must hold again should the frame later be taken from it. The frame is
// Active with one reference and one share, and cached. It returns false if
// no frame is available.
//
//go:nosplit
func (db *Database) AllocateZeroed(pte uintptr, originalPte uint64) (physmem.PFN, bool) {
	db.lock.Acquire()
	p, from, ok := db.take(&zeroedOrder)
	if ok {
		if from != StateZeroed {
			db.mem.ZeroFrame(physmem.PFN(p))
		}
		db.activate(p, pte, originalPte)
	}
	db.lock.Release()
	return physmem.PFN(p), ok
}

// AllocateAny is AllocateZeroed for callers that will overwrite the whole
// frame: its contents are whatever it last held.
//
//go:nosplit
func (db *Database) AllocateAny(pte uintptr, originalPte uint64) (physmem.PFN, bool) {
	db.lock.Acquire()
	p, _, ok := db.take(&anyOrder)
	if ok {
		db.activate(p, pte, originalPte)
	}
	db.lock.Release()
	return physmem.PFN(p), ok
}

// take removes the head of the first non-empty list of order, repurposing it
// if it was a standby frame, and reports which list it came from.
//
//go:nosplit
func (db *Database) take(order *[3]State) (p uint32, from State, ok bool) {
	for _, s := range order {
		if p, ok = db.removeHead(s); ok {
			if s == StateStandby {
				db.repurpose(p)
			}
			return p, s, true
		}
	}
	return 0, 0, false
}

// activate makes unlinked frame p Active for the PTE at pte.
//
//go:nosplit
func (db *Database) activate(p uint32, pte uintptr, originalPte uint64) {
	e := &db.entries[p]
	db.setState(e, StateActive)
	e.refCount, e.shareCount = 1, 1
	e.pte, e.originalPte = pte, originalPte
	e.flags = uint8(Cached)
}

// Reclaim resolves a soft fault: the owner of the transition PTE at pte
// takes back the frame p it names, which is Standby, Modified,
// ModifiedNoWrite, or Transition (unmapped but still locked). The frame
// becomes Active again with one share, keeping its contents, its cache
// attribute and its modified state.
//
//go:nosplit
func (db *Database) Reclaim(p physmem.PFN, pte uintptr) {
	db.lock.Acquire()
	e := db.entry(p)
	switch e.state {
	case StateStandby, StateModified, StateModifiedNoWrite:
	case StateTransition:
		if e.pte == 0 {
			db.badState(p, e.state)
		}
	default:
		db.badState(p, e.state)
	}
	db.checkOwner(p, e, pte)
	if e.state == StateTransition {
		// The locks keep their references; mapping adds the share's one.
		e.refCount++
	} else {
		db.unlink(uint32(p))
		e.refCount = 1
	}
	e.shareCount = 1
	db.setState(e, StateActive)
	db.lock.Release()
}

// checkOwner bugchecks unless pte is the PTE entry e records for frame p.
//
//go:nosplit
func (db *Database) checkOwner(p physmem.PFN, e *Entry, pte uintptr) {
	if e.pte != pte {
		db.fail(bugcheck.MemoryManagement, PteMismatch, pte, uintptr(p), e.pte)
	}
}
