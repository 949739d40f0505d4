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

package pfn

import "ntgo/mm/physmem"

// ZeroSome zeroes up to max frames from the free list onto the zeroed list
// and returns how many it moved; fewer than max means the free list is empty.
//
//go:nosplit
func (db *Database) ZeroSome(max int) int {
	n := 0
	for ; n < max; n++ {
		db.lock.Acquire()
		p, ok := db.removeHead(StateFree)
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
