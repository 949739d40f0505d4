// Interprocessor interrupts: the vector every processor takes ke's
// requests on (TLB shootdowns, KeIpiGenericCall, DPC requests, the freeze
// of a bugcheck), and the sender ke calls.
//
// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// A fixed IPI (sendIPI, smp_trap.go). trap() serves it before it takes the
// kernel lock. The handler records where the processor was
// interrupted — the bugcheck screen shows each frozen processor's RIP from
// it — then serves ke's requests.

package kernel

import "ntgo/nt/ke"

// vecIPI is the interprocessor request vector: above DISPATCH_LEVEL's
// class (0x2x), so a processor spinning at DISPATCH_LEVEL still takes it.
const vecIPI = 0xE1

// interruptedAt is each processor's last IPI's trap frame, as it stands.
var interruptedAt [ke.MaximumProcessors]struct {
	rip, rsp uintptr
}

// sendRequestIPI interrupts processor cpu on vecIPI: ke's sender.
//
//go:nosplit
func sendRequestIPI(cpu int) { sendIPI(kpcrs[uint(cpu)%ke.MaximumProcessors].APICID, vecIPI) }

// ipiInterrupt serves vecIPI on processor p (trap, entry_trap.go, EOIs).
//
//go:nosplit
func ipiInterrupt(f *TrapFrame, p *KPCR) {
	at := &interruptedAt[uint(p.Number)%ke.MaximumProcessors]
	at.rip, at.rsp = uintptr(f.RIP), uintptr(f.RSP)
	ke.IpiService()
}
