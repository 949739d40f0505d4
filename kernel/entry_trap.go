// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// trap is the single Go entry for every interrupt, exception and
// system call (trap_amd64.s); it runs on the trap g with interrupts off.

package kernel

import (
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
	vecTimer    = 0x30
	vecSerial   = 0x34
	vecSpurious = 0xFF
)

//go:nosplit
func trap(f *TrapFrame) {
	p := currentKPCR()
	p.TrapDepth++
	if p.TrapDepth == 1 && p.Current == noThread { // an application processor's idle loop
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
		armTimer()
	}
	if p.TrapDepth == 1 && p.Current == noThread { // back to it
		ke.EnterIdle(int(p.Number))
	}
	p.TrapDepth--
}

// schedulesAtExit reports whether the thread scheduler runs as this trap
// returns, so that a thread marked blocked here is switched away from
// (inpage_trap.go's fault waits ask too): at the outermost trap, on the boot
// processor, which runs the Go runtime's threads; the others only idle
// (smp.go).
//
//go:nosplit
func schedulesAtExit(p *KPCR) bool { return p.TrapDepth == 1 && p.Number == 0 }

//go:nosplit
func interrupt(f *TrapFrame, p *KPCR) {
	switch f.Vector {
	case vecTimer:
		if p.Number == 0 {
			timerInterrupt()
		}
	case vecSerial:
		serialInterrupt()
	case vecIPI:
		ipiInterrupt(f, p)
	case vecSpurious:
		return // no EOI for the spurious vector
	default:
		if f.Vector >= vecDeviceFirst && f.Vector < vecDeviceFirst+deviceVectors {
			deviceInterrupt(f.Vector - vecDeviceFirst)
		}
	}
	lapicEOI()
}
