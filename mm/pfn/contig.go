// Physically contiguous runs, for MmAllocateContiguousMemorySpecifyCache.
//
// A run is found by scanning the entries, not the lists: any frame on the
// zeroed, free or standby list can be part of one (standby frames are
// repurposed). The scan goes downwards from the highest acceptable frame,
// keeping low memory for devices that can address nothing else. A candidate
// window [start, end) is moved below any frame it cannot take and below any
// boundary multiple it would cross; since the window only moves down and
// restarts below the blocking frame, each entry is examined about once and
// the scan is O(frames in range). It holds the lock, with interrupts off on
// bare metal, for that whole scan, so it is for goroutines and is expected
// to be rare (drivers allocate DMA buffers at start). What runs under the
// lock, the scan and the entry updates, still keeps the trap-context rules
// (nosplit, no Go-heap allocation; the package comment says why); it stays
// here rather than in a *_trap.go file because no trap-context code calls it.
//
// Every frame of a run is Active with one reference, one share and no PTE,
// flagged Contiguous; the first is also flagged StartOfRun. The flags let
// FreeContiguous find the run's end from its base and refuse to free
// anything that is not a whole run, and make Free/Unmap refuse single frames
// of it. Contents are not zeroed, as in NT.
//
// Nodes: a run is looked for first among the frames of the preferred node
// (a scan that treats every other node's frames as taken), then, unless
// the node is required, anywhere; with one node the first scan is the
// whole one.

package pfn

import (
	"math/bits"

	"ntgo/mm/physmem"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// anyNode is findRun's node for "frames of any node".
const anyNode = ^uint32(0)

// AllocateContiguous takes n physically contiguous frames, all within
// frames [lowest, highest], not crossing a multiple of boundary frames
// (0 for no such limit; otherwise a power of two no smaller than n), mapped
// with cache attribute c. It returns the first frame, or
// STATUS_INSUFFICIENT_RESOURCES if no such run is available and
// STATUS_INVALID_PARAMETER for an impossible request. The run comes from
// the current processor's node if that has one.
func (db *Database) AllocateContiguous(n, lowest, highest, boundary physmem.PFN, c Cache) (physmem.PFN, ntstatus.Status) {
	return db.AllocateContiguousOnNode(n, lowest, highest, boundary, c, ke.GetCurrentNodeNumber(), false)
}

// AllocateContiguousOnNode is AllocateContiguous preferring node: if
// required, the whole run must be on node (STATUS_INSUFFICIENT_RESOURCES
// if no such run exists or there is no such node).
func (db *Database) AllocateContiguousOnNode(n, lowest, highest, boundary physmem.PFN, c Cache, node uint32, required bool) (physmem.PFN, ntstatus.Status) {
	if n == 0 || c >= NotMapped || boundary != 0 && (bits.OnesCount64(uint64(boundary)) != 1 || boundary < n) {
		return 0, ntstatus.InvalidParameter
	}
	start, st, grow := db.takeRun(n, lowest, highest, boundary, c, node, required)
	if grow {
		// The run may lie in memory not yet in the database: add it all
		// (InitLazy), a chunk per lock hold, and look again.
		for db.GrowSome(GrowChunk) {
		}
		start, st, _ = db.takeRun(n, lowest, highest, boundary, c, node, required)
	}
	return start, st
}

// takeRun is one attempt of AllocateContiguousOnNode under the lock; grow
// reports a failure that frames not yet in the database could turn into a
// success.
func (db *Database) takeRun(n, lowest, highest, boundary physmem.PFN, c Cache, node uint32, required bool) (physmem.PFN, ntstatus.Status, bool) {
	db.lock.Acquire()
	top := min(highest, db.Frames()-1)
	want := node
	if db.nodes.count == 1 && node == 0 {
		want = anyNode
	}
	start, ok := db.findRun(n, lowest, top, boundary, want)
	if !ok && !required && want != anyNode {
		start, ok = db.findRun(n, lowest, top, boundary, anyNode)
	}
	if !ok {
		grow := highest >= db.Frames() && db.Frames() < physmem.PFN(cap(db.entries))
		db.lock.Release()
		return 0, ntstatus.InsufficientResources, grow
	}
	for p := start; p < start+n; p++ {
		e := &db.entries[p]
		db.unlink(uint32(p))
		if e.state == StateStandby {
			db.repurpose(uint32(p))
		}
		db.activate(uint32(p), 0, 0)
		e.setCache(c)
		e.flags |= flagContiguous
	}
	db.entries[start].flags |= flagStartOfRun
	db.lock.Release()
	return start, ntstatus.Success, false
}

// findRun returns the highest start of n takeable frames in [lowest, top]
// on node (anyNode: on any) that do not cross a multiple of boundary.
//
//go:nosplit
func (db *Database) findRun(n, lowest, top, boundary physmem.PFN, node uint32) (physmem.PFN, bool) {
	if top >= db.Frames() || lowest > top || n > top-lowest+1 {
		return 0, false
	}
	end := top + 1
	for end >= lowest+n {
		start := end - n
		if boundary != 0 && start/boundary != (end-1)/boundary {
			end = (end - 1) / boundary * boundary
			continue
		}
		blocked := false
		for f := end; f > start; f-- {
			s := db.entries[f-1].state
			if s != StateZeroed && s != StateFree && s != StateStandby || node != anyNode && db.nodes.nodeOf(uint32(f-1)) != node {
				end, blocked = f-1, true
				break
			}
		}
		if !blocked {
			return start, true
		}
	}
	return 0, false
}

// FreeContiguous frees the run AllocateContiguous returned at base and
// returns its length in frames. Every frame must still have exactly the one
// reference and one share the allocation gave it.
func (db *Database) FreeContiguous(base physmem.PFN) physmem.PFN {
	db.lock.Acquire()
	e := db.entry(base)
	if e.state != StateActive || e.flags&flagStartOfRun == 0 {
		db.badState(base, e.state)
	}
	end := base
	for {
		e := &db.entries[end]
		if e.shareCount != 1 {
			db.badState(end, e.state)
		}
		if e.refCount != 1 {
			db.fail(bugcheck.PfnListCorrupt, FreedWhileLocked, uintptr(end), uintptr(e.state), uintptr(e.refCount))
		}
		end++
		if end == db.Frames() || db.entries[end].flags&(flagContiguous|flagStartOfRun) != flagContiguous {
			break
		}
	}
	for p := base; p < end; p++ {
		e := &db.entries[p]
		e.refCount, e.shareCount = 0, 0
		db.place(uint32(p))
	}
	db.lock.Release()
	return end - base
}
