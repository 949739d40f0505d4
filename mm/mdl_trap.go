// Locking one page of an MDL: the part of MmProbeAndLockPages that runs
// under the page-table lock.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// It runs in a goroutine with an interrupt-disabling spin lock held (see
// the package comment on interfaces in trap context).

package mm

import (
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// pageLock is what lockPage found.
type pageLock uint8

const (
	pageLocked      pageLock = iota // RAM frame, reference taken
	pageIoSpace                     // valid, but device memory: described, not locked
	pageNotResident                 // not valid (any more): touch it again
	pageNotWritable                 // valid, but the write the caller asked for is not allowed
	pageLockLimit                   // the frame has as many locks as an entry counts
)

// lockPage takes a lock on the frame that maps va, if va is valid and
// allows the access asked for. For a write it sets the leaf's dirty bit
// too: the device or the MDL's system mapping will write the frame behind
// the CPU's back, and the dirty bit is how the PFN database learns the
// frame is modified when the mapping goes.
//
//go:nosplit
func lockPage(va uintptr, write bool) (physmem.PFN, pageLock) {
	tableLock.Acquire()
	f, got := lockPageLocked(va, write)
	tableLock.Release()
	return f, got
}

// lockPageLocked is lockPage's work under tableLock. (No defer: a deferred
// release brings the runtime's deferreturn, which has a stack check.)
//
//go:nosplit
func lockPageLocked(va uintptr, write bool) (physmem.PFN, pageLock) {
	w := Tables.Lookup(va)
	pa, ok := w.PhysAddr()
	switch {
	case !ok:
		return 0, pageNotResident
	case write && !w.Protection().Allows(pte.AccessWrite):
		return 0, pageNotWritable
	}
	f := physmem.FrameOf(pa)
	if !PFN.Managed(f) {
		return f, pageIoSpace
	}
	if !PFN.Reference(f) {
		return f, pageLockLimit
	}
	if leaf, st := Tables.Leaf(va); write && st == ntstatus.Success && leaf&pte.Dirty == 0 {
		Tables.Replace(va, leaf|pte.Dirty, nil)
	}
	return f, pageLocked
}
