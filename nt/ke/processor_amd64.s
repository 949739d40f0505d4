#include "textflag.h"

// func gsNumber() uint32: mov eax, gs:[40] (KPCRNumberOffset)
TEXT ·gsNumber(SB),NOSPLIT|NOFRAME,$0-4
	BYTE $0x65; BYTE $0x8B; BYTE $0x04; BYTE $0x25; LONG $40
	MOVL AX, ret+0(FP)
	RET
