// The page-fault handler's memory-manager half.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The kernel's #PF handler calls it with interrupts off on the page-fault
// stack.
//
// PageFault resolves what can be resolved (demand-zero, transition,
// spurious, guard) through mm/va's ResolveFault under the page-table lock,
// or, for pageable memory, the pager's Resolve (paging_trap.go), and
// classifies the rest (va.InPage: the goroutine must wait for a read); the kernel then raises or bugchecks as the Fault's
// Exception and Bugcheck say. A fault taken while the page-table lock is
// already held is the memory manager faulting on itself: TableLockHeld lets
// the kernel stop before it would spin on that lock.

package mm

import (
	"ntgo/mm/pfn"
	"ntgo/mm/pte"
	"ntgo/mm/va"
)

// PageFault handles a kernel page fault at addr with #PF error code code.
//
//go:nosplit
func PageFault(addr uintptr, code pte.ErrorCode) va.Fault {
	tableLock.Acquire()
	var f va.Fault
	if pager != nil && pager.Pageable(addr) {
		f = pageableFault(addr, code)
	} else {
		f = va.ResolveFault(&Tables, &pageSource, addr, code)
	}
	tableLock.Release()
	return f
}

// TableLockHeld reports whether this processor holds the page-table lock
// (another processor's hold is only a wait).
//
//go:nosplit
func TableLockHeld() bool { return tableLock.HeldHere() }

// ZeroPages is the idle loop's memory work, one bounded step per call:
// first the PFN database's deferred part (pfn.InitLazy), a chunk at a
// time, then the zero-page thread's work, up to max free frames onto the
// zeroed list. It returns max while there is more to do.
//
//go:nosplit
func ZeroPages(max int) int {
	if PFN.GrowSome(pfn.GrowChunk) {
		return max
	}
	return PFN.ZeroSome(max)
}

// RuntimeAddress reports whether va is in the Go runtime's half of the
// address space.
//
//go:nosplit
func RuntimeAddress(va uintptr) bool { return va < lowerHalfEnd }
