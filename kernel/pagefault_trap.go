// Trap context (docs/design.md): nothing here may have a stack check,
// allocate from the Go heap, store a Go pointer or block. Every function
// is //go:nosplit, or its comment says "Not nosplit:" and why.
//
// The #PF handler. The memory manager resolves the fault or says what it
// is (mm.PageFault); the kernel stops on the rest with the bugcheck mm/va
// chose, with NT's parameters. A fault on kernel address space (the upper
// half) at DISPATCH_LEVEL or above, or any fault with the page-table lock
// held (the memory manager faulting on itself), is IRQL_NOT_LESS_OR_EQUAL
// before anything is looked at, as in NT, where such a fault cannot wait
// for a page. The Go runtime's memory (the lower half) is exempt: it plays
// the part of NT's non-paged kernel stacks and heap, which never fault, and
// only its first touch of a page faults here, which waits only when no
// frame is free (waitForFrame: a goroutine's fault naps until the
// working-set manager frees one, or stops with NO_PAGES_AVAILABLE). In a
// driver Driver Verifier verifies, the stop is DRIVER_IRQL_NOT_LESS_OR_EQUAL
// (0xD1, same parameters), as NT names a driver's.
//
// A fault in Driver Verifier's special pool (a guard page, a freed block)
// is the verifier's stop instead of mm/va's (mm/verifier's
// special_trap.go chooses it, with NT's parameters).
//
// What is left after that goes to the faulting goroutine (dispatch_trap.go):
// a raise if it is inside a Try, else a bugcheck screen with its Go stack.

package kernel

import (
	"ntgo/mm"
	"ntgo/mm/pte"
	"ntgo/mm/va"
	"ntgo/mm/verifier"
	"ntgo/nt/bugcheck"
	"ntgo/nt/ke"
)

// Access codes of IRQL_NOT_LESS_OR_EQUAL's third parameter.
const (
	irqlAccessRead    = 0
	irqlAccessWrite   = 1
	irqlAccessExecute = 8
)

//go:nosplit
func pageFault(f *TrapFrame, cr2 uintptr) {
	code := pte.ErrorCode(f.ErrorCode)
	checkStackOverflow(f, cr2)
	checkFaultIrql(f, cr2, code)
	fault := mm.PageFault(cr2, code)
	switch fault.Result {
	case va.Resolved, va.Spurious:
		return
	case va.InPage:
		switch how, st := waitInPage(f, &fault); how {
		case inPageCannotWait:
			cannotWait(f, &fault)
		case inPageReadFailed:
			inPageFailed(f, fault.VA, st)
		case inPageNoPages:
			noPages(f)
		}
		return
	case va.NoMemory:
		switch waitForFrame(f) {
		case inPageWaits:
			return
		case inPageNoPages:
			noPages(f)
			return
		}
	}
	finishFault(f, &fault)
}

// checkFaultIrql stops if the fault came at DISPATCH_LEVEL or above, or from
// inside the memory manager. (Separate functions keep each frame on the
// nosplit chain small.)
//
//go:nosplit
//go:noinline
func checkFaultIrql(f *TrapFrame, cr2 uintptr, code pte.ErrorCode) {
	irql := ke.GetCurrentIrql()
	if (irql < ke.DispatchLevel || mm.RuntimeAddress(cr2)) && !mm.TableLockHeld() {
		return
	}
	p := [4]uintptr{cr2, uintptr(irql), irqlAccess(code.Access()), uintptr(f.RIP)}
	stopCode := bugcheck.IrqlNotLessOrEqual
	if verifier.VerifiedCode(uintptr(f.RIP)) {
		stopCode = bugcheck.DriverIrqlNotLessOrEqual
	}
	if !mm.TableLockHeld() && dispatchFault(f, faultingGoroutine(f), stopCode, p, 0, 0, false) {
		return
	}
	stop(f, stopCode, p[0], p[1], p[2], p[3])
}

// finishFault raises an unresolved fault into its goroutine's Try or stops
// with the bugcheck mm/va chose. A guard page outside any Try needs
// neither: its guard is gone and the access is retried.
//
//go:nosplit
//go:noinline
func finishFault(f *TrapFrame, fault *va.Fault) {
	status, catchable := fault.Exception()
	// NT raises for its user range (here the runtime's half) and for guard
	// pages; an invalid system address is a bugcheck even inside Try.
	catchable = catchable && (fault.Result == va.GuardPage || mm.RuntimeAddress(fault.VA))
	code, p, fatal := fault.Bugcheck(uintptr(f.RIP))
	if c, vp, ok := verifier.FaultBugcheck(fault.VA, fault.Access == pte.AccessWrite, uintptr(f.RIP)); ok && fatal {
		code, p = c, vp
	}
	g := faultingGoroutine(f)
	if !fatal && (g == 0 || !inTry(g)) {
		return
	}
	if dispatchFault(f, g, code, p, status, fault.VA, catchable) || !fatal {
		return
	}
	stop(f, code, p[0], p[1], p[2], p[3])
}
