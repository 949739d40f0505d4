#include "textflag.h"

// func secureZero(p unsafe.Pointer, n uintptr)
TEXT ·secureZero(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), DI
	MOVQ n+8(FP), CX
	XORL AX, AX
	CLD
	REP; STOSB
	RET
