// Package va manages kernel virtual address space on top of the page tables
// (mm/pte) and NT's layout (mm/layout):
//
//   - Space: NtAllocateVirtualMemory/NtFreeVirtualMemory/NtProtectVirtualMemory
//     semantics over one range of kernel VA (MEM_RESERVE, MEM_COMMIT,
//     MEM_DECOMMIT, MEM_RELEASE, PAGE_* protections), with committed pages
//     demand-zero;
//   - SystemPtes: runs of pages in the system PTE region, separated by guard
//     pages, for mappings such as MmMapIoSpace;
//   - ResolveFault: the page-fault handler's core, which makes demand-zero
//     and transition pages valid and classifies every other fault for the
//     kernel to raise or bugcheck.
//
// # Where a page's state lives
//
// Every page of a reservation has a non-zero PTE, and that PTE alone says
// what the page is:
//
//	reserved, not committed   pte.Reserved
//	committed, never touched  pte.DemandZero(protection)
//	committed and resident    a valid PTE
//	committed, resident, but  a transition PTE (after PAGE_NOACCESS or
//	  not mapped                PAGE_GUARD on a resident page; frame kept)
//
// Pages outside every reservation have zero PTEs. The reservation list (the
// VADs, vad.go) only serves address allocation and argument checking; the
// fault path never reads it, so it needs neither a lock nor a tree walk in
// trap context. The price is that reserving writes a PTE per page, and so
// builds page tables (one per 2 MiB) for space that is only reserved; NT
// instead leaves such PTEs zero and consults the VAD tree on a fault. Kernel
// reservations are small, and a self-describing PTE is worth it here.
//
// # Frames
//
// Frames for pages come from a PageSource (the PFN database in the kernel,
// ptesim.Frames on the host), frames for tables from the pte.FrameSource
// behind the PageTables. A frame leaves a page only at decommit or release,
// and goes back to the PageSource only after its translation is flushed.
//
// # Locking
//
// Space, SystemPtes and ResolveFault all edit the same page tables, and the
// fault path runs in trap context. The kernel therefore calls every method
// here with its page-table lock held — the interrupt-disabling PFN lock, so
// that a fault cannot arrive while a goroutine is half way through an edit.
// Nothing in this package locks by itself.
package va

import (
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
)

// PageSource supplies zeroed frames for demand-zero faults and takes back
// the frames of decommitted pages. Both name the PTE that maps the frame by
// its self-map address, so the PFN database can keep NT's PteAddress
// back-pointer (and check it on free); original is the software PTE the page
// had before the fault, NT's OriginalPte. The shape is mm/pfn's
// AllocateZeroed and Free. The fault path calls AllocZeroedPage in trap
// context, so in the kernel both must be nosplit and allocation-free.
type PageSource interface {
	AllocZeroedPage(pteAddr uintptr, original pte.PTE) (physmem.PFN, bool)
	FreePage(p physmem.PFN, pteAddr uintptr)
}

// pageSize as a uintptr, for address arithmetic.
const pageSize = uintptr(physmem.PageSize)

// pageMask as a uintptr.
const pageMask = uintptr(physmem.PageMask)

// roundUp rounds n up to a multiple of the power of two align.
func roundUp(n, align uintptr) uintptr { return (n + align - 1) &^ (align - 1) }

// mappableRange reports whether [base, base+size) is non-empty and every
// page of it may be mapped: both ends mappable and no PTE space or
// non-canonical hole between them.
func mappableRange(base, size uintptr) bool {
	last := base + size - 1
	return size != 0 && last > base && pte.Mappable(base) && pte.Mappable(last) &&
		(base >= pte.PteSpaceEnd || last < pte.PteBase) && base>>63 == last>>63
}
