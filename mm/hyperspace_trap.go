// Hyperspace: reaching a frame's contents.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The PFN database zeroes frames from the page-fault path.
//
// The kernel has no map of all physical memory. To zero or copy a frame the
// PFN database maps it at one of this processor's hyperspace slots, a
// fixed virtual page in NT's hyperspace region, uses it, and takes the
// mapping down again, as NT's MiMapPageInHyperSpace does. An idle slot
// holds the reserved PTE, never zero, so its page table stays (the walker
// frees a table whose entries are all zero) and mapping a frame is one
// Replace.
//
// Each processor has its own slots (hyperSlot), and no other processor
// touches them, so their translations are flushed locally, never shot
// down (pte's processorLocal), and two processors never share a slot's
// TLB entry.
//
// Locking: each of Memory's methods keeps interrupts off from mapping its
// slots to unmapping them, so that it stays on its processor and nothing
// else on that processor (an interrupt, a fault, a thread switched in)
// maps the same slot meanwhile. The PFN database calls them with and
// without its lock: the zero-page worker clears outside it, and may run
// in a goroutine (mm.ZeroPages) as well as in the idle loop. The secure
// pools' alias slot has its own lock (securealias_trap.go).

package mm

import (
	"unsafe"

	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

// A processor's hyperspace slots: one for the frame being zeroed or the
// destination of a copy, one for a copy's source, and the secure pools'
// writable alias (securealias_trap.go).
const (
	hyperSlotTarget = iota
	hyperSlotSource
	hyperSlotAlias
	hyperSlots // per processor
)

// hyperSlot is the address of the current processor's slot kind.
//
//go:nosplit
func hyperSlot(kind uintptr) uintptr {
	return hyperSlotOf(uintptr(ke.CurrentProcessorNumber()), kind)
}

//go:nosplit
func hyperSlotOf(cpu, kind uintptr) uintptr {
	return layout.HyperSpaceStart + (cpu*hyperSlots+kind)*physmem.PageSize
}

// hyperspaceMemory is physmem.Memory through hyperspace; its methods are on
// the pointer (see the package comment's "Interfaces in trap context").
type hyperspaceMemory struct{}

var hyperspace hyperspaceMemory

// virtual turns a kernel virtual address that is not Go memory into a
// pointer.
//
//go:nosplit
func virtual(va uintptr) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(nil), va) }

// hyperMap maps frame p at this processor's slot kind and returns its
// contents.
//
//go:nosplit
func hyperMap(kind uintptr, p physmem.PFN) *[physmem.PageSize]byte {
	slot := hyperSlot(kind)
	Tables.Replace(slot, pte.NewValid(p, pte.ProtReadWrite, pte.Cached), nil)
	return (*[physmem.PageSize]byte)(virtual(slot))
}

// hyperUnmap returns this processor's slot kind to idle; Replace flushes
// its translation.
//
//go:nosplit
func hyperUnmap(kind uintptr) { Tables.Replace(hyperSlot(kind), pte.Reserved, nil) }

//go:nosplit
func (*hyperspaceMemory) ZeroFrame(p physmem.PFN) {
	rflags := arch.DisableInterrupts()
	clear(hyperMap(hyperSlotTarget, p)[:])
	hyperUnmap(hyperSlotTarget)
	arch.RestoreInterrupts(rflags)
}

//go:nosplit
func (*hyperspaceMemory) CopyFrame(dst, src physmem.PFN) {
	rflags := arch.DisableInterrupts()
	*hyperMap(hyperSlotTarget, dst) = *hyperMap(hyperSlotSource, src)
	hyperUnmap(hyperSlotSource)
	hyperUnmap(hyperSlotTarget)
	arch.RestoreInterrupts(rflags)
}

//go:nosplit
func (*hyperspaceMemory) Load64(pa uint64) uint64 {
	rflags := arch.DisableInterrupts()
	v := *(*uint64)(unsafe.Pointer(&hyperMap(hyperSlotTarget, physmem.FrameOf(pa))[pa&physmem.PageMask]))
	hyperUnmap(hyperSlotTarget)
	arch.RestoreInterrupts(rflags)
	return v
}

//go:nosplit
func (*hyperspaceMemory) Store64(pa uint64, v uint64) {
	rflags := arch.DisableInterrupts()
	*(*uint64)(unsafe.Pointer(&hyperMap(hyperSlotTarget, physmem.FrameOf(pa))[pa&physmem.PageMask])) = v
	hyperUnmap(hyperSlotTarget)
	arch.RestoreInterrupts(rflags)
}
