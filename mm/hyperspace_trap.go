// Hyperspace: reaching a frame's contents.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The PFN database zeroes frames from the page-fault path.
//
// The kernel has no map of all physical memory. To zero or copy a frame the
// PFN database maps it at one of this CPU's hyperspace slots, a fixed
// virtual page in NT's hyperspace region, uses it, and takes the mapping
// down again, as NT's MiMapPageInHyperSpace does. An idle slot holds the
// reserved PTE, never zero, so its page table stays (the walker frees a
// table whose entries are all zero) and mapping a frame is one Replace.
//
// Locking: only the PFN database calls Memory's methods, always under the
// PFN lock, which therefore owns the slots.

package mm

import (
	"unsafe"

	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
)

// The hyperspace slots of processor 0: one for the frame being zeroed or
// the destination of a copy, one for a copy's source, and the secure
// pools' writable alias (securealias_trap.go), which its own lock guards.
const (
	hyperSlotTarget = layout.HyperSpaceStart
	hyperSlotSource = hyperSlotTarget + physmem.PageSize
	hyperSlotAlias  = hyperSlotSource + physmem.PageSize
	hyperSlots      = 3
)

// hyperspaceMemory is physmem.Memory through hyperspace; its methods are on
// the pointer (see the package comment's "Interfaces in trap context").
type hyperspaceMemory struct{}

var hyperspace hyperspaceMemory

// virtual turns a kernel virtual address that is not Go memory into a
// pointer.
//
//go:nosplit
func virtual(va uintptr) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(nil), va) }

// hyperMap maps frame p at slot and returns its contents.
//
//go:nosplit
func hyperMap(slot uintptr, p physmem.PFN) *[physmem.PageSize]byte {
	Tables.Replace(slot, pte.NewValid(p, pte.ProtReadWrite, pte.Cached), nil)
	return (*[physmem.PageSize]byte)(virtual(slot))
}

// hyperUnmap returns slot to idle; Replace flushes its translation.
//
//go:nosplit
func hyperUnmap(slot uintptr) { Tables.Replace(slot, pte.Reserved, nil) }

//go:nosplit
func (*hyperspaceMemory) ZeroFrame(p physmem.PFN) {
	clear(hyperMap(hyperSlotTarget, p)[:])
	hyperUnmap(hyperSlotTarget)
}

//go:nosplit
func (*hyperspaceMemory) CopyFrame(dst, src physmem.PFN) {
	*hyperMap(hyperSlotTarget, dst) = *hyperMap(hyperSlotSource, src)
	hyperUnmap(hyperSlotSource)
	hyperUnmap(hyperSlotTarget)
}

//go:nosplit
func (*hyperspaceMemory) Load64(pa uint64) uint64 {
	v := *(*uint64)(unsafe.Pointer(&hyperMap(hyperSlotTarget, physmem.FrameOf(pa))[pa&physmem.PageMask]))
	hyperUnmap(hyperSlotTarget)
	return v
}

//go:nosplit
func (*hyperspaceMemory) Store64(pa uint64, v uint64) {
	*(*uint64)(unsafe.Pointer(&hyperMap(hyperSlotTarget, physmem.FrameOf(pa))[pa&physmem.PageMask])) = v
	hyperUnmap(hyperSlotTarget)
}
