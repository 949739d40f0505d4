// MmAllocateContiguousMemory[SpecifyCache] and MmFreeContiguousMemory.
//
// A contiguous allocation is a run of frames from the PFN database
// (AllocateContiguous: physical bounds, boundary, cache attribute kept in
// the entries) mapped into system PTEs with that cache type. Freeing needs
// no table of its own: the mapping leads to the first frame, the database
// knows the run's length, and the system PTEs know the mapping's.

package mm

import (
	"unsafe"

	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/va"
	"ntgo/mm/verifier"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

// MaxPhysicalAddress is what MmAllocateContiguousMemory's single bound
// means: anywhere the machine has RAM.
const MaxPhysicalAddress = ^uint64(0)

// AllocateContiguousMemory is MmAllocateContiguousMemory: cached, anywhere
// at or below highest.
func AllocateContiguousMemory(size uintptr, highest uint64) unsafe.Pointer {
	return AllocateContiguousMemorySpecifyCache(size, 0, highest, 0, pte.Cached)
}

// AllocateContiguousMemorySpecifyCache is MmAllocateContiguousMemorySpecifyCache:
// size bytes of physically contiguous, zeroed memory within
// [lowest, highest], not crossing a multiple of boundary bytes (0: no
// limit), mapped with cache type c. It returns nil when no such run exists
// or the request is impossible (NT returns NULL for both).
func AllocateContiguousMemorySpecifyCache(size uintptr, lowest, highest, boundary uint64, c pte.CacheType) unsafe.Pointer {
	if size == 0 || verifier.InjectFailure(verifier.InjectPages) {
		return nil
	}
	n := physmem.PFN((size + physmem.PageMask) / physmem.PageSize)
	first, st := PFN.AllocateContiguous(n, physmem.FrameOf(lowest+physmem.PageMask), physmem.FrameOf(highest), physmem.FrameOf(boundary), pfn.Cache(c))
	if st != ntstatus.Success {
		return nil
	}
	kernelSpace.Lock()
	addr := SystemPtes.MapIoSpace(first.Addr(), uintptr(n)*physmem.PageSize, c)
	kernelSpace.Unlock()
	if addr == 0 {
		PFN.FreeContiguous(first)
		return nil
	}
	p := virtual(addr)
	clear(unsafe.Slice((*byte)(p), uintptr(n)*physmem.PageSize))
	return p
}

// FreeContiguousMemory is MmFreeContiguousMemory. The mapping goes first,
// then the frames. An address that is not the start of a system-PTE
// mapping is SYSTEM_PTE_MISUSE; one whose frames are not a contiguous run,
// the PFN database's bugcheck.
func FreeContiguousMemory(base unsafe.Pointer) {
	addr := uintptr(base)
	kernelSpace.Lock()
	defer kernelSpace.Unlock()
	n, mapped := SystemPtes.Pages(addr)
	pa, resident := Tables.Translate(addr)
	if !mapped || !resident {
		bugcheck.KeBugCheckEx(bugcheck.SystemPteMisuse, va.PteMisuseNotAllocated, addr, 0, 0)
	}
	SystemPtes.Release(addr, n)
	PFN.FreeContiguous(physmem.FrameOf(pa))
}
