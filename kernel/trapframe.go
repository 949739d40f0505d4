package kernel

// TrapFrame is the register state saved on every entry into the kernel, in
// the order trap_amd64.s builds it (lowest address first): the FXSAVE area,
// the general-purpose registers, the vector and error code, then the frame
// the CPU pushes for an interrupt (and syscallEntry imitates).
//
// A thread that is not running keeps its TrapFrame in its Thread; switching
// threads copies frames, so the layout has no pointers.
type TrapFrame struct {
	FX [fxsaveSize]byte

	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	RBP, RDI, RSI, RDX, RCX, RBX, RAX    uint64

	Vector, ErrorCode uint64

	RIP, CS, RFLAGS, RSP, SS uint64
}

// Constants shared with kpcr_amd64.h.
const (
	fxsaveSize    = 512
	kernelCS      = 0x08
	kernelSS      = 0x10
	syscallVector = 256
)

// The FXSAVE image's MXCSR field and the value the Go runtime expects
// (all exceptions masked, round to nearest).
const (
	fxMXCSROffset = 24
	mxcsrDefault  = 0x1F80
	fxFCWOffset   = 0
	x87FCWDefault = 0x037F
)
