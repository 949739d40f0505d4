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
//	                              page becomes NOACCESS or GUARD.
//
// Prototype PTEs and paging-file PTEs (NT's PageFileLow/High fields) are NT
// encodings ntgo never writes: there are no sections and no paging file.
// Kind reports any such entry as KindUnknown, which the walker and the fault
// path treat as a corrupt PTE rather than guessing.

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
)

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
)

var kindNames = [...]string{"free", "valid", "demand-zero", "reserved", "transition", "unknown"}

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
// from the Protection field for a demand-zero or transition entry; zero for
// any other kind.
//
//go:nosplit
func (e PTE) Protection() Protection {
	switch e.Kind() {
	case KindValid:
		return hardwareProtection(e)
	case KindDemandZero, KindTransition:
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
	default:
		return k.String()
	}
}
