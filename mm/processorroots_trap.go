// Copying the PML4 for another processor (processorroots.go).
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.

package mm

import (
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
)

// copyRootLocked fills the PML4 in frame root, mapped at va, with the
// current processor's entries and points its self-map entry at root with
// cpu's number; under tableLock.
//
//go:nosplit
func copyRootLocked(va uintptr, root physmem.PFN, cpu int) {
	dst := (*tablePage)(virtual(va))
	*dst = *(*tablePage)(virtual(pte.PxeBase))
	dst[pte.SelfMapSlot] = pte.ProcessorSelfMapEntry(root, cpu)
}
