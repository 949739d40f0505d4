// Memory descriptor lists: IoAllocateMdl, MmProbeAndLockPages,
// MmMapLockedPagesSpecifyCache and the rest of the MDL routines.
//
// An MDL describes a virtual buffer by the physical frames behind it: a
// 48-byte header laid out as NT's _MDL, followed by one PFN per page the
// buffer spans (its PFN array). MDLs live in non-paged pool under the tag
// "Mdl ", so `poolmon` counts them; the header's 16-bit Size, as in NT,
// bounds a buffer at maxMdlPages pages (just under 32 MiB). As NT's
// IoAllocateMdl does, an MDL of up to mdlFixedPages pages is allocated at
// one fixed size (MDL_ALLOCATED_FIXED_SIZE), so that all of them come from
// and go back to one per-processor lookaside list: the pool's list for
// that block size, NT's PPLookasideList[LookasideMdlList].
//
// The PFN array is filled one of three ways, and MdlFlags records which:
//
//	ProbeAndLockPages        any resident-able buffer (the Go heap, paged
//	                         pool, dynamic VA, non-paged pool): each page is
//	                         touched until it is valid, checked for the
//	                         access asked for, and its frame locked (one PFN
//	                         reference, pfn.Database.Reference): MDL_PAGES_LOCKED.
//	                         Device memory is described, not locked: MDL_IO_SPACE.
//	BuildMdlForNonPagedPool  memory that is resident by construction; nothing
//	                         is locked: MDL_SOURCE_IS_NONPAGED_POOL, and the
//	                         buffer is its own system address.
//	AllocatePagesForMdlEx    frames taken from the PFN database for the MDL
//	                         alone, with no virtual buffer: MDL_PAGES_LOCKED
//	                         until FreePagesFromMdl gives them back.
//
// A locked frame stays off the page lists even if the buffer's own mapping
// goes away (the Go runtime discards a heap page, a driver decommits): the
// PFN database keeps it in Transition until the last lock is dropped, as in
// NT, so a DMA transfer into it never lands in someone else's page.
//
// MapLockedPagesSpecifyCache maps the PFN array into the system PTE region
// (va.SystemPtes, a guard page after each mapping) without touching share
// counts: the locks keep the frames. RAM frames are mapped with the cache
// attribute their PFN entries record, whatever the caller asks for, since
// two mappings of one frame with different PAT types are undefined on x86;
// device frames get the caller's type. BuildPartialMdl describes a
// sub-range of another MDL's pages, sharing its locks and its mapping.
//
// Misuse stops the system with NT's codes where NT has one:
//
//	unlocking an MDL whose pages are not locked   PFN_LIST_CORRUPT 7 (0x4E)
//	mapping an MDL whose pages are not locked     MEMORY_MANAGEMENT 0x1236 (0x1A)
//	describing a non-resident buffer as non-paged MEMORY_MANAGEMENT 0x1240
//	unmapping what the MDL did not map            SYSTEM_PTE_MISUSE 6 (0xDA)
//	a partial range outside its source MDL        INVALID_MDL_RANGE (0x12E)
//	freeing or reusing an MDL with locked pages   DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS (0xCB)
//
// Probe failures raise, as NT's do, for the caller's Try: an access
// violation for a buffer that cannot be made resident or written, the
// guard-page violation of a guard page, STATUS_WORKING_SET_QUOTA when a
// frame already holds as many locks as it can count. Pages locked before
// the failure are unlocked again first. Probing an MDL that already
// describes pages raises STATUS_INVALID_PARAMETER: its locks would be lost.
//
// Locking: an MDL belongs to its caller, who serializes calls on it, as in
// NT. Page-table reads for a lock hold tableLock (lockPage, mdl_trap.go);
// system-PTE mappings hold kernelSpace.

package mm

