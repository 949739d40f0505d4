// The application processors' 64-bit entry and idle loop (smp.go,
// smp_trap.go).

#include "textflag.h"

#define MSR_FS_BASE 0xC0000100

// apEntry: the trampoline jumps here in long mode on its identity map,
// on the processor's idle stack, interrupts off. It takes the boot
// processor's CR4 (SSE before any Go code runs) and its own PML4 over the
// kernel's page tables (mm.ProcessorRoot), points FS at the trap TLS (so
// Go code sees the trap g) and goes on in apStart, which does not return.
TEXT ·apEntry(SB),NOSPLIT|NOFRAME,$0
	MOVQ ·apCR4(SB), AX
	MOVQ AX, CR4
	MOVQ ·apCR3(SB), AX
	MOVQ AX, CR3
	MOVQ $·trapTLS+8(SB), AX
	MOVQ AX, DX
	SHRQ $32, DX
	MOVL $MSR_FS_BASE, CX
	WRMSR
	CALL ·apStart(SB)
again:
	CLI
	HLT
	JMP again

TEXT ·apEntryAddr(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ $·apEntry(SB), AX
	MOVQ AX, ret+0(FP)
	RET

// apIdle enters the processor's idle thread: the idle loop every
// processor runs (trap_amd64.s), zeroing pages and halting with
// interrupts on.
TEXT ·apIdle(SB),NOSPLIT|NOFRAME,$0
	JMP ·idleLoop(SB)
