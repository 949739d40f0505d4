// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// trap is the single Go entry for every interrupt, exception and
// system call (trap_amd64.s); it runs on the trap g with interrupts off.

package kernel

import (
	"sync/atomic"

	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

// Exception vectors (Intel SDM vol. 3, table 6-1).
const (
	vecDivideError      = 0
	vecDebug            = 1
	vecNMI              = 2
	vecBreakpoint       = 3
	vecOverflow         = 4
	vecBoundRange       = 5
	vecInvalidOpcode    = 6
	vecDeviceNotAvail   = 7
	vecDoubleFault      = 8
	vecInvalidTSS       = 10
	vecSegmentNotPresnt = 11
	vecStackFault       = 12
	vecGeneralProt      = 13
	vecPageFault        = 14
	vecX87Error         = 16
	vecAlignmentCheck   = 17
	vecMachineCheck     = 18
	vecSIMDError        = 19
	vecVirtualization   = 20
	vecControlProt      = 21
	firstExternalVector = 32
)

// Interrupt vectors ntgo assigns.
const (
	vecTimer  = 0x30
	vecSerial = 0x34
	// Inter-processor interrupts: the reschedule (smp_trap.go), in the
	// timer's class below every device's, and ke's requests, vecIPI
	// (ipi_trap.go).
	vecReschedule = 0x32
	vecStall      = 0xF1
	vecSpurious   = 0xFF
)

// trap takes the kernel lock (smp_trap.go) for everything but ke's IPI
// requests and the stall (their sender may hold it, or wait with
// interrupts off). An idle processor's interrupt tells ke it leaves idle and, when it
// goes back, that it idles again (shootdowns spare idle processors).
//
//go:nosplit
func trap(f *TrapFrame) {
	p := currentKPCR()
	switch f.Vector {
	case vecIPI:
		p.Interrupts++
		ipiInterrupt(f, p)
		lapicEOI()
		return
	case vecStall:
		p.Interrupts++
		lapicEOI()
		stallHere(f, p)
		return
	}
	lockKernel(p)
	p.TrapDepth++
	if p.TrapDepth == 1 && p.Current == p.Idle {
		ke.LeaveIdle(int(p.Number))
	}
	switch {
	case f.Vector == syscallVector:
		p.Syscalls++
		syscallTrap(f)
	case f.Vector == vecPageFault:
		p.PageFaults++
		pageFault(f, arch.ReadCR2())
	case f.Vector < firstExternalVector:
		exception(f)
	default:
		p.Interrupts++
		ke.CheckIrqlCopy()
		interrupt(f, p)
	}
	if schedulesAtExit(p) {
		checkTimers()
		reschedule(f)
		armTimer(p)
		if p.Current == p.Idle {
			ke.EnterIdle(int(p.Number))
		}
	}
	p.TrapDepth--
	unlockKernel()
}

// schedulesAtExit reports whether the thread scheduler runs as this trap
// returns, so that a thread marked blocked here is switched away from
// (inpage_trap.go's fault waits ask too): at the outermost trap, on every
// processor.
//
//go:nosplit
func schedulesAtExit(p *KPCR) bool { return p.TrapDepth == 1 }

//go:nosplit
func interrupt(f *TrapFrame, p *KPCR) {
	switch f.Vector {
	case vecTimer:
		timerInterrupt(p)
	case vecReschedule:
		p.Reschedules++
		atomic.StoreUint32(&p.Kicked, 0) // reschedule (trap's exit) does the rest
	case vecSerial:
		serialInterrupt()
	case vecSpurious:
		return // no EOI for the spurious vector
	default:
		if f.Vector >= vecDeviceFirst && f.Vector < vecDeviceFirst+deviceVectors {
			deviceInterrupt(f.Vector - vecDeviceFirst)
		}
	}
	lapicEOI()
}
