#include "textflag.h"

// func framePointer() uintptr: the caller's frame pointer (BP), which a
// frameless leaf leaves as it found it.
TEXT ·framePointer(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ BP, ret+0(FP)
	RET
