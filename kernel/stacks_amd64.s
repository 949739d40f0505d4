#include "textflag.h"

// pushUntilFault(sp uintptr): with interrupts off, run RSP down from sp one
// push at a time. The push that reaches the guard page below the stack
// faults, and the fault handler stops the system.
TEXT ·pushUntilFault(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ sp+0(FP), AX
	CLI
	MOVQ AX, SP
again:
	PUSHQ $0
	JMP again
