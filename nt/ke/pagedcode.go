// PAGED_CODE: the assertion a driver puts at the top of a routine that may
// only run at IRQL <= APC_LEVEL.
//
// In NT such routines sit in a PAGE section that the memory manager may
// page out, so running one at DISPATCH_LEVEL or above can fault on its own
// code, which nothing can then page in; PAGED_CODE catches the bug in
// checked builds whether or not the page happened to be out. Go's linker
// gives no per-function sections, so ntgo's code is never paged: the
// assertion is the only way the bug shows, and it is always active (the
// checked build's behaviour, and what Driver Verifier relies on). It fails
// as NT_ASSERT does with no debugger attached: the assertion's exception,
// STATUS_ASSERTION_FAILURE, unhandled in kernel mode,
// KMODE_EXCEPTION_NOT_HANDLED (0x1E) with the asserting address.

package ke

import (
	"runtime"

	"ntgo/nt/bugcheck"
	"ntgo/nt/ntstatus"
)

// PagedCode is PAGED_CODE(): it stops the system if the current IRQL is
// above APC_LEVEL.
func PagedCode() {
	if CurrentIrql() > ApcLevel {
		pagedCodeFailed()
	}
}

// pagedCodeFailed raises the failed assertion at PagedCode's caller.
//
//go:noinline
func pagedCodeFailed() {
	var pc [1]uintptr
	runtime.Callers(3, pc[:]) // runtime.Callers, pagedCodeFailed, PagedCode
	bugcheck.KeBugCheckEx(bugcheck.KmodeExceptionNotHandled, uintptr(ntstatus.AssertionFailure), pc[0], 0, 0)
}
