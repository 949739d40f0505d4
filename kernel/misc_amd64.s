#include "textflag.h"

TEXT ·haltForever(SB),NOSPLIT|NOFRAME,$0
again:
	CLI
	HLT
	JMP again

// rdrand returns a hardware random number; ok is false when the DRNG had none.
TEXT ·rdrand(SB),NOSPLIT|NOFRAME,$0-9
	MOVL $10, CX
retry:
	BYTE $0x48; BYTE $0x0F; BYTE $0xC7; BYTE $0xF0 // RDRAND AX
	JCS done
	DECL CX
	JNZ retry
	MOVB $0, ok+8(FP)
	RET
done:
	MOVQ AX, v+0(FP)
	MOVB $1, ok+8(FP)
	RET

TEXT ·vectorStub(SB),NOSPLIT|NOFRAME,$0-16
	MOVQ v+0(FP), AX
	LEAQ ·vectorStubs(SB), BX
	MOVQ (BX)(AX*8), AX
	MOVQ AX, ret+8(FP)
	RET

TEXT ·syscallEntryAddr(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ $·syscallEntry(SB), AX
	MOVQ AX, ret+0(FP)
	RET

TEXT ·idleLoopAddr(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ $·idleLoop(SB), AX
	MOVQ AX, ret+0(FP)
	RET
