// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Stopping the system from trap context. A fault the kernel cannot resolve,
// or a KeBugCheckEx called in a fault, interrupt or system call (or during
// boot, before the Go runtime exists), ends here: the bugcheck screen is
// printed without the Go runtime's help (its symbol lookups may allocate)
// from the code, the parameters with their meaning, the trap frame when
// there is one, and the control registers; then the machine powers off
// with the bugcheck's exit status (bugcheck.Code.ExitStatus). It writes no
// crash dump: capturing one allocates (crashdump.go).
//
// Exceptions a goroutine takes are dispatched to it (dispatch_trap.go), so
// that a Try catches them and the screen of an uncaught one shows Go's
// view; the rest stop here. Exceptions become NT's bugchecks: those NT turns into an exception record
// give KMODE_EXCEPTION_NOT_HANDLED (0x1E) with the exception code and the
// faulting address; the rest UNEXPECTED_KERNEL_MODE_TRAP (0x7F) with the
// vector, as NT reports a double fault or machine check.

package kernel

import (
	"ntgo/kernel/arch"
	"ntgo/kernel/bugcheck"
	"ntgo/kernel/ntstatus"
)

var vectorNames = [...]string{
	vecDivideError: "#DE divide error", vecDebug: "#DB debug", vecNMI: "NMI",
	vecBreakpoint: "#BP breakpoint", vecOverflow: "#OF overflow", vecBoundRange: "#BR bound range",
	vecInvalidOpcode: "#UD invalid opcode", vecDeviceNotAvail: "#NM device not available",
	vecDoubleFault: "#DF double fault", vecInvalidTSS: "#TS invalid TSS",
	vecSegmentNotPresnt: "#NP segment not present", vecStackFault: "#SS stack fault",
	vecGeneralProt: "#GP general protection", vecPageFault: "#PF page fault",
	vecX87Error: "#MF x87 error", vecAlignmentCheck: "#AC alignment check",
	vecMachineCheck: "#MC machine check", vecSIMDError: "#XM SIMD error",
	vecVirtualization: "#VE virtualization", vecControlProt: "#CP control protection",
}

// exceptionStatus is the NT exception code of the vectors NT dispatches as
// exceptions; 0 for the others.
var exceptionStatus = [...]ntstatus.Status{
	vecDivideError:    ntstatus.IntegerDivideByZero,
	vecDebug:          ntstatus.SingleStep,
	vecBreakpoint:     ntstatus.Breakpoint,
	vecInvalidOpcode:  ntstatus.IllegalInstruction,
	vecGeneralProt:    ntstatus.AccessViolation,
	vecAlignmentCheck: ntstatus.DatatypeMisalignment,
	vecX87Error:       ntstatus.FloatMultipleTraps,
	vecSIMDError:      ntstatus.FloatMultipleTraps,
}

// vectorName is the exception's name, "" for a vector without one.
//
//go:nosplit
func vectorName(v uint64) string {
	if v < uint64(len(vectorNames)) {
		return vectorNames[v]
	}
	return ""
}

//go:nosplit
func exception(f *TrapFrame) {
	if f.Vector < uint64(len(exceptionStatus)) && exceptionStatus[f.Vector] != 0 {
		status := exceptionStatus[f.Vector]
		p := [4]uintptr{uintptr(status), uintptr(f.RIP), 0, 0}
		if dispatchFault(f, faultingGoroutine(f), bugcheck.KmodeExceptionNotHandled, p, status, 0, true) {
			return
		}
		stop(f, bugcheck.KmodeExceptionNotHandled, p[0], p[1], p[2], p[3])
	}
	stop(f, bugcheck.UnexpectedKernelModeTrap, uintptr(f.Vector), 0, 0, 0)
}

// trapFrameOfStop is the frame a stop in trap context reports: the
// outermost frame of the trap being handled, if known.
var trapFrameOfStop *TrapFrame

// runtimeStarted is set once the Go runtime runs package initializers;
// before that every stop is a trap-context stop.
var runtimeStarted bool

// stopInTrap is bugcheck's trap-context stop (bugcheck.SetTrapStop).
//
//go:nosplit
func stopInTrap(code bugcheck.Code, p1, p2, p3, p4 uintptr) bool {
	if runtimeStarted && kpcr0.TrapDepth == 0 {
		return false
	}
	stop(trapFrameOfStop, code, p1, p2, p3, p4)
	return true
}

