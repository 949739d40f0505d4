// Processor numbers.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Interrupt entry and the spin locks ask which processor runs them.
//
// Each processor's GS base points at its KPCR (ntgo/kernel), as on NT, and
// the KPCR holds the processor's number at KPCRNumberOffset, so the
// current processor's number is one GS-relative load, right on whichever
// processor the caller runs (a thread that moves between processors reads
// the one it is on, which is all NT promises too). Until the kernel says
// GS is set (UseKPCR), and always on the host, it is 0.
//
// The active count is written once per processor that starts, by the
// boot processor (the kernel starts the others one at a time), before
// anything on that processor runs; readers load it atomically.

package ke

import "sync/atomic"

// KPCRNumberOffset is where the kernel's KPCR keeps the processor number
// (a uint32); the kernel's layout test holds it to that.
const KPCRNumberOffset = 40

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
	kpcrInGS         bool
	activeProcessors atomic.Uint32
)

// UseKPCR tells ke that every processor's GS base now points at its KPCR:
// the boot processor calls it once its own is loaded, before any other
// processor starts.
//
//go:nosplit
func UseKPCR() { kpcrInGS = true }

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

// gsNumber loads the uint32 at gs:KPCRNumberOffset (processor_amd64.s).
func gsNumber() uint32

// CurrentProcessorNumber is KeGetCurrentProcessorNumber.
//
//go:nosplit
func CurrentProcessorNumber() int {
	if !kpcrInGS {
		return 0
	}
	return int(gsNumber())
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
