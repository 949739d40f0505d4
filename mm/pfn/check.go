// The invariant checker.
//
// Check verifies everything the database promises (entry.go's per-state
// table and list_trap.go's list structure) by brute force: one pass over all
// entries, one walk of every list. It is for tests, the fuzzer and a
// debugger command, not for production paths: it holds the lock for
// O(frames). Finding the first violation it stops and reports it.
//
// Together the checks pin every frame to exactly one place: the entry pass
// counts each state and compares with the per-state counts (so those sum to
// the number of frames), and each list walk finds exactly its state's
// count of frames, all in that state, linked consistently both ways. A
// frame in a list state missing from its list, or on two lists, would make
// some walk come up short or long.
//
// The walks run under the lock, so they keep the trap-context rules
// (nosplit, no Go-heap allocation): the first violation is kept as plain
// values, which rule and the frame, entry, list and numbers its message
// names, and Check and CheckZeroed format it after releasing the lock.

package pfn

import (
	"fmt"

	"ntgo/mm/physmem"
)

// rule is an invariant a walk found broken.
type rule uint8

const (
	ruleHolds rule = iota // nothing found broken

	// The entry of frame, copied into entry, disagrees with its state.
	ruleUnknownState
	ruleLinkedOffList
	ruleActiveUnused
	ruleTransitionShared
	ruleReferencedOffActive
	ruleNoOwner
	ruleUnmappedOwned
	ruleMappableNotMapped
	ruleStrayRunFlags
	ruleNoWriteClean
	ruleFlagsMisfit

	// x entries are in state list, its count says y.
	ruleStateCount

	// The lists of state list hold x frames, its count says y.
	ruleListsSum

	// The walk of page list head (of state list) went wrong:
	ruleLinkBeyond      // at the link to frame
	ruleListTooLong     // past its count y
	ruleListWrongState  // at frame, entry its copy
	ruleListBrokenBlink // at frame, entry its copy, after frame x
	ruleListWrongLast   // the head's last is x, the walk ended at y
	ruleListCount       // it found x frames, the head says y
	ruleListWrongNode   // frame, entry its copy, is on node x

	// CheckZeroed's walk of the zeroed list went wrong:
	ruleZeroedLinkBeyond // the list links to frame
	ruleNotZeroed        // frame holds x at offset y
)

// violation is the first broken invariant a walk found: the rule and the
// values its message names (each rule says which).
type violation struct {
	rule  rule
	frame uint32 // the frame concerned
	entry Entry  // a copy of its entry
	list  State  // the list's state, or the state counted
	head  int    // the list
	x, y  uint64 // the rule's numbers
}

// Check returns an error describing the first broken invariant, or nil.
func (db *Database) Check() error {
	db.lock.Acquire()
	v := db.findViolation()
	db.lock.Release()
	return v.err()
}

// findViolation is Check's walk: one pass over the entries, then the lists.
//
//go:nosplit
func (db *Database) findViolation() violation {
	var seen [NumStates]uint64
	for p := range db.entries {
		e := &db.entries[p]
		if e.state >= NumStates {
			return violation{rule: ruleUnknownState, frame: uint32(p), entry: *e}
		}
		seen[e.state]++
		if r := e.check(); r != ruleHolds {
			return violation{rule: r, frame: uint32(p), entry: *e}
		}
	}
	// Every entry was counted once, so equal counts also sum to the frames.
	for s := range State(NumStates) {
		if seen[s] != db.count[s] {
			return violation{rule: ruleStateCount, list: s, x: seen[s], y: db.count[s]}
		}
	}
	var listed [numLists]uint64
	for i := range db.lists {
		if v := db.checkList(i); v.rule != ruleHolds {
			return v
		}
		listed[listState(i)] += db.lists[i].n
	}
	for s := range State(numLists) {
		if listed[s] != db.count[s] {
			return violation{rule: ruleListsSum, list: s, x: listed[s], y: db.count[s]}
		}
	}
	return violation{}
}

