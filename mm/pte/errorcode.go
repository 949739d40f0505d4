// The page-fault error code.
//
// On a #PF the CPU pushes an error code describing the access and why it
// failed, and leaves the address in CR2. The kernel's fault handler decodes
// it with Access and Present; the simulated MMU (package ptesim) produces it
// exactly as the CPU would, so host tests see the same values.

package pte

import "strings"

// ErrorCode is the #PF error code.
type ErrorCode uint32

// Error-code bits (SDM 4.7).
const (
	ErrPresent  ErrorCode = 1 << 0 // P: 0 = page not present, 1 = protection violation
	ErrWrite    ErrorCode = 1 << 1 // W/R: the access was a write
	ErrUser     ErrorCode = 1 << 2 // U/S: the access came from ring 3 (never, in ntgo)
	ErrReserved ErrorCode = 1 << 3 // RSVD: a reserved bit was set in a paging entry
	ErrFetch    ErrorCode = 1 << 4 // I/D: the access was an instruction fetch
)

// ErrorCodeFor is the code of a ring-0 access a that faulted, on a present
// page if present.
//
//go:nosplit
func ErrorCodeFor(a Access, present bool) ErrorCode {
	var c ErrorCode
	if present {
		c |= ErrPresent
	}
	switch a {
	case AccessWrite:
		c |= ErrWrite
	case AccessExecute:
		c |= ErrFetch
	}
	return c
}

// Access is the kind of access that faulted.
//
//go:nosplit
func (c ErrorCode) Access() Access {
	switch {
	case c&ErrFetch != 0:
		return AccessExecute
	case c&ErrWrite != 0:
		return AccessWrite
	}
	return AccessRead
}

// Present reports a protection violation on a present page, as opposed to
// a not-present page.
//
//go:nosplit
func (c ErrorCode) Present() bool { return c&ErrPresent != 0 }

var errorCodeBits = [...]struct {
	bit  ErrorCode
	name string
}{{ErrPresent, "P"}, {ErrWrite, "W"}, {ErrUser, "U"}, {ErrReserved, "RSVD"}, {ErrFetch, "I/D"}}

// String names the set bits, "0" if none.
func (c ErrorCode) String() string {
	var names []string
	for _, b := range errorCodeBits {
		if c&b.bit != 0 {
			names = append(names, b.name)
		}
	}
	if names == nil {
		return "0"
	}
	return strings.Join(names, "|")
}
