// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// Stopping the system from trap context. A fault the kernel cannot resolve,
// or a KeBugCheckEx called in a fault, interrupt or system call (or during
// boot, before the Go runtime exists), ends here, as do the Go runtime's
// fatal exit (crashoutput_trap.go) and a thread switch at raised IRQL
// (sched_trap.go): the bugcheck screen is printed without the Go runtime's
// help (its symbol lookups may allocate), in the goroutine screen's
// sections and format (see stop); then the machine powers off with the
// bugcheck's exit status (bugcheck.Code.ExitStatus). It writes no crash
// dump: capturing one allocates (crashdump.go).
//
// Exceptions a goroutine takes are dispatched to it (dispatch_trap.go), so
// that a Try catches them and the screen of an uncaught one shows Go's
// view; the rest stop here. Exceptions become NT's bugchecks: those NT turns into an exception record
// give KMODE_EXCEPTION_NOT_HANDLED (0x1E) with the exception code and the
// faulting address; the rest UNEXPECTED_KERNEL_MODE_TRAP (0x7F) with the
// vector, as NT reports a double fault or machine check.

package kernel

import (
	"ntgo/nt/arch"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
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

// stopReportLen is how much of the Go runtime's fatal report
// (crashReport, crashoutput_trap.go) a stop shows: a length, not a slice,
// so that setting it in trap context stores no pointer (no write barrier).
var stopReportLen int

// runtimeStarted is set once the Go runtime runs package initializers;
// before that every stop is a trap-context stop.
var runtimeStarted bool

// stopInTrap is bugcheck's trap-context stop (bugcheck.SetTrapStop):
// every stop but a goroutine's, the idle loop's too (it runs on the trap
// g, which has no M for the goroutine stop's runtime calls).
//
//go:nosplit
func stopInTrap(code bugcheck.Code, p1, p2, p3, p4 uintptr) bool {
	if inGoroutine() {
		return false
	}
	stop(trapFrameOfStop, code, p1, p2, p3, p4)
	return true
}

// stop prints the screen and powers off. The screen has the goroutine
// screen's sections in its order and format (kd.WriteStopScreen), as far
// as trap context allows: no symbols and no disassembly (their lookups
// allocate), so FAULTING_IP and STACK_TEXT are bare addresses (ln and the
// dump viewer name them) and the stack is the frame-pointer chain from the
// trap frame. Each part is its own function so the nosplit chain under a
// trap stays within the linker's limit.
//
//go:nosplit
func stop(f *TrapFrame, code bugcheck.Code, p1, p2, p3, p4 uintptr) {
	arch.DisableInterrupts()
	frozen := freezeOthers()
	printStopLine(code, p1, p2, p3, p4)
	printParameterMeanings(code, p1, p2, p3, p4)
	if stopReportLen > 0 {
		serialWriteString("\nEXCEPTION_RECORD:\n")
		serialWrite(crashReport[:stopReportLen])
	}
	if f != nil {
		printTrapLocation(f)
	}
	printTrapRegisters(f)
	serialWriteString("\nDISASSEMBLY:\n(not available in trap context: gdb or go tool objdump on build/kernel.elf shows FAULTING_IP)\n")
	var rip uintptr
	if f != nil {
		rip = uintptr(f.RIP)
	}
	printProcessors(frozen, rip)
	serialWriteString("\nPowering off with exit status 0x")
	printLowerHexDigits(uint64(code.ExitStatus()), 0)
	serialWriteString(" (")
	printDec(uint64(code.ExitStatus()))
	serialWriteString(").\n")
	serialFlush()
	powerOffBugcheck(code)
}

// printStopLine prints "*** STOP: 0x00000050 (0x...,0x...,0x...,0x...) NAME".
//
//go:nosplit
//go:noinline
func printStopLine(code bugcheck.Code, p1, p2, p3, p4 uintptr) {
	serialWriteString("\n*** STOP: ")
	printHex32(uint32(code))
	serialWriteString(" (")
	printHex(uint64(p1))
	serialWriteString(",")
	printHex(uint64(p2))
	serialWriteString(",")
	printHex(uint64(p3))
	serialWriteString(",")
	printHex(uint64(p4))
	serialWriteString(") ")
	if info := bugcheck.Describe(code); info != nil {
		serialWriteString(info.Name)
	} else {
		serialWriteString("BUGCHECK_")
		printDigits(uint64(code), 0, true)
	}
	serialWriteString("\n")
}

// printParameterMeanings prints the Arguments section: each parameter and
// what it means for the code.
//
//go:nosplit
//go:noinline
func printParameterMeanings(code bugcheck.Code, p1, p2, p3, p4 uintptr) {
	serialWriteString("\nArguments:\n")
	info := bugcheck.Describe(code)
	var meanings [4]string
	if info != nil {
		meanings = info.Params
	}
	printParameter(1, p1, meanings[0])
	printParameter(2, p2, meanings[1])
	printParameter(3, p3, meanings[2])
	printParameter(4, p4, meanings[3])
}

//go:nosplit
//go:noinline
func printParameter(i int, p uintptr, meaning string) {
	serialWriteString("Arg")
	printDec(uint64(i))
	serialWriteString(": ")
	printLowerHex(uint64(p))
	serialWriteString(", ")
	if meaning == "" {
		serialWriteString("parameter ")
		printDec(uint64(i))
	}
	serialWriteString(meaning)
	serialWriteString("\n")
}

// maxTrapStackFrames bounds the frame-pointer walk.
const maxTrapStackFrames = 16

// printTrapLocation prints FAULTING_IP (the trap's RIP) and STACK_TEXT: the
// return addresses on the frame-pointer chain from the trap frame's RBP,
// while it points up the stack it started in.
//
//go:nosplit
//go:noinline
func printTrapLocation(f *TrapFrame) {
	serialWriteString("\nFAULTING_IP:\n")
	printAddress(f.RIP)
	serialWriteString("\n\nSTACK_TEXT:\n # Call Site\n")
	bp := uintptr(f.RBP)
	for n := 0; n < maxTrapStackFrames && bp > uintptr(f.RSP) && bp-uintptr(f.RSP) < stackWalkSpan && bp%8 == 0; n++ {
		ret := *(*uint64)(unsafePointerAt(bp + 8))
		if ret == 0 {
			break
		}
		printLowerHexDigits(uint64(n), 2)
		serialWriteString(" ")
		printAddress(ret)
		serialWriteString("\n")
		next := *(*uintptr)(unsafePointerAt(bp))
		if next <= bp {
			break
		}
		bp = next
	}
}

// stackWalkSpan is how far above the trap's RSP the walk follows RBP: the
// size of the largest kernel stack, so a wild RBP is not chased.
const stackWalkSpan = 1 << 20

// printTrapRegisters prints REGISTERS as kd's `r` does: the trap, the
// general registers three to a row, the segments and flags, the control
// registers.
//
//go:nosplit
//go:noinline
func printTrapRegisters(f *TrapFrame) {
	serialWriteString("\nREGISTERS:\n")
	if f != nil {
		serialWriteString("trap ")
		printDec(f.Vector)
		if name := vectorName(f.Vector); name != "" {
			serialWriteString(" (")
			serialWriteString(name)
			serialWriteString(")")
		}
		serialWriteString(", error code 0x")
		printLowerHexDigits(f.ErrorCode, 0)
		serialWriteString("\n")
		dumpRegisters(f)
	}
	dumpControlRegisters()
}

//go:nosplit
func dumpRegisters(f *TrapFrame) {
	printReg("rax", f.RAX, ' ')
	printReg("rbx", f.RBX, ' ')
	printReg("rcx", f.RCX, '\n')
	printReg("rdx", f.RDX, ' ')
	printReg("rsi", f.RSI, ' ')
	printReg("rdi", f.RDI, '\n')
	printReg("rip", f.RIP, ' ')
	printReg("rsp", f.RSP, ' ')
	printReg("rbp", f.RBP, '\n')
	printReg(" r8", f.R8, ' ')
	printReg(" r9", f.R9, ' ')
	printReg("r10", f.R10, '\n')
	printReg("r11", f.R11, ' ')
	printReg("r12", f.R12, ' ')
	printReg("r13", f.R13, '\n')
	printReg("r14", f.R14, ' ')
	printReg("r15", f.R15, '\n')
	serialWriteString("cs=")
	printLowerHexDigits(f.CS, 4)
	serialWriteString("  ss=")
	printLowerHexDigits(f.SS, 4)
	serialWriteString("  efl=")
	printLowerHexDigits(f.RFLAGS, 8)
	serialWriteString("\n")
}

//go:nosplit
func dumpControlRegisters() {
	printReg("cr0", uint64(arch.ReadCR0()), ' ')
	printReg("cr2", uint64(arch.ReadCR2()), ' ')
	printReg("cr3", uint64(arch.ReadCR3()), '\n')
	printReg("cr4", uint64(arch.ReadCR4()), ' ')
	printReg("cr8", uint64(arch.ReadCR8()), '\n')
}

//go:nosplit
func printReg(name string, v uint64, sep byte) {
	serialWriteString(name)
	serialWriteString("=")
	printLowerHex(v)
	if sep == '\n' {
		com1Tx('\r')
	}
	com1Tx(sep)
}
