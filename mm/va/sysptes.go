// System PTEs.
//
// The system PTE region holds mappings made on demand and torn down again:
// device registers (MmMapIoSpace), MDL mappings, kernel stacks. SystemPtes
// hands out runs of pages there.
//
// Structure: the free space is a list of runs [start, start+n) in page
// indexes, sorted and coalesced, allocated first-fit; a map records each
// allocated run's length for checking releases. Every allocation takes one
// page more than asked and leaves it unmapped after the run, so that a
// driver overrunning its mapping faults instead of scribbling on its
// neighbour's. Reserve is O(free runs); Release is a binary search plus the
// slice shift of the insertion, O(log runs + runs) — runs stay few because
// neighbours coalesce.
//
// Exhaustion: NT's MiReserveSystemPtes returns NULL and most callers pass
// that on — MmMapIoSpace returns NULL, MmMapLockedPagesSpecifyCache returns
// NULL unless the caller asked to bugcheck on failure. Reserve is the first
// kind (STATUS_INSUFFICIENT_RESOURCES); ReserveOrBugcheck is the second,
// NO_MORE_SYSTEM_PTES (0x3F) with (0, pages requested, pages free, pages in
// total).
//
// Misuse is SYSTEM_PTE_MISUSE (0xDA) with NT's subtypes: 0x0A reserving zero
// pages; 0x0D releasing zero; 0x0F releasing an address outside the region;
// 0x09 releasing a run that is not allocated; 0x08 releasing with the wrong
// page count.
//
// Pages are mapped by the caller (MapIoSpace does it for device memory);
// Release unmaps whatever is still mapped and flushes before the run can be
// handed out again. The frames are the caller's and are not freed.

package va

