package kernel

import (
	"ntgo/kernel/bugcheck"
	"ntgo/kernel/ke"
	"ntgo/mm"
	"ntgo/mm/pte"
	"ntgo/mm/va"
)

// Trap context: nosplit, no allocation.
//
// The #PF handler. The memory manager resolves the fault or says what it
// is (mm.PageFault); the kernel stops on the rest with the bugcheck mm/va
// chose, with NT's parameters. A fault on kernel address space (the upper
// half) at DISPATCH_LEVEL or above, or any fault with the page-table lock
// held (the memory manager faulting on itself), is IRQL_NOT_LESS_OR_EQUAL
// before anything is looked at, as in NT, where such a fault cannot wait
// for a page. The Go runtime's memory (the lower half) is exempt: it plays
// the part of NT's non-paged kernel stacks and heap, which never fault, and
// only its first touch of a page faults here, which needs no waiting.

// Access codes of IRQL_NOT_LESS_OR_EQUAL's third parameter.
const (
	irqlAccessRead    = 0
	irqlAccessWrite   = 1
	irqlAccessExecute = 8
)

//go:nosplit
func pageFault(f *TrapFrame, cr2 uintptr) {
	code := pte.ErrorCode(f.ErrorCode)
	checkFaultIrql(f, cr2, code)
	fault := mm.PageFault(cr2, code)
	switch fault.Result {
	case va.Resolved, va.Spurious, va.GuardPage:
		return
	}
	stopOnFault(f, &fault)
}

// checkFaultIrql stops if the fault came at DISPATCH_LEVEL or above, or from
// inside the memory manager. (Separate functions keep each frame on the
// nosplit chain small.)
//
//go:nosplit
//go:noinline
func checkFaultIrql(f *TrapFrame, cr2 uintptr, code pte.ErrorCode) {
	irql := ke.KeGetCurrentIrql()
	if (irql < ke.DispatchLevel || mm.RuntimeAddress(cr2)) && !mm.TableLockHeld() {
		return
	}
	access := uintptr(irqlAccessRead)
	switch code.Access() {
	case pte.AccessWrite:
		access = irqlAccessWrite
	case pte.AccessExecute:
		access = irqlAccessExecute
	}
	stop(f, bugcheck.IrqlNotLessOrEqual, cr2, uintptr(irql), access, uintptr(f.RIP))
}

// stopOnFault stops with the bugcheck mm/va chose for an unresolved fault.
//
//go:nosplit
//go:noinline
func stopOnFault(f *TrapFrame, fault *va.Fault) {
	if c, p, ok := fault.Bugcheck(uintptr(f.RIP)); ok {
		stop(f, c, p[0], p[1], p[2], p[3])
	}
}
