// A bugcheck stops every processor: the freeze, and the screen's list of
// processors.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Both screens (the goroutine's, screen.go, and trap context's, stop())
// first freeze the other processors (ke.FreezeProcessors: a freeze
// request by IPI; each halts in its IPI handler, which has recorded the
// RIP it interrupted) and, after the screen's own sections, list every
// processor: its RIP and IRQL, and whether it froze.

package kernel

import (
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
)

// freezeWait bounds the wait for the others to stop: a processor that
// does not answer within it is listed as such, and the stop goes on.
const freezeWait = 5 // seconds

// freezeOthers stops the other processors and returns those that stopped.
//
//go:nosplit
func freezeOthers() uint64 {
	hz := tscHz
	if hz == 0 { // a stop before the clock's calibration
		hz = 3_000_000_000
	}
	return ke.FreezeProcessors(hz * freezeWait)
}

// printProcessors lists every started processor after a stop on this one,
// whose RIP is rip.
//
//go:nosplit
func printProcessors(frozen uint64, rip uintptr) {
	serialWriteString("\nPROCESSORS:\n")
	me := ke.CurrentProcessorNumber()
	n := int(ke.QueryActiveProcessorCountEx(ke.AllProcessorGroups))
	for cpu := 0; cpu < n && cpu < ke.MaximumProcessors; cpu++ {
		i := uint(cpu) % ke.MaximumProcessors // no bounds checks: the trap stop's stack budget
		serialWriteString("  ")
		printDec(uint64(cpu))
		switch {
		case cpu == me:
			printProcessorAt(rip, ke.ProcessorIrql(int(i)))
			serialWriteString("  the bugcheck\n")
		case frozen&(1<<i) != 0:
			printProcessorAt(interruptedAt[i].rip, ke.ProcessorIrql(int(i)))
			serialWriteString("  frozen\n")
		default:
			serialWriteString("  did not answer the freeze\n")
		}
	}
}

//go:nosplit
func printProcessorAt(rip uintptr, irql ke.KIRQL) {
	serialWriteString("  RIP ")
	printAddress(uint64(rip))
	serialWriteString("  IRQL ")
	printDec(uint64(irql))
}

// finishStop ends a goroutine's bugcheck screen (screen.go): it freezes
// the others, lists the processors (this one's RIP is rip), prints tail,
// the screen's last line, and powers off. A goroutine runs it with
// interrupts off, and it keeps trap context's rule
// (TestStopTailKeepsTrapRule): once the others are frozen, a preemption
// at a stack check would wait for ever for another processor to run the
// goroutine again (it is locked to its thread), and an allocation could
// wait on a lock a frozen processor holds.
//
//go:nosplit
func finishStop(rip uintptr, tail string, code bugcheck.Code) {
	printProcessors(freezeOthers(), rip)
	serialWriteString(tail)
	PowerOffBugcheck(code)
}
