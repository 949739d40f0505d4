// The bugcheck screen: what the kernel prints on the console after
// KeBugCheckEx (or a fatal trap) and before powering off.
//
// Its sections, in NT's and WinDbg's words so that they read like
// !analyze -v output:
//
//	*** STOP: 0x000000C2 (p1,p2,p3,p4) BAD_POOL_CALLER
//	Arguments       the four parameters with their meaning for the code
//	EXCEPTION_RECORD  the Go panic's or fatal error's report, when one
//	                stopped the thread
//	FAULTING_IP     the faulting address, function (inlined calls
//	                expanded), file and line
//	STACK_TEXT      the Go call stack
//	REGISTERS       the trap (vector, name, error code) if there was one,
//	                r's display plus the control registers
//	DISASSEMBLY     the code around the faulting address, marked =>
//	exit status     what QEMU's launcher will report (bugcheck.ExitStatus)
//
// The faulting address is the trap's RIP when the kernel has one (a fault
// or exception turned into a bugcheck). A bugcheck raised by a call to
// KeBugCheckEx has no trap: its RIP is the record's PC, the return address
// into the caller (the instruction after the call, as NT's screen shows
// it), or for a panic the return address of the call to panic; the screen
// marks the call instruction that precedes it. A context without a RIP (0)
// gets the record's PC.
//
// WriteStopScreen reads memory only through the Target (for the
// disassembly) and takes no lock: it runs after a fatal error, when the
// failing code may hold any lock of the memory manager.

package kd

import (
	"fmt"
	"io"
	"strings"

	"ntgo/nt/bugcheck"
)

// The disassembly window around the faulting instruction.
const (
	screenInstructionsBefore = 6
	screenInstructionsAfter  = 4
)

// WriteStopScreen prints the bugcheck screen for rec, with the registers
// and stack of the thread that stopped.
func WriteStopScreen(w io.Writer, t *Target, rec *bugcheck.Record, ctx Context) {
	info := bugcheck.Lookup(rec.Code)
	p := rec.Params
	fmt.Fprintf(w, "\n*** STOP: 0x%08X (0x%016X,0x%016X,0x%016X,0x%016X) %s\n\n",
		uint32(rec.Code), p[0], p[1], p[2], p[3], info.Name)
	fmt.Fprintln(w, "Arguments:")
	for i, v := range p {
		fmt.Fprintf(w, "Arg%d: %016x, %s\n", i+1, v, info.Params[i])
	}

	s := t.symbols()
	pc := uintptr(ctx.Registers.RIP)
	if pc == 0 {
		pc = rec.PC
	}
	isReturn := ctx.Trap == nil
	before := screenInstructionsBefore
	if isReturn {
		before++ // the call instruction, which is marked
	}
	listing := t.Around(pc, before, screenInstructionsAfter)
	mark := listing.At
	if isReturn {
		mark = -1
		if listing.FromEntry && listing.At > 0 {
			mark = listing.At - 1
		}
	}
	faulting := pc
	if mark >= 0 {
		faulting = listing.Instructions[mark].PC
	}

	if ctx.Report != "" {
		fmt.Fprintf(w, "\nEXCEPTION_RECORD:\n%s\n", strings.TrimRight(ctx.Report, "\n"))
	}
	fmt.Fprintln(w, "\nFAULTING_IP:")
	writeLocation(w, s, faulting)
	fmt.Fprintln(w, "\nSTACK_TEXT:")
	writeStack(w, s, ctx.Stack)
	writeCulprit(w, s, ctx.Stack, t.modules())
	fmt.Fprintln(w, "\nREGISTERS:")
	if t := ctx.Trap; t != nil {
		fmt.Fprintf(w, "trap %d (%s), error code %#x\n", t.Vector, t.Name, t.ErrorCode)
	}
	ctx.Registers.Write(w)
	fmt.Fprintln(w, "\nDISASSEMBLY:")
	switch {
	case len(listing.Instructions) == 0:
		fmt.Fprintf(w, "code at %s is not readable\n", FormatAddress(uint64(pc)))
	case !listing.FromEntry:
		fmt.Fprintln(w, "(decoded from the faulting address: the walk from the function's entry did not reach it)")
	}
	writeInstructions(w, s, listing.Instructions, mark)
	status := rec.Code.ExitStatus()
	fmt.Fprintf(w, "\nPowering off with exit status %#x (%d).\n", status, status)
}