// check returns the rule the fields of one entry break against its state.
//
//go:nosplit
func (e *Entry) check() rule {
	s := e.state
	listed := e.flink != noLink || e.blink != noLink
	contig := e.flags&(flagContiguous|flagStartOfRun) != 0
	owned := s == StateStandby || s == StateModified || s == StateModifiedNoWrite
	unmapped := s == StateZeroed || s == StateFree || s == StateBad || s == StateReserved
	switch {
	case listed && !s.listed():
		return ruleLinkedOffList
	case s == StateActive && (e.refCount == 0 || e.shareCount == 0):
		return ruleActiveUnused
	case s == StateTransition && (e.refCount == 0 || e.shareCount != 0):
		return ruleTransitionShared
	case s != StateActive && s != StateTransition && (e.refCount != 0 || e.shareCount != 0):
		return ruleReferencedOffActive
	case owned && e.pte == 0:
		return ruleNoOwner
	case unmapped && (e.pte != 0 || e.originalPte != 0 || e.flags != uint8(NotMapped)):
		return ruleUnmappedOwned
	case !unmapped && e.cache() == NotMapped:
		return ruleMappableNotMapped
	case contig && (s != StateActive || e.flags&flagContiguous == 0):
		return ruleStrayRunFlags
	case e.flags&flagNoWrite != 0 && e.flags&flagModified == 0:
		return ruleNoWriteClean
	case s == StateStandby && e.flags&(flagModified|flagRemovalRequested) != 0,
		s == StateModified && e.flags&(flagModified|flagNoWrite) != flagModified,
		s == StateModifiedNoWrite && e.flags&flagNoWrite == 0:
		return ruleFlagsMisfit
	}
	return ruleHolds
}

// checkList walks list i from its head.
//
//go:nosplit
func (db *Database) checkList(i int) violation {
	h := db.lists[i]
	s := listState(i)
	prev := uint32(noLink)
	var n uint64
	for p := h.first; p != noLink; p = db.entries[p].flink {
		switch {
		case p >= uint32(len(db.entries)):
			return violation{rule: ruleLinkBeyond, list: s, head: i, frame: p}
		case n == h.n:
			return violation{rule: ruleListTooLong, list: s, head: i, y: h.n}
		case db.entries[p].state != s:
			return violation{rule: ruleListWrongState, list: s, head: i, frame: p, entry: db.entries[p]}
		case db.entries[p].blink != prev:
			return violation{rule: ruleListBrokenBlink, list: s, head: i, frame: p, entry: db.entries[p], x: uint64(prev)}
		case db.listOf(p, s) != i:
			return violation{rule: ruleListWrongNode, list: s, head: i, frame: p, entry: db.entries[p], x: uint64(db.nodes.nodeOf(p))}
		}
		prev = p
		n++
	}
	if h.last != prev {
		return violation{rule: ruleListWrongLast, list: s, head: i, x: uint64(h.last), y: uint64(prev)}
	}
	if n != h.n {
		return violation{rule: ruleListCount, list: s, head: i, x: n, y: h.n}
	}
	return violation{}
}

// CheckZeroed returns an error unless every frame on the zeroed list reads
// as zeros. It reads every word of them, so it is for tests only.
func (db *Database) CheckZeroed() error {
	db.lock.Acquire()
	v := db.findDirtyZeroed()
	db.lock.Release()
	return v.err()
}

// load64Bytes is how much Memory.Load64 reads.
const load64Bytes = 8

// findDirtyZeroed is CheckZeroed's walk. The kernel's Memory.Load64, which
// it calls under the lock, is nosplit too (hyperspace).
//
//go:nosplit
func (db *Database) findDirtyZeroed() violation {
	for node := range uint32(MaxNodes) {
		h := db.lists[nodeList(node, StateZeroed)]
		p := h.first
		for range h.n {
			if p >= uint32(len(db.entries)) {
				return violation{rule: ruleZeroedLinkBeyond, frame: p}
			}
			for off := uint64(0); off < physmem.PageSize; off += load64Bytes {
				if v := db.mem.Load64(physmem.PFN(p).Addr() + off); v != 0 {
					return violation{rule: ruleNotZeroed, frame: p, x: v, y: off}
				}
			}
			p = db.entries[p].flink
		}
	}
	return violation{}
}

