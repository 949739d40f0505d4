#include "textflag.h"

// func escape(p unsafe.Pointer)
// Does nothing; declared without //go:noescape so that the compiler heap-
// allocates whatever is passed (see list.go).
TEXT ·escape(SB), NOSPLIT, $0-8
	RET

// func cas16(p *[2]uint64, oldLo, oldHi, newLo, newHi uint64) bool
TEXT ·cas16(SB), NOSPLIT, $0-41
	MOVQ p+0(FP), DI
	MOVQ oldLo+8(FP), AX
	MOVQ oldHi+16(FP), DX
	MOVQ newLo+24(FP), BX
	MOVQ newHi+32(FP), CX
	LOCK
	CMPXCHG16B (DI)
	SETEQ ret+40(FP)
	RET
