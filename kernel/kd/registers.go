// The register set the debugger shows: what the kernel's TrapFrame saves
// plus the control registers, and WinDbg's `r` layout for it.
//
// registerGroups is the one list of registers: formatting and expressions
// (@rax) both walk it, so a register is named in one place.

package kd

import (
	"fmt"
	"io"
	"ntgo/nt/arch"
	"strings"
)

// Registers is one CPU's state at a trap or bugcheck. The kernel fills it
// from its TrapFrame (general-purpose registers, RIP, RFLAGS, CS, SS) and
// the control registers it reads at that moment.
type Registers struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	RIP, RFLAGS                            uint64
	CS, SS                                 uint64
	CR0, CR2, CR3, CR4, CR8                uint64
}

// Context is the state of the thread the debugger looks at: its registers
// and its call stack as return addresses, innermost first (the shape
// runtime.Callers fills).
type Context struct {
	Registers Registers
	Stack     []uintptr
	// Trap is the CPU exception the registers were saved by, nil for a
	// thread that stopped by a call (KeBugCheckEx, the console, a panic),
	// whose RIP is then the call's return address.
	Trap *Trap
	// Report is the Go report of the panic or runtime fatal error that
	// stopped the thread ("panic: ...", "fatal error: ..."), "" for none.
	Report string
}

// Trap is a CPU exception: its vector, its name and the error code the CPU
// pushed (0 for vectors without one).
type Trap struct {
	Vector    uint64
	Name      string
	ErrorCode uint64
}

type registerField struct {
	name string
	get  func(*Registers) uint64
}

// The registers in WinDbg's `r` order, by group: the groups print
// differently (general registers full width three to a row, segment
// selectors four digits, flags decoded).
var (
	generalRegisters = [...]registerField{
		{"rax", func(r *Registers) uint64 { return r.RAX }},
		{"rbx", func(r *Registers) uint64 { return r.RBX }},
		{"rcx", func(r *Registers) uint64 { return r.RCX }},
		{"rdx", func(r *Registers) uint64 { return r.RDX }},
		{"rsi", func(r *Registers) uint64 { return r.RSI }},
		{"rdi", func(r *Registers) uint64 { return r.RDI }},
		{"rip", func(r *Registers) uint64 { return r.RIP }},
		{"rsp", func(r *Registers) uint64 { return r.RSP }},
		{"rbp", func(r *Registers) uint64 { return r.RBP }},
		{"r8", func(r *Registers) uint64 { return r.R8 }},
		{"r9", func(r *Registers) uint64 { return r.R9 }},
		{"r10", func(r *Registers) uint64 { return r.R10 }},
		{"r11", func(r *Registers) uint64 { return r.R11 }},
		{"r12", func(r *Registers) uint64 { return r.R12 }},
		{"r13", func(r *Registers) uint64 { return r.R13 }},
		{"r14", func(r *Registers) uint64 { return r.R14 }},
		{"r15", func(r *Registers) uint64 { return r.R15 }},
	}
	segmentRegisters = [...]registerField{
		{"cs", func(r *Registers) uint64 { return r.CS }},
		{"ss", func(r *Registers) uint64 { return r.SS }},
	}
	flagsRegister    = registerField{"efl", func(r *Registers) uint64 { return r.RFLAGS }}
	controlRegisters = [...]registerField{
		{"cr0", func(r *Registers) uint64 { return r.CR0 }},
		{"cr2", func(r *Registers) uint64 { return r.CR2 }},
		{"cr3", func(r *Registers) uint64 { return r.CR3 }},
		{"cr4", func(r *Registers) uint64 { return r.CR4 }},
		{"cr8", func(r *Registers) uint64 { return r.CR8 }},
	}
	registerGroups = [...][]registerField{
		generalRegisters[:], segmentRegisters[:], {flagsRegister}, controlRegisters[:],
	}
)

// Register returns the register called name (rax ... r15, rip, efl, cs,
// ss, cr0 ... cr8, in any case).
func (r *Registers) Register(name string) (uint64, error) {
	for _, group := range registerGroups {
		for _, f := range group {
			if strings.EqualFold(f.name, name) {
				return f.get(r), nil
			}
		}
	}
	return 0, fmt.Errorf("%s: no such register", name)
}

// registersPerRow is how many full-width registers `r` prints on a line.
const registersPerRow = 3

// flagNames are the flags WinDbg spells out, in its order, with the names
// it prints when the flag is set and clear.
var flagNames = [...]struct {
	bit        uint64
	set, clear string
}{
	{arch.RflagsOF, "ov", "nv"},
	{arch.RflagsDF, "dn", "up"},
	{arch.RflagsIF, "ei", "di"},
	{arch.RflagsSF, "ng", "pl"},
	{arch.RflagsZF, "zr", "nz"},
	{arch.RflagsAF, "ac", "na"},
	{arch.RflagsPF, "pe", "po"},
	{arch.RflagsCF, "cy", "nc"},
}

// Write prints r as WinDbg's `r` does, plus a line of control registers.
func (r *Registers) Write(w io.Writer) {
	writeRow := func(fields []registerField, format string) {
		for i, f := range fields {
			sep := " "
			if (i+1)%registersPerRow == 0 || i == len(fields)-1 {
				sep = "\n"
			}
			fmt.Fprintf(w, format+sep, f.name, f.get(r))
		}
	}
	writeRow(generalRegisters[:], "%3s=%016x")
	fmt.Fprintf(w, "iopl=%d", r.RFLAGS>>arch.RflagsIOPLShift&arch.RflagsIOPLMask)
	for _, fl := range flagNames {
		name := fl.clear
		if r.RFLAGS&fl.bit != 0 {
			name = fl.set
		}
		fmt.Fprintf(w, " %s", name)
	}
	fmt.Fprintln(w)
	for _, f := range segmentRegisters {
		fmt.Fprintf(w, "%s=%04x  ", f.name, f.get(r))
	}
	fmt.Fprintf(w, "%s=%08x\n", flagsRegister.name, flagsRegister.get(r))
	writeRow(controlRegisters[:], "%3s=%016x")
}
