// Processor numbers.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Interrupt entry and the spin locks ask which processor runs them, and
// so does every pool allocation (mm/pool's lookaside hit), so the answer
// is an inlined load, not a call (under TCG a call costs ~45 ns; the
// GS-relative load NT uses needs a segment prefix, which only assembly
// can emit, so it cost one). Every processor runs on its own copy of the
// kernel's PML4 (mm), and the copies differ in one entry only: the
// self-map entry, which points each copy at itself and keeps the
// processor's number in bits the CPU ignores (ProcessorNumberShift). That
// entry is at the same virtual address on every processor, so loading it
// reads the right number on whichever processor the caller runs (a thread
// that moves between processors reads the one it is on, which is all NT
// promises too). Until mm says where the entry is (UseProcessorNumberEntry),
// and always on the host, the number is 0.
//
// The active count is written once per processor that starts, by the
// boot processor (the kernel starts the others one at a time), before
// anything on that processor runs; readers load it atomically.

package ke

import (
	"sync/atomic"
	"unsafe"
)

// Where the self-map entry keeps the processor's number: its used-entry
// field (mm/pte), which counts nothing in that entry, since the PML4 keeps
// no count; mm/pte's tests hold the two to agree.
const (
	ProcessorNumberShift = 52
	ProcessorNumberMask  = 1<<10 - 1
)

// AllProcessorGroups is ALL_PROCESSOR_GROUPS: every group, for
// QueryActiveProcessorCountEx.
const AllProcessorGroups = 0xFFFF

// ProcessorNumber is PROCESSOR_NUMBER: a processor's group and number in
// it. ntgo has one group of at most MaximumProcessors.
type ProcessorNumber struct {
	Group    uint16
	Number   uint8
	Reserved uint8
}

var (
	numberEntry      uintptr // the self-map entry's address; 0 before mm says
	activeProcessors atomic.Uint32
)

// UseProcessorNumberEntry tells ke that the page-table entry at va holds
// the current processor's number on every processor: mm's boot calls it
// once the boot processor runs on its tables, before another starts.
//
//go:nosplit
func UseProcessorNumberEntry(va uintptr) { numberEntry = va }

// SetActiveProcessors records n processors running (the boot processor's
// start-up, after each one it starts).
//
//go:nosplit
func SetActiveProcessors(n int) { activeProcessors.Store(uint32(n)) }

// The kernel's stall of the other processors (SetStall).
var stallOthers, resumeOthers func()

// SetStall installs the kernel's stall and resume of the other
// processors. Both must be //go:nosplit and allocation-free.
//
//go:nosplit
func SetStall(stall, resume func()) { stallOthers, resumeOthers = stall, resume }

// StallOtherProcessors holds every other processor spinning with
// interrupts off (still answering TLB shootdowns) until
// ResumeOtherProcessors, so that the caller's processor alone changes the
// system meanwhile: what HIGH_LEVEL means on one processor, for code
// (tests) that counts exact changes. It returns once they all stall. Call
// it at HIGH_LEVEL, holding no spin lock. Nothing happens on one
// processor.
//
//go:nosplit
func StallOtherProcessors() {
	if stallOthers != nil {
		stallOthers()
	}
}

// ResumeOtherProcessors lets the processors StallOtherProcessors held go.
//
//go:nosplit
func ResumeOtherProcessors() {
	if resumeOthers != nil {
		resumeOthers()
	}
}

// CurrentProcessorNumber is KeGetCurrentProcessorNumber.
//
//go:nosplit
func CurrentProcessorNumber() int {
	if numberEntry == 0 {
		return 0
	}
	entry := *(*uint64)(unsafe.Add(unsafe.Pointer(nil), numberEntry))
	return int(entry >> ProcessorNumberShift & ProcessorNumberMask)
}

// GetCurrentProcessorNumberEx is KeGetCurrentProcessorNumberEx: the
// current processor's system-wide number, and its group and number in the
// group in pn when pn is not nil.
//
//go:nosplit
func GetCurrentProcessorNumberEx(pn *ProcessorNumber) uint32 {
	n := CurrentProcessorNumber()
	if pn != nil {
		*pn = ProcessorNumber{Group: 0, Number: uint8(n)}
	}
	return uint32(n)
}

// QueryActiveProcessorCountEx is KeQueryActiveProcessorCountEx: the
// processors running in group (AllProcessorGroups: in all); 0 for a group
// that does not exist, as NT answers.
//
//go:nosplit
func QueryActiveProcessorCountEx(group uint16) uint32 {
	if group != 0 && group != AllProcessorGroups {
		return 0
	}
	return max(1, activeProcessors.Load()) // 0: the kernel has not said, one runs
}
