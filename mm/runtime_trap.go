// The Go runtime's anonymous memory: mmap, munmap and madvise.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The kernel's system-call layer calls these with interrupts off on the
// syscall stack. The four entry points (RuntimeMap, RuntimeUnmap,
// RuntimeProtect, RuntimeDiscard) are deliberately not //go:nosplit: below
// them the walker and the PFN database go deeper than the linker's nosplit
// budget allows on top of the syscall path. That is safe because trap
// context runs on the trap g, whose stack guard is zero: a function
// prologue's check never calls morestack there. Their helpers are nosplit
// as usual, and they release the table lock without defer (the runtime's
// deferreturn has a panic path that allocates). mm's tablelock_test holds
// their lock regions to trap context's rule: nothing they reach allocates.
//
// The runtime lives in the lower half of the address space, where NT would
// put user space: its heap hints (0xc000000000...) are there, and
// mmap(NULL) places regions upward from runtimeBase. Its requests map onto
// NT's reserve/commit model:
//
//	mmap PROT_NONE      reserve: the range is remembered, no PTE is written
//	mmap with access    commit: every page gets a demand-zero PTE with the
//	                    protection; the first touch faults in a zeroed frame
//	munmap              release: frames go back, PTEs and emptied tables go
//	madvise(DONTNEED)   the frames go back, the pages stay committed and
//	                    read as zeros again (decommit-and-recommit in one)
//	mprotect            the committed pages take the new protection (NT's
//	                    protect); PROT_NONE keeps their contents
//
// Unlike mm/va's Spaces, reserved-only pages here have zero PTEs, not the
// reserved encoding: the runtime reserves over a gigabyte of sparse index
// space at start-up, and writing a PTE per reserved page would cost
// megabytes of tables for nothing. A fault on such a page finds no PTE and
// stops with PAGE_FAULT_IN_NONPAGED_AREA, which is what NT does for a
// kernel touch of reserved memory.
//
// The reservation list only serves placement (honouring hints without
// overlap); like NT's fault path, ours never reads it. Commit is charged
// per page (committedPages) but, as on Linux, not refused: the runtime
// commits sparse tables it never touches.

package mm

import (
	"ntgo/mm/layout"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/ntstatus"
)

// The runtime's region.
const (
	runtimeBase            = 0x7000_0000_0000    // mmap(NULL) placement starts here
	runtimeLimit           = 0x7F00_0000_0000    // and stays below here
	lowerHalfEnd           = layout.LowerHalfEnd // hints and fixed mappings: anywhere below
	page                   = uintptr(physmem.PageSize)
	maxRuntimeReservations = 512
)

type reservation struct{ start, end uintptr }

var (
	runtimeNext  uintptr = runtimeBase
	reservations [maxRuntimeReservations]reservation
	nreserved    int
)

//go:nosplit
func reserved(start, end uintptr) bool {
	for i := 0; i < nreserved; i++ {
		if start < reservations[i].end && reservations[i].start < end {
			return true
		}
	}
	return false
}

// remember records [start, end), merged with a reservation it touches.
//
//go:nosplit
func remember(start, end uintptr) {
	for i := 0; i < nreserved; i++ {
		r := &reservations[i]
		if start <= r.end && r.start <= end {
			r.start = min(r.start, start)
			r.end = max(r.end, end)
			return
		}
	}
	if nreserved < len(reservations) {
		reservations[nreserved] = reservation{start, end}
		nreserved++
	}
}

// RuntimeMap serves an anonymous private mmap of length bytes: at addr if
// fixed, at the hint addr if it is free, else where mmap(NULL) places
// regions. prot 0 reserves (PROT_NONE); otherwise the pages are committed
// demand-zero with prot. It returns the address.
//
// Not nosplit: it runs only on the trap g, and what it calls goes deeper
// than the nosplit budget (see the file comment).
func RuntimeMap(addr, length uintptr, prot pte.Protection, fixed bool) (uintptr, ntstatus.Status) {
	length = (length + page - 1) &^ (page - 1)
	if length == 0 || addr&(page-1) != 0 {
		return 0, ntstatus.InvalidParameter
	}
	tableLock.Acquire()
	addr, st := runtimeMapLocked(addr, length, prot, fixed)
	tableLock.Release()
	return addr, st
}

// runtimeMapLocked is RuntimeMap's work under tableLock.
//
//go:nosplit
func runtimeMapLocked(addr, length uintptr, prot pte.Protection, fixed bool) (uintptr, ntstatus.Status) {
	switch {
	case fixed:
		if addr+length > lowerHalfEnd || addr+length < addr {
			return 0, ntstatus.NoMemory
		}
	case addr != 0 && addr+length <= lowerHalfEnd && addr+length > addr && !reserved(addr, addr+length):
		// the hint is free: use it
	default:
		addr = runtimeNext
		if addr+length > runtimeLimit {
			return 0, ntstatus.NoMemory
		}
		runtimeNext += length + page // a guard gap between regions
	}
	remember(addr, addr+length)
	var e pte.PTE
	if prot != 0 {
		e = pte.DemandZero(prot)
	}
	return addr, setRange(addr, addr+length, e)
}

// RuntimeUnmap serves munmap: the pages' frames go back and their PTEs are
// cleared.
//
// Not nosplit: it runs only on the trap g, and what it calls goes deeper
// than the nosplit budget (see the file comment).
func RuntimeUnmap(addr, length uintptr) ntstatus.Status {
	if addr&(page-1) != 0 || addr+length < addr {
		return ntstatus.InvalidParameter
	}
	tableLock.Acquire()
	st := setRange(addr, addr+(length+page-1)&^(page-1), 0)
	tableLock.Release()
	return st
}

