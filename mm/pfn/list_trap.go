// Page lists.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Zeroed and Free have one list per NUMA node (the node the frame's number
// falls in, node.go), as NT colours them per node; Standby, Modified,
// ModifiedNoWrite and Bad have one list each. Every list is doubly linked
// through the entries by frame number; the head holds the first and last
// frame and the list's length. Insertion is at the tail and allocation takes
// the head, so every list is FIFO: the standby frame repurposed first is the
// one that has waited longest for its owner to come back. Removal from the
// middle (a reclaimed standby frame, a contiguous run) is O(1) through blink.
// NT also splits the free and zeroed lists by cache colour within a node;
// ntgo does not.
//
// Counts are kept per state, so Stats reports every state and the totals
// every caller saw before nodes existed; a list's length is in its head, and
// a state's lists sum to its count (Check). State changes go through
// setState so the counts cannot drift. Links are checked against their neighbours before
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
	n           uint64 // frames on the list
}

// The page lists: Zeroed and Free once per node (numNodeStates), the other
// list states once, after them.
const (
	numNodeStates = 2 // StateZeroed and StateFree
	sharedLists   = MaxNodes * numNodeStates
	numHeads      = sharedLists + numLists - numNodeStates
)

// nodeList is the index of node's list of state s (Zeroed or Free).
//
//go:nosplit
func nodeList(node uint32, s State) int { return int(node)*numNodeStates + int(s) }

// sharedList is the index of the one list of state s (Standby and above).
//
//go:nosplit
func sharedList(s State) int { return sharedLists + int(s-numNodeStates) }

// listOf is the index of the list frame p belongs on in list state s.
//
//go:nosplit
func (db *Database) listOf(p uint32, s State) int {
	if s < numNodeStates {
		return nodeList(db.nodes.nodeOf(p), s)
	}
	return sharedList(s)
}

// listState is the state of the frames on list i.
//
//go:nosplit
func listState(i int) State {
	if i < sharedLists {
		return State(i % numNodeStates)
	}
	return State(i-sharedLists) + numNodeStates
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
	h := &db.lists[db.listOf(p, s)]
	db.setState(e, s)
	e.blink = h.last
	if h.last == noLink {
		h.first = p
	} else {
		db.entries[h.last].flink = p
	}
	h.last = p
	h.n++
}

// unlink takes frame p off the list its state names. Its state is left for
// the caller to change.
//
//go:nosplit
func (db *Database) unlink(p uint32) {
	e := &db.entries[p]
	h := &db.lists[db.listOf(p, e.state)]
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
	h.n--
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

// removeHead unlinks and returns the first frame of list i, or false if the
// list is empty.
//
//go:nosplit
func (db *Database) removeHead(i int) (uint32, bool) {
	h := &db.lists[i]
	s := listState(i)
	if (h.first == noLink) != (h.n == 0) {
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

// nodeOf is the node of frame p: the node of the range holding it, node 0
// if none does.
//
//go:nosplit
func (t *nodeTable) nodeOf(p uint32) uint32 {
	for i := 0; i < t.n && i < len(t.ranges); i++ {
		r := &t.ranges[i]
		if physmem.PFN(p) < r.First {
			break
		}
		if physmem.PFN(p) < r.End {
			return r.Node
		}
	}
	return 0
}

// relink empties the lists of state s (Zeroed or Free) on every node and
// puts their frames back, in list order, on the lists the node table now
// names. Not called in trap context; nosplit because SetNodes calls it
// under the lock.
//
//go:nosplit
func (db *Database) relink(s State) {
	var old [MaxNodes]uint32
	for node := range uint32(MaxNodes) {
		h := &db.lists[nodeList(node, s)]
		old[node] = h.first
		*h = listHead{first: noLink, last: noLink}
	}
	for _, p := range old {
		for p != noLink {
			if p >= uint32(len(db.entries)) {
				db.fail(bugcheck.PfnListCorrupt, ListEntryCorrupt, uintptr(p), db.highest(), 0)
			}
			e := &db.entries[p]
			next := e.flink
			e.flink, e.blink = noLink, noLink
			db.insert(p, s)
			p = next
		}
	}
}