// stop prints the screen and powers off. Each part is its own function so
// the nosplit chain under a trap stays within the linker's limit.
//
//go:nosplit
func stop(f *TrapFrame, code bugcheck.Code, p1, p2, p3, p4 uintptr) {
	arch.DisableInterrupts()
	printStopLine(code, p1, p2, p3, p4)
	printParameterMeanings(code, p1, p2, p3, p4)
	if f != nil {
		printTrapFrame(f)
	}
	dumpControlRegisters()
	serialFlush()
	powerOff(code.ExitStatus())
}

// printStopLine prints "*** STOP: 0x00000050 (0x..., 0x..., 0x..., 0x...)".
//
//go:nosplit
//go:noinline
func printStopLine(code bugcheck.Code, p1, p2, p3, p4 uintptr) {
	serialWriteString("\n*** STOP: ")
	printHex32(uint32(code))
	serialWriteString(" (")
	printHex(uint64(p1))
	serialWriteString(", ")
	printHex(uint64(p2))
	serialWriteString(", ")
	printHex(uint64(p3))
	serialWriteString(", ")
	printHex(uint64(p4))
	serialWriteString(")\n")
}

// printParameterMeanings prints the code's name and what each parameter
// means for it.
//
//go:nosplit
//go:noinline
func printParameterMeanings(code bugcheck.Code, p1, p2, p3, p4 uintptr) {
	info := bugcheck.Describe(code)
	if info == nil {
		return
	}
	serialWriteString(info.Name)
	serialWriteString("\n")
	printParameter(1, p1, info.Params[0])
	printParameter(2, p2, info.Params[1])
	printParameter(3, p3, info.Params[2])
	printParameter(4, p4, info.Params[3])
}

//go:nosplit
//go:noinline
func printParameter(i int, p uintptr, meaning string) {
	serialWriteString("  arg")
	printDec(uint64(i))
	serialWriteString(": ")
	printHex(uint64(p))
	serialWriteString("  ")
	serialWriteString(meaning)
	serialWriteString("\n")
}

//go:nosplit
//go:noinline
func printTrapFrame(f *TrapFrame) {
	serialWriteString("trap ")
	printDec(f.Vector)
	if name := vectorName(f.Vector); name != "" {
		serialWriteString(" (")
		serialWriteString(name)
		serialWriteString(")")
	}
	serialWriteString(" error code ")
	printHex(f.ErrorCode)
	serialWriteString("\n")
	dumpRegisters(f)
}

//go:nosplit
func dumpRegisters(f *TrapFrame) {
	printReg("rax", f.RAX, ' ')
	printReg("rbx", f.RBX, ' ')
	printReg("rcx", f.RCX, ' ')
	printReg("rdx", f.RDX, '\n')
	printReg("rsi", f.RSI, ' ')
	printReg("rdi", f.RDI, ' ')
	printReg("rbp", f.RBP, ' ')
	printReg("rsp", f.RSP, '\n')
	printReg("r8 ", f.R8, ' ')
	printReg("r9 ", f.R9, ' ')
	printReg("r10", f.R10, ' ')
	printReg("r11", f.R11, '\n')
	printReg("r12", f.R12, ' ')
	printReg("r13", f.R13, ' ')
	printReg("r14", f.R14, ' ')
	printReg("r15", f.R15, '\n')
	printReg("rip", f.RIP, ' ')
	printReg("rfl", f.RFLAGS, ' ')
	printReg("cs ", f.CS, ' ')
	printReg("ss ", f.SS, '\n')
}

//go:nosplit
func dumpControlRegisters() {
	printReg("cr0", uint64(arch.ReadCR0()), ' ')
	printReg("cr2", uint64(arch.ReadCR2()), ' ')
	printReg("cr3", uint64(arch.ReadCR3()), ' ')
	printReg("cr4", uint64(arch.ReadCR4()), ' ')
	printReg("cr8", uint64(arch.ReadCR8()), '\n')
}

//go:nosplit
func printReg(name string, v uint64, sep byte) {
	serialWriteString(name)
	serialWriteString("=")
	printHex(v)
	com1.Tx(sep)
	if sep == '\n' {
		com1.Tx('\r')
	}
}