// err describes v, or is nil if v found nothing. It allocates, so it runs
// after the lock is released.
func (v *violation) err() error {
	e := &v.entry
	entry := fmt.Sprintf("pfn: frame %#x (%v)", v.frame, e.state)
	list := fmt.Sprintf("pfn: %v list", v.list)
	if node := v.head / numNodeStates; v.head < sharedLists && node != 0 {
		list += fmt.Sprintf(" of node %d", node)
	}
	switch v.rule {
	case ruleHolds:
		return nil
	case ruleUnknownState:
		return fmt.Errorf("pfn: frame %#x: state %v", v.frame, e.state)
	case ruleLinkedOffList:
		return fmt.Errorf("%s: linked (%#x, %#x) while off the lists", entry, e.flink, e.blink)
	case ruleActiveUnused:
		return fmt.Errorf("%s: ref %d share %d: an active frame needs both", entry, e.refCount, e.shareCount)
	case ruleTransitionShared:
		return fmt.Errorf("%s: ref %d share %d: a transition frame is locked and unmapped", entry, e.refCount, e.shareCount)
	case ruleReferencedOffActive:
		return fmt.Errorf("%s: ref %d share %d off the active states", entry, e.refCount, e.shareCount)
	case ruleNoOwner:
		return fmt.Errorf("%s: no owner PTE", entry)
	case ruleUnmappedOwned:
		return fmt.Errorf("%s: pte %#x original %#x flags %#x: must be unowned and clear", entry, e.pte, e.originalPte, e.flags)
	case ruleMappableNotMapped:
		return fmt.Errorf("%s: cache attribute NotMapped on a mappable frame", entry)
	case ruleStrayRunFlags:
		return fmt.Errorf("%s: contiguous-run flags %#x", entry, e.flags)
	case ruleNoWriteClean:
		return fmt.Errorf("%s: no-write without modified", entry)
	case ruleFlagsMisfit:
		return fmt.Errorf("%s: flags %#x do not fit the list", entry, e.flags)
	case ruleStateCount:
		return fmt.Errorf("pfn: %v: %d frames, count says %d", v.list, v.x, v.y)
	case ruleLinkBeyond:
		return fmt.Errorf("%s: link to frame %#x beyond the database", list, v.frame)
	case ruleListTooLong:
		return fmt.Errorf("%s: longer than its count %d", list, v.y)
	case ruleListWrongState:
		return fmt.Errorf("%s: frame %#x is %v", list, v.frame, e.state)
	case ruleListBrokenBlink:
		return fmt.Errorf("%s: frame %#x: blink %#x, previous frame %#x", list, v.frame, e.blink, v.x)
	case ruleListWrongLast:
		return fmt.Errorf("%s: last is %#x, walk ended at %#x", list, v.x, v.y)
	case ruleListCount:
		return fmt.Errorf("%s: %d frames, count says %d", list, v.x, v.y)
	case ruleListWrongNode:
		return fmt.Errorf("%s: frame %#x is on node %d", list, v.frame, v.x)
	case ruleListsSum:
		return fmt.Errorf("pfn: %v lists: %d frames, count says %d", v.list, v.x, v.y)
	case ruleZeroedLinkBeyond:
		return fmt.Errorf("pfn: zeroed list links to frame %#x", v.frame)
	case ruleNotZeroed:
		return fmt.Errorf("pfn: zeroed frame %#x holds %#x at offset %#x", v.frame, v.x, v.y)
	}
	return fmt.Errorf("pfn: broken rule %d", v.rule)
}
