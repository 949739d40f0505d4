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
// zeroed frames ready. ZeroSome is one bounded step of that work. It takes
// the lock once per frame and zeroes the frame while holding it: with
// interrupts off on bare metal, the longest it delays an interrupt is one
// 4 KiB clear, and between frames a pending interrupt gets in. The frame is
// never off a list while the lock is free, so Check holds at every moment.
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
		if !ok {
			db.lock.Release()
			break
		}
		db.mem.ZeroFrame(physmem.PFN(p))
		db.insert(p, StateZeroed)
		db.lock.Release()
	}
	return n
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
