// Reserve, commit, decommit, release, protect.
//
// A Space manages one range of kernel VA (the dynamic kernel VA region, in
// the kernel) with NtAllocateVirtualMemory's rules, simplified where the
// kernel needs no more:
//
//	Allocate(MEM_RESERVE)   base 0 picks the lowest free range (first fit);
//	                        a given base is rounded down to the 64 KiB
//	                        allocation granularity. Writes reserved PTEs.
//	Allocate(MEM_COMMIT)    the range (pages) must lie in one reservation;
//	                        reserved pages become demand-zero with the
//	                        protection, already committed ones keep their
//	                        contents and take the protection, as in NT.
//	Allocate(both)          reserve, then commit all of it.
//	Free(MEM_DECOMMIT)      committed pages in the range become reserved;
//	                        their frames go back. Size 0 means the whole
//	                        reservation, base must then be its start.
//	Free(MEM_RELEASE)       base must be a reservation's start and size 0 or
//	                        its full size (ntgo does not split reservations);
//	                        every PTE is cleared, frames and emptied tables
//	                        go back, the reservation is forgotten.
//	Protect                 the range must lie in one reservation and be
//	                        wholly committed; returns the old protection of
//	                        the first page.
//
// Statuses: a protection ntgo does not support, STATUS_INVALID_PAGE_PROTECTION;
// reserving over a reservation, outside the Space, or committing outside one,
// STATUS_CONFLICTING_ADDRESSES; decommitting, releasing or protecting where
// nothing is reserved, STATUS_MEMORY_NOT_ALLOCATED; releasing not at the
// base, STATUS_FREE_VM_NOT_AT_BASE; protecting uncommitted pages,
// STATUS_NOT_COMMITTED; no free range, STATUS_NO_MEMORY; no frame for a page
// table, STATUS_INSUFFICIENT_RESOURCES (nothing is left half done); bad
// sizes or flag combinations, STATUS_INVALID_PARAMETER.
//
// Range operations collect their flushes in one pte.FlushBatch and return
// frames to the PageSource only after flushing it.

package va

