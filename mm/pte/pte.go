// Package pte is the x86-64 four-level page-table layer of ntgo's memory
// manager: the page-table entry with every bit named, NT's software
// encodings for entries that are not present, the self-map (NT's recursive
// PML4 slot) and its address arithmetic, and a walker that maps, unmaps,
// re-protects and decodes pages.
//
// # Entries
//
// A PTE is the 64-bit entry of any of the four levels. When Present is set
// the hardware reads it; the bits are the architectural ones, named below,
// plus two software fields the CPU ignores:
//
//	63   NX         no execute (EFER.NXE is on)
//	61:52 used       non-leaf only: how many entries of the table this entry
//	                 points to are non-zero (see UsedEntries)
//	51:12 frame      physical frame number
//	8    Global     never set by ntgo (see flush.go)
//	7    PAT / PS   PAT index bit in a 4 KiB leaf; large page in a PDE/PDPTE
//	6:0  D A PCD PWT U W P
//
// When Present is clear the CPU ignores the other 63 bits and NT keeps the
// page's software state there (software.go): demand-zero, reserved,
// transition, each carrying an NT protection.
//
// # Levels and names
//
// NT names the entries of the four levels PXE (PML4), PPE (PDPT), PDE (PD)
// and PTE (PT); Level follows that. The walker (walk.go) reaches entries only
// through a Tables (tables.go), which in the kernel is the self-map and on the
// host a simulated MMU (package ptesim) over simulated physical memory, so
// the same walker runs in both.
//
// # Locking
//
// Nothing in this package locks. The page tables are shared by goroutines
// and by the page-fault handler, so every caller holds the page-table lock
// (in the kernel the interrupt-disabling PFN lock) around each call that
// changes or walks them. One CPU for now: updates are plain 8-byte stores,
// which the CPU's own A/D-bit writes cannot interleave with on the same CPU.
package pte

import (
	"fmt"
	"strings"

	"ntgo/mm/physmem"
)

// PTE is one 64-bit page-table entry, at any of the four levels.
type PTE uint64

// Hardware bits of a present entry.
const (
	Present  PTE = 1 << 0  // the CPU may use the entry
	Write    PTE = 1 << 1  // writes allowed (CR0.WP makes this bind ring 0 too)
	User     PTE = 1 << 2  // ring 3 may access; ntgo runs in ring 0 and never sets it
	PWT      PTE = 1 << 3  // PAT index bit 0 (write-through in the legacy sense)
	PCD      PTE = 1 << 4  // PAT index bit 1 (cache-disable in the legacy sense)
	Accessed PTE = 1 << 5  // set by the CPU when the entry is used
	Dirty    PTE = 1 << 6  // set by the CPU on a write through a leaf
	PAT      PTE = 1 << 7  // PAT index bit 2, in a 4 KiB leaf (PT level)
	PS       PTE = 1 << 7  // page size: in a PDE or PDPTE the entry maps a large page
	Global   PTE = 1 << 8  // translation survives CR3 reloads
	LargePAT PTE = 1 << 12 // PAT index bit 2 of a large-page leaf
	NX       PTE = 1 << 63 // instruction fetches fault
)

// Fields of a present entry.
const (
	frameShift = physmem.PageShift
	// FrameMask covers the frame number: bits 51:12, the architectural
	// maximum (MAXPHYADDR ≤ 52).
	FrameMask PTE = (1<<52 - 1) &^ (1<<frameShift - 1)

	usedShift = 52
	// UsedMask is the used-entry count of a non-leaf entry, in bits the CPU
	// ignores in non-leaf entries (and, via the self-map, in leaves while
	// protection keys are off: the kernel must not enable CR4.PKE/PKS).
	UsedMask PTE = 0x3FF << usedShift
)

// EntriesPerTable is the number of entries in one 4 KiB table.
const EntriesPerTable = physmem.PageSize / 8

// Valid reports whether the CPU uses the entry (the Present bit; NT calls
// such a PTE valid).
//
//go:nosplit
func (e PTE) Valid() bool { return e&Present != 0 }

// Frame is the frame the entry refers to: the mapped page or next-level
// table of a present entry, or the kept frame of a transition entry.
//
//go:nosplit
func (e PTE) Frame() physmem.PFN { return physmem.PFN((e & FrameMask) >> frameShift) }

// WithFrame returns e referring to frame p instead.
//
//go:nosplit
func (e PTE) WithFrame(p physmem.PFN) PTE {
	return e&^FrameMask | PTE(p)<<frameShift&FrameMask
}

// UsedEntries is the used-entry count kept in a present non-leaf entry:
// how many entries of the table it points to are non-zero. NT keeps this in
// the table page's PFN entry; ntgo keeps it here so the walker needs no
// side structure and the fault path can read it without another lock.
//
//go:nosplit
func (e PTE) UsedEntries() int { return int((e & UsedMask) >> usedShift) }

// WithUsedEntries returns e with its used-entry count set to n.
//
//go:nosplit
func (e PTE) WithUsedEntries(n int) PTE {
	return e&^UsedMask | PTE(n)<<usedShift&UsedMask
}

// Large reports whether a present PDE or PDPTE maps a large page itself
// rather than pointing to a table. Meaningless for a PT-level entry.
//
//go:nosplit
func (e PTE) Large() bool { return e&(Present|PS) == Present|PS }

// tableEntry is the non-leaf entry pointing to table frame p: writable and
// executable so that the leaf alone decides a page's protection, with a
// used-entry count of zero.
func tableEntry(p physmem.PFN) PTE { return (Present | Write).WithFrame(p) }

// SelfMapEntry is the PML4 entry at SelfMapSlot of the PML4 in frame pml4:
// it points the PML4 at itself, writable (the walker stores through it) and
// not executable. The boot path writes it before loading CR3.
func SelfMapEntry(pml4 physmem.PFN) PTE { return (Present | Write | NX).WithFrame(pml4) }

// ProcessorSelfMapEntry is SelfMapEntry for the PML4 processor cpu runs on:
// the entry's used field, which counts nothing there (the PML4 keeps no
// count), holds cpu, where ke reads it (ke.CurrentProcessorNumber at
// SelfMapEntryAddress, with ke.ProcessorNumberShift, which the tests hold
// to the field's).
//
//go:nosplit
func ProcessorSelfMapEntry(pml4 physmem.PFN, cpu int) PTE {
	return SelfMapEntry(pml4).WithUsedEntries(cpu)
}

// hardwareBits names the architectural bits for String, low to high.
var hardwareBits = [...]struct {
	bit  PTE
	name string
}{
	{Present, "P"}, {Write, "W"}, {User, "U"}, {PWT, "PWT"}, {PCD, "PCD"},
	{Accessed, "A"}, {Dirty, "D"}, {PAT, "PAT/PS"}, {Global, "G"}, {NX, "NX"},
}

// String decodes e: the raw value, then for a present entry its frame and
// flags by name, for any other its software encoding.
func (e PTE) String() string {
	if !e.Valid() {
		return fmt.Sprintf("%016x %s", uint64(e), e.softwareString())
	}
	var flags []string
	for _, b := range hardwareBits {
		if e&b.bit != 0 {
			flags = append(flags, b.name)
		}
	}
	s := fmt.Sprintf("%016x pfn %x %s", uint64(e), e.Frame(), strings.Join(flags, "|"))
	if n := e.UsedEntries(); n != 0 {
		s += fmt.Sprintf(" used=%d", n)
	}
	return s
}
