#include "textflag.h"

// func captureRegisters(r *kd.Registers)
// The field offsets follow kd.Registers: RAX, RBX, RCX, RDX, RSI, RDI, RBP,
// RSP, R8..R15, RIP, RFLAGS, CS, SS (8 bytes each). RIP and RSP are the
// caller's: its return address and its stack pointer after the return.
TEXT ·captureRegisters(SB),NOSPLIT,$0-8
	MOVQ r+0(FP), DI
	MOVQ AX, 0(DI)
	MOVQ BX, 8(DI)
	MOVQ CX, 16(DI)
	MOVQ DX, 24(DI)
	MOVQ SI, 32(DI)
	MOVQ $0, 40(DI)   // RDI holds the argument
	MOVQ BP, 48(DI)
	MOVQ SP, AX       // the caller's SP after this call returns:
	ADDQ $16, AX      // past the return address and the argument
	MOVQ AX, 56(DI)
	MOVQ R8, 64(DI)
	MOVQ R9, 72(DI)
	MOVQ R10, 80(DI)
	MOVQ R11, 88(DI)
	MOVQ R12, 96(DI)
	MOVQ R13, 104(DI)
	MOVQ R14, 112(DI)
	MOVQ R15, 120(DI)
	MOVQ 0(SP), AX    // return address
	MOVQ AX, 128(DI)
	PUSHFQ
	POPQ AX
	MOVQ AX, 136(DI)
	MOVW CS, AX
	MOVQ AX, 144(DI)
	MOVW SS, AX
	MOVQ AX, 152(DI)
	RET
