// The 64-bit boot entry. mkboot's trampoline arrives here in long mode on
// the boot identity map with EDI = Multiboot magic and ESI = the Multiboot
// information structure. entry64 takes a stack, points FS at the kernel's
// trap TLS (so Go code it calls sees the trap g), lets early (Go) parse the
// boot information, set up the CPU and build the initial process stack a
// Linux program expects, and enters the Go runtime at _rt0_amd64_linux.

#include "textflag.h"

#define MSR_FS_BASE 0xC0000100
#define bootStackBytes (256<<10)
#define processAreaBytes (16<<10)

TEXT ·entry64(SB),NOSPLIT|NOFRAME,$0
	MOVL $1, ntgo∕nt∕arch·bare(SB)
	MOVL DI, ·multibootMagic(SB)
	MOVQ SI, ·multibootInfo(SB)
	LEAQ ·bootStack(SB), SP
	ADDQ $(bootStackBytes-processAreaBytes), SP
	// FS: the kernel's trap TLS, so -8(FS) holds the trap g.
	MOVQ $ntgo∕kernel·trapTLS+8(SB), AX
	MOVQ AX, DX
	SHRQ $32, DX
	MOVL $MSR_FS_BASE, CX
	WRMSR
	MOVQ $ntgo∕kernel·trapG(SB), AX
	MOVQ AX, ntgo∕kernel·trapTLS(SB)
	XORPS X15, X15
	SUBQ $16, SP
	CALL ·early(SB)
	MOVQ 0(SP), AX // initial stack pointer for the runtime
	MOVQ AX, SP
	XORL AX, AX
	XORL BX, BX
	XORL CX, CX
	XORL DX, DX
	XORL SI, SI
	XORL DI, DI
	STI
	JMP _rt0_amd64_linux(SB)

// entryInfo lets mkboot find entry64 in binaries without a symbol table
// (go test strips its binaries): a magic followed by entry64's address.
DATA ·entryInfo+0(SB)/8, $0x4F47544E544F4F42 // "BOOTNTGO"
DATA ·entryInfo+8(SB)/8, $·entry64(SB)
GLOBL ·entryInfo(SB), RODATA, $16

TEXT ·entryInfoAddr(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ $·entryInfo(SB), AX
	MOVQ AX, ret+0(FP)
	RET
