// Kernel stacks: MmCreateKernelStack and MmDeleteKernelStack.
//
// A kernel stack is a run of system PTEs (va.SystemPtes) whose lowest page
// stays unmapped: the stack grows down into it, so running off the end
// faults on the guard instead of overwriting whatever lies below, which is
// what NT's guard page below every kernel stack is for. (The run also has
// the system-PTE allocator's own guard page above it, which catches the
// opposite mistake.) The pages above the guard are resident from the
// start, frames taken zeroed from the PFN database and owned by their PTEs,
// because a stack is used in trap context, where nothing may fault on
// purpose.
//
// The kernel's per-CPU trap stacks (interrupt, page-fault, critical and
// system-call stacks) are made here once the memory manager is up; the
// page-fault handler recognises a touch of one of their guard pages as a
// kernel stack overflow. Edits hold kernelSpace, like every system-PTE
// mapping.

package mm

import (
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// KernelStack is a stack's address range.
type KernelStack struct {
	Guard uintptr // the unmapped page below the stack
	Base  uintptr // lowest mapped address (the stack limit), Guard + one page
	Top   uintptr // one past the highest mapped address: the initial RSP
}

// Size is the stack's mapped size in bytes.
func (s KernelStack) Size() uintptr { return s.Top - s.Base }

// CreateKernelStack is MmCreateKernelStack: size bytes (rounded up to
// pages) of resident, zeroed stack with a guard page below. It fails with
// STATUS_INSUFFICIENT_RESOURCES when system PTEs, frames or page-table
// frames run out, giving back whatever it took.
func CreateKernelStack(size uintptr) (KernelStack, ntstatus.Status) {
	pages := int((size + physmem.PageMask) / physmem.PageSize)
	if pages == 0 {
		return KernelStack{}, ntstatus.InvalidParameter
	}
	kernelSpace.Lock()
	defer kernelSpace.Unlock()
	guard, st := SystemPtes.Reserve(pages + 1)
	if st != ntstatus.Success {
		return KernelStack{}, st
	}
	s := KernelStack{Guard: guard, Base: guard + physmem.PageSize, Top: guard + uintptr(pages+1)*physmem.PageSize}
	for va := s.Base; va < s.Top; va += physmem.PageSize {
		if !mapStackPage(va) {
			unmapStack(s, va)
			SystemPtes.Release(guard, pages+1)
			return KernelStack{}, ntstatus.InsufficientResources
		}
	}
	return s, ntstatus.Success
}

// mapStackPage backs va with a zeroed frame its PTE owns.
func mapStackPage(va uintptr) bool {
	f, ok := PFN.AllocateZeroed(pte.PteAddress(va), 0)
	if !ok {
		return false
	}
	if Tables.Map(va, f, pte.ProtReadWrite, pte.Cached) != ntstatus.Success {
		PFN.Free(f, pte.PteAddress(va))
		return false
	}
	return true
}

// unmapStack frees the frames of s's pages below end, each after its
// translation is flushed (a stack is a few pages: one INVLPG each).
func unmapStack(s KernelStack, end uintptr) {
	for va := s.Base; va < end; va += physmem.PageSize {
		old, _ := Tables.Unmap(va, nil)
		PFN.Free(old.Frame(), pte.PteAddress(va))
	}
}

// DeleteKernelStack is MmDeleteKernelStack: it gives s's frames and system
// PTEs back. s must not be in use.
func DeleteKernelStack(s KernelStack) {
	kernelSpace.Lock()
	defer kernelSpace.Unlock()
	unmapStack(s, s.Top)
	SystemPtes.Release(s.Guard, int((s.Top-s.Guard)/physmem.PageSize))
}
