// Boot: the PFN database and the kernel's own page tables.
//
// Boot runs once, from kernel.Start, on the boot stack before the Go runtime
// exists: static memory only, interrupts off. Boot itself is not
// //go:nosplit (its frame and the walker below it exceed the linker's
// nosplit budget); like trap context it runs on the trap g, whose zero stack
// guard means no prologue ever calls morestack. The package comment
// gives the sequence; the invariants it leaves behind are:
//   - every frame of RAM in the first 256 MiB of frames is in the PFN
//     database: free, or Active with one reference if in use (below 1 MiB:
//     reserved, never handed out); the rest joins it from the idle loop
//     (pfn.InitLazy), its storage already mapped;
//   - CR3 is a PML4 from the database holding the self-map at SelfMapSlot,
//     the walker uses the self-map and the database reaches frames through
//     hyperspace;
//   - nothing but the kernel image, the database, the APIC registers and the
//     hyperspace slots is mapped; the Go runtime maps the rest of what it
//     uses through mmap.

package mm

import (
	"unsafe"

	"ntgo/mm/layout"
	"ntgo/mm/pfn"
	"ntgo/mm/physmem"
	"ntgo/mm/pte"
	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// ImageSegment is one loaded segment of the kernel image (an ELF PT_LOAD),
// identity-placed: its physical and virtual addresses are equal.
type ImageSegment struct {
	Start, End uintptr // page-aligned
	Prot       pte.Protection
}

// Physical addresses Boot treats specially.
const (
	// lowMemoryEnd: frames below 1 MiB belong to firmware and the boot
	// page tables and are never handed out.
	lowMemoryEnd = 1 << 20
	// The local APIC and I/O APIC register pages, mapped at their physical
	// addresses because tamago's drivers take 32-bit register addresses.
	lapicRegisters  = 0xFEE00000
	ioapicRegisters = 0xFEC00000

	maxBootRanges = 80

	// eagerFrames is how much of the PFN database Boot builds (256 MiB of
	// frames); the idle loop builds the rest (ZeroPages), and an
	// allocation that finds no frame builds more first, so boot takes the
	// same time with 4 GiB as with 256 MiB (pfn.InitLazy).
	eagerFrames = 256 << 20 / physmem.PageSize
)

var (
	memoryMap   [maxBootRanges]pfn.Range
	memoryMapN  int
	databaseLen physmem.PFN // entries
	databasePA  uint64      // where the entries are in physical memory
	databaseEnd uintptr     // end of the entries' virtual range
)

// AddBootRange records one range of the firmware memory map (or a range the
// kernel knows is in use) for Boot. Where ranges overlap, reserved beats in
// use beats free.
//
//go:nosplit
func AddBootRange(base, length uint64, t pfn.RangeType) {
	if memoryMapN == len(memoryMap) {
		bootFail(ntstatus.BufferTooSmall, uintptr(base))
	}
	memoryMap[memoryMapN] = pfn.Range{Base: base, Length: length, Type: t}
	memoryMapN++
}

// bootFail stops the boot: PHASE0_INITIALIZATION_FAILED with the status and
// the address concerned.
//
//go:nosplit
func bootFail(st ntstatus.Status, addr uintptr) {
	bugcheck.KeBugCheckEx(bugcheck.Phase0InitializationFailed, uintptr(st), addr, 0, 0)
}

// Boot builds the PFN database and the page tables and switches to them.
// The memory map must be complete (AddBootRange) and image lists the
// kernel's segments.
func Boot(image []ImageSegment) {
	AddBootRange(0, lowMemoryEnd, pfn.RangeReserved)
	for _, s := range image {
		AddBootRange(uint64(s.Start), uint64(s.End-s.Start), pfn.RangeInUse)
	}
	n, size, st := pfn.Size(memoryMap[:memoryMapN])
	if st != ntstatus.Success {
		bootFail(st, 0)
	}
	size = (size + physmem.PageMask) &^ physmem.PageMask
	databaseLen = n
	databasePA = placeDatabase(uint64(size))
	AddBootRange(databasePA, uint64(size), pfn.RangeInUse)
	if st := PFN.InitLazy(unsafe.Slice((*pfn.Entry)(physical(databasePA)), n), memoryMap[:memoryMapN], &bootMemory, eagerFrames); st != ntstatus.Success {
		bootFail(st, uintptr(databasePA))
	}

	arch.WriteMSR(pte.IA32PAT, pte.PATValue)
	root, ok := PFN.AllocateZeroed(0, 0)
	if !ok {
		bootFail(ntstatus.InsufficientResources, 0)
	}
	bootWalk.root = root
	Tables.Init(&bootWalk, &tableSource, &bootFlushes)
	for _, s := range image {
		for va := s.Start; va < s.End; va += physmem.PageSize {
			bootMap(va, physmem.FrameOf(uint64(va)), s.Prot, pte.Cached)
		}
	}
	if st := Tables.MapRun(layout.PfnDatabaseStart, physmem.FrameOf(databasePA), size/physmem.PageSize, pte.ProtReadWrite, pte.Cached); st != ntstatus.Success {
		bootFail(st, layout.PfnDatabaseStart)
	}
	databaseEnd = layout.PfnDatabaseStart + size
	for _, r := range [...]uintptr{lapicRegisters, ioapicRegisters} {
		bootMap(r, physmem.FrameOf(uint64(r)), pte.ProtReadWrite, pte.NonCached)
	}
	for slot := uintptr(0); slot < hyperSlots*ke.MaximumProcessors; slot++ {
		if _, st := Tables.Swap(layout.HyperSpaceStart+slot*physmem.PageSize, pte.Reserved, nil); st != ntstatus.Success {
			bootFail(st, layout.HyperSpaceStart)
		}
	}

	(*tablePage)(physical(root.Addr()))[pte.SelfMapSlot] = pte.ProcessorSelfMapEntry(root, 0)
	arch.WriteCR3(uintptr(root.Addr()))
	ke.UseProcessorNumberEntry(pte.SelfMapEntryAddress)
	Tables.Init(&selfMap, &tableSource, &tlb)
	PFN.Move(unsafe.Slice((*pfn.Entry)(virtual(layout.PfnDatabaseStart)), n), &hyperspace)
	holdStopReserve(n)
}

//go:nosplit
func bootMap(va uintptr, f physmem.PFN, p pte.Protection, c pte.CacheType) {
	if st := Tables.Map(va, f, p, c); st != ntstatus.Success {
		bootFail(st, va)
	}
}

// placeDatabase finds size bytes of free RAM, page-aligned, above 1 MiB and
// clear of every range in use or reserved, inside the boot identity map:
// first fit in memory-map order.
//
//go:nosplit
func placeDatabase(size uint64) uint64 {
	for i := 0; i < memoryMapN; i++ {
		r := memoryMap[i]
		if r.Type != pfn.RangeFree {
			continue
		}
		start := max((r.Base+physmem.PageMask)&^physmem.PageMask, lowMemoryEnd)
		end := min(r.Base+r.Length, identityLimit)
		for start+size <= end {
			clash, ok := overlapping(start, start+size)
			if !ok {
				return start
			}
			start = (clash + physmem.PageMask) &^ physmem.PageMask
		}
	}
	bootFail(ntstatus.NoMemory, uintptr(size))
	return 0
}

// overlapping returns the end of a non-free range that overlaps
// [start, end), if any.
//
//go:nosplit
func overlapping(start, end uint64) (uint64, bool) {
	for i := 0; i < memoryMapN; i++ {
		r := memoryMap[i]
		if r.Type != pfn.RangeFree && start < r.Base+r.Length && r.Base < end {
			return r.Base + r.Length, true
		}
	}
	return 0, false
}
