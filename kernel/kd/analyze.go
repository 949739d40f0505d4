// !analyze -v: the bugcheck explained, as WinDbg's analysis extension
// prints it: the code and its name, each parameter with its meaning
// (nt/bugcheck names them), the faulting IP, the stack, and the
// probable culprit.
//
// The culprit is the first frame of the stack, innermost first and with
// inlined calls expanded, that is neither the stop machinery nor the
// system the failing call went into: frames up to and including
// KeBugCheckEx are the bugcheck path itself, and frames of the Go runtime,
// the bugcheck and NTSTATUS packages, the debugger, the memory manager
// (ntgo/mm/...), IRQL and PAGED_CODE's checks (ntgo/nt/ke) and the loader
// (ntgo/kernel/ldr, whose unload runs Driver Verifier's leak check) are
// the routines that found the misuse, not the code that made it. What is left is the driver or kernel function that called the
// failing routine; the loaded-module list (kernel/ldr) names its module, a
// driver's when the function's package is a driver's, the kernel image's
// otherwise.
//
// The same code serves the dump viewer over a dump and the live console;
// the bugcheck screen prints the culprit section (writeCulprit) once.

package kd

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"ntgo/kernel/console"
	"ntgo/kernel/ldr"
	"ntgo/nt/bugcheck"
)

// systemPackages are the packages whose frames are never the culprit: each
// name and everything under it.
var systemPackages = []string{"runtime", "internal", "ntgo/nt/bugcheck", "ntgo/nt/ntstatus", "ntgo/kernel/kd", "ntgo/mm", "ntgo/nt/ke", "ntgo/kernel/ldr"}

// bugcheckEntry is the routine the stop machinery is reached through.
const bugcheckEntry = "ntgo/nt/bugcheck.KeBugCheckEx"

// kernelImage is the module a function belongs to when no driver's
// package holds it.
const kernelImage = "ntgo"

// Culprit is the probable cause of a bugcheck.
type Culprit struct {
	Frame  Frame   // the function, innermost of its inlined frames
	Site   uintptr // the return address in it (the call it made)
	Module string  // the module holding it
}

// FindCulprit is the culprit on stack (return addresses, innermost first),
// or false when every frame is the system's.
func FindCulprit(s Symbols, stack []uintptr, modules []ldr.Module) (Culprit, bool) {
	var frames []Culprit
	for _, ret := range stack {
		for _, f := range s.Frames(callInstruction(ret)) {
			frames = append(frames, Culprit{Frame: f, Site: ret})
		}
	}
	for i, c := range frames {
		if c.Frame.Function == bugcheckEntry {
			frames = frames[i+1:]
			break
		}
	}
	for _, c := range frames {
		if pkg := functionPackage(c.Frame.Function); !systemPackage(pkg) {
			c.Module = moduleOf(pkg, modules)
			return c, true
		}
	}
	return Culprit{}, false
}

// functionPackage is the import path of a package-qualified Go function
// name: ntgo/mm/pool.(*System).Free is in ntgo/mm/pool.
func functionPackage(name string) string {
	slash := strings.LastIndexByte(name, '/') + 1
	if dot := strings.IndexByte(name[slash:], '.'); dot >= 0 {
		return name[:slash+dot]
	}
	return name
}

func systemPackage(pkg string) bool {
	for _, p := range systemPackages {
		if pkg == p || strings.HasPrefix(pkg, p+"/") {
			return true
		}
	}
	return false
}

// moduleOf is the module of package pkg: the driver whose package holds
// it (the longest match), else the kernel image.
func moduleOf(pkg string, modules []ldr.Module) string {
	name, best := kernelImage, 0
	for _, m := range modules {
		if m.Start != 0 || m.Package == "" { // the kernel image holds everything
			continue
		}
		if (pkg == m.Package || strings.HasPrefix(pkg, m.Package+"/")) && len(m.Package) > best {
			name, best = m.Name, len(m.Package)
		}
	}
	return name
}

// analysisRule is the banner WinDbg frames its analysis with.
var analysisRule = strings.Repeat("*", 79)

// WriteAnalysis prints !analyze -v for rec, the stopped thread's context
// and the loaded modules.
func WriteAnalysis(w io.Writer, t *Target, rec *bugcheck.Record, ctx Context, modules []ldr.Module) {
	fmt.Fprintf(w, "%s\n*%s*\n%s\n\n", analysisRule, centered("Bugcheck Analysis", len(analysisRule)-2), analysisRule)
	info := bugcheck.Lookup(rec.Code)
	fmt.Fprintf(w, "%s (%x)\n", info.Name, uint32(rec.Code))
	fmt.Fprintln(w, "Arguments:")
	for i, v := range rec.Params {
		fmt.Fprintf(w, "Arg%d: %016x, %s\n", i+1, v, info.Params[i])
	}
	fmt.Fprintln(w, "\nFAULTING_IP:")
	writeLocation(w, t.symbols(), t.faultingIP(rec, ctx))
	if tr := ctx.Trap; tr != nil {
		fmt.Fprintf(w, "\nTRAP: %d (%s), error code %#x\n", tr.Vector, tr.Name, tr.ErrorCode)
	}
	fmt.Fprintln(w, "\nSTACK_TEXT:")
	writeStack(w, t.symbols(), ctx.Stack)
	writeCulprit(w, t.symbols(), ctx.Stack, modules)
}

// writeCulprit prints the analysis' conclusion: the probable culprit.
func writeCulprit(w io.Writer, s Symbols, stack []uintptr, modules []ldr.Module) {
	c, ok := FindCulprit(s, stack, modules)
	if !ok {
		fmt.Fprintln(w, "\nPROBABLY_CAUSED_BY: the system (no frame outside the runtime, the bugcheck path and the memory manager)")
		return
	}
	fmt.Fprintf(w, "\nFOLLOWUP_IP: %s [%s:%d]\n", Symbolize(s, c.Site), c.Frame.File, c.Frame.Line)
	fmt.Fprintf(w, "SYMBOL_NAME: %s\n", c.Frame.Function)
	fmt.Fprintf(w, "MODULE_NAME: %s\n", c.Module)
	fmt.Fprintf(w, "PROBABLY_CAUSED_BY: %s (%s)\n", c.Module, c.Frame.Function)
}

func centered(s string, width int) string {
	left := (width - len(s)) / 2
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", width-left-len(s))
}

// faultingIP is the instruction the stop is about: the trap's RIP, or for a
// call of KeBugCheckEx (no trap, RIP 0) the call instruction before the
// return address rec.PC, found by a walk from its function's entry; the
// return address itself when the walk fails.
func (t *Target) faultingIP(rec *bugcheck.Record, ctx Context) uintptr {
	if ctx.Registers.RIP != 0 {
		return uintptr(ctx.Registers.RIP)
	}
	if prev, ok := t.walkFromEntry(rec.PC, 1); ok && len(prev) == 1 {
		return prev[0].PC
	}
	return rec.PC
}

// errNoBugcheck is the live console's answer: nothing has stopped.
var errNoBugcheck = errors.New("no bugcheck: the system is running (a dump viewer's !analyze explains a crash dump)")

// analyzeCommand is !analyze -v over the target's Stop.
func (t *Target) analyzeCommand(w io.Writer, args []string) error {
	if len(args) != 1 || args[0] != "-v" {
		return console.ErrUsage
	}
	if t.Stop == nil {
		return errNoBugcheck
	}
	rec, ctx := t.Stop()
	WriteAnalysis(w, t, rec, ctx, t.modules())
	return nil
}