import (
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// AllocationGranularity aligns reservations, as NT's 64 KiB does.
const AllocationGranularity = 64 << 10

// Space is the reservable kernel VA of one range.
type Space struct {
	pt     *pte.PageTables
	pages  PageSource
	lo, hi uintptr
	vads   vads
}

// NewSpace manages [base, base+size) with page tables pt and page frames
// from pages. The range must be granularity-aligned, non-empty and mappable
// (canonical, outside PTE space, not crossing the canonical hole), else
// STATUS_INVALID_PARAMETER.
func NewSpace(pt *pte.PageTables, pages PageSource, base, size uintptr) (*Space, ntstatus.Status) {
	if base%AllocationGranularity != 0 || size%AllocationGranularity != 0 || !mappableRange(base, size) {
		return nil, ntstatus.InvalidParameter
	}
	return &Space{pt: pt, pages: pages, lo: base, hi: base + size}, ntstatus.Success
}

// Allocate reserves and/or commits, returning the range it acted on.
func (s *Space) Allocate(base, size uintptr, typ AllocationType, protect PageProtection) (uintptr, uintptr, ntstatus.Status) {
	prot, ok := protect.mm()
	switch {
	case !ok:
		return 0, 0, ntstatus.InvalidPageProtection
	case size == 0 || base+size < base:
		return 0, 0, ntstatus.InvalidParameter
	}
	switch typ {
	case MemReserve, MemReserve | MemCommit:
		start, end, st := s.reserve(base, size, protect)
		if st == ntstatus.Success && typ&MemCommit != 0 {
			s.commit(start, end, prot)
		}
		return start, end - start, st
	case MemCommit:
		start, end := base&^pageMask, roundUp(base+size, pageSize)
		if r, ok := s.vads.find(start); !ok || end > r.end {
			return 0, 0, ntstatus.ConflictingAddresses
		}
		s.commit(start, end, prot)
		return start, end - start, ntstatus.Success
	}
	return 0, 0, ntstatus.InvalidParameter
}

// reserve records a reservation and writes its reserved PTEs.
func (s *Space) reserve(base, size uintptr, protect PageProtection) (uintptr, uintptr, ntstatus.Status) {
	var start, end uintptr
	if base == 0 {
		size = roundUp(size, pageSize)
		var ok bool
		if start, ok = s.vads.firstFit(s.lo, s.hi, size, AllocationGranularity); !ok {
			return 0, 0, ntstatus.NoMemory
		}
		end = start + size
	} else {
		start, end = base&^(AllocationGranularity-1), roundUp(base+size, pageSize)
		if start < s.lo || end > s.hi || !s.vads.free(start, end) {
			return 0, 0, ntstatus.ConflictingAddresses
		}
	}
	for va := start; va < end; va += pageSize {
		old, st := s.pt.Swap(va, pte.Reserved, nil)
		if st == ntstatus.Success && old != 0 {
			// Something outside the Space's knowledge maps this page:
			// put it back and refuse.
			s.pt.Swap(va, old, nil)
			st = ntstatus.ConflictingAddresses
		}
		if st != ntstatus.Success {
			for undo := start; undo < va; undo += pageSize {
				s.pt.Swap(undo, 0, nil)
			}
			return 0, 0, st
		}
	}
	s.vads.insert(vad{start, end, protect})
	return start, end, ntstatus.Success
}

// commit gives every page of [start, end), all reserved, protection prot.
func (s *Space) commit(start, end uintptr, prot pte.Protection) {
	var b pte.FlushBatch
	for va := start; va < end; va += pageSize {
		if e, _ := s.pt.Leaf(va); e == pte.Reserved {
			s.pt.Replace(va, pte.DemandZero(prot), nil)
		} else {
			s.pt.Protect(va, prot, &b)
		}
	}
	s.pt.Flush(&b)
}

// Free decommits or releases, returning the range it acted on.
func (s *Space) Free(base, size uintptr, typ AllocationType) (uintptr, uintptr, ntstatus.Status) {
	r, ok := s.vads.find(base)
	switch {
	case typ != MemDecommit && typ != MemRelease:
		return 0, 0, ntstatus.InvalidParameter
	case !ok:
		return 0, 0, ntstatus.MemoryNotAllocated
	case base+size < base:
		return 0, 0, ntstatus.InvalidParameter
	}
	start, end := base&^pageMask, roundUp(base+size, pageSize)
	if size == 0 || typ == MemRelease {
		if base != r.start {
			return 0, 0, ntstatus.FreeVMNotAtBase
		}
		if typ == MemRelease && size != 0 && end != r.end {
			return 0, 0, ntstatus.InvalidParameter
		}
		start, end = r.start, r.end
	}
	if end > r.end {
		return 0, 0, ntstatus.MemoryNotAllocated
	}
	to := pte.Reserved
	if typ == MemRelease {
		to = 0
		s.vads.remove(r.start)
	}
	s.clear(start, end, to)
	return start, end - start, ntstatus.Success
}

// clear sets every page of [start, end) to the reserved or zero PTE, giving
// back the frames of resident and transition pages after the flush.
func (s *Space) clear(start, end uintptr, to pte.PTE) {
	var b pte.FlushBatch
	type owned struct {
		frame physmem.PFN
		va    uintptr
	}
	var frames []owned
	for va := start; va < end; va += pageSize {
		old, st := s.pt.Leaf(va)
		if st != ntstatus.Success || old == to {
			continue
		}
		s.pt.Swap(va, to, &b)
		if k := old.Kind(); k == pte.KindValid || k == pte.KindTransition {
			frames = append(frames, owned{old.Frame(), va})
		}
	}
	s.pt.Flush(&b)
	for _, f := range frames {
		s.pages.FreePage(f.frame, pte.PteAddress(f.va))
	}
}

// Protect changes the protection of committed pages and returns the first
// page's previous protection.
func (s *Space) Protect(base, size uintptr, protect PageProtection) (PageProtection, ntstatus.Status) {
	prot, ok := protect.mm()
	switch {
	case !ok:
		return 0, ntstatus.InvalidPageProtection
	case size == 0 || base+size < base:
		return 0, ntstatus.InvalidParameter
	}
	start, end := base&^pageMask, roundUp(base+size, pageSize)
	r, ok := s.vads.find(start)
	switch {
	case !ok:
		return 0, ntstatus.MemoryNotAllocated
	case end > r.end:
		return 0, ntstatus.ConflictingAddresses
	}
	for va := start; va < end; va += pageSize {
		if e, _ := s.pt.Leaf(va); e.Protection() == 0 {
			return 0, ntstatus.NotCommitted
		}
	}
	first, _ := s.pt.Leaf(start)
	var b pte.FlushBatch
	for va := start; va < end; va += pageSize {
		s.pt.Protect(va, prot, &b)
	}
	s.pt.Flush(&b)
	return pageProtection(first.Protection()), ntstatus.Success
}

// Reservation reports the reservation containing va: its range and the
// protection it was reserved with.
func (s *Space) Reservation(va uintptr) (start, size uintptr, protect PageProtection, ok bool) {
	r, ok := s.vads.find(va)
	if !ok {
		return 0, 0, 0, false
	}
	return r.start, r.end - r.start, r.protect, true
}
