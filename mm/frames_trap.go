// Frame sources over the PFN database.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The walker and the fault path call these through interfaces while
// holding tableLock.

package mm

import (
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
)

// tableFrames gives the walker its table frames from the PFN database. A
// table frame has no PTE back-pointer of its own (NT's points at the parent
// entry; the walker's interface does not carry it), so both sides pass 0.
type tableFrames struct{}

//go:nosplit
func (*tableFrames) AllocTable() (physmem.PFN, bool) { return PFN.AllocateZeroed(0, 0) }

//go:nosplit
func (*tableFrames) FreeTable(p physmem.PFN) { PFN.Free(p, 0) }

// pageFrames gives mm/va its page frames from the PFN database, keeping
// NT's PteAddress and OriginalPte.
type pageFrames struct{}

//go:nosplit
func (*pageFrames) AllocZeroedPage(pteAddr uintptr, original pte.PTE) (physmem.PFN, bool) {
	return PFN.AllocateZeroed(pteAddr, uint64(original))
}

//go:nosplit
func (*pageFrames) FreePage(p physmem.PFN, pteAddr uintptr) { PFN.Free(p, pteAddr) }

var (
	tableSource tableFrames
	pageSource  pageFrames
)
