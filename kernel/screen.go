package kernel

// The bugcheck screen in goroutine context.
//
// KeBugCheckEx called by a goroutine (pool or PFN misuse found by a driver's
// call, an explicit bugcheck) reaches this handler with the Go runtime fully
// usable, so the screen adds what trap context cannot give: the function,
// file and line that called KeBugCheckEx and the Go stack of the goroutine.
// Interrupts are disabled first so no other thread runs while the screen
// is printed; the machine then powers off with StopStatus(code).
//
// In-kernel test binaries (os.Args carries -test. flags) keep the host's
// behaviour instead: the handler returns, KeBugCheckEx panics with the
// *Record, and bugcheck.Catch in a test can inspect it.

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"ntgo/kernel/arch"
	"ntgo/kernel/bugcheck"
)

func init() {
	if !arch.Bare() || testBinary() {
		return
	}
	bugcheck.SetHandler(bugcheckScreen)
}

// testBinary reports whether this kernel is a `go test` binary.
func testBinary() bool {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.") {
			return true
		}
	}
	return false
}

// maxStackFrames bounds the stack the screen prints.
const maxStackFrames = 32

func bugcheckScreen(r *bugcheck.Record) {
	arch.DisableInterrupts()
	var b strings.Builder
	info := bugcheck.Lookup(r.Code)
	fmt.Fprintf(&b, "\n*** STOP: 0x%08X (0x%016X, 0x%016X, 0x%016X, 0x%016X)\n%s\n",
		uint32(r.Code), r.Params[0], r.Params[1], r.Params[2], r.Params[3], info.Name)
	for i, p := range r.Params {
		fmt.Fprintf(&b, "  arg%d: 0x%016X  %s\n", i+1, p, info.Params[i])
	}
	if f := runtime.FuncForPC(r.PC); f != nil {
		file, line := f.FileLine(r.PC)
		fmt.Fprintf(&b, "raised by %s\n  %s:%d\n", f.Name(), file, line)
	}
	b.WriteString("stack:\n")
	pcs := make([]uintptr, maxStackFrames)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		fmt.Fprintf(&b, "  %s\n      %s:%d\n", f.Function, f.File, f.Line)
		if !more {
			break
		}
	}
	fmt.Fprintf(&b, "cr0=%#x cr2=%#x cr3=%#x cr4=%#x cr8=%#x\n",
		arch.ReadCR0(), arch.ReadCR2(), arch.ReadCR3(), arch.ReadCR4(), arch.ReadCR8())
	serialWriteString(b.String())
	PowerOff(StopStatus(r.Code))
}
