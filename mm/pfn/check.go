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

package pfn

import (
	"fmt"

	"ntgo/mm/physmem"
)

// Check returns an error describing the first broken invariant, or nil.
func (db *Database) Check() error {
	db.lock.Acquire()
	defer db.lock.Release()
	var seen [NumStates]uint64
	for p := range db.entries {
		e := &db.entries[p]
		if e.state >= NumStates {
			return fmt.Errorf("pfn: frame %#x: state %v", p, e.state)
		}
		seen[e.state]++
		if err := e.check(); err != nil {
			return fmt.Errorf("pfn: frame %#x (%v): %v", p, e.state, err)
		}
	}
	// Every entry was counted once, so equal counts also sum to the frames.
	for s := range State(NumStates) {
		if seen[s] != db.count[s] {
			return fmt.Errorf("pfn: %v: %d frames, count says %d", s, seen[s], db.count[s])
		}
	}
	for s := range State(numLists) {
		if err := db.checkList(s); err != nil {
			return fmt.Errorf("pfn: %v list: %v", s, err)
		}
	}
	return nil
}

// check verifies the fields of one entry against its state.
func (e *Entry) check() error {
	s := e.state
	listed := e.flink != noLink || e.blink != noLink
	contig := e.flags&(flagContiguous|flagStartOfRun) != 0
	owned := s == StateStandby || s == StateModified || s == StateModifiedNoWrite
	unmapped := s == StateZeroed || s == StateFree || s == StateBad || s == StateReserved
	switch {
	case listed && !s.listed():
		return fmt.Errorf("linked (%#x, %#x) while off the lists", e.flink, e.blink)
	case s == StateActive && (e.refCount == 0 || e.shareCount == 0):
		return fmt.Errorf("ref %d share %d: an active frame needs both", e.refCount, e.shareCount)
	case s == StateTransition && (e.refCount == 0 || e.shareCount != 0):
		return fmt.Errorf("ref %d share %d: a transition frame is locked and unmapped", e.refCount, e.shareCount)
	case s != StateActive && s != StateTransition && (e.refCount != 0 || e.shareCount != 0):
		return fmt.Errorf("ref %d share %d off the active states", e.refCount, e.shareCount)
	case owned && e.pte == 0:
		return fmt.Errorf("no owner PTE")
	case unmapped && (e.pte != 0 || e.originalPte != 0 || e.flags != uint8(NotMapped)):
		return fmt.Errorf("pte %#x original %#x flags %#x: must be unowned and clear", e.pte, e.originalPte, e.flags)
	case !unmapped && e.cache() == NotMapped:
		return fmt.Errorf("cache attribute NotMapped on a mappable frame")
	case contig && (s != StateActive || e.flags&flagContiguous == 0):
		return fmt.Errorf("contiguous-run flags %#x", e.flags)
	case e.flags&flagNoWrite != 0 && e.flags&flagModified == 0:
		return fmt.Errorf("no-write without modified")
	case s == StateStandby && e.flags&(flagModified|flagRemovalRequested) != 0,
		s == StateModified && e.flags&(flagModified|flagNoWrite) != flagModified,
		s == StateModifiedNoWrite && e.flags&flagNoWrite == 0:
		return fmt.Errorf("flags %#x do not fit the list", e.flags)
	}
	return nil
}

// checkList walks list s from its head.
func (db *Database) checkList(s State) error {
	h := db.lists[s]
	prev := uint32(noLink)
	var n uint64
	for p := h.first; p != noLink; p = db.entries[p].flink {
		switch {
		case p >= uint32(len(db.entries)):
			return fmt.Errorf("link to frame %#x beyond the database", p)
		case n == db.count[s]:
			return fmt.Errorf("longer than its count %d", db.count[s])
		case db.entries[p].state != s:
			return fmt.Errorf("frame %#x is %v", p, db.entries[p].state)
		case db.entries[p].blink != prev:
			return fmt.Errorf("frame %#x: blink %#x, previous frame %#x", p, db.entries[p].blink, prev)
		}
		prev = p
		n++
	}
	if h.last != prev {
		return fmt.Errorf("last is %#x, walk ended at %#x", h.last, prev)
	}
	if n != db.count[s] {
		return fmt.Errorf("%d frames, count says %d", n, db.count[s])
	}
	return nil
}

// CheckZeroed returns an error unless every frame on the zeroed list reads
// as zeros. It reads every word of them, so it is for tests only.
func (db *Database) CheckZeroed() error {
	db.lock.Acquire()
	defer db.lock.Release()
	p := db.lists[StateZeroed].first
	for range db.count[StateZeroed] {
		if p >= uint32(len(db.entries)) {
			return fmt.Errorf("pfn: zeroed list links to frame %#x", p)
		}
		for off := uint64(0); off < physmem.PageSize; off += 8 {
			if v := db.mem.Load64(physmem.PFN(p).Addr() + off); v != 0 {
				return fmt.Errorf("pfn: zeroed frame %#x holds %#x at offset %#x", p, v, off)
			}
		}
		p = db.entries[p].flink
	}
	return nil
}
