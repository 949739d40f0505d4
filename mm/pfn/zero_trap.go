// The zero-page worker's step.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The kernel calls ZeroSome from its idle loop.
//
// NT's zero page thread moves frames from the free list to the zeroed list
// when the CPU has nothing better to do, so that demand-zero faults find
// zeroed frames ready. ZeroSome is one bounded step of that work. As NT's
// zero page thread does, it clears each frame without the PFN lock: it
// takes the frame off the free list under the lock, holding it as a
// Transition frame (one reference, no PTE: nobody else reaches it, and
// Check and the state counts stay exact while the lock is free), clears
// it, and takes the lock again to put it on the zeroed list. Zeroing under
// the lock made every other processor's fault and allocation wait for a
// 4 KiB clear behind each idle processor; with more vCPUs than host cores
// a preempted zeroer held the lock for the host's time slice (SMP=4 on two
// cores: a test of fault waits took 11 s instead of 0.1 s).
//
// Nodes: a frame stays on its node (insert puts it on its node's zeroed
// list). ZeroSome empties the current processor's node first, then the
// others in turn, so that once every processor runs its idle loop each
// node is zeroed by its own processors first, and a node without an idle
// processor still gets zeroed by the others.

package pfn

import (
	"ntgo/mm/physmem"
	"ntgo/nt/ke"
)

// ZeroSome zeroes up to max frames from the free list onto the zeroed list
// and returns how many it moved; fewer than max means the free list is empty.
//
//go:nosplit
func (db *Database) ZeroSome(max int) int {
	n := 0
	home := ke.GetCurrentNodeNumber()
	for ; n < max; n++ {
		db.lock.Acquire()
		p, ok := db.takeFree(home)
		if ok {
			db.holdForZeroing(p)
		}
		db.lock.Release()
		if !ok {
			break
		}
		db.mem.ZeroFrame(physmem.PFN(p))
		db.lock.Acquire()
		db.insertZeroed(p)
		db.lock.Release()
	}
	return n
}

// holdForZeroing makes p, just taken off the free list, a Transition frame
// the zero-page worker holds: one reference, no PTE, cached (the kernel
// clears it through a cached hyperspace mapping). The PFN lock is held.
//
//go:nosplit
func (db *Database) holdForZeroing(p uint32) {
	e := &db.entries[p]
	db.setState(e, StateTransition)
	e.refCount = 1
	e.setCache(Cached)
}

// insertZeroed drops the worker's hold on p, now cleared, and puts it on
// the zeroed list. The PFN lock is held.
//
//go:nosplit
func (db *Database) insertZeroed(p uint32) {
	e := &db.entries[p]
	e.refCount = 0
	e.setCache(NotMapped)
	db.insert(p, StateZeroed)
}

// takeFree unlinks the head of the first non-empty free list, from node
// home (node 0 if there is no such node) up.
//
//go:nosplit
func (db *Database) takeFree(home uint32) (uint32, bool) {
	nodes := db.nodes.count
	if home >= nodes {
		home = 0
	}
	for k := uint32(0); k < nodes; k++ {
		if p, ok := db.removeHead(nodeList((home+k)%nodes, StateFree)); ok {
			return p, true
		}
	}
	return 0, false
}
