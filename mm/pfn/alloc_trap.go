// Single-frame allocation: a frame from the lists becomes Active.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The page-fault handler calls AllocateZeroed for demand-zero faults and
// Reclaim for soft faults.
//
// The order in which lists are tried is NT's, node by node (see the
// package comment). A
// frame taken from Free or Standby for a zeroed request is zeroed under the
// lock: with interrupts off that holds them for one 4 KiB clear, on the
// path a zeroed list kept full by ZeroSome (which clears outside the lock)
// makes rare. A standby frame is repurposed before reuse: the
// TransitionHook restores its old owner's PTE so a later touch there faults
// the old contents in from their backing copy instead of seeing new data.

package pfn

import (
	"ntgo/mm/physmem"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
)

// The node lists an allocation tries, in order, on each node; Standby
// comes after every node's.
var (
	zeroedOrder = [...]State{StateZeroed, StateFree}
	anyOrder    = [...]State{StateFree, StateZeroed}
)

// AllocateZeroed takes a zero-filled frame for the PTE at pte (0 if the
// frame will not be tracked by a PTE), recording originalPte as what that
// PTE must hold again should the frame later be taken from it. The frame is
// Active with one reference and one share, and cached; it comes from the
// current processor's node if that has one. It returns false if no frame
// is available.
//
//go:nosplit
func (db *Database) AllocateZeroed(pte uintptr, originalPte uint64) (physmem.PFN, bool) {
	return db.allocate(pte, originalPte, true, ke.GetCurrentNodeNumber(), false)
}

// AllocateAny is AllocateZeroed for callers that will overwrite the whole
// frame: its contents are whatever it last held.
//
//go:nosplit
func (db *Database) AllocateAny(pte uintptr, originalPte uint64) (physmem.PFN, bool) {
	return db.allocate(pte, originalPte, false, ke.GetCurrentNodeNumber(), false)
}

// AllocateOnNode is AllocateZeroed (zeroed) or AllocateAny on node first:
// if required, only a frame of that node will do (false if it has none, or
// there is no such node), otherwise the other nodes follow.
//
//go:nosplit
func (db *Database) AllocateOnNode(pte uintptr, originalPte uint64, zeroed bool, node uint32, required bool) (physmem.PFN, bool) {
	return db.allocate(pte, originalPte, zeroed, node, required)
}

//go:nosplit
func (db *Database) allocate(pte uintptr, originalPte uint64, zeroed bool, node uint32, required bool) (physmem.PFN, bool) {
	order := &anyOrder
	if zeroed {
		order = &zeroedOrder
	}
	db.lock.Acquire()
	if db.count[StateZeroed]+db.count[StateFree] == 0 || db.nodeEmpty(node) {
		// New free frames before repurposing standby ones, and one chunk
		// more towards the preferred node's frames before another node's.
		db.growBy(GrowChunk)
	}
	p, from, ok := db.take(order, node, required)
	for !ok && db.Frames() < physmem.PFN(cap(db.entries)) {
		db.growBy(GrowChunk)
		p, from, ok = db.take(order, node, required)
	}
	if ok {
		if zeroed && from != StateZeroed {
			db.mem.ZeroFrame(physmem.PFN(p))
		}
		db.activate(p, pte, originalPte)
	}
	db.lock.Release()
	return physmem.PFN(p), ok
}

// nodeEmpty reports whether node, an existing one, has no zeroed or free
// frame.
//
//go:nosplit
func (db *Database) nodeEmpty(node uint32) bool {
	return node < db.nodes.count && db.lists[nodeList(node, StateZeroed)].n+db.lists[nodeList(node, StateFree)].n == 0
}

// take removes a frame for an allocation preferring node: the head of the
// first non-empty list of order on node, then on each other node in turn
// (none if required), then Standby's, repurposed. It reports which list
// state the frame came from.
//
//go:nosplit
func (db *Database) take(order *[numNodeStates]State, node uint32, required bool) (p uint32, from State, ok bool) {
	nodes := db.nodes.count
	if node >= nodes {
		if required {
			return 0, 0, false
		}
		node = 0
	}
	for k := uint32(0); k < nodes; k++ {
		n := (node + k) % nodes
		for _, s := range order {
			if p, ok = db.removeHead(nodeList(n, s)); ok {
				return p, s, true
			}
		}
		if required {
			break
		}
	}
	// Standby's head directly, not through standbyOn: the trap-context
	// path stays within the nosplit stack budget.
	if required && nodes > 1 {
		p, ok = db.standbyOn(node)
	} else {
		p, ok = db.removeHead(sharedList(StateStandby))
	}
	if ok {
		db.repurpose(p)
		return p, StateStandby, true
	}
	return 0, 0, false
}

// standbyOn unlinks the oldest standby frame on node (a walk of the list:
// only requests that require a node, which never come from trap context,
// ask for that).
//
//go:nosplit
func (db *Database) standbyOn(node uint32) (uint32, bool) {
	for p := db.lists[sharedList(StateStandby)].first; p != noLink; p = db.entries[p].flink {
		if p >= uint32(len(db.entries)) {
			db.fail(bugcheck.PfnListCorrupt, ListEntryCorrupt, uintptr(p), db.highest(), 0)
		}
		if db.nodes.nodeOf(p) == node {
			db.unlink(p)
			return p, true
		}
	}
	return 0, false
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
	e := db.checkTransition(p, pte)
	db.reclaim(p, e)
	db.lock.Release()
}

// checkTransition returns p's entry, bugchecking unless p is a transition
// frame (Standby, Modified, ModifiedNoWrite, or Transition with its PTE
// not yet deleted) owned by pte. The PFN lock is held.
//
//go:nosplit
func (db *Database) checkTransition(p physmem.PFN, pte uintptr) *Entry {
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
	return e
}

// ReclaimOwned is Reclaim for an owner that read its transition PTE
// without the PFN lock: on another processor a repurpose (the
// TransitionHook, under the PFN lock) may have taken p from it since and
// written its PTE back. It reports false, changing nothing, if p is no
// longer the transition frame of pte; the caller reads the PTE again.
//
//go:nosplit
func (db *Database) ReclaimOwned(p physmem.PFN, pte uintptr) bool {
	return db.ifTransitionOf(p, pte, (*Database).reclaim)
}

// ifTransitionOf does move to p under the PFN lock and reports true if p
// is a transition frame (off the active state, not free) owned by pte;
// false, changing nothing, if not.
//
//go:nosplit
func (db *Database) ifTransitionOf(p physmem.PFN, pte uintptr, move func(*Database, physmem.PFN, *Entry)) bool {
	db.lock.Acquire()
	e := db.entry(p)
	ok := false
	switch e.state {
	case StateStandby, StateModified, StateModifiedNoWrite, StateTransition:
		ok = pte != 0 && e.pte == pte
	}
	if ok {
		move(db, p, e)
	}
	db.lock.Release()
	return ok
}

// reclaim is Reclaim's move, the PFN lock held and the owner checked.
//
//go:nosplit
func (db *Database) reclaim(p physmem.PFN, e *Entry) {
	if e.state == StateTransition {
		// The locks keep their references; mapping adds the share's one.
		e.refCount++
	} else {
		db.unlink(uint32(p))
		e.refCount = 1
	}
	e.shareCount = 1
	db.setState(e, StateActive)
}

// checkOwner bugchecks unless pte is the PTE entry e records for frame p.
//
//go:nosplit
func (db *Database) checkOwner(p physmem.PFN, e *Entry, pte uintptr) {
	if e.pte != pte {
		db.fail(bugcheck.MemoryManagement, PteMismatch, pte, uintptr(p), e.pte)
	}
}
