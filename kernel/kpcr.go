package kernel

// The KPCR (kernel processor control region) is the per-CPU structure, reached
// through GS as on NT. Assembly reads the fields at the top by fixed offsets
// (kpcr_amd64.h); keep them first and in this order. One CPU for now: kpcr0
// is the only instance, and the fields below the assembly-visible ones are
// where per-CPU state (current thread, IRQL bookkeeping, the per-processor
// lookaside lists) grows.
type KPCR struct {
	Self         uintptr // gs:[0], for readGS0
	ScratchRSP   uintptr // caller's RSP while syscallEntry switches stacks
	SyscallStack uintptr // top of this CPU's syscall stack
	ThreadFSBase uintptr // FS base the exit path restores (current thread's TLS)
	TrapTLS      uintptr // FS base while in trap context: -8(FS) is the trap g

	Number     uint32 // processor number
	TrapDepth  uint32 // nesting of trap frames on this CPU
	Current    int32  // index of the running thread in threads
	Interrupts uint64 // interrupts taken
	Syscalls   uint64 // system calls served
	PageFaults uint64 // page faults taken
	Switches   uint64 // thread switches
}

var kpcr0 KPCR

// Current returns this processor's KPCR.
//
//go:nosplit
func currentKPCR() *KPCR { return &kpcr0 }

// readGS0 returns the GS-based self pointer (asm); used to check GS setup.
func readGS0() uintptr