// RuntimeProtect serves mprotect: every page of the range, which must be
// committed, takes prot (0 for PROT_NONE: no access, contents kept).
//
// Not nosplit: it runs only on the trap g, and what it calls goes deeper
// than the nosplit budget (see the file comment).
func RuntimeProtect(addr, length uintptr, prot pte.Protection) ntstatus.Status {
	end := (addr + length + page - 1) &^ (page - 1)
	if addr&(page-1) != 0 || end < addr {
		return ntstatus.InvalidParameter
	}
	if prot == 0 {
		prot = pte.ProtNoAccess
	}
	tableLock.Acquire()
	st := runtimeProtectLocked(addr, end, prot)
	tableLock.Release()
	return st
}

// runtimeProtectLocked is RuntimeProtect's work under tableLock.
//
//go:nosplit
func runtimeProtectLocked(addr, end uintptr, prot pte.Protection) ntstatus.Status {
	for va := addr; va < end; va += page {
		if e, st := Tables.Leaf(va); st != ntstatus.Success || e.Protection() == 0 {
			return ntstatus.NotCommitted
		}
	}
	var b pte.FlushBatch
	for va := addr; va < end; va += page {
		Tables.Protect(va, prot, &b)
	}
	Tables.Flush(&b)
	return ntstatus.Success
}

// RuntimeDiscard serves madvise(MADV_DONTNEED): resident pages in the range
// give their frames back and read as zeros at their next touch.
//
// Not nosplit: it runs only on the trap g, and what it calls goes deeper
// than the nosplit budget (see the file comment).
func RuntimeDiscard(addr, length uintptr) {
	tableLock.Acquire()
	r := &releasing
	end := addr + length
	for va := addr &^ (page - 1); va < end; {
		if next, empty := skipEmpty(va); empty {
			va = next
			continue
		}
		if old, st := Tables.Leaf(va); st == ntstatus.Success && old.Kind() == pte.KindValid {
			Tables.Replace(va, pte.DemandZero(old.Protection()), &r.stale)
			r.add(old.Frame(), va)
		}
		va += page
	}
	r.release()
	tableLock.Release()
}

// frameRelease gives back the frames of pages whose PTEs were replaced,
// after one shootdown for up to pte.FlushAllThreshold of them, as NT's
// flush lists do: a frame may go back only once no processor's TLB still
// maps it, and a shootdown per page made a large madvise or munmap wait
// for the other processors page by page (under TCG with more vCPUs than
// host cores, seconds for 64 MiB).
type frameRelease struct {
	stale  pte.FlushBatch
	n      int
	frames [pte.FlushAllThreshold]physmem.PFN
	ptes   [pte.FlushAllThreshold]uintptr
}

// releasing is the queue of the runtime's memory calls, which hold the
// table lock from their first PTE to their release (a static, not on the
// syscall stack: setRange is nosplit).
var releasing frameRelease

// add queues frame f, which the PTE of va named, releasing the queue when
// it is full. Its stale translation, if any, is already in r.stale.
//
//go:nosplit
func (r *frameRelease) add(f physmem.PFN, va uintptr) {
	r.frames[r.n], r.ptes[r.n] = f, pte.PteAddress(va)
	if r.n++; r.n == len(r.frames) {
		r.release()
	}
}

// release flushes the stale translations, then frees the queued frames.
//
//go:nosplit
func (r *frameRelease) release() {
	Tables.Flush(&r.stale)
	for i := range r.n {
		PFN.Free(r.frames[i], r.ptes[i])
	}
	r.n = 0
}

// setRange gives every page of [start, end) the leaf e (demand-zero, or 0
// to drop the page), returning frames of resident pages once their
// translation is flushed and keeping the commit charge.
//
//go:nosplit
func setRange(start, end uintptr, e pte.PTE) ntstatus.Status {
	r := &releasing
	st := ntstatus.Success
	for va := start; va < end; {
		if e == 0 {
			if next, empty := skipEmpty(va); empty {
				va = next
				continue
			}
		}
		var old pte.PTE
		if old, st = Tables.Swap(va, e, &r.stale); st != ntstatus.Success {
			break
		}
		switch old.Kind() {
		case pte.KindValid, pte.KindTransition:
			r.add(old.Frame(), va)
		}
		committedPages.Add(commitDelta(old, e))
		va += page
	}
	r.release()
	return st
}

// commitDelta is the change in commit charge when a leaf goes from old to e.
//
//go:nosplit
func commitDelta(old, e pte.PTE) int64 {
	return committed(e) - committed(old)
}

//go:nosplit
func committed(e pte.PTE) int64 {
	switch e.Kind() {
	case pte.KindValid, pte.KindTransition, pte.KindDemandZero:
		return 1
	}
	return 0
}

// skipEmpty reports whether va lies under a missing table, and if so the
// end of the range that table would have mapped.
//
//go:nosplit
func skipEmpty(va uintptr) (uintptr, bool) {
	if !pte.Mappable(va) {
		return va + page, false
	}
	for l := pte.PML4; l > pte.PT; l-- {
		if !selfMap.Load(l, va).Valid() {
			span := uintptr(1) << (l.Shift())
			return (va + span) &^ (span - 1), true
		}
	}
	return va, false
}

// findReservation is RuntimeReservation's search (debugdata.go), under
// tableLock.
//
//go:nosplit
func findReservation(va uintptr) (reservation, bool) {
	for i := 0; i < nreserved; i++ {
		if r := reservations[i]; va >= r.start && va < r.end {
			return r, true
		}
	}
	return reservation{}, false
}
