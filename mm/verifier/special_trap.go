// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The page-fault path's questions to Driver Verifier. First, the special
// pool's: a kernel fault the
// memory manager could not resolve, at an address in the special-pool
// region, is a stop of Driver Verifier's rather than
// PAGE_FAULT_IN_NONPAGED_AREA. The page-state table says which:
//
//	freed page        DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL (0xD5), or
//	                  PAGE_FAULT_IN_FREED_SPECIAL_POOL (0xCC) when the
//	                  faulting instruction is no driver's
//	anything else     DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION (0xD6) /
//	(a guard page)    PAGE_FAULT_BEYOND_END_OF_ALLOCATION (0xCD)
//
// with NT's parameters: the address referenced, 0 read / 1 write, the
// faulting instruction, 0. The table is bytes written under mu from
// goroutines and read here without a lock; a driver's code is a span with
// a module (attrib.go), looked up with the nosplit binary search.

package verifier

import (
	"ntgo/mm/layout"
	"ntgo/nt/bugcheck"
)

// Page states of the special-pool region.
const (
	pageFree  = iota // never used, or released from quarantine
	pageData         // mapped, a live block's
	pageGuard        // a live block's guard page, never mapped
	pageFreed        // a freed block's data page, kept unmapped
)

// pageState is the state of each special-pool page, indexed from
// layout.SpecialPoolStart.
var pageState [regionPages]uint8

// FaultBugcheck is the stop for an unresolved fault at va (write: the
// access was a write) by the instruction at rip, or false if va is not in
// special pool.
//
//go:nosplit
func FaultBugcheck(va uintptr, write bool, rip uintptr) (bugcheck.Code, [4]uintptr, bool) {
	off := va - layout.SpecialPoolStart
	if off >= layout.SpecialPoolSize {
		return 0, [4]uintptr{}, false
	}
	access := uintptr(0)
	if write {
		access = 1
	}
	driver := driverCode(rip)
	code := bugcheck.PageFaultBeyondEndOfAllocation
	switch {
	case pageState[off/pageSize] == pageFreed && driver:
		code = bugcheck.DriverPageFaultInFreedSpecialPool
	case pageState[off/pageSize] == pageFreed:
		code = bugcheck.PageFaultInFreedSpecialPool
	case driver:
		code = bugcheck.DriverPageFaultBeyondEndOfAllocation
	}
	return code, [4]uintptr{va, access, rip, 0}, true
}

// VerifiedCode reports whether pc is in a verified driver's code: a fault
// there at DISPATCH_LEVEL or above is DRIVER_IRQL_NOT_LESS_OR_EQUAL
// (kernel/pagefault_trap.go), as NT reports a driver's.
//
//go:nosplit
func VerifiedCode(pc uintptr) bool {
	t := code.Load()
	if t == nil {
		return false
	}
	i := t.find(pc)
	return i >= 0 && t.class[i] >= 0
}

// driverCode reports whether pc is in a driver module's code.
//
//go:nosplit
func driverCode(pc uintptr) bool {
	t := code.Load()
	if t == nil {
		return false
	}
	i := t.find(pc)
	return i >= 0 && len(t.spans[i].Module) > 0
}

// find is the index of the span holding pc, or -1. It is nosplit for
// trap context's use and allocates nothing.
//
//go:nosplit
func (t *codeTable) find(pc uintptr) int {
	lo, hi := 0, len(t.spans)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.spans[m].Hi <= pc {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(t.spans) && t.spans[lo].Lo <= pc {
		return lo
	}
	return -1
}
