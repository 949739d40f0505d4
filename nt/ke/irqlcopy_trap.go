// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The per-processor software copy of the IRQL; interrupt entry calls
// CheckIrqlCopy.
//
// CR8 is the hardware truth, but reading it is a privileged instruction
// (under TCG a helper call, ~30-45 ns) and the pool's fast path checks the
// IRQL on every allocation and free. So each processor also keeps its IRQL
// in memory, in its processorState, and code that only needs to know the
// level (CurrentIrql) reads that with one load.
//
// Invariant: the copy equals CR8's priority whenever an interrupt can be
// taken. Only setIrql (RaiseIrql, LowerIrql) writes CR8, and it stores
// CR8 and the copy with interrupts disabled, so no interrupt or fault
// handler and no thread switch ever runs between the two stores. Interrupt
// entry and exit in ntgo do not change CR8 (the local APIC's in-service
// priority is not CR8), so they keep the invariant without writing the
// copy; CheckIrqlCopy, called at every interrupt entry, counts the entries
// that found the two apart, which a test requires to be none. On the host,
// which has no CR8, the copy is the level.
//
// The copy is per processor because the IRQL is: each processor's entry is
// indexed by CurrentProcessorNumber (processor_trap.go, the KPCR's number
// through GS) and written only by that processor.

package ke

import "ntgo/nt/arch"

// MaximumProcessors bounds the processors ntgo keeps state for.
const MaximumProcessors = 64

// cacheLine keeps each processor's state on its own line.
const cacheLine = 64

// processorState is the part of a processor's state the ke layer keeps.
type processorState struct {
	irql KIRQL
	// pinned: the goroutine running here raised the IRQL to
	// DISPATCH_LEVEL or above and holds the Go scheduler off (dispatchpin_trap.go).
	pinned bool
	_      [cacheLine - 2]byte
}

var processors [MaximumProcessors]processorState

// Interrupt entries checked by CheckIrqlCopy, and those that found the copy
// and CR8 apart.
var irqlCopyChecks, irqlCopyMismatches uint64

// CurrentIrql is the current processor's IRQL from its software copy: one
// memory load, no privileged instruction.
//
//go:nosplit
func CurrentIrql() KIRQL { return processors[CurrentProcessorNumber()].irql }

// ProcessorIrql is processor n's IRQL from its software copy, for the
// debugger's view of another processor (read as it stands).
//
//go:nosplit
func ProcessorIrql(n int) KIRQL { return processors[n].irql }

// setIrql sets CR8 (bare metal) and the copy to l, with interrupts off
// between the two stores, and pins or unpins a goroutine that crosses
// DISPATCH_LEVEL (dispatchpin_trap.go).
//
//go:nosplit
func setIrql(l KIRQL) {
	if !arch.Bare() {
		processors[CurrentProcessorNumber()].irql = l
		return
	}
	// The processor is read with interrupts off: at PASSIVE_LEVEL the
	// thread may move to another processor until then, and a number read
	// before would put the copy on the processor it left.
	rflags := arch.DisableInterrupts()
	p := &processors[CurrentProcessorNumber()]
	old := p.irql
	arch.WriteCR8(uintptr(l))
	p.irql = l
	// The pin changes with interrupts still off too: once they are on at
	// PASSIVE_LEVEL the thread may move, and another thread raising on
	// this processor must not find the pin of the one that left.
	switch {
	case l >= DispatchLevel && old < DispatchLevel && !p.pinned && inGoroutine():
		procPin() // CR8 is up: the thread stays on this processor from here
		p.pinned = true
	case l < DispatchLevel && p.pinned:
		p.pinned = false
		procUnpin()
	}
	arch.RestoreInterrupts(rflags)
}

// CheckIrqlCopy compares the copy with CR8; interrupt entry calls it.
//
//go:nosplit
func CheckIrqlCopy() {
	irqlCopyChecks++
	if KIRQL(arch.ReadCR8()&cr8Mask) != CurrentIrql() {
		irqlCopyMismatches++
	}
}

// IrqlCopyChecks reports how many interrupt entries CheckIrqlCopy saw and how
// many of them found the copy different from CR8.
//
//go:nosplit
func IrqlCopyChecks() (checks, mismatches uint64) { return irqlCopyChecks, irqlCopyMismatches }
