// Page protections.
//
// Protection is NT's five-bit MM protection, the value NT stores in the
// Protection field of every non-present PTE (software.go). Its low three
// bits are the access: bit 0 alone is read-only, bit 1 adds execute, bit 2
// adds write; the two modifier bits above are used here only as GUARD (bit 4)
// and, with GUARD and no access, as NT's NOACCESS and DECOMMIT markers:
//
//	value  NT name                 ntgo
//	0x01   MM_READONLY             ProtReadOnly
//	0x03   MM_EXECUTE_READ         ProtExecuteRead
//	0x04   MM_READWRITE            ProtReadWrite
//	0x06   MM_EXECUTE_READWRITE    ProtExecuteReadWrite
//	+0x10  MM_GUARD_PAGE           ProtGuard, on any of the above
//	0x18   MM_NOACCESS             ProtNoAccess
//	0x10   MM_DECOMMIT             the reserved-PTE marker (software.go)
//
// Zero is no protection at all: a zero PTE is simply free. NT's execute-only,
// write-copy and cache modifiers are not supported; kernel VA has no use for
// them and the cache type is a separate argument of Map.
//
// A present PTE cannot express NOACCESS or GUARD: such pages are never valid
// (Protect turns a valid page that gets one into a transition PTE). The
// other four translate to the Write and NX bits.

package pte

import "fmt"

// Protection is an NT MM protection (MM_READONLY ...), five bits.
type Protection uint8

// The protections ntgo supports, with NT's MM_ values.
const (
	ProtReadOnly         Protection = 0x01
	ProtExecuteRead      Protection = 0x03
	ProtReadWrite        Protection = 0x04
	ProtExecuteReadWrite Protection = 0x06
	// ProtGuard is the one-shot guard modifier: the first touch of a guard
	// page faults with STATUS_GUARD_PAGE_VIOLATION and clears it.
	ProtGuard Protection = 0x10
	// ProtNoAccess is committed but inaccessible.
	ProtNoAccess Protection = 0x18
)

const (
	protAccessMask = 0x07 // the access bits
	protExecute    = 0x02 // access bit: execute allowed
	protWrite      = 0x04 // access bit: write allowed
	protDecommit   = ProtGuard
	protFieldMask  = 0x1F // five bits
)

// Valid reports whether p is a protection ntgo supports.
//
//go:nosplit
func (p Protection) Valid() bool {
	if p == ProtNoAccess {
		return true
	}
	switch p &^ ProtGuard {
	case ProtReadOnly, ProtExecuteRead, ProtReadWrite, ProtExecuteReadWrite:
		return true
	}
	return false
}

// Guard reports whether p carries the guard modifier.
//
//go:nosplit
func (p Protection) Guard() bool { return p&ProtGuard != 0 && p&protAccessMask != 0 }

// WithoutGuard is p with the guard modifier cleared.
//
//go:nosplit
func (p Protection) WithoutGuard() Protection {
	if p.Guard() {
		return p &^ ProtGuard
	}
	return p
}

// Mappable reports whether a present PTE can carry p: an access protection
// with no guard.
//
//go:nosplit
func (p Protection) Mappable() bool { return p.Valid() && p&^protAccessMask == 0 }

// Allows reports whether a page with protection p may be accessed with a,
// ignoring the guard modifier (the fault path handles that first).
//
//go:nosplit
func (p Protection) Allows(a Access) bool {
	if !p.Valid() || p == ProtNoAccess {
		return false
	}
	switch a {
	case AccessWrite:
		return p&protWrite != 0
	case AccessExecute:
		return p&protExecute != 0
	}
	return true
}

// hardware is the Write/NX bits of a present leaf with mappable protection p.
//
//go:nosplit
func (p Protection) hardware() PTE {
	var e PTE
	if p&protWrite != 0 {
		e |= Write
	}
	if p&protExecute == 0 {
		e |= NX
	}
	return e
}

// hardwareProtection is the protection a present leaf's Write and NX bits
// express.
//
//go:nosplit
func hardwareProtection(e PTE) Protection {
	p := ProtReadOnly
	if e&Write != 0 {
		p = ProtReadWrite
	}
	if e&NX == 0 {
		p |= protExecute
	}
	return p
}

var protNames = map[Protection]string{
	ProtReadOnly:         "READONLY",
	ProtExecuteRead:      "EXECUTE_READ",
	ProtReadWrite:        "READWRITE",
	ProtExecuteReadWrite: "EXECUTE_READWRITE",
	ProtNoAccess:         "NOACCESS",
	protDecommit:         "DECOMMIT",
}

func (p Protection) String() string {
	if p.Guard() {
		return protNames[p.WithoutGuard()] + "|GUARD"
	}
	if n, ok := protNames[p]; ok {
		return n
	}
	return fmt.Sprintf("Protection(%#x)", uint8(p))
}

// Access is the kind of memory access that faulted or is being checked.
type Access uint8

// The access kinds.
const (
	AccessRead Access = iota
	AccessWrite
	AccessExecute
)

func (a Access) String() string {
	switch a {
	case AccessRead:
		return "read"
	case AccessWrite:
		return "write"
	case AccessExecute:
		return "execute"
	}
	return fmt.Sprintf("Access(%d)", uint8(a))
}
