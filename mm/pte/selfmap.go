// The self-map.
//
// PML4 entry SelfMapSlot (0x1ED) points at the PML4 itself. A virtual
// address whose PML4 index is the slot therefore walks one level short: the
// CPU uses the PML4 as a PDPT, and what it finally reads as "the page" is a
// page table. The 512 GiB the slot covers, PteBase up, is NT's PTE space,
// and in it every table of the hierarchy has a fixed address:
//
//	PteBase  FFFFF680`00000000  the PTs:    PTE of va at PteBase + (va>>12)*8
//	PdeBase  FFFFF6FB`40000000  the PDs:    PDE of va at PdeBase + (va>>21)*8
//	PpeBase  FFFFF6FB`7DA00000  the PDPTs:  PPE of va at PpeBase + (va>>30)*8
//	PxeBase  FFFFF6FB`7DBED000  the PML4:   PXE of va at PxeBase + (va>>39)*8
//
// (va taken modulo 2^48). Each base is the previous one's own PTE address,
// so EntryAddress(l+1, va) = EntryAddress(PT, EntryAddress(l, va)): the
// recursion that the arithmetic tests check against the simulated MMU.
//
// An entry is reachable through the self-map only while every level above
// it is present; walkers go top-down. The slot's own range is not ordinary
// address space: the walker refuses to map into it.

package pte

import "ntgo/mm/physmem"

// Level is a level of the page-table hierarchy, leaf (PT) first.
type Level uint8

// The four levels, with NT's names for their entries.
const (
	PT   Level = iota // page table: PTEs map 4 KiB pages
	PD                // page directory: PDEs
	PDPT              // page-directory-pointer table: PPEs
	PML4              // the root: PXEs
)

// Geometry of the 48-bit, four-level virtual address.
const (
	indexBits = 9                   // each level indexes 512 entries
	indexMask = EntriesPerTable - 1 // one level's index
	vaBits    = 48                  // implemented virtual-address bits
	vaMask    = 1<<vaBits - 1       // the address modulo 2^48
	entrySize = 8                   // bytes per entry
	upperHalf = ^uintptr(vaMask)    // sign-extension of a kernel address
)

// Shift is the lowest virtual-address bit the level's index covers; an entry
// at level l maps 1<<l.Shift() bytes.
//
//go:nosplit
func (l Level) Shift() uint { return PTShift + indexBits*uint(l) }

// Index is va's entry index in its level-l table.
//
//go:nosplit
func (l Level) Index(va uintptr) int { return int(va>>l.Shift()) & indexMask }

// String is NT's name for an entry of the level.
func (l Level) String() string {
	return [...]string{"PTE", "PDE", "PPE", "PXE"}[l]
}

// SelfMapSlot is the PML4 index of the self-map, NT's.
const SelfMapSlot = 0x1ED

// Bases of the self-map's views of each level (see the file comment).
const (
	PteBase = upperHalf | SelfMapSlot<<PML4Shift
	PdeBase = PteBase | SelfMapSlot<<PDPTShift
	PpeBase = PdeBase | SelfMapSlot<<PDShift
	PxeBase = PpeBase | SelfMapSlot<<PTShift
	// PteSpaceEnd is the end of the slot's 512 GiB.
	PteSpaceEnd = PteBase + 1<<PML4Shift
	// SelfMapEntryAddress is where the self-map entry itself is (the PXE of
	// PTE space): on each processor, its own PML4's.
	SelfMapEntryAddress = PxeBase + SelfMapSlot*entrySize
)

// Shifts as constants, for the base arithmetic above.
const (
	PTShift   = physmem.PageShift
	PDShift   = PTShift + indexBits
	PDPTShift = PDShift + indexBits
	PML4Shift = PDPTShift + indexBits
)

var levelBase = [...]uintptr{PteBase, PdeBase, PpeBase, PxeBase}

// EntryAddress is the self-map virtual address of the level-l entry that
// maps va.
//
//go:nosplit
func EntryAddress(l Level, va uintptr) uintptr {
	return levelBase[l] + (va&vaMask)>>l.Shift()*entrySize
}

// TableAddress is the self-map virtual address of the level-l table that
// holds the entry mapping va (the page containing EntryAddress(l, va)).
//
//go:nosplit
func TableAddress(l Level, va uintptr) uintptr {
	return EntryAddress(l, va) &^ physmem.PageMask
}

// PteAddress is MiGetPteAddress: where va's PTE is.
//
//go:nosplit
func PteAddress(va uintptr) uintptr { return EntryAddress(PT, va) }

// PdeAddress is MiGetPdeAddress: where va's PDE is.
//
//go:nosplit
func PdeAddress(va uintptr) uintptr { return EntryAddress(PD, va) }

// PpeAddress is MiGetPpeAddress: where va's PDPT entry is.
//
//go:nosplit
func PpeAddress(va uintptr) uintptr { return EntryAddress(PDPT, va) }

// PxeAddress is MiGetPxeAddress: where va's PML4 entry is.
//
//go:nosplit
func PxeAddress(va uintptr) uintptr { return EntryAddress(PML4, va) }

// VaFromPte is MiGetVirtualAddressMappedByPte: the address whose PTE is at
// pteVA, canonical. pteVA must lie in PTE space.
//
//go:nosplit
func VaFromPte(pteVA uintptr) uintptr {
	return Canonical((pteVA - PteBase) / entrySize << PTShift)
}

// Canonical sign-extends bit 47 of va, as the CPU requires of an address.
//
//go:nosplit
func Canonical(va uintptr) uintptr {
	return uintptr(int64(va<<(64-vaBits)) >> (64 - vaBits))
}

// IsCanonical reports whether va is a canonical address.
//
//go:nosplit
func IsCanonical(va uintptr) bool { return Canonical(va) == va }

// InPteSpace reports whether va lies in the self-map's range.
//
//go:nosplit
func InPteSpace(va uintptr) bool { return va >= PteBase && va < PteSpaceEnd }
