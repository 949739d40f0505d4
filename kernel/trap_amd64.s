// Trap entry and exit. Every way into the kernel from running code, an
// interrupt or exception (through a vector stub) and SYSCALL, builds the
// same TrapFrame on a per-CPU stack, switches FS to the trap TLS block so
// that Go code sees the trap g, and calls a nosplit Go handler. The handler
// may replace the frame's contents with another thread's saved frame; the
// common exit path then restores that thread's FS base and returns with
// IRETQ (never SYSRET, so a frame saved by an interrupt and one saved by
// SYSCALL resume the same way).

#include "textflag.h"
#include "kpcr_amd64.h"

#define MSR_FS_BASE 0xC0000100

// Frame built below the CPU's (or syscallEntry's) iret frame.
#define PUSH_GPRS \
	PUSHQ AX; PUSHQ BX; PUSHQ CX; PUSHQ DX; PUSHQ SI; PUSHQ DI; PUSHQ BP; \
	PUSHQ R8; PUSHQ R9; PUSHQ R10; PUSHQ R11; PUSHQ R12; PUSHQ R13; PUSHQ R14; PUSHQ R15

#define POP_GPRS \
	POPQ R15; POPQ R14; POPQ R13; POPQ R12; POPQ R11; POPQ R10; POPQ R9; POPQ R8; \
	POPQ BP; POPQ DI; POPQ SI; POPQ DX; POPQ CX; POPQ BX; POPQ AX

// mov rax, gs:[off]
#define LOAD_GS_RAX(off) BYTE $0x65; BYTE $0x48; BYTE $0x8B; BYTE $0x04; BYTE $0x25; LONG $off
// mov gs:[off], rsp
#define STORE_GS_RSP(off) BYTE $0x65; BYTE $0x48; BYTE $0x89; BYTE $0x24; BYTE $0x25; LONG $off
// mov rsp, gs:[off]
#define LOAD_GS_RSP(off) BYTE $0x65; BYTE $0x48; BYTE $0x8B; BYTE $0x24; BYTE $0x25; LONG $off
// push qword gs:[off]
#define PUSH_GS(off) BYTE $0x65; BYTE $0xFF; BYTE $0x34; BYTE $0x25; LONG $off

// wrmsr FS_BASE, rax
#define SET_FS_BASE_RAX \
	MOVQ AX, DX; SHRQ $32, DX; MOVL $MSR_FS_BASE, CX; WRMSR

TEXT ·trapCommon(SB),NOSPLIT|NOFRAME,$0
	PUSH_GPRS
	SUBQ $FXSAVE_SIZE, SP
	FXSAVE64 (SP)
	CLD
	LOAD_GS_RAX(KPCR_TRAP_TLS)
	SET_FS_BASE_RAX
	MOVQ SP, AX
	PUSHQ AX
	CALL ·trap(SB)
	POPQ AX
	// fall through to the exit path
	LOAD_GS_RAX(KPCR_THREAD_FS_BASE)
	SET_FS_BASE_RAX
	FXRSTOR64 (SP)
	ADDQ $FXSAVE_SIZE, SP
	POP_GPRS
	ADDQ $16, SP // vector and error code
	IRETQ

// SYSCALL lands here (IA32_LSTAR) with RCX = return RIP, R11 = RFLAGS,
// interrupts masked by IA32_FMASK, still on the caller's stack.
TEXT ·syscallEntry(SB),NOSPLIT|NOFRAME,$0
	STORE_GS_RSP(KPCR_SCRATCH_RSP)
	LOAD_GS_RSP(KPCR_SYSCALL_STACK)
	PUSHQ $KERNEL_SS
	PUSH_GS(KPCR_SCRATCH_RSP)
	PUSHQ R11
	PUSHQ $KERNEL_CS
	PUSHQ CX
	PUSHQ $0
	PUSHQ $SYSCALL_VECTOR
	JMP ·trapCommon(SB)

// resumeFrame enters the frame at f (a TrapFrame on the stack it will run
// the exit path from): it is how the first thread starts. f must be the
// top-of-stack frame laid out exactly as trapCommon builds it.
TEXT ·resumeFrame(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ f+0(FP), SP
	LOAD_GS_RAX(KPCR_THREAD_FS_BASE)
	SET_FS_BASE_RAX
	FXRSTOR64 (SP)
	ADDQ $FXSAVE_SIZE, SP
	POP_GPRS
	ADDQ $16, SP
	IRETQ

// idleLoop is the body of the idle thread: it runs when no thread is ready,
// hands the idle-time work (zeroing free pages) a chance, and halts until the
// next interrupt.
TEXT ·idleLoop(SB),NOSPLIT|NOFRAME,$0
again:
	CALL ·idleWork(SB)
	STI
	HLT
	CLI
	JMP again

TEXT ·loadGDT(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ gdtr+0(FP), AX
	LGDT (AX)
	// Reload CS with a far return, then the data segments.
	PUSHQ $KERNEL_CS
	LEAQ reloaded<>(SB), AX
	PUSHQ AX
	BYTE $0x48; BYTE $0xCB // retfq, into reloaded<>, which returns to our caller

TEXT reloaded<>(SB),NOSPLIT|NOFRAME,$0
	MOVL $KERNEL_SS, AX
	MOVW AX, DS
	MOVW AX, ES
	MOVW AX, SS
	RET

TEXT ·loadIDT(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ idtr+0(FP), AX
	LIDT (AX)
	RET

TEXT ·loadTR(SB),NOSPLIT|NOFRAME,$0-2
	MOVW sel+0(FP), AX
	LTR AX
	RET

// readGS0 returns gs:[0], the KPCR's self pointer.
TEXT ·readGS0(SB),NOSPLIT|NOFRAME,$0-8
	LOAD_GS_RAX(0)
	MOVQ AX, ret+0(FP)
	RET