import (
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

// SYSTEM_PTE_MISUSE subtypes (parameter 1).
const (
	PteMisuseWrongCount   = 0x08 // p2 run address, p3 pages released, p4 pages allocated
	PteMisuseNotAllocated = 0x09 // p2 address, p3 pages released
	PteMisuseZeroReserve  = 0x0A // p2 1 if the caller asked to bugcheck on failure, p3 0
	PteMisuseZeroRelease  = 0x0D // p2 address, p3 0
	PteMisuseOutOfRange   = 0x0F // p2 address, p3 pages released
)

// run is a range of pages by index from the region's base.
type run struct{ start, n int }

// SystemPtes allocates page runs in one region.
type SystemPtes struct {
	pt    *pte.PageTables
	base  uintptr
	total int
	free  []run       // sorted, coalesced
	used  map[int]int // start index → pages given to the caller
	nfree int
}

// NewSystemPtes manages pages pages from base (the system PTE region, in
// the kernel), mapping through pt. The range must be page-aligned, non-empty
// and mappable, else STATUS_INVALID_PARAMETER.
func NewSystemPtes(pt *pte.PageTables, base uintptr, pages int) (*SystemPtes, ntstatus.Status) {
	if base&pageMask != 0 || pages <= 0 || !mappableRange(base, uintptr(pages)*pageSize) {
		return nil, ntstatus.InvalidParameter
	}
	return &SystemPtes{pt: pt, base: base, total: pages, free: []run{{0, pages}}, used: map[int]int{}, nfree: pages}, ntstatus.Success
}

// Free is the number of free pages (guard pages of allocated runs count as
// in use).
func (s *SystemPtes) Free() int { return s.nfree }

// Total is the number of pages managed.
func (s *SystemPtes) Total() int { return s.total }

// Reserve hands out n consecutive pages, unmapped, with an unmapped guard
// page after them.
func (s *SystemPtes) Reserve(n int) (uintptr, ntstatus.Status) {
	return s.reserve(n, false)
}

// ReserveOrBugcheck is Reserve for callers that cannot go on without the
// pages: exhaustion is NO_MORE_SYSTEM_PTES.
func (s *SystemPtes) ReserveOrBugcheck(n int) uintptr {
	va, _ := s.reserve(n, true)
	return va
}

func (s *SystemPtes) reserve(n int, orBugcheck bool) (uintptr, ntstatus.Status) {
	if n <= 0 {
		flag := uintptr(0)
		if orBugcheck {
			flag = 1
		}
		bugcheck.KeBugCheckEx(bugcheck.SystemPteMisuse, PteMisuseZeroReserve, flag, uintptr(n), 0)
	}
	want := n + 1 // the guard page
	for i, r := range s.free {
		if r.n < want {
			continue
		}
		if r.n == want {
			s.free = append(s.free[:i], s.free[i+1:]...)
		} else {
			s.free[i] = run{r.start + want, r.n - want}
		}
		s.used[r.start] = n
		s.nfree -= want
		return s.address(r.start), ntstatus.Success
	}
	if orBugcheck {
		bugcheck.KeBugCheckEx(bugcheck.NoMoreSystemPtes, 0, uintptr(n), uintptr(s.nfree), uintptr(s.total))
	}
	return 0, ntstatus.InsufficientResources
}

// Pages is how many pages the run Reserve returned at va holds, or false
// if va is not the start of one.
func (s *SystemPtes) Pages(va uintptr) (int, bool) {
	if va < s.base || va&pageMask != 0 {
		return 0, false
	}
	n, ok := s.used[int((va-s.base)/pageSize)]
	return n, ok
}

func (s *SystemPtes) address(i int) uintptr { return s.base + uintptr(i)*pageSize }

// Release gives back the n pages at va that Reserve returned, unmapping any
// still mapped.
func (s *SystemPtes) Release(va uintptr, n int) {
	switch {
	case n == 0:
		bugcheck.KeBugCheckEx(bugcheck.SystemPteMisuse, PteMisuseZeroRelease, va, 0, 0)
	case va < s.base || va >= s.address(s.total):
		bugcheck.KeBugCheckEx(bugcheck.SystemPteMisuse, PteMisuseOutOfRange, va, uintptr(n), 0)
	}
	i := int((va - s.base) / pageSize)
	got, ok := s.used[i]
	switch {
	case !ok || va&pageMask != 0:
		bugcheck.KeBugCheckEx(bugcheck.SystemPteMisuse, PteMisuseNotAllocated, va, uintptr(n), 0)
	case got != n:
		bugcheck.KeBugCheckEx(bugcheck.SystemPteMisuse, PteMisuseWrongCount, va, uintptr(n), uintptr(got))
	}
	var b pte.FlushBatch
	for p := range n {
		s.pt.Unmap(va+uintptr(p)*pageSize, &b)
	}
	s.pt.Flush(&b)
	delete(s.used, i)
	s.insertFree(run{i, n + 1})
}

// insertFree returns r to the free list, merging it with its neighbours.
func (s *SystemPtes) insertFree(r run) {
	s.nfree += r.n
	lo, hi := 0, len(s.free)
	for lo < hi {
		mid := int(uint(lo+hi) / 2)
		if s.free[mid].start < r.start {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo > 0 && s.free[lo-1].start+s.free[lo-1].n == r.start {
		lo--
		r = run{s.free[lo].start, s.free[lo].n + r.n}
		s.free = append(s.free[:lo], s.free[lo+1:]...)
	}
	if lo < len(s.free) && r.start+r.n == s.free[lo].start {
		r.n += s.free[lo].n
		s.free[lo] = r
		return
	}
	s.free = append(s.free, run{})
	copy(s.free[lo+1:], s.free[lo:])
	s.free[lo] = r
}

// MapIoSpace is MmMapIoSpace: it maps size bytes of physical address space
// from pa, read-write and not executable, with cache type c, and returns the
// virtual address of pa, or 0 if system PTEs or table frames ran out.
func (s *SystemPtes) MapIoSpace(pa uint64, size uintptr, c pte.CacheType) uintptr {
	offset := uintptr(pa) & pageMask
	n := int(roundUp(offset+size, pageSize) / pageSize)
	va, st := s.Reserve(n)
	if st != ntstatus.Success {
		return 0
	}
	first := physmem.FrameOf(pa)
	for p := range n {
		if s.pt.Map(va+uintptr(p)*pageSize, first+physmem.PFN(p), pte.ProtReadWrite, c) != ntstatus.Success {
			s.Release(va, n)
			return 0
		}
	}
	return va + offset
}

// UnmapIoSpace is MmUnmapIoSpace: it undoes MapIoSpace(_, size, _) = va.
func (s *SystemPtes) UnmapIoSpace(va uintptr, size uintptr) {
	offset := va & pageMask
	s.Release(va-offset, int(roundUp(offset+size, pageSize)/pageSize))
}
