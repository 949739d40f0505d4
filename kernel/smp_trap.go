// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// An application processor's start, after the trampoline (smp.go): on its
// idle stack, on the trap g, interrupts off, before it has a KPCR.

package kernel

import (
	"sync/atomic"

	"github.com/usbarmory/tamago/amd64/lapic"

	"ntgo/mm/pte"
	"ntgo/nt/arch"
)

// What the boot processor hands the processor it starts, and the word that
// processor answers on: apBootCPU is written before the SIPI and read once
// by the processor starting; apArrived is its number once it runs.
var (
	apBootCPU    uint32
	apArrived    atomic.Uint32
	apCR3, apCR4 uintptr
)

// apStart makes the processor the boot processor's peer: its KPCR through
// GS, its GDT and TSS (IST stacks made for it), the shared IDT, the
// system-call MSRs, the PAT the page tables' cache types assume, its local
// APIC with the timer on vecTimer (not armed: the thread scheduler runs on
// the boot processor), IRQL PASSIVE_LEVEL. Then it says it arrived and
// idles.
//
//go:nosplit
func apStart() {
	cpu := apBootCPU
	loadKPCR(cpu)
	loadProcessorTables(cpu)
	initSyscalls()
	arch.WriteMSR(pte.IA32PAT, pte.PATValue)
	*mmio32(lapicBase + lapicSVR) = vecSpurious
	apic.Enable()
	*mmio32(lapicBase + lapicTimerDivide) = lapicDivideBy1
	apic.SetTimer(vecTimer, lapic.TIMER_MODE_ONE_SHOT)
	*mmio32(lapicBase + lapicTimerInitial) = 0
	arch.WriteCR8(0)
	apArrived.Store(cpu)
	apIdle()
}

// lapicID is this processor's local APIC ID (xAPIC: bits 31:24).
//
//go:nosplit
func lapicID() uint32 { return *mmio32(lapicBase + lapicIDRegister) >> 24 }

func apIdle()
func apEntryAddr() uintptr
