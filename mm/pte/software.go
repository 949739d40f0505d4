// Software PTEs: what a not-present leaf means.
//
// The CPU ignores bits 63:1 of an entry whose Present bit is clear, and NT
// keeps the page's state there. ntgo uses NT's x64 field positions:
//
//	bit  0      Present = 0
//	bits 4:3    PWT, PCD           transition only: the kept cache type
//	bits 9:5    Protection         an NT MM protection (protection.go)
//	bit  10     Prototype          NT: refers to a section's prototype PTE
//	bit  11     Transition         the frame is kept (below)
//	bits 51:12  Frame              transition only: the kept frame
//	bits 63:32  PageFileHigh       paging-file only: the page's slot
//
// and these encodings, which Kind tells apart:
//
//	zero                          free: no mapping, nothing reserved
//	Protection=p, rest zero       demand-zero: committed with protection p,
//	                              no frame yet; the first touch maps a zeroed
//	                              frame (NT: MMPTE_SOFTWARE with PageFile 0)
//	Protection=DECOMMIT, rest 0   reserved: address space reserved but not
//	                              committed (NT's MM_DECOMMIT PTE)
//	Transition, Frame, Protection transition: not mapped, but the frame still
//	                              holds the page (NT: a standby or modified
//	                              page); the next touch maps it again without
//	                              zeroing. Protect makes one when a resident
//	                              page becomes NOACCESS or GUARD; the
//	                              working set trims to one (mm/paging).
//	PageFileHigh=s, Protection=p  paging file: committed with protection p,
//	                              its contents in slot s of the paging file
//	                              (NT's MMPTE_SOFTWARE with PageFileHigh s,
//	                              PageFileLow 0: ntgo has one paging file).
//	                              Slot 0 is never handed out, so a zero
//	                              PageFileHigh still means demand-zero.
//
// Prototype PTEs are an NT encoding ntgo never writes: there are no
// sections. Kind reports any such entry, and any other bit pattern, as
// KindUnknown, which the walker and the fault path treat as a corrupt PTE
// rather than guessing.

package pte

import (
	"fmt"

	"ntgo/mm/physmem"
)

// Software fields of a not-present entry.
const (
	protShift = 5
	// ProtectionMask is the Protection field.
	ProtectionMask PTE = protFieldMask << protShift
	// Prototype marks an NT prototype PTE; ntgo never sets it.
	Prototype PTE = 1 << 10
	// Transition marks a transition PTE: Frame still holds the page.
	Transition PTE = 1 << 11

	pageFileShift = 32
	// PageFileMask is the PageFileHigh field: a paging-file PTE's slot.
	PageFileMask PTE = 0xFFFFFFFF << pageFileShift
)

// MaxPageFileSlot is the highest slot a paging-file PTE can name.
const MaxPageFileSlot = 1<<32 - 1

// Kind is what an entry encodes.
type Kind uint8

// The kinds of entry.
const (
	KindFree       Kind = iota // zero
	KindValid                  // present
	KindDemandZero             // committed, no frame yet
	KindReserved               // reserved, not committed
	KindTransition             // not present, frame kept
	KindUnknown                // a not-present encoding ntgo does not write
	KindPageFile               // committed, contents in a paging-file slot
)

var kindNames = [...]string{"free", "valid", "demand-zero", "reserved", "transition", "unknown", "page-file"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Reserved is the PTE of a reserved, uncommitted page.
const Reserved = PTE(protDecommit) << protShift

// DemandZero is the PTE of a committed page with protection p that has no
// frame yet. p must be Valid.
//
//go:nosplit
func DemandZero(p Protection) PTE { return PTE(p) << protShift }

// NewTransition is the PTE of a page that is not mapped but whose contents
// stay in frame f, with protection p and cache type c for when it is mapped
// again.
//
//go:nosplit
func NewTransition(f physmem.PFN, p Protection, c CacheType) PTE {
	cache, _ := c.bits()
	return (Transition | cache | PTE(p)<<protShift).WithFrame(f)
}

// NewValid is the present leaf mapping frame f with mappable protection p
// and cache type c. Accessed and Dirty start clear; the CPU sets them.
//
//go:nosplit
func NewValid(f physmem.PFN, p Protection, c CacheType) PTE {
	cache, _ := c.bits()
	return (Present | p.hardware() | cache).WithFrame(f)
}

// NewPageFile is the PTE of a page with protection p whose contents are in
// paging-file slot s (1..MaxPageFileSlot). p must be Valid.
//
//go:nosplit
func NewPageFile(s uint32, p Protection) PTE {
	return PTE(s)<<pageFileShift | PTE(p)<<protShift
}

// Slot is a paging-file PTE's slot (0 for any other kind).
//
//go:nosplit
func (e PTE) Slot() uint32 {
	if e.Kind() != KindPageFile {
		return 0
	}
	return uint32(e >> pageFileShift)
}

// Kind classifies e.
//
//go:nosplit
func (e PTE) Kind() Kind {
	switch {
	case e == 0:
		return KindFree
	case e.Valid():
		return KindValid
	case e&(Transition|Prototype) == Transition:
		return KindTransition
	case e&^(ProtectionMask|PageFileMask) == 0 && e&PageFileMask != 0 && e.softProtection().Valid():
		return KindPageFile
	case e&^ProtectionMask != 0:
		return KindUnknown
	case e == Reserved:
		return KindReserved
	case e.softProtection().Valid():
		return KindDemandZero
	}
	return KindUnknown
}

// softProtection is the Protection field of a not-present entry.
//
//go:nosplit
func (e PTE) softProtection() Protection { return Protection((e & ProtectionMask) >> protShift) }

// Protection is the page's protection: from Write and NX for a present leaf,
// from the Protection field for a demand-zero, transition or paging-file
// entry; zero for any other kind.
//
//go:nosplit
func (e PTE) Protection() Protection {
	switch e.Kind() {
	case KindValid:
		return hardwareProtection(e)
	case KindDemandZero, KindTransition, KindPageFile:
		return e.softProtection()
	}
	return 0
}

// softwareString decodes a not-present entry.
func (e PTE) softwareString() string {
	switch k := e.Kind(); k {
	case KindDemandZero:
		return "demand-zero " + e.softProtection().String()
	case KindTransition:
		return fmt.Sprintf("transition pfn %x %v %v", e.Frame(), e.softProtection(), e.Cache())
	case KindPageFile:
		return fmt.Sprintf("page-file slot %x (offset %#x) %v", e.Slot(), uint64(e.Slot())*physmem.PageSize, e.softProtection())
	default:
		return k.String()
	}
}
