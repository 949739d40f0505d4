package kernel

import "ntgo/kernel/arch"

// Trap context: nosplit, no allocation.
//
// A trap the kernel cannot resolve. This is the last-resort report, printed
// without the Go runtime's help: vector, error code, CR2 and every register.
// It then powers off with the bugcheck's exit status.

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

//go:nosplit
func exception(f *TrapFrame) {
	fatalTrap(f, arch.ReadCR2())
}

//go:nosplit
func fatalTrap(f *TrapFrame, cr2 uintptr) {
	serialWriteString("\n*** STOP: unhandled trap ")
	printDec(f.Vector)
	if f.Vector < uint64(len(vectorNames)) && vectorNames[f.Vector] != "" {
		serialWriteString(" (")
		serialWriteString(vectorNames[f.Vector])
		serialWriteString(")")
	}
	serialWriteString(" error code ")
	printHex(f.ErrorCode)
	serialWriteString(" CR2 ")
	printHex(uint64(cr2))
	serialWriteString("\n")
	dumpRegisters(f)
	serialFlush()
	powerOff(uint8(unexpectedTrapStatus))
}

// unexpectedTrapStatus is UNEXPECTED_KERNEL_MODE_TRAP's (0x7F) exit status.
const unexpectedTrapStatus = 0x7F

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
	printReg("cr0", uint64(arch.ReadCR0()), ' ')
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
