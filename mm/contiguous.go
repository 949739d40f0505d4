// MmAllocateContiguousMemory[SpecifyCache] and MmFreeContiguousMemory.
//
// A contiguous allocation is a run of frames from the PFN database
// (AllocateContiguousOnNode: physical bounds, boundary, node, cache
// attribute kept in the entries) mapped into system PTEs with that cache
// type. Without a node the run comes from the current processor's node if
// it has one; the ...Node routines take NT's NODE_REQUIREMENT: a node
// number, which the whole run must be on, or MM_ANY_NODE_OK for any node. Freeing needs
// no table of its own: the mapping leads to the first frame, the database
// knows the run's length, and the system PTEs know the mapping's.

package mm

import (
	"unsafe"

	"ntgo/mm/ex"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/mm/va"
	"ntgo/mm/verifier"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
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
	return allocateContiguous(size, lowest, highest, boundary, c, ke.GetCurrentNodeNumber(), false)
}

// AllocateContiguousMemorySpecifyCacheNode is
// MmAllocateContiguousMemorySpecifyCacheNode: the run is on node
// preferredNode (nil if that node has none), or on any node, the current
// processor's first, for ex.MmAnyNodeOK.
func AllocateContiguousMemorySpecifyCacheNode(size uintptr, lowest, highest, boundary uint64, c pte.CacheType, preferredNode uint32) unsafe.Pointer {
	if preferredNode&ex.MmAnyNodeOK != 0 {
		return AllocateContiguousMemorySpecifyCache(size, lowest, highest, boundary, c)
	}
	return allocateContiguous(size, lowest, highest, boundary, c, preferredNode, true)
}

// Protection flags AllocateContiguousNodeMemory takes besides
// va.PageReadWrite (NT's PAGE_NOCACHE and PAGE_WRITECOMBINE).
const (
	PageNoCache      = 0x200
	PageWriteCombine = 0x400
)

// AllocateContiguousNodeMemory is MmAllocateContiguousNodeMemory:
// AllocateContiguousMemorySpecifyCacheNode with the cache type given as
// protection flags, PAGE_READWRITE with PAGE_NOCACHE or PAGE_WRITECOMBINE
// or neither (cached). PAGE_EXECUTE_READWRITE, which NT also takes, gets
// nil: ntgo maps contiguous memory no-execute.
func AllocateContiguousNodeMemory(size uintptr, lowest, highest, boundary uint64, protect va.PageProtection, preferredNode uint32) unsafe.Pointer {
	c := pte.Cached
	switch protect {
	case va.PageReadWrite:
	case va.PageReadWrite | PageNoCache:
		c = pte.NonCached
	case va.PageReadWrite | PageWriteCombine:
		c = pte.WriteCombined
	default:
		return nil
	}
	return AllocateContiguousMemorySpecifyCacheNode(size, lowest, highest, boundary, c, preferredNode)
}

// allocateContiguous maps a run of frames preferring node (only node if
// required).
func allocateContiguous(size uintptr, lowest, highest, boundary uint64, c pte.CacheType, node uint32, required bool) unsafe.Pointer {
	if size == 0 || verifier.InjectFailure(verifier.InjectPages) {
		return nil
	}
	n := physmem.PFN((size + physmem.PageMask) / physmem.PageSize)
	first, st := PFN.AllocateContiguousOnNode(n, physmem.FrameOf(lowest+physmem.PageMask), physmem.FrameOf(highest), physmem.FrameOf(boundary), pfn.Cache(c), node, required)
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
