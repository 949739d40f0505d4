// System threads: how a kernel routine may end.
//
// NT starts every system thread's routine under an exception handler: an
// exception that escapes the routine stops the system with
// SYSTEM_THREAD_EXCEPTION_NOT_HANDLED (0x7E), and a return to the caller
// with the IRQL still raised is the caller's check's bugcheck (for a system
// service, IRQL_GT_ZERO_AT_SYSTEM_SERVICE, 0x4A). ntgo's console commands
// are those routines: the console runs each through runSystemRoutine
// (console.SetGuard).
//
// The panic is stopped while the goroutine still runs, in the deferred
// call that recovers it, before the Go runtime's own fatal path, which
// would leave the runtime unable to allocate (no symbols, no crash dump)
// and, at raised IRQL, unable to sleep. So the screen is the goroutine
// screen: the panic's report, the panic site as FAULTING_IP and the stack
// from there outward, and the crash dump when one is asked for. Panics
// elsewhere reach the runtime's fatal path and crashoutput_trap.go.
//
// A *bugcheck.Record passes through: in test binaries KeBugCheckEx panics
// with it, on its way to bugcheck.Catch.

package kernel

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"unsafe"

	"ntgo/kernel/console"
	"ntgo/kernel/kd"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
	"ntgo/nt/ntstatus"
)

// unhandledException and unhandledContext are 0x7E's exception and context
// records (parameters 3 and 4): static, so a crash dump holds them.
var (
	unhandledException ntstatus.Exception
	unhandledContext   kd.Context
)

// runSystemRoutine runs c's routine as NT runs a system thread's.
func runSystemRoutine(c console.Command, run func() error) error {
	defer func() {
		if v := recover(); v != nil {
			if rec, ok := v.(*bugcheck.Record); ok {
				panic(rec)
			}
			stopUnhandled(v)
		}
	}()
	err := run()
	if irql := ke.GetCurrentIrql(); irql != ke.PassiveLevel {
		bugcheck.KeBugCheckEx(bugcheck.IrqlGtZeroAtSystemService, reflect.ValueOf(c.Run).Pointer(), uintptr(irql), 0, 0)
	}
	return err
}

// stopUnhandled stops with 0x7E for the panic value v, called by the
// deferred function that recovered it.
func stopUnhandled(v any) {
	pcs := make([]uintptr, maxContextFrames)
	pcs = pcs[:runtime.Callers(1, pcs)]
	site := panicSite(pcs)
	ctx, _ := currentContext()
	ctx.Stack = pcs[site:]
	ctx.Registers.RIP = uint64(pcs[site])
	ctx.Report = "panic: " + fmt.Sprint(v)
	unhandledException = ntstatus.Exception{Status: bugcheck.ExceptionGoPanic}
	if e, ok := v.(*ntstatus.Exception); ok {
		unhandledException = *e
	}
	unhandledContext = ctx
	faultContext.Store(&unhandledContext)
	defer faultContext.Store(nil) // in test binaries KeBugCheckEx panics
	bugcheck.KeBugCheckEx(bugcheck.SystemThreadExceptionNotHandled, uintptr(unhandledException.Status), pcs[site],
		uintptr(unsafe.Pointer(&unhandledException)), uintptr(unsafe.Pointer(&unhandledContext)))
}

// panicSite is the index in pcs (a stack that passes through the runtime's
// panic) of the frame that panicked: the first outside the runtime after
// runtime.gopanic, which also skips the runtime's panicIndex and the like.
// 0 when the stack holds no gopanic.
func panicSite(pcs []uintptr) int {
	inPanic := false
	for i := range pcs {
		f, _ := runtime.CallersFrames(pcs[i : i+1]).Next()
		switch {
		case f.Function == "runtime.gopanic":
			inPanic = true
		case inPanic && !strings.HasPrefix(f.Function, "runtime."):
			return i
		}
	}
	return 0
}
