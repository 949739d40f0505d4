// Package arch holds the x86-64 primitives the rest of ntgo uses: control
// registers, MSRs, interrupt masking, TLB maintenance, TSC and CPUID.
//
// Every routine here is a few instructions of assembly, nosplit and free of
// Go-heap allocation, so it may be called from trap context. Privileged ones
// fault on the host; callers that also run as host tests ask Bare first.
package arch

// bare is set to 1 by the boot entry (boot/entry_amd64.s) before the Go
// runtime starts; a binary started by Linux leaves it 0.
var bare uint32

// Bare reports whether this binary is running as the kernel on bare metal
// rather than as a process under a host operating system.
//
//go:nosplit
func Bare() bool { return bare != 0 }

// RFLAGS bits (Intel SDM vol. 1, 3.4.3), the one definition the kernel,
// the debugger's register view and the trap frames share.
const (
	RflagsCF        = 1 << 0
	RflagsReserved  = 1 << 1 // always set
	RflagsPF        = 1 << 2
	RflagsAF        = 1 << 4
	RflagsZF        = 1 << 6
	RflagsSF        = 1 << 7
	RflagsTF        = 1 << 8  // single step
	RflagsIF        = 1 << 9  // interrupts enabled
	RflagsDF        = 1 << 10 // string direction
	RflagsOF        = 1 << 11
	RflagsIOPLShift = 12 // I/O privilege level: two bits
	RflagsIOPLMask  = 3
	RflagsAC        = 1 << 18
)

// DisableInterrupts clears RFLAGS.IF and returns the previous RFLAGS, for
// RestoreInterrupts.
func DisableInterrupts() (rflags uintptr)

// RestoreInterrupts sets RFLAGS.IF again if it was set in rflags.
func RestoreInterrupts(rflags uintptr)

// EnableInterrupts is STI.
func EnableInterrupts()

// Halt is STI; HLT: it waits for the next interrupt with interrupts enabled.
func Halt()

// Pause is the spin-loop hint.
func Pause()

// Invlpg drops the TLB entry for the page containing va.
func Invlpg(va uintptr)

// ReadCR0 and friends read and write control registers.
func ReadCR0() uintptr
func WriteCR0(v uintptr)
func ReadCR2() uintptr
func ReadCR3() uintptr
func WriteCR3(v uintptr)
func ReadCR4() uintptr
func WriteCR4(v uintptr)
func ReadCR8() uintptr
func WriteCR8(v uintptr)

// ReadMSR and WriteMSR access model-specific registers.
func ReadMSR(msr uint32) uint64
func WriteMSR(msr uint32, v uint64)

// RDTSC reads the time-stamp counter.
func RDTSC() uint64

// FramePointer is its caller's frame pointer (BP, which this frameless
// leaf leaves as it found it): the word there is the caller's caller's
// frame pointer, the next one the caller's return address. Go's amd64
// frames keep the chain (Driver Verifier walks it to attribute a call).
func FramePointer() uintptr

// CPUID executes CPUID with leaf eax and subleaf ecx.
func CPUID(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// In8 .. Out32 are port I/O.

// PolledOut8 waits until the byte at port status has a bit of ready set,
// then writes v to port: a polled device write (a 16550's transmit) in
// one frameless call, for the trap path's nosplit stack budget.
func PolledOut8(status uint16, ready, v uint8, port uint16)
func In8(port uint16) uint8
func Out8(port uint16, v uint8)
func In16(port uint16) uint16
func Out16(port uint16, v uint16)
func In32(port uint16) uint32
func Out32(port uint16, v uint32)

// FlushTLB reloads CR3, dropping every non-global TLB entry.
//
//go:nosplit
func FlushTLB() { WriteCR3(ReadCR3()) }
