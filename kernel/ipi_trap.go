// Interprocessor interrupts: the vector every processor takes ke's
// requests on (TLB shootdowns, KeIpiGenericCall, DPC requests, the freeze
// of a bugcheck), and the sender ke calls.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// A fixed IPI (sendICR). trap() serves it before it takes the
// kernel lock. The handler records where the processor was
// interrupted — the bugcheck screen shows each frozen processor's RIP from
// it — then serves ke's requests.

package kernel

import (
	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

// vecIPI is the interprocessor request vector: above DISPATCH_LEVEL's
// class (0x2x), so a processor spinning at DISPATCH_LEVEL still takes it.
const vecIPI = 0xE1

// Local APIC interrupt command register (Intel SDM vol. 3, 11.6.1).
const (
	lapicICRLow        = 0x300
	lapicICRHigh       = 0x310
	icrDeliveryPending = 1 << 12
)

// interruptedAt is each processor's last IPI's trap frame, as it stands.
var interruptedAt [ke.MaximumProcessors]struct {
	rip, rsp uintptr
}

// sendRequestIPI interrupts processor cpu on vecIPI: ke's sender.
//
//go:nosplit
func sendRequestIPI(cpu int) {
	sendICR(kpcrs[uint(cpu)%ke.MaximumProcessors].APICID, vecIPI)
}

// sendICR sends the interrupt command low (delivery mode and vector) to
// the processor with APIC ID id, and waits until the APIC has sent it.
// Interrupts stay off across the two ICR writes: a trap in between that
// sends its own IPI (a shootdown) would leave the second write aimed at
// its target, and an INIT meant for a processor being started would reset
// a running one.
//
//go:nosplit
func sendICR(id, low uint32) {
	rflags := arch.DisableInterrupts()
	for *mmio32(lapicBase + lapicICRLow)&icrDeliveryPending != 0 {
	}
	*mmio32(lapicBase + lapicICRHigh) = id << 24
	*mmio32(lapicBase + lapicICRLow) = low
	for *mmio32(lapicBase + lapicICRLow)&icrDeliveryPending != 0 {
	}
	arch.RestoreInterrupts(rflags)
}

// ipiInterrupt serves vecIPI on processor p (trap, entry_trap.go, EOIs).
//
//go:nosplit
func ipiInterrupt(f *TrapFrame, p *KPCR) {
	at := &interruptedAt[uint(p.Number)%ke.MaximumProcessors]
	at.rip, at.rsp = uintptr(f.RIP), uintptr(f.RSP)
	ke.IpiService()
}
