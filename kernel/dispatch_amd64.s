#include "textflag.h"
#include "funcdata.h"

// faultTrampoline is where a goroutine resumes after the trap handler
// dispatched a fault to it (dispatch_trap.go): its stack holds the faulting
// RIP + 1 as the return address, as if the faulting instruction had called
// here, and DI the record slot. handleFault raises or bugchecks; it never
// returns.
TEXT ·faultTrampoline(SB),NOSPLIT,$8-0
	NO_LOCAL_POINTERS // the one local is the slot number
	MOVQ DI, 0(SP)
	CALL ·handleFault(SB)
	INT $3

// func faultTrampolineAddr() uintptr
TEXT ·faultTrampolineAddr(SB),NOSPLIT|NOFRAME,$0-8
	LEAQ ·faultTrampoline(SB), AX
	MOVQ AX, ret+0(FP)
	RET

// func currentG() uintptr: the running g, from the TLS slot at FS base - 8.
TEXT ·currentG(SB),NOSPLIT|NOFRAME,$0-8
	// mov rax, qword ptr fs:[-8]
	BYTE $0x64; BYTE $0x48; BYTE $0x8B; BYTE $0x04; BYTE $0x25; LONG $0xFFFFFFF8
	MOVQ AX, ret+0(FP)
	RET

// inPageResume is where a thread that slept in a page fault resumes
// (inpage_trap.go's sleepInFault): its stack holds the faulting code's RAX
// and then the faulting RIP. MOVQ, LEAQ and RET leave the flags alone
// (a POPQ would too, but the assembler refuses an unbalanced one).
TEXT ·inPageResume(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ 0(SP), AX
	LEAQ 8(SP), SP
	RET

// func inPageResumeAddr() uintptr
TEXT ·inPageResumeAddr(SB),NOSPLIT|NOFRAME,$0-8
	LEAQ ·inPageResume(SB), AX
	MOVQ AX, ret+0(FP)
	RET
