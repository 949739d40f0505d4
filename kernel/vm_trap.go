package kernel

import "ntgo/kernel/arch"

// Trap context: nosplit, no allocation.
//
// The Go runtime's address space: anonymous mmap regions in the lower half,
// backed on demand. A committed page that was never touched has a
// non-present PTE with the software bit pteDemandZero set (and the
// protection it will get); the first touch faults and pageFault maps a
// zeroed frame. PROT_NONE reservations have no PTE at all. Page-table pages
// come from the boot frame allocator and are reached at their physical
// address through the boot identity map.

// PTE bits.
const (
	ptePresent    = 1 << 0
	pteWrite      = 1 << 1
	pteUser       = 1 << 2
	ptePWT        = 1 << 3
	ptePCD        = 1 << 4
	pteAccessed   = 1 << 5
	pteDirty      = 1 << 6
	ptePS         = 1 << 7
	pteGlobal     = 1 << 8
	pteDemandZero = 1 << 9 // software: committed, not yet backed
	pteNX         = 1 << 63
	pteFrameMask  = 0x000FFFFFFFFFF000
	ptesPerTable  = 512
	levelShift    = 9
)

// Page-fault error code bits (Intel SDM vol. 3, 4.7).
const (
	pfPresent = 1 << 0
	pfWrite   = 1 << 1
	pfUser    = 1 << 2
	pfRsvd    = 1 << 3
	pfFetch   = 1 << 4
)

//go:nosplit
func tableAt(pa uint64) *[ptesPerTable]uint64 {
	return (*[ptesPerTable]uint64)(unsafePointerAt(uintptr(pa)))
}

// walk returns the PTE slot for va, creating intermediate tables when create
// is set; nil when a table is missing (or a large page maps va) and create is
// not set or no frame is left.
//
//go:nosplit
func walk(va uintptr, create bool) *uint64 {
	table := tableAt(uint64(arch.ReadCR3()) & pteFrameMask)
	for level := 3; level > 0; level-- {
		idx := (uint64(va) >> (pageShift + levelShift*uint(level))) & (ptesPerTable - 1)
		e := table[idx]
		if e&ptePresent == 0 {
			if !create {
				return nil
			}
			f := allocFrame()
			if f == 0 {
				return nil
			}
			e = f<<pageShift | ptePresent | pteWrite
			table[idx] = e
		} else if e&ptePS != 0 {
			return nil
		}
		table = tableAt(e & pteFrameMask)
	}
	return &table[(uint64(va)>>pageShift)&(ptesPerTable-1)]
}

// Linux mmap protection and flag bits the runtime uses.
const (
	protRead     = 0x1
	protWrite    = 0x2
	protExec     = 0x4
	mapShared    = 0x01
	mapPrivate   = 0x02
	mapFixed     = 0x10
	mapAnonymous = 0x20
	mapNoReplace = 0x100000
)

// Where mmap(NULL, ...) places regions: upward from mmapBase, as the runtime
// keeps its heap arenas at its own hint addresses.
const (
	mmapBase  = 0x7000_0000_0000
	mmapLimit = 0x7F00_0000_0000
	userLimit = 0x0000_8000_0000_0000
)

var mmapNext uintptr = mmapBase

// Regions handed out, for honouring hints without overlap.
type vaRange struct{ start, end uintptr }

const maxRanges = 512

var (
	ranges  [maxRanges]vaRange
	nranges int
)

//go:nosplit
func overlaps(start, end uintptr) bool {
	for i := 0; i < nranges; i++ {
		if start < ranges[i].end && ranges[i].start < end {
			return true
		}
	}
	return false
}

//go:nosplit
func addRange(start, end uintptr) {
	for i := 0; i < nranges; i++ {
		r := &ranges[i]
		if start <= r.end && r.start <= end { // touching or overlapping: merge
			r.start = min(r.start, start)
			r.end = max(r.end, end)
			return
		}
	}
	if nranges < maxRanges {
		ranges[nranges] = vaRange{start, end}
		nranges++
	}
}

//go:nosplit
func protPTE(prot uintptr) uint64 {
	e := uint64(pteDemandZero)
	if prot&protWrite != 0 {
		e |= pteWrite
	}
	if prot&protExec == 0 {
		e |= pteNX
	}
	return e
}

// sysMmap serves anonymous private mappings.
//
//go:nosplit
func sysMmap(addr, length, prot, flags uintptr, fd int32) uintptr {
	if flags&mapAnonymous == 0 || fd != -1 {
		return errno(ENODEV)
	}
	length = (length + pageSize - 1) &^ (pageSize - 1)
	if length == 0 || addr&(pageSize-1) != 0 {
		return errno(EINVAL)
	}
	switch {
	case flags&mapFixed != 0:
		if addr+length > userLimit || addr+length < addr {
			return errno(ENOMEM)
		}
	case addr != 0 && addr+length <= userLimit && addr+length > addr && !overlaps(addr, addr+length):
		// the hint is free: use it
	default:
		addr = mmapNext
		if addr+length > mmapLimit {
			return errno(ENOMEM)
		}
		mmapNext += length + pageSize // a guard gap between regions
	}
	addRange(addr, addr+length)
	if r := setRange(addr, length, prot); r != 0 {
		return r
	}
	return addr
}

// setRange drops any frames in [addr, addr+length) and leaves each page
// committed demand-zero with prot, or unmapped for PROT_NONE.
//
//go:nosplit
func setRange(addr, length, prot uintptr) uintptr {
	for va := addr; va < addr+length; va += pageSize {
		pte := walk(va, prot != 0)
		if pte == nil {
			if prot != 0 {
				return errno(ENOMEM)
			}
			continue
		}
		old := *pte
		if prot != 0 {
			*pte = protPTE(prot)
		} else {
			*pte = 0
		}
		if old&ptePresent != 0 {
			freeFrame((old & pteFrameMask) >> pageShift)
			arch.Invlpg(va)
		}
	}
	return 0
}

//go:nosplit
func sysMunmap(addr, length uintptr) uintptr {
	if addr&(pageSize-1) != 0 {
		return errno(EINVAL)
	}
	return setRange(addr, (length+pageSize-1)&^(pageSize-1), 0)
}

// Linux madvise advice values.
const (
	madvDontNeed = 4
	madvFree     = 8
)

// sysMadvise returns DONTNEED/FREE pages' frames; the pages stay committed
// and read back as zeros.
//
//go:nosplit
func sysMadvise(addr, length, advice uintptr) uintptr {
	if advice != madvDontNeed && advice != madvFree {
		return 0
	}
	for va := addr &^ (pageSize - 1); va < addr+length; va += pageSize {
		pte := walk(va, false)
		if pte == nil || *pte&ptePresent == 0 {
			continue
		}
		old := *pte
		*pte = pteDemandZero | old&(pteWrite|pteNX)
		freeFrame((old & pteFrameMask) >> pageShift)
		arch.Invlpg(va)
	}
	return 0
}

// pageFault resolves demand-zero faults; anything else is fatal.
//
//go:nosplit
func pageFault(f *TrapFrame, cr2 uintptr) {
	if f.ErrorCode&pfPresent == 0 {
		if pte := walk(cr2, false); pte != nil && *pte&pteDemandZero != 0 {
			fr := allocFrame()
			if fr != 0 {
				*pte = fr<<pageShift | ptePresent | *pte&(pteWrite|pteNX)
				return
			}
		}
	}
	fatalTrap(f, cr2)
}