import (
	"math"
	"runtime"
	"unsafe"

	"ntgo/mm/ex"
	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pool"
	"ntgo/mm/pte"
	"ntgo/mm/verifier"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// MdlFlags are NT's MDL_* flags.
type MdlFlags uint16

const (
	MdlMappedToSystemVa     MdlFlags = 0x0001 // MappedSystemVa is a mapping this MDL (or its source) made
	MdlPagesLocked          MdlFlags = 0x0002 // the PFN array's RAM frames hold one lock each
	MdlSourceIsNonpagedPool MdlFlags = 0x0004 // described by BuildMdlForNonPagedPool; nothing locked
	MdlAllocatedFixedSize   MdlFlags = 0x0008 // allocated at mdlFixedSize, from the per-processor list
	MdlPartial              MdlFlags = 0x0010 // built by BuildPartialMdl from another MDL
	MdlPartialHasBeenMapped MdlFlags = 0x0020 // a partial MDL mapped by MapLockedPagesSpecifyCache
	MdlWriteOperation       MdlFlags = 0x0080 // locked for IoWriteAccess or IoModifyAccess
	MdlIoSpace              MdlFlags = 0x0800 // some page is device memory, not RAM
)

// The flags a partial MDL takes over from its source (NT's choice).
const partialInherits = MdlSourceIsNonpagedPool | MdlMappedToSystemVa | MdlIoSpace

// LockOperation is LOCK_OPERATION: the access ProbeAndLockPages checks.
type LockOperation uint8

const (
	IoReadAccess   LockOperation = 0
	IoWriteAccess  LockOperation = 1
	IoModifyAccess LockOperation = 2 // the same as IoWriteAccess
)

// PagePriority is MM_PAGE_PRIORITY, with the mapping flags drivers OR in.
type PagePriority uint32

const (
	LowPagePriority    PagePriority = 0
	NormalPagePriority PagePriority = 16
	HighPagePriority   PagePriority = 32

	MdlMappingNoWrite   PagePriority = 0x80000000 // map read-only
	MdlMappingNoExecute PagePriority = 0x40000000 // map not executable
)

// MmAllocatePagesForMdlEx flags (MM_ALLOCATE_*).
const (
	MmDontZeroAllocation            = 0x01
	MmAllocateFromLocalNodeOnly     = 0x02 // the ideal node's frames only
	MmAllocateFullyRequired         = 0x04 // all the pages or none
	MmAllocateNoWait                = 0x08 // nothing here waits
	MmAllocatePreferContiguous      = 0x10 // a hint ntgo does not follow
	mmAllocatePagesForMdlKnownFlags = 0x1F
)

// MEMORY_MANAGEMENT subtypes the MDL routines raise.
const (
	MdlPagesNotLocked = 0x1236 // p2 MDL, p3 address of its first PFN entry, p4 that PFN
	MdlNotResident    = 0x1240 // p2 MDL, p3 VA of the PTE that is not valid
)

// SystemPteMisuse subtype: unmapping an MDL that is not mapped there.
const PteMisuseMdlNotMapped = 0x06 // p2 MDL, p3 address, p4 pages

// Mdl is NT's _MDL header; the PFN array follows it in the same pool block.
type Mdl struct {
	Next     *Mdl // for drivers chaining MDLs (IRP->MdlAddress style)
	Size     uint16
	MdlFlags MdlFlags
	// NT's AllocationProcessorNumber, Reserved and Process: one processor
	// and no processes here; kept so the header is NT's 48 bytes and
	// SizeOfMdl gives NT's sizes.
	_              [2]uint16
	_              uintptr
	MappedSystemVa uintptr
	StartVa        uintptr // page-aligned
	ByteCount      uint32
	ByteOffset     uint32 // of the buffer in its first page
}

const (
	mdlHeaderSize = unsafe.Sizeof(Mdl{})
	pfnEntrySize  = unsafe.Sizeof(physmem.PFN(0))
	// maxMdlPages is the most pages whose MDL's Size fits its 16 bits.
	maxMdlPages = (math.MaxUint16 - mdlHeaderSize) / pfnEntrySize
	// mdlFixedPages is IOP_FIXED_SIZE_MDL_PFNS: MDLs of up to this many
	// pages are allocated at mdlFixedSize (232 bytes, within the pool's
	// per-processor lists).
	mdlFixedPages = 23
	mdlFixedSize  = mdlHeaderSize + mdlFixedPages*pfnEntrySize
)

var mdlTag = pool.MakeTag("Mdl ")

// spanPages is ADDRESS_AND_SIZE_TO_SPAN_PAGES: the pages [va, va+n) touches.
func spanPages(va, n uintptr) uintptr {
	return (va&physmem.PageMask + n + physmem.PageMask) / physmem.PageSize
}

// SizeOfMdl is MmSizeOfMdl: the bytes of an MDL for length bytes at base.
func SizeOfMdl(base unsafe.Pointer, length uintptr) uintptr {
	return mdlHeaderSize + spanPages(uintptr(base), length)*pfnEntrySize
}

// AllocateMdl is IoAllocateMdl(VirtualAddress, Length, FALSE, FALSE, NULL):
// an MDL for length bytes at base, its PFN array not yet filled. It returns
// nil for a zero length, a buffer of more than maxMdlPages pages, or when
// non-paged pool is exhausted. (ntgo has no IRPs, secondary buffers or
// quota, so IoAllocateMdl's last three arguments have no Go counterpart.)
// The MDL holds the buffer's address, not a Go pointer: a caller describing
// Go memory keeps it reachable (runtime.KeepAlive) while the MDL is in use.
func AllocateMdl(base unsafe.Pointer, length uint32) *Mdl {
	return newMdl(uintptr(base), uintptr(length))
}

func newMdl(va, length uintptr) *Mdl {
	pages := spanPages(va, length)
	if length == 0 || pages > maxMdlPages {
		return nil
	}
	size, alloc, flags := mdlHeaderSize+pages*pfnEntrySize, mdlFixedSize, MdlAllocatedFixedSize
	if pages > mdlFixedPages {
		alloc, flags = size, 0
	}
	p := ex.AllocatePoolWithTag(pool.NonPagedPoolNx, alloc, mdlTag)
	if p == nil {
		return nil
	}
	m := (*Mdl)(p)
	*m = Mdl{Size: uint16(size), MdlFlags: flags}
	m.describe(va, length)
	clear(m.Pages())
	return m
}

// describe sets the buffer m describes.
func (m *Mdl) describe(va, length uintptr) {
	m.StartVa = va &^ physmem.PageMask
	m.ByteOffset = uint32(va & physmem.PageMask)
	m.ByteCount = uint32(length)
}

// Pages is MmGetMdlPfnArray: one frame per page of the buffer.
func (m *Mdl) Pages() []physmem.PFN {
	n := spanPages(m.VirtualAddress(), uintptr(m.ByteCount))
	return unsafe.Slice((*physmem.PFN)(unsafe.Add(unsafe.Pointer(m), mdlHeaderSize)), n)
}

// VirtualAddress is MmGetMdlVirtualAddress: where the buffer starts.
func (m *Mdl) VirtualAddress() uintptr { return m.StartVa + uintptr(m.ByteOffset) }

// lockedPages is how many RAM frames m holds locks on.
func (m *Mdl) lockedPages() uintptr {
	if m.MdlFlags&MdlPagesLocked == 0 {
		return 0
	}
	n := uintptr(0)
	for _, f := range m.Pages() {
		if PFN.Managed(f) {
			n++
		}
	}
	return n
}

// refuseLocked stops the system if m still holds locks that whatever its
// caller does next would lose.
func (m *Mdl) refuseLocked() {
	if n := m.lockedPages(); n != 0 {
		var pc [2]uintptr
		runtime.Callers(3, pc[:])
		bugcheck.KeBugCheckEx(bugcheck.DriverLeftLockedPagesInProcess, pc[0], pc[1], uintptr(unsafe.Pointer(m)), n)
	}
}

// FreeMdl is IoFreeMdl. A partial MDL's own mapping is undone first (NT's
// MmPrepareMdlForReuse); an MDL whose pages are still locked is
// DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS, since the locks would be lost.
func FreeMdl(m *Mdl) {
	PrepareMdlForReuse(m)
	m.refuseLocked()
	ex.FreePoolWithTag(unsafe.Pointer(m), mdlTag)
}

// PrepareMdlForReuse is MmPrepareMdlForReuse: it undoes a partial MDL's
// own mapping so the MDL can describe another range.
func PrepareMdlForReuse(m *Mdl) {
	if m.MdlFlags&MdlPartialHasBeenMapped != 0 {
		UnmapLockedPages(m.MappedSystemVa, m)
	}
}

// BuildMdlForNonPagedPool is MmBuildMdlForNonPagedPool: it fills m's PFN
// array for a buffer that is resident by construction (non-paged pool,
// contiguous memory, device mappings, the kernel image). The Go heap, paged
// pool and dynamic VA can lose their pages and are refused, like any page
// not valid now: MEMORY_MANAGEMENT 0x1240.
func BuildMdlForNonPagedPool(m *Mdl) {
	m.refuseLocked()
	pages := m.Pages()
	io := false
	kernelSpace.Lock()
	for i := range pages {
		va := m.StartVa + uintptr(i)*physmem.PageSize
		w := Tables.Lookup(va)
		pa, ok := w.PhysAddr()
		if !ok || !alwaysResident(va) {
			kernelSpace.Unlock()
			bugcheck.KeBugCheckEx(bugcheck.MemoryManagement, MdlNotResident, uintptr(unsafe.Pointer(m)), pte.PteAddress(va), 0)
		}
		pages[i] = physmem.FrameOf(pa)
		io = io || !PFN.Managed(pages[i])
	}
	kernelSpace.Unlock()
	m.MdlFlags = m.MdlFlags&^(MdlIoSpace|MdlPartial) | MdlSourceIsNonpagedPool
	if io {
		m.MdlFlags |= MdlIoSpace
	}
	m.MappedSystemVa = m.VirtualAddress()
}

// alwaysResident reports whether valid pages at va stay valid until their
// owner frees them: not the Go runtime's (it discards pages), not paged
// pool's or dynamic VA's (decommitted by their owners page by page).
func alwaysResident(va uintptr) bool {
	if RuntimeAddress(va) {
		return false
	}
	r, ok := layout.Find(va)
	return !ok || r.ID != layout.PagedPool && r.ID != layout.DynamicVA
}

// ProbeAndLockPages is MmProbeAndLockPages(m, KernelMode, op): it makes
// each page of m's buffer resident, checks it allows op, locks its frame
// and records it in m's PFN array. Failures raise (see the file comment),
// so callers run it inside ntstatus.Try.
func ProbeAndLockPages(m *Mdl, op LockOperation) {
	if m.MdlFlags&(MdlPagesLocked|MdlMappedToSystemVa|MdlSourceIsNonpagedPool|MdlPartial|MdlIoSpace) != 0 {
		ntstatus.Raise(ntstatus.InvalidParameter)
	}
	write := op != IoReadAccess
	pages := m.Pages()
	locked, io := 0, false
	defer func() {
		if locked != len(pages) { // raised: give back what was locked
			unlockFrames(pages[:locked])
		}
	}()
	for i := range pages {
		va := m.StartVa + uintptr(i)*physmem.PageSize
		f, got := probeAndLock(va, write)
		switch got {
		case pageNotWritable:
			ntstatus.RaiseAt(ntstatus.AccessViolation, va)
		case pageLockLimit:
			ntstatus.Raise(ntstatus.WorkingSetQuota)
		}
		pages[i] = f
		locked++
		io = io || got == pageIoSpace
	}
	m.MdlFlags |= MdlPagesLocked
	if write {
		m.MdlFlags |= MdlWriteOperation
	}
	if io {
		m.MdlFlags |= MdlIoSpace
	}
}

// probeAndLock makes va resident by reading it, which raises into the
// caller's Try if it cannot be, and locks its frame; it touches again if
// the page went away between the touch and the lock (the runtime may
// discard a heap page at any time).
func probeAndLock(va uintptr, write bool) (physmem.PFN, pageLock) {
	for {
		loadByte((*byte)(virtual(va)))
		if f, got := lockPage(va, write); got != pageNotResident {
			return f, got
		}
	}
}

// unlockFrames drops the locks on the RAM frames among frames.
func unlockFrames(frames []physmem.PFN) {
	for _, f := range frames {
		if PFN.Managed(f) {
			PFN.Dereference(f)
		}
	}
}

// UnlockPages is MmUnlockPages: it unmaps m if it is mapped and drops the
// locks ProbeAndLockPages took.
func UnlockPages(m *Mdl) {
	pages := m.Pages()
	if m.MdlFlags&MdlPagesLocked == 0 || m.MdlFlags&(MdlSourceIsNonpagedPool|MdlPartial) != 0 {
		share := uintptr(0)
		if i, ok := PFN.Decode(pages[0]); ok {
			share = uintptr(i.ShareCount)
		}
		bugcheck.KeBugCheckEx(bugcheck.PfnListCorrupt, pfn.UnlockedTooOften, uintptr(pages[0]), share, uintptr(unsafe.Pointer(m)))
	}
	if m.MdlFlags&MdlMappedToSystemVa != 0 {
		UnmapLockedPages(m.MappedSystemVa, m)
	}
	unlockFrames(pages)
	m.MdlFlags &^= MdlPagesLocked | MdlWriteOperation | MdlIoSpace
}

// MapLockedPagesSpecifyCache is MmMapLockedPagesSpecifyCache(m, KernelMode,
// c, NULL, bugCheckOnFailure, priority): it maps m's pages into system PTEs
// and returns the address of m's buffer there, or 0 when system PTEs or
// page-table frames run out (NO_MORE_SYSTEM_PTES instead if
// bugCheckOnFailure) or m is mapped already. A non-paged-pool MDL is its
// own mapping. The pages are mapped read-write and executable, as in NT,
// unless priority carries MdlMappingNoWrite or MdlMappingNoExecute.
func MapLockedPagesSpecifyCache(m *Mdl, c pte.CacheType, bugCheckOnFailure bool, priority PagePriority) uintptr {
	pages := m.Pages()
	switch {
	case m.MdlFlags&MdlSourceIsNonpagedPool != 0:
		return m.MappedSystemVa
	case m.MdlFlags&(MdlMappedToSystemVa|MdlPartialHasBeenMapped) != 0:
		return 0
	case m.MdlFlags&(MdlPagesLocked|MdlPartial) == 0:
		bugcheck.KeBugCheckEx(bugcheck.MemoryManagement, MdlPagesNotLocked, uintptr(unsafe.Pointer(m)), uintptr(unsafe.Pointer(&pages[0])), uintptr(pages[0]))
	}
	// Low-resource simulation fails only a mapping that may fail: one that
	// asked for a bugcheck on failure would stop instead.
	if !bugCheckOnFailure && verifier.InjectFailure(verifier.InjectMdl) {
		return 0
	}
	base := mapFrames(pages, mappingProtection(priority), c, bugCheckOnFailure)
	if base == 0 {
		return 0
	}
	m.MappedSystemVa = base + uintptr(m.ByteOffset)
	if m.MdlFlags&MdlPartial != 0 {
		m.MdlFlags |= MdlPartialHasBeenMapped
	} else {
		m.MdlFlags |= MdlMappedToSystemVa
	}
	return m.MappedSystemVa
}

// mappingProtection is the protection priority's mapping flags ask for.
func mappingProtection(priority PagePriority) pte.Protection {
	switch priority & (MdlMappingNoWrite | MdlMappingNoExecute) {
	case MdlMappingNoWrite:
		return pte.ProtExecuteRead
	case MdlMappingNoExecute:
		return pte.ProtReadWrite
	case MdlMappingNoWrite | MdlMappingNoExecute:
		return pte.ProtReadOnly
	}
	return pte.ProtExecuteReadWrite
}

// mapFrames maps frames at consecutive system PTEs and returns the first
// page's address, or 0 if that failed.
func mapFrames(frames []physmem.PFN, prot pte.Protection, c pte.CacheType, bugCheckOnFailure bool) uintptr {
	kernelSpace.Lock()
	defer kernelSpace.Unlock()
	n := len(frames)
	var base uintptr
	if bugCheckOnFailure {
		base = SystemPtes.ReserveOrBugcheck(n)
	} else {
		var st ntstatus.Status
		if base, st = SystemPtes.Reserve(n); st != ntstatus.Success {
			return 0
		}
	}
	for i, f := range frames {
		if Tables.Map(base+uintptr(i)*physmem.PageSize, f, prot, frameCache(f, c)) != ntstatus.Success {
			SystemPtes.Release(base, n)
			if bugCheckOnFailure {
				bugcheck.KeBugCheckEx(bugcheck.NoMoreSystemPtes, 0, uintptr(n), uintptr(SystemPtes.Free()), uintptr(SystemPtes.Total()))
			}
			return 0
		}
	}
	return base
}

// frameCache is the cache type to map frame f with: a RAM frame's own
// attribute, c for device memory.
func frameCache(f physmem.PFN, c pte.CacheType) pte.CacheType {
	if i, ok := PFN.Decode(f); ok && i.State != pfn.StateReserved && i.Cache != pfn.NotMapped {
		return pte.CacheType(i.Cache)
	}
	return c
}

// MapLockedPages is MmMapLockedPages(m, KernelMode): cached, and
// NO_MORE_SYSTEM_PTES if the mapping cannot be made.
func MapLockedPages(m *Mdl) uintptr {
	return MapLockedPagesSpecifyCache(m, pte.Cached, true, HighPagePriority)
}

// GetSystemAddressForMdlSafe is MmGetSystemAddressForMdlSafe: m's system
// address, mapping it (cached) if it has none yet; 0 if that fails.
func GetSystemAddressForMdlSafe(m *Mdl, priority PagePriority) uintptr {
	if m.MdlFlags&(MdlMappedToSystemVa|MdlPartialHasBeenMapped|MdlSourceIsNonpagedPool) != 0 {
		return m.MappedSystemVa
	}
	return MapLockedPagesSpecifyCache(m, pte.Cached, false, priority)
}

// UnmapLockedPages is MmUnmapLockedPages(base, m): it undoes the mapping
// MapLockedPagesSpecifyCache returned as base. A non-paged-pool MDL's
// "mapping" is the buffer itself and is left alone. Anything else is
// SYSTEM_PTE_MISUSE 6.
func UnmapLockedPages(base uintptr, m *Mdl) {
	if m.MdlFlags&MdlSourceIsNonpagedPool != 0 && base == m.MappedSystemVa {
		return
	}
	own := MdlMappedToSystemVa
	if m.MdlFlags&MdlPartial != 0 {
		own = MdlPartialHasBeenMapped
	}
	n := len(m.Pages())
	if m.MdlFlags&own == 0 || base != m.MappedSystemVa {
		bugcheck.KeBugCheckEx(bugcheck.SystemPteMisuse, PteMisuseMdlNotMapped, uintptr(unsafe.Pointer(m)), base, uintptr(n))
	}
	kernelSpace.Lock()
	SystemPtes.Release(base&^physmem.PageMask, n)
	kernelSpace.Unlock()
	m.MdlFlags &^= own
	m.MappedSystemVa = 0
}

// BuildPartialMdl is IoBuildPartialMdl: target describes length bytes at va
// (0: to the end of source's buffer) with source's frames, locks and
// system mapping. A range outside source's buffer, or too large for
// target, is INVALID_MDL_RANGE; a target still holding locks of its own is
// DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS; its own earlier partial mapping is
// undone (MmPrepareMdlForReuse).
func BuildPartialMdl(source, target *Mdl, va uintptr, length uint32) {
	start, end := source.VirtualAddress(), source.VirtualAddress()+uintptr(source.ByteCount)
	if length == 0 && va >= start && va < end {
		length = uint32(end - va)
	}
	if va < start || va+uintptr(length) > end || length == 0 ||
		mdlHeaderSize+spanPages(va, uintptr(length))*pfnEntrySize > uintptr(target.Size) {
		bugcheck.KeBugCheckEx(bugcheck.InvalidMdlRange, uintptr(unsafe.Pointer(source)), uintptr(unsafe.Pointer(target)), va, uintptr(length))
	}
	PrepareMdlForReuse(target)
	target.refuseLocked()
	target.describe(va, uintptr(length))
	first := (target.StartVa - source.StartVa) / physmem.PageSize
	copy(target.Pages(), source.Pages()[first:])
	target.MdlFlags = target.MdlFlags&MdlAllocatedFixedSize | source.MdlFlags&partialInherits | MdlPartial
	target.MappedSystemVa = 0
	if source.MdlFlags&(MdlMappedToSystemVa|MdlSourceIsNonpagedPool) != 0 {
		target.MappedSystemVa = source.MappedSystemVa + (va - start)
	}
}

// AllocatePagesForMdlEx is MmAllocatePagesForMdlEx: an MDL describing up to
// total bytes of frames between physical addresses low and high, taken from
// the PFN database for the caller alone, with cache attribute c and zeroed
// unless flags has MmDontZeroAllocation. A nonzero skip retries the range
// skip bytes higher, as often as it takes, when the frames run out. The MDL
// may describe fewer bytes than asked (never with MmAllocateFullyRequired);
// nil if no frame was found or the request is impossible. Give the frames
// back with FreePagesFromMdl, then the MDL with ex.FreePool or FreeMdl.
// The frames come from the current processor's node first, then from the
// others unless flags has MmAllocateFromLocalNodeOnly.
func AllocatePagesForMdlEx(low, high, skip uint64, total uintptr, c pte.CacheType, flags uint32) *Mdl {
	return allocatePagesForMdl(low, high, skip, total, c, ke.GetCurrentNodeNumber(), flags)
}

// AllocateNodePagesForMdlEx is MmAllocateNodePagesForMdlEx:
// AllocatePagesForMdlEx with the frames from idealNode first (only from it
// with MmAllocateFromLocalNodeOnly); nil for a node above
// ke.QueryHighestNodeNumber.
func AllocateNodePagesForMdlEx(low, high, skip uint64, total uintptr, c pte.CacheType, idealNode, flags uint32) *Mdl {
	if idealNode > ke.QueryHighestNodeNumber() {
		return nil
	}
	return allocatePagesForMdl(low, high, skip, total, c, idealNode, flags)
}

func allocatePagesForMdl(low, high, skip uint64, total uintptr, c pte.CacheType, node, flags uint32) *Mdl {
	if flags&^mmAllocatePagesForMdlKnownFlags != 0 || skip&physmem.PageMask != 0 || c >= pte.CacheType(pfn.NotMapped) {
		return nil
	}
	if verifier.InjectFailure(verifier.InjectPages) {
		return nil
	}
	m := newMdl(0, min(total, maxMdlPages*physmem.PageSize))
	if m == nil {
		return nil
	}
	pages := m.Pages()
	got := takeFrames(pages, low, high, skip, pfn.Cache(c), node, flags&MmAllocateFromLocalNodeOnly != 0)
	if got == 0 || got < len(pages) && flags&MmAllocateFullyRequired != 0 {
		freeFrames(pages[:got])
		ex.FreePoolWithTag(unsafe.Pointer(m), mdlTag)
		return nil
	}
	m.ByteCount = uint32(min(uintptr(m.ByteCount), uintptr(got)*physmem.PageSize))
	m.MdlFlags |= MdlPagesLocked
	if flags&MmDontZeroAllocation == 0 && !zeroMdl(m) {
		FreePagesFromMdl(m)
		ex.FreePoolWithTag(unsafe.Pointer(m), mdlTag)
		return nil
	}
	return m
}

// AllocatePagesForMdl is MmAllocatePagesForMdl: cached and zeroed.
func AllocatePagesForMdl(low, high, skip uint64, total uintptr) *Mdl {
	return AllocatePagesForMdlEx(low, high, skip, total, pte.Cached, 0)
}

// takeFrames fills pages with frames in [low, high], then in the ranges
// skip higher, each from node first (only from node if required), and
// returns how many it took. Each frame is a one-frame run, and the next
// is looked for below it (the run scan goes downwards), so that a range
// costs about one pass however many frames it gives, not one per frame;
// when nothing is left below, one more scan of the whole range finds
// frames freed above meanwhile, or memory the database had not yet grown
// into (pfn.InitLazy), which the scan adds.
func takeFrames(pages []physmem.PFN, low, high, skip uint64, c pfn.Cache, node uint32, required bool) int {
	got := 0
	last := PFN.Frames() - 1
	for got < len(pages) {
		lowest, whole := physmem.FrameOf(low+physmem.PageMask), physmem.FrameOf(high)
		for top := whole; got < len(pages) && top >= lowest; {
			f, st := PFN.AllocateContiguousOnNode(1, lowest, top, 0, c, node, required)
			if st != ntstatus.Success {
				if top == whole {
					break
				}
				top = whole
				continue
			}
			pages[got] = f
			got++
			if f == 0 {
				break
			}
			top = f - 1
		}
		if skip == 0 || low+skip < low || physmem.FrameOf(low+skip) > last {
			break
		}
		low += skip
		if high+skip > high {
			high += skip
		}
	}
	return got
}

// freeFrames gives frames taken by takeFrames back.
func freeFrames(frames []physmem.PFN) {
	for _, f := range frames {
		PFN.FreeContiguous(f)
	}
}

// zeroMdl zeroes m's frames through a temporary system mapping.
func zeroMdl(m *Mdl) bool {
	va := MapLockedPagesSpecifyCache(m, pte.Cached, false, NormalPagePriority|MdlMappingNoExecute)
	if va == 0 {
		return false
	}
	clear(unsafe.Slice((*byte)(virtual(va)), len(m.Pages())*int(physmem.PageSize)))
	UnmapLockedPages(va, m)
	return true
}

// FreePagesFromMdl is MmFreePagesFromMdl: it unmaps m if mapped and gives
// the frames AllocatePagesForMdlEx took back to the PFN database. Frames
// that did not come from there are the PFN database's bugcheck.
func FreePagesFromMdl(m *Mdl) {
	if m.MdlFlags&MdlMappedToSystemVa != 0 {
		UnmapLockedPages(m.MappedSystemVa, m)
	}
	freeFrames(m.Pages())
	m.MdlFlags &^= MdlPagesLocked
}

// loadByte reads *p; a call the compiler cannot drop.
//
//go:noinline
func loadByte(p *byte) byte { return *p }
