package kernel

// The KPCR (kernel processor control region) is the per-CPU structure, reached
// through GS as on NT: each processor's GS base (and kernel GS base: ntgo
// never leaves ring 0, so there is no SWAPGS) points at its own entry of
// kpcrs, and currentKPCR reads gs:[0]. Assembly reads the fields at the top
// by fixed offsets (kpcr_amd64.h); keep them first and in this order
// (TestKPCRLayout).
// Entry 0 is the boot processor's; processor N's is written by the boot
// processor before it starts N (smp.go) and afterwards only by N itself,
// except the counters a debugger view reads as they stand.

import (
	"ntgo/nt/arch"
	"ntgo/nt/ke"
)

type KPCR struct {
	Self         uintptr // gs:[0], for readGS0
	ScratchRSP   uintptr // caller's RSP while syscallEntry switches stacks
	SyscallStack uintptr // top of this CPU's syscall stack
	ThreadFSBase uintptr // FS base the exit path restores (current thread's TLS)
	TrapTLS      uintptr // FS base while in trap context: -8(FS) is the trap g

	Number    uint32 // processor number (ke reads its own copy: processor_trap.go)
	TrapDepth uint32 // nesting of trap frames on this CPU
	Current   int32  // index of the running thread in threads
	APICID    uint32 // this processor's local APIC ID
	Node      uint32 // its NUMA node (nt/acpi)
	Idle      int32  // this processor's idle thread (index in threads)
	// The scheduler's per-processor state (sched_trap.go, timer_trap.go).
	PreemptPending bool   // the slice ended: rotate at the next outermost exit
	SliceEnd       int64  // when the running thread's time slice ends
	ArmedDeadline  int64  // what the LAPIC timer is programmed for, -1 for idle
	Kicked         uint32 // atomic: a reschedule IPI is on its way
	Reschedules    uint64 // reschedule IPIs taken
	Stalled        uint64 // atomic: the stall generation this processor last spun for
	Interrupts     uint64 // interrupts taken
	Syscalls       uint64 // system calls served
	PageFaults     uint64 // page faults taken
	Switches       uint64 // thread switches
}

// kpcrs holds every processor's KPCR; kpcrs[0] is the boot processor's.
var kpcrs [ke.MaximumProcessors]KPCR

// currentKPCR returns this processor's KPCR, through GS. On the host (no
// GS) it is the boot processor's.
//
//go:nosplit
func currentKPCR() *KPCR {
	if !arch.Bare() {
		return &kpcrs[0]
	}
	return (*KPCR)(unsafePointerAt(readGS0()))
}

// readGS0 returns the GS-based self pointer (asm); used to check GS setup.
func readGS0() uintptr
