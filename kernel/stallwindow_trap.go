// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The stall window: the other processors held in the stall IPI
// (smp_trap.go) while ~ or a bugcheck copies what must hold still. A
// goroutine runs it, with interrupts off or at HIGH_LEVEL, but it keeps
// trap context's rule (TestStallWindowKeepsTrapRule): a stalled processor
// may have been interrupted holding any lock of the Go runtime's, and a
// stack growth, a preemption or an allocation here could wait on one, or
// on another processor to run the goroutine again (the bugcheck's is
// locked to its thread), with nothing left to let the others go.

package kernel

import (
	"ntgo/kernel/kd"
	"ntgo/mm"
	"ntgo/nt/ke"
)

// What the last stall window copied: static, as nothing in it allocates.
var (
	// stalledCopy is stalledAt, each stalled processor's registers.
	stalledCopy     [ke.MaximumProcessors]kd.Registers
	stalledCopyMask uint64
	// crashThreads is the thread table for a crash dump, copied at
	// crashThreadsAt, and crashCurrent the thread the bugcheck's
	// processor ran.
	crashThreads   [maxThreads]Thread
	crashThreadsAt int64
	crashCurrent   int32
	crashKPCR      KPCR // snapshotScheduler's copy of processor 0's, unused
)

// stallAndCopy stalls the other processors, copies their registers and,
// for a crash dump, the memory manager's page lists and counters
// (mm.SnapshotForCrash) and the thread table, and lets them go. It
// returns this processor's number.
//
//go:nosplit
func stallAndCopy(forDump bool) int {
	me := ke.CurrentProcessorNumber()
	ke.StallOtherProcessors()
	stalledCopy, stalledCopyMask = stalledAt, stalledMask
	if forDump {
		mm.SnapshotForCrash()
		crashCurrent = snapshotScheduler(&crashThreads, &crashKPCR, 0)
		crashThreadsAt = nanotime()
	}
	ke.ResumeOtherProcessors()
	return me
}
