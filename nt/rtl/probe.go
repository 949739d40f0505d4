// ProbeForRead and ProbeForWrite: checking a caller-supplied buffer before
// touching it.
//
// NT's probes are for buffers a user-mode caller passed in: the whole range
// must lie below MmUserProbeAddress (so a caller cannot make the kernel
// read or write kernel memory on its behalf) and start at the alignment
// the data type needs. A failed check raises, as NT's does:
//
//   - start not a multiple of alignment: STATUS_DATATYPE_MISALIGNMENT;
//   - range wraps around or ends above MmUserProbeAddress:
//     STATUS_ACCESS_VIOLATION.
//
// A zero length probes nothing. ProbeForWrite then touches every page of
// the range with a locked add of zero, which changes nothing but faults
// like a write if the page is not writable. A fault there, as on any later
// access to the buffer, must become a raise of STATUS_ACCESS_VIOLATION
// inside the caller's ntstatus.Try: that is the kernel fault handler's part
// (see ntstatus.Try), not this package's.
//
// alignment must be 1, 2, 4, 8 or 16 (NT asserts this); anything else
// raises STATUS_INVALID_PARAMETER.

package rtl

import (
	"sync/atomic"
	"unsafe"

	"ntgo/nt/ntstatus"
)

// MmUserProbeAddress is NT x64's MM_USER_PROBE_ADDRESS: the first address
// a probed range may not reach (the top 64 KiB of the user half is a
// no-access guard).
const MmUserProbeAddress uintptr = 0x7FFF_FFFF_0000

// maxProbeAlignment is the largest alignment a probe accepts.
const maxProbeAlignment = 16

// pageSize is the stride ProbeForWrite touches pages at.
const pageSize = 4096

// wordAlign rounds an address down to the 4-byte word a locked add needs.
const wordAlign = unsafe.Sizeof(uint32(0))

// checkRange raises for a misaligned or out-of-range buffer and returns its
// first and last byte addresses.
func checkRange(p unsafe.Pointer, n uintptr, alignment uint32) (first, last uintptr) {
	if alignment == 0 || alignment > maxProbeAlignment || alignment&(alignment-1) != 0 {
		ntstatus.Raise(ntstatus.InvalidParameter)
	}
	first = uintptr(p)
	if first&uintptr(alignment-1) != 0 {
		ntstatus.RaiseAt(ntstatus.DatatypeMisalignment, first)
	}
	last = first + n - 1
	if last < first || last >= MmUserProbeAddress {
		ntstatus.RaiseAt(ntstatus.AccessViolation, first)
	}
	return first, last
}

// ProbeForRead is ProbeForRead.
func ProbeForRead(p unsafe.Pointer, n uintptr, alignment uint32) {
	if n != 0 {
		checkRange(p, n, alignment)
	}
}

// ProbeForWrite is ProbeForWrite.
func ProbeForWrite(p unsafe.Pointer, n uintptr, alignment uint32) {
	if n == 0 {
		return
	}
	first, last := checkRange(p, n, alignment)
	// last is below MmUserProbeAddress, so page cannot wrap.
	for page := first &^ (pageSize - 1); page <= last; page += pageSize {
		word := max(page, first) &^ (wordAlign - 1) // in the same page as max(page, first)
		atomic.AddUint32((*uint32)(unsafe.Add(p, int(word)-int(first))), 0)
	}
}
